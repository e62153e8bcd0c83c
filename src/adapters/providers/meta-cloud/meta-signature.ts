// Meta's `X-Hub-Signature-256` webhook signature: checking what we receive and signing what we emit.
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER_SHAPE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>` against an HMAC-SHA256 of the exact raw bytes received,
 * in constant time. A missing or malformed header, or an empty app secret, is simply `false`.
 * The body is never re-serialised: Meta signs the bytes it sends (with `\/` and `\uXXXX` escapes).
 * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
 */
export function verifyMetaSignature(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  if (!appSecret || header === undefined) return false;
  const match = HEADER_SHAPE.exec(header.trim());
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Meta signs "an escaped unicode version of the payload, with lowercase hex digits": every
 * non-ASCII UTF-16 code unit becomes `\uXXXX` (surrogate pairs become two escapes). Inside JSON
 * strings this is the same value, so receivers that parse the body see no difference.
 * @see https://developers.facebook.com/docs/messenger-platform/webhooks#validate-payloads
 */
export function escapeNonAscii(body: string): string {
  // eslint-disable-next-line no-control-regex -- the class is "everything outside ASCII"
  return body.replace(/[^\u0000-\u007f]/g, (unit) => {
    return '\\u' + unit.charCodeAt(0).toString(16).padStart(4, '0');
  });
}

/**
 * Produces a webhook body exactly as Meta would send it (non-ASCII escaped as `\uXXXX`) and its
 * `X-Hub-Signature-256` header value over those bytes. Send `body` as is, with Content-Length.
 * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
 */
export function signMetaBody(body: string, appSecret: string): { body: Buffer; signature: string } {
  const bytes = Buffer.from(escapeNonAscii(body), 'utf8');
  const hex = createHmac('sha256', appSecret).update(bytes).digest('hex');
  return { body: bytes, signature: `sha256=${hex}` };
}
