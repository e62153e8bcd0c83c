// How an event goes on the wire to a subscriber: the body and the signing headers, one formatter
// per endpoint `format`. 'parley' is the default; another shape (e.g. Meta's webhook format for
// code written against the Cloud API) is added by listing it in EVENT_FORMATS and FORMATTERS.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StoredEvent } from '../ports/event-webhook-store.ts';
import { metaFormat } from './event-format-meta.ts';

export const EVENT_FORMATS = ['parley', 'meta'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

export const SIGNATURE_HEADER = 'Parley-Signature';
export const EVENT_ID_HEADER = 'Parley-Event-Id';

export interface FormatInput {
  /** A stored event, or a synthetic one (`webhook.ping`). */
  readonly event: Omit<StoredEvent, 'type'> & { readonly type: string };
  /** The endpoint's signing secret, in plain text (never logged). */
  readonly secret: string;
  /** Signing time, ms. */
  readonly now: number;
}

export interface WireRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The request for an event, or null when the format has no counterpart for it (not sent). */
export type EventFormatter = (input: FormatInput) => WireRequest | null;

/** The body subscribers receive (format 'parley'): documented in docs/event-webhooks.md. */
export interface ParleyEventBody {
  readonly id: string;
  readonly type: string;
  readonly created_at: string;
  readonly workspace_id: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export function parleyEventBody(event: FormatInput['event']): ParleyEventBody {
  return {
    id: event.id,
    type: event.type,
    created_at: new Date(event.at).toISOString(),
    workspace_id: event.workspaceId,
    data: event.data,
  };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` (PRODUCT.md, outbound events). */
export function signatureHeader(secret: string, body: string, now: number): string {
  const t = Math.floor(now / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Checks a `Parley-Signature` the way a subscriber should: any `v1` matching, and `t` within
 * `toleranceMs` of `now` (a replayed capture is refused). Constant-time comparison.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  now: number,
  toleranceMs = 5 * 60_000,
): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isSafeInteger(t) || Math.abs(now - t * 1000) > toleranceMs) return false;
  const expected = Buffer.from(
    createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex'),
  );
  return parts.some(([k, v]) => {
    if (k !== 'v1' || v === undefined) return false;
    const given = Buffer.from(v);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const parleyFormat: EventFormatter = ({ event, secret, now }) => {
  const body = JSON.stringify(parleyEventBody(event));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: signatureHeader(secret, body, now),
      [EVENT_ID_HEADER]: event.id,
      'Parley-Event-Type': event.type,
    },
  };
};

const FORMATTERS: Readonly<Record<EventFormat, EventFormatter>> = {
  parley: parleyFormat,
  meta: metaFormat,
};

export function isEventFormat(value: string): value is EventFormat {
  return (EVENT_FORMATS as readonly string[]).includes(value);
}

/** The formatter of an endpoint; an unknown stored format falls back to 'parley'. */
export function formatterFor(format: string): EventFormatter {
  return isEventFormat(format) ? FORMATTERS[format] : parleyFormat;
}
