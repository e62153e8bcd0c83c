// HTTP to a provider's API, shared by the Cloud API and Twilio adapters: one request with a
// timeout, classified so callers can tell "certainly not sent" from "maybe sent".

export type HttpOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Headers;
      readonly body: Buffer;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'network'; readonly message: string; readonly connectFailed: boolean };

/** Errors raised before a single byte left the machine: the message was certainly not sent. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

function errorCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  if (typeof cause !== 'object' || cause === null) return undefined;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * One request with a timeout. Network errors become values; `redact` removes secrets an error
 * message might quote (some quote the URL). A declared body over `maxBytes` is not read.
 */
export async function fetchOutcome(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  options: { timeoutMs: number; redact: (text: string) => string; maxBytes?: number },
): Promise<HttpOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const response = await doFetch(url, { ...init, signal: controller.signal });
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (
      options.maxBytes !== undefined &&
      Number.isFinite(declared) &&
      declared > options.maxBytes
    ) {
      await response.body?.cancel();
      return {
        kind: 'network',
        message: `response of ${declared} bytes is larger than ${options.maxBytes}`,
        connectFailed: false,
      };
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    return { kind: 'response', status: response.status, headers: response.headers, body: bytes };
  } catch (error) {
    if (controller.signal.aborted) return { kind: 'timeout' };
    const code = errorCode(error);
    const raw = code ?? (error instanceof Error ? error.message : String(error));
    return {
      kind: 'network',
      message: options.redact(raw),
      connectFailed: code !== undefined && CONNECT_ERRORS.has(code),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A header by name, whatever its case. */
export function headerOf(
  headers: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** A response body as JSON when it is JSON, as text otherwise, undefined when empty. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
