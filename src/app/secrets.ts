// Provider credentials are encrypted at rest with PARLEY_SECRET_KEY (AES-256-GCM), generated into
// the data dir on first start when absent. Secrets never leave this module in plain text except
// to build a provider.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretBox {
  seal(secrets: Readonly<Record<string, string>>): string;
  open(sealed: string): Record<string, string>;
  /**
   * A keyed hash (HMAC-SHA256, hex) of a value for one purpose, e.g. a phone number kept in the
   * consent ledger after erasure: it matches the same value again but cannot be reversed without
   * PARLEY_SECRET_KEY.
   */
  keyedHash(purpose: string, value: string): string;
}

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

export function createSecretBox(secretKey: string): SecretBox {
  // Any string works as a key: it is stretched to 256 bits so operators can paste what they have.
  const key = createHash('sha256').update(secretKey, 'utf8').digest();
  // One derived key per purpose, so a hash made for one use says nothing about another.
  const hashKeys = new Map<string, Buffer>();
  const hashKey = (purpose: string): Buffer => {
    let k = hashKeys.get(purpose);
    if (!k) {
      k = createHmac('sha256', key).update(`parley keyed hash: ${purpose}`, 'utf8').digest();
      hashKeys.set(purpose, k);
    }
    return k;
  };
  return {
    keyedHash(purpose, value) {
      return createHmac('sha256', hashKey(purpose)).update(value, 'utf8').digest('hex');
    },
    seal(secrets) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
      return [
        'v1',
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        data.toString('base64url'),
      ].join('.');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined)
        throw new SecretKeyError('stored credentials are not in a known format');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const plain = Buffer.concat([
          decipher.update(Buffer.from(data, 'base64url')),
          decipher.final(),
        ]);
        return JSON.parse(plain.toString('utf8')) as Record<string, string>;
      } catch {
        throw new SecretKeyError(
          'stored credentials cannot be decrypted: PARLEY_SECRET_KEY differs from the key they were saved with',
        );
      }
    },
  };
}

/** PARLEY_SECRET_KEY if set; otherwise the key file in the data dir, created (mode 0600) when absent. */
export function resolveSecretKey(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}
