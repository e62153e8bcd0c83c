// The Twilio provider: WhatsApp through Twilio's Messages API (form-encoded, Basic auth), Content
// templates for template sends, `X-Twilio-Signature` on webhooks, media fetched with credentials.
import { checkOutboundLimits } from '../../../core/messages.ts';
import type {
  ChannelAddress,
  ConnectionCheck,
  MediaDownload,
  Provider,
  ProviderTemplate,
  RawWebhook,
  SendFailure,
  SendRequest,
  SendResult,
  VerifyResult,
} from '../../../ports/provider.ts';
import {
  CONTENT_SID_PATTERN,
  contentPage,
  findContentSid,
  templateFromContent,
} from './twilio-content-templates.ts';
import { failureFromTwilioResponse } from './twilio-errors.ts';
import { encodeForm } from './twilio-form.ts';
import { buildTwilioMessageForm } from './twilio-request-build.ts';
import { checkTwilioSignature } from './twilio-signature.ts';
import { CALLBACK_REF_PARAM, parseTwilioWebhook } from './twilio-webhook-parse.ts';
import { fetchOutcome, headerOf, parseJson, type HttpOutcome } from '../provider-http.ts';

export const DEFAULT_TWILIO_API_URL = 'https://api.twilio.com';
export const DEFAULT_TWILIO_CONTENT_URL = 'https://content.twilio.com';
export const DEFAULT_TWILIO_MESSAGING_URL = 'https://messaging.twilio.com';

/** A Twilio Message or Media SID: what the typing indicator accepts as the message to mark read. */
const MESSAGE_SID_PATTERN = /^(SM|MM)[0-9a-fA-F]{32}$/;

/**
 * One Twilio account as configuration. REST calls authenticate with an API key when one is
 * given (Twilio's advice), else with the Auth Token; webhooks can only be verified with the Auth
 * Token, so a connection without it can send but never trust an inbound webhook.
 * Secrets never appear in errors, details or logs.
 */
export interface TwilioSettings {
  readonly accountSid: string;
  readonly authToken?: string;
  readonly apiKeySid?: string;
  readonly apiKeySecret?: string;
  /** Send through this Messaging Service (its sender pool must hold the channel's sender). */
  readonly messagingServiceSid?: string;
  /** `https://api.twilio.com` unless a test points it at a local fake. */
  readonly baseUrl?: string;
  /** `https://content.twilio.com` unless a test points it at a local fake. */
  readonly contentBaseUrl?: string;
  /** `https://messaging.twilio.com` (typing indicators) unless a test points it at a local fake. */
  readonly messagingBaseUrl?: string;
  /** Where this connection's status callbacks go (`…/webhooks/twilio/{connectionId}/status`). */
  readonly statusCallbackUrl?: string;
}

export interface TwilioDeps {
  readonly fetch?: typeof fetch;
  /** Per-request timeout; a send that times out is `provider_unavailable` with `maybeSent`. */
  readonly timeoutMs?: number;
  /** Parley's clock: webhook receive times (Twilio sends no event time) and Retry-After dates. */
  readonly now?: () => number;
  /**
   * The ContentSid Parley's own template records map a name + language to (the `templates`
   * table, kept by the template sync); null when Parley has none, and the Content API is asked.
   */
  readonly resolveContentSid?: (
    channel: ChannelAddress,
    name: string,
    language: string,
  ) => Promise<string | null>;
  /** How long a Content API listing answers template lookups (default 5 minutes). */
  readonly templateCacheMs?: number;
  /** Largest inbound media accepted, bytes (default 100 MB, WhatsApp's document limit). */
  readonly maxMediaBytes?: number;
}

export interface TwilioProvider extends Provider {
  readonly kind: 'twilio';
  listTemplates(channel?: ChannelAddress): Promise<ProviderTemplate[]>;
  /** Inbound media bytes by the media URL a webhook named (an inbound message content's `id`). */
  downloadMedia(mediaUrl: string): Promise<MediaDownload>;
  checkConnection(channel?: ChannelAddress): Promise<ConnectionCheck[]>;
  markRead(channel: ChannelAddress, providerMessageId: string): Promise<SendResult>;
}

/** A management call (templates, media, account) failed; `failure` says why. */
export class TwilioRequestError extends Error {
  override readonly name = 'TwilioRequestError';
  constructor(
    message: string,
    readonly failure: SendFailure,
    /** Whether trying again can help (an outage, throughput), as the port asks media errors to say. */
    readonly retryable: boolean = failure.reason === 'provider_unavailable' ||
      failure.reason === 'throughput',
  ) {
    super(message);
  }
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/**
 * Creates a Twilio WhatsApp provider. Sends with a timeout and maps every answer to a SendResult
 * (failures are values carrying Twilio's code verbatim), resolves template sends to their
 * ContentSid, verifies and normalises webhooks, lists Content templates with their WhatsApp
 * approval status, and downloads inbound media with the account's credentials.
 * @see https://www.twilio.com/docs/whatsapp/api
 */
export function createTwilioProvider(
  settings: TwilioSettings,
  deps: TwilioDeps = {},
): TwilioProvider {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const now = deps.now ?? (() => Date.now());
  const cacheMs = deps.templateCacheMs ?? 5 * 60_000;
  const maxMediaBytes = deps.maxMediaBytes ?? 100 * 1024 * 1024;
  const apiBase = trimSlash(settings.baseUrl ?? DEFAULT_TWILIO_API_URL);
  const contentBase = trimSlash(settings.contentBaseUrl ?? DEFAULT_TWILIO_CONTENT_URL);
  const messagingBase = trimSlash(settings.messagingBaseUrl ?? DEFAULT_TWILIO_MESSAGING_URL);
  const username =
    settings.apiKeySid && settings.apiKeySecret ? settings.apiKeySid : settings.accountSid;
  const password =
    settings.apiKeySid && settings.apiKeySecret
      ? settings.apiKeySecret
      : (settings.authToken ?? '');
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const secrets = [settings.authToken, settings.apiKeySecret, password].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
  const messagesUrl = `${apiBase}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;

  /** Never echo a secret, whatever an error message quotes. */
  function redact(text: string): string {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('[secret]');
    return out;
  }

  async function http(
    method: string,
    url: string,
    options: { form?: string; credentials?: boolean; manualRedirect?: boolean } = {},
  ): Promise<HttpOutcome> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.credentials !== false) headers.Authorization = authorization;
    if (options.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Accept-Charset'] = 'utf-8';
    }
    return fetchOutcome(
      doFetch,
      url,
      {
        method,
        headers,
        ...(options.form !== undefined ? { body: options.form } : {}),
        ...(options.manualRedirect ? { redirect: 'manual' as const } : {}),
      },
      { timeoutMs, redact, maxBytes: maxMediaBytes },
    );
  }

  function failureOf(outcome: HttpOutcome): SendFailure {
    switch (outcome.kind) {
      case 'timeout':
        return {
          reason: 'provider_unavailable',
          details: `no response from Twilio within ${timeoutMs} ms`,
          maybeSent: true,
        };
      case 'network':
        return {
          reason: 'provider_unavailable',
          details: `could not reach Twilio: ${outcome.message}`,
          maybeSent: !outcome.connectFailed,
        };
      case 'response':
        return failureFromTwilioResponse(
          outcome.status,
          parseJson(outcome.body),
          outcome.headers.get('retry-after') ?? undefined,
          now(),
        );
    }
  }

  const isSuccess = (o: HttpOutcome): o is Extract<HttpOutcome, { kind: 'response' }> =>
    o.kind === 'response' && o.status >= 200 && o.status < 300;

  async function getJson(url: string, what: string): Promise<unknown> {
    const outcome = await http('GET', url);
    if (isSuccess(outcome)) return parseJson(outcome.body);
    const failure = failureOf(outcome);
    const code = failure.providerCode ? ` (code ${failure.providerCode})` : '';
    throw new TwilioRequestError(
      `${what} failed: ${failure.reason}${code}${failure.title ? `: ${failure.title}` : ''}`,
      failure,
    );
  }

  /** Follows Twilio's `next_page_url` on our own configured host only: credentials stay there. */
  function onContentHost(next: string): string {
    const target = new URL(next);
    const base = new URL(contentBase);
    return `${base.origin}${base.pathname.replace(/\/+$/, '')}${target.pathname}${target.search}`;
  }

  /** The last Content listing, which answers template lookups for a while. */
  let cache: { at: number; templates: ProviderTemplate[] } | null = null;

  async function listTemplates(): Promise<ProviderTemplate[]> {
    const out: ProviderTemplate[] = [];
    let url: string | undefined = `${contentBase}/v1/ContentAndApprovals?PageSize=500`;
    for (let page = 0; url !== undefined && page < 1000; page++) {
      const json = await getJson(url, 'listing Twilio Content templates');
      const { records, next } = contentPage(json);
      for (const record of records) {
        const template = templateFromContent(record);
        if (template) out.push(template);
      }
      url = next !== undefined && records.length > 0 ? onContentHost(next) : undefined;
    }
    cache = { at: now(), templates: out };
    return out;
  }

  /** name + language → ContentSid: a ContentSid given as the name, Parley's records, then Twilio's listing. */
  async function contentSidFor(
    channel: ChannelAddress,
    name: string,
    language: string,
  ): Promise<{ sid: string } | { failure: SendFailure }> {
    if (CONTENT_SID_PATTERN.test(name)) return { sid: name };
    const stored = await deps.resolveContentSid?.(channel, name, language);
    if (stored && CONTENT_SID_PATTERN.test(stored)) return { sid: stored };
    const fresh = cache !== null && now() - cache.at < cacheMs;
    let sid = fresh && cache ? findContentSid(cache.templates, name, language) : undefined;
    if (sid === undefined) {
      try {
        sid = findContentSid(await listTemplates(), name, language);
      } catch (error) {
        if (error instanceof TwilioRequestError) return { failure: error.failure };
        throw error;
      }
    }
    return sid === undefined
      ? {
          failure: {
            reason: 'template_not_approved',
            details: `Twilio has no Content template named ${name} in ${language}`,
          },
        }
      : { sid };
  }

  function statusCallbackFor(callbackData: string | undefined): string | undefined {
    if (!settings.statusCallbackUrl) return undefined;
    if (callbackData === undefined) return settings.statusCallbackUrl;
    const url = new URL(settings.statusCallbackUrl);
    url.searchParams.set(CALLBACK_REF_PARAM, callbackData);
    return url.toString();
  }

  async function send(request: SendRequest): Promise<SendResult> {
    const refusal = checkOutboundLimits(request.content);
    if (refusal) return { ok: false, failure: { reason: refusal.reason, details: refusal.detail } };
    let contentSid: string | undefined;
    if (request.content.type === 'template') {
      const { name, language } = request.content.template;
      const resolved = await contentSidFor(request.channel, name, language.code);
      if ('failure' in resolved) return { ok: false, failure: resolved.failure };
      contentSid = resolved.sid;
    }
    const statusCallback = statusCallbackFor(request.callbackData);
    const form = buildTwilioMessageForm(request, {
      ...(settings.messagingServiceSid
        ? { messagingServiceSid: settings.messagingServiceSid }
        : {}),
      ...(statusCallback ? { statusCallback } : {}),
      ...(contentSid ? { contentSid } : {}),
    });
    if ('allowed' in form)
      return { ok: false, failure: { reason: form.reason, details: form.detail } };
    const outcome = await http('POST', messagesUrl, { form: encodeForm(form) });
    if (!isSuccess(outcome)) return { ok: false, failure: failureOf(outcome) };
    const json = parseJson(outcome.body);
    const sid =
      typeof json === 'object' &&
      json !== null &&
      typeof (json as { sid?: unknown }).sid === 'string'
        ? (json as { sid: string }).sid
        : undefined;
    if (sid) return { ok: true, providerMessageId: sid };
    return {
      ok: false,
      failure: {
        reason: 'provider_unavailable',
        details: `Twilio answered HTTP ${outcome.status} without a message sid; the outcome is unknown`,
        httpStatus: outcome.status,
        maybeSent: true,
      },
    };
  }

  /**
   * Blue ticks for an inbound message. Twilio has no plain read receipt: its typing indicator
   * (public beta) marks the referenced message read and shows "typing…" to the user until the
   * next reply is delivered or 25 s pass.
   * @see https://www.twilio.com/docs/whatsapp/api/typing-indicators-resource
   */
  async function markRead(
    _channel: ChannelAddress,
    providerMessageId: string,
  ): Promise<SendResult> {
    if (!MESSAGE_SID_PATTERN.test(providerMessageId))
      return {
        ok: false,
        failure: {
          reason: 'invalid_request',
          details: `Twilio marks messages read by their Message SID (SM…/MM…); ${providerMessageId.slice(0, 40)} is not one`,
        },
      };
    const form = encodeForm([
      ['messageId', providerMessageId],
      ['channel', 'whatsapp'],
    ]);
    const outcome = await http('POST', `${messagingBase}/v2/Indicators/Typing.json`, { form });
    if (!isSuccess(outcome)) return { ok: false, failure: failureOf(outcome) };
    return { ok: true, providerMessageId };
  }

  function verifyWebhook(request: RawWebhook): VerifyResult {
    if (!settings.authToken)
      return {
        ok: false,
        status: 401,
        detail:
          'this Twilio connection has no Auth Token, so no webhook can be verified (API keys cannot check X-Twilio-Signature)',
      };
    const signature = headerOf(request.headers, 'x-twilio-signature');
    if (signature === undefined || signature === '')
      return { ok: false, status: 401, detail: 'missing X-Twilio-Signature header' };
    if (!checkTwilioSignature(settings.authToken, signature, request.url, request.body))
      return {
        ok: false,
        status: 403,
        detail:
          'X-Twilio-Signature does not match: check the Auth Token, and that PARLEY_PUBLIC_URL is exactly the base of the URL configured in Twilio (scheme, host, port and path)',
      };
    return { ok: true };
  }

  /** Media live on Twilio's API host; a redirect to storage elsewhere is followed without credentials. */
  async function downloadMedia(mediaUrl: string): Promise<MediaDownload> {
    let url: URL;
    try {
      url = new URL(mediaUrl);
    } catch {
      throw new TwilioRequestError(`not a media URL: ${mediaUrl.slice(0, 100)}`, {
        reason: 'media',
        details: 'the media reference is not a URL',
      });
    }
    const own = new URL(apiBase);
    const twilioHost = url.protocol === 'https:' && /(^|\.)twilio\.com$/i.test(url.hostname);
    if (url.origin !== own.origin && !twilioHost)
      throw new TwilioRequestError(
        `refusing to send Twilio credentials to ${url.origin}: media are fetched from Twilio's API host only`,
        { reason: 'media', details: 'media URL is not on the Twilio API host' },
      );
    let outcome = await http('GET', url.toString(), { manualRedirect: true });
    for (let hop = 0; hop < 5 && outcome.kind === 'response'; hop++) {
      const location = outcome.headers.get('location');
      if (outcome.status < 300 || outcome.status >= 400 || !location) break;
      const next = new URL(location, url);
      const sameOrigin = next.origin === url.origin;
      outcome = await http('GET', next.toString(), {
        credentials: sameOrigin,
        manualRedirect: true,
      });
      url = next;
    }
    if (!isSuccess(outcome)) {
      const failure = failureOf(outcome);
      throw new TwilioRequestError(
        `downloading Twilio media failed: ${failure.title ?? failure.details ?? failure.reason}`,
        { ...failure, reason: failure.reason === 'auth' ? 'auth' : 'media' },
        failure.reason === 'provider_unavailable' || failure.reason === 'throughput',
      );
    }
    const mimeType = outcome.headers.get('content-type')?.split(';')[0]?.trim();
    return {
      bytes: outcome.body,
      fileSize: outcome.body.length,
      ...(mimeType ? { mimeType } : {}),
    };
  }

  async function checkConnection(): Promise<ConnectionCheck[]> {
    const checks: ConnectionCheck[] = [];
    const outcome = await http(
      'GET',
      `${apiBase}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}.json`,
    );
    if (isSuccess(outcome)) {
      const json = parseJson(outcome.body) as
        { status?: unknown; friendly_name?: unknown } | undefined;
      const status = typeof json?.status === 'string' ? json.status : 'unknown';
      checks.push(
        status === 'active' || status === 'unknown'
          ? {
              check: 'token',
              ok: true,
              detail: `Twilio accepted the credentials for account ${settings.accountSid}`,
            }
          : {
              check: 'token',
              ok: false,
              detail: `Twilio account ${settings.accountSid} is ${status}`,
              fix: 'Reactivate the account in the Twilio Console (Account › General settings).',
            },
      );
    } else {
      const failure = failureOf(outcome);
      checks.push({
        check: 'token',
        ok: false,
        detail: `Twilio refused the credentials (${failure.providerCode ? `code ${failure.providerCode}: ` : ''}${failure.title ?? failure.details ?? failure.reason})`,
        fix:
          failure.reason === 'auth'
            ? 'Copy the Account SID and Auth Token (or an API key sid and secret) from the Twilio Console into this connection.'
            : `Check ${apiBase} is reachable and retry.`,
      });
    }
    checks.push(
      settings.authToken
        ? {
            check: 'webhook-verification',
            ok: true,
            detail: 'the Auth Token verifies X-Twilio-Signature',
          }
        : {
            check: 'webhook-verification',
            ok: false,
            detail: 'no Auth Token: inbound webhooks cannot be verified and will be refused',
            fix: 'Add the account Auth Token to this connection (API keys cannot verify webhooks).',
          },
    );
    return checks;
  }

  return {
    kind: 'twilio',
    limitations: {
      quoteReply:
        "Twilio's Messages API has no field for the message being answered, so WhatsApp shows this reply without the quoted message",
      documentCaption:
        'Twilio does not carry a caption or filename for WhatsApp documents, so the customer sees the document alone',
    },
    send,
    markRead,
    verifyWebhook,
    parseWebhook: (request: RawWebhook) =>
      parseTwilioWebhook(request.body, { receivedAt: now(), url: request.url }),
    listTemplates: () => listTemplates(),
    downloadMedia,
    checkConnection: () => checkConnection(),
  };
}
