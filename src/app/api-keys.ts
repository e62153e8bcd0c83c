// Workspace API keys: shown once at creation, stored only as a SHA-256 hash.
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'pk_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The part of a key that may be shown again to tell keys apart. */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}
