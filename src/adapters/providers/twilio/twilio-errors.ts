// Twilio REST error answers and status-callback error codes mapped to Parley's reasons (§7).
import {
  reasonForHttpStatus,
  reasonForTwilioCode,
  type ReasonCode,
} from '../../../core/reason-codes.ts';
import type { SendFailure } from '../../../ports/provider.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Twilio codes §7 names; anything else falls back to what the HTTP status says. */
const KNOWN_CODES = new Set([63016, 21610, 63027, 63028, 63018, 63003, 63032, 20003, 21211, 63019]);

/**
 * A Twilio error code (with its message, which tells a 63018 messaging limit from throughput)
 * as Parley's reason. Codes §7 does not name follow the HTTP status they came with, so an
 * unknown code on a 5xx is retried and an unknown code on a 4xx is not.
 * @see https://www.twilio.com/docs/api/errors
 */
export function reasonForTwilioError(
  code: number | undefined,
  message: string | undefined,
  httpStatus?: number,
): ReasonCode {
  if (code !== undefined && KNOWN_CODES.has(code)) return reasonForTwilioCode(code, message ?? '');
  if (httpStatus !== undefined) return reasonForHttpStatus(httpStatus);
  return code !== undefined ? reasonForTwilioCode(code, message ?? '') : 'provider_unavailable';
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * A non-2xx answer of the Messages API (`{"code": 21211, "message": "…", "more_info": "…",
 * "status": 400}`) as a SendFailure; Twilio's code is kept verbatim beside Parley's reason.
 * @see https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions
 */
export function failureFromTwilioResponse(
  httpStatus: number,
  body: unknown,
  retryAfter: string | undefined,
  now: number,
): SendFailure {
  const json = isObject(body) ? body : {};
  const rawCode = json.code;
  const code =
    typeof rawCode === 'number'
      ? rawCode
      : typeof rawCode === 'string' && /^\d+$/.test(rawCode)
        ? Number(rawCode)
        : undefined;
  const message = typeof json.message === 'string' ? json.message : undefined;
  const failure: { -readonly [K in keyof SendFailure]: SendFailure[K] } = {
    reason: reasonForTwilioError(code, message, httpStatus),
    httpStatus,
  };
  if (code !== undefined) failure.providerCode = String(code);
  if (message !== undefined) failure.title = message;
  else if (typeof body === 'string' && body.trim() !== '')
    failure.details = `Twilio answered HTTP ${httpStatus}: ${body.slice(0, 200)}`;
  else failure.details = `Twilio answered HTTP ${httpStatus}`;
  if (typeof json.more_info === 'string') failure.details = json.more_info;
  const wait = retryAfterMs(retryAfter, now);
  if (wait !== undefined) failure.retryAfterMs = wait;
  return failure;
}
