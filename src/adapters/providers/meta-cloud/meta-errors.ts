// Meta Cloud API errors (synchronous envelopes and async `failed` statuses) as Parley SendFailures.
import type { ProviderError } from '../../../core/inbound.ts';
import {
  reasonForHttpStatus,
  reasonForMetaCode,
  type ReasonCode,
} from '../../../core/reason-codes.ts';
import type { SendFailure } from '../../../ports/provider.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** Meta's `message` is "(#code) title"; the title alone is what the webhook errors call `title`. */
function titleFromMessage(message: string | undefined): string | undefined {
  return message?.replace(/^\(#\d+\)\s*/, '');
}

/**
 * A code Meta documents wins; an unknown code (which the table maps to `invalid_request`) defers to
 * the HTTP status, so an unlisted code on a 5xx is retried and one on a 401/403 halts the connection.
 */
function reasonFor(code: number | undefined, httpStatus: number): ReasonCode {
  const byCode = code === undefined ? undefined : reasonForMetaCode(code);
  if (byCode !== undefined && byCode !== 'invalid_request') return byCode;
  if (httpStatus === 401 || httpStatus === 403 || httpStatus === 429 || httpStatus >= 500)
    return reasonForHttpStatus(httpStatus);
  return 'invalid_request';
}

function numericCode(code: unknown): number | undefined {
  const n = typeof code === 'number' ? code : typeof code === 'string' ? Number(code) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date; either way Parley keeps milliseconds.
 * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function withoutUndefined(failure: SendFailure): SendFailure {
  return Object.fromEntries(
    Object.entries(failure).filter(([, v]) => v !== undefined),
  ) as unknown as SendFailure;
}

/**
 * Maps a failed Cloud API response to a SendFailure, keeping Meta's code, title and details verbatim.
 * Understands Meta's `{error:{message:"(#code) title",code,error_data:{details}}}`, 360dialog's own
 * `{meta:{httpCode,developerMessage}}`, the On-Premises `{errors:[{code,title,details}]}` shape, a
 * plain-text body and no body at all. Meta says to key on `code`, not on the HTTP status; the status
 * decides only when no known code is given. A 5xx without Meta's envelope (a gateway answering)
 * leaves the outcome unknown, so it is marked `maybeSent`.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function failureFromMetaError(
  httpStatus: number,
  body: unknown,
  retryAfterHeader?: string,
  now: number = Date.now(),
): SendFailure {
  const retryAfterMs = parseRetryAfter(retryAfterHeader, now);
  const error = isObject(body) ? body.error : undefined;
  if (isObject(error)) {
    const code = numericCode(error.code);
    const data = isObject(error.error_data) ? error.error_data : undefined;
    return withoutUndefined({
      reason: reasonFor(code, httpStatus),
      providerCode: str(error.code),
      title: titleFromMessage(str(error.message)) ?? str(error.error_user_title),
      details: str(data?.details) ?? str(error.error_user_msg),
      httpStatus,
      retryAfterMs,
    });
  }
  const onPremErrors = isObject(body) && Array.isArray(body.errors) ? body.errors : undefined;
  const first: unknown = onPremErrors?.[0];
  if (isObject(first)) {
    const failure = failureFromStatusErrors([toProviderError(first)]);
    return withoutUndefined({
      ...failure,
      reason: reasonFor(numericCode(first.code), httpStatus),
      httpStatus,
      retryAfterMs,
    });
  }
  const meta = isObject(body) && isObject(body.meta) ? body.meta : undefined;
  if (meta) {
    const status = numericCode(meta.httpCode) ?? httpStatus;
    return withoutUndefined({
      reason: reasonForHttpStatus(status),
      providerCode: str(meta.httpCode),
      details: str(meta.developerMessage),
      httpStatus,
      retryAfterMs,
    });
  }
  const text =
    typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 500) : undefined;
  const detailFromBody = isObject(body)
    ? (str(body.error) ?? str(body.message) ?? JSON.stringify(body).slice(0, 500))
    : text;
  return withoutUndefined({
    reason: reasonForHttpStatus(httpStatus),
    details: detailFromBody ?? `HTTP ${httpStatus} with no error body`,
    httpStatus,
    retryAfterMs,
    maybeSent: httpStatus >= 500 ? true : undefined,
  });
}

/** Flattens a webhook error (`error_data.details` → `details`), keeping every value verbatim. */
export function toProviderError(raw: Json): ProviderError {
  const data = isObject(raw.error_data) ? raw.error_data : undefined;
  const code = typeof raw.code === 'number' || typeof raw.code === 'string' ? raw.code : '';
  const error: ProviderError = { code };
  const title = str(raw.title);
  const message = str(raw.message);
  const details = str(data?.details) ?? str(raw.details);
  const href = str(raw.href);
  if (title !== undefined) error.title = title;
  if (message !== undefined) error.message = message;
  if (details !== undefined) error.details = details;
  if (href !== undefined) error.href = href;
  return error;
}

/**
 * Maps the errors of an asynchronous `failed` status to the same SendFailure the synchronous path
 * produces (§7: both paths end in the same stored outcome). The first error with a documented code
 * decides; a `failed` status without errors is kept as `invalid_request` (never retried blindly).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/messages/status
 */
export function failureFromStatusErrors(errors: ProviderError[]): SendFailure {
  const known = errors.find((e) => {
    const code = numericCode(e.code);
    return code !== undefined && reasonForMetaCode(code) !== 'invalid_request';
  });
  const chosen = known ?? errors[0];
  if (!chosen)
    return { reason: 'invalid_request', details: 'the provider reported failed without errors' };
  const code = numericCode(chosen.code);
  return withoutUndefined({
    reason: code === undefined ? 'invalid_request' : reasonForMetaCode(code),
    providerCode: String(chosen.code),
    title: chosen.title ?? titleFromMessage(chosen.message),
    details: chosen.details,
  });
}
