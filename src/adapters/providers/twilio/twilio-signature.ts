// `X-Twilio-Signature`: HMAC-SHA1 (base64) over the URL Twilio called plus every POST parameter.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';
import { parseForm, type FormParams } from './twilio-form.ts';

/**
 * The signature Twilio computes: the full URL (query included), then each parameter sorted by
 * name as `name + value` with no delimiters (a repeated name: its distinct values sorted), keyed
 * with the account's Auth Token, HMAC-SHA1, base64.
 * @see https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  let data = url;
  for (const name of [...params.keys()].sort()) {
    const values = params.get(name) ?? [];
    const distinct = values.length > 1 ? [...new Set(values)].sort() : values;
    for (const value of distinct) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

interface UrlParts {
  readonly scheme: string;
  readonly authority: string;
  readonly host: string;
  readonly port: string;
  readonly rest: string;
}

/** Splits a URL without normalising it: the path and query keep the exact characters signed. */
function splitUrl(url: string): UrlParts | null {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    authority: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function withoutPort(url: string): string {
  const p = splitUrl(url);
  return p ? p.scheme + p.authority + p.host + p.rest : url;
}

function withDefaultPort(url: string): string {
  const p = splitUrl(url);
  if (!p || p.port) return url;
  const port = p.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return p.scheme + p.authority + p.host + port + p.rest;
}

/** The query re-encoded the way Node's legacy `querystring` does (some back ends signed that). */
function withLegacyQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1 || start === url.length - 1) return url;
  return `${url.slice(0, start)}?${stringifyQuery(parseQuery(url.slice(start + 1)))}`;
}

/**
 * The forms of one URL Twilio may have signed: as called, without or with the default port (a
 * load balancer may add or drop `:443`), then normalised, and with a legacy-encoded query — the
 * same candidates, in the same order, as Twilio's own `validateRequest`.
 * @see https://github.com/twilio/twilio-node/blob/main/src/webhooks/webhooks.ts
 */
export function signedUrlCandidates(url: string): string[] {
  const candidates = [withoutPort(url), withDefaultPort(url)];
  let normalised: string | null = null;
  try {
    normalised = new URL(url).toString();
  } catch {
    normalised = null;
  }
  if (normalised !== null) {
    const bare = withoutPort(normalised);
    const ported = withDefaultPort(normalised);
    candidates.push(bare, ported, withLegacyQuery(bare), withLegacyQuery(ported));
  }
  return [...new Set(candidates)];
}

function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // The expected length is fixed by the algorithm, so an early return leaks nothing secret.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks `X-Twilio-Signature` over the URL Twilio called and the raw body. Form bodies are
 * verified over every parameter exactly as received (never a filtered set: Twilio adds new
 * parameters without notice). A JSON body is signed through the `bodySHA256` query parameter:
 * the URL alone is signed and the body must hash to that value.
 * @see https://www.twilio.com/docs/usage/webhooks/webhooks-security#validating-signatures-from-twilio
 */
export function checkTwilioSignature(
  authToken: string,
  signature: string,
  url: string,
  body: Buffer,
): boolean {
  const bodyHash = bodySha256Of(url);
  const params: FormParams = bodyHash === undefined ? parseForm(body) : new Map();
  const signed = signedUrlCandidates(url).some((candidate) =>
    sameSignature(signature, twilioSignature(authToken, candidate, params)),
  );
  if (!signed) return false;
  if (bodyHash === undefined) return true;
  return sameSignature(bodyHash, createHash('sha256').update(body).digest('hex'));
}

function bodySha256Of(url: string): string | undefined {
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  return new URLSearchParams(url.slice(start + 1)).get('bodySHA256') ?? undefined;
}
