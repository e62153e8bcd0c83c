// The Cloud API provider: Meta, 360dialog and any Cloud-API-compatible provider, told apart by settings.
import { createHash, timingSafeEqual } from 'node:crypto';
import { checkOutboundLimits } from '../../../core/messages.ts';
import type {
  ChannelAddress,
  Provider,
  ProviderTemplate,
  RawWebhook,
  SendFailure,
  SendRequest,
  SendResult,
  VerifyResult,
} from '../../../ports/provider.ts';
import { failureFromMetaError } from './meta-errors.ts';
import { buildMarkReadBody, buildMetaMessageBody } from './meta-request-build.ts';
import { verifyMetaSignature } from './meta-signature.ts';
import { parseMetaWebhook } from './meta-webhook-parse.ts';
import { fetchOutcome, headerOf, parseJson, type HttpOutcome } from '../provider-http.ts';

export const CLOUD_API_KINDS = ['meta', '360dialog', 'cloud'] as const;
export type CloudApiKind = (typeof CLOUD_API_KINDS)[number];

/** `phone-number-id`: `/{v}/{phone-number-id}/messages` (Meta); `none`: `/messages` (360dialog). */
export const CLOUD_API_PATH_STYLES = ['phone-number-id', 'none'] as const;
export type CloudApiPathStyle = (typeof CLOUD_API_PATH_STYLES)[number];

/** Which health checks `checkConnection` runs: Graph's, 360dialog's, or none known. */
export const CLOUD_API_CHECK_STYLES = ['graph', '360dialog', 'none'] as const;
export type CloudApiCheckStyle = (typeof CLOUD_API_CHECK_STYLES)[number];

/**
 * One Cloud API dialect as configuration: a new compatible provider is a new settings object.
 * Secrets (`token`, `appSecret`, `verifyToken`, the header value) never appear in errors or details.
 */
export interface CloudApiSettings {
  readonly kind: CloudApiKind;
  /** e.g. `https://graph.facebook.com`, `https://waba-v2.360dialog.io`. */
  readonly baseUrl: string;
  /** Graph version segment such as `v23.0`; omitted for 360dialog. */
  readonly apiVersion?: string;
  /** `Authorization`, `D360-API-KEY`, `X-API-Key` … */
  readonly authHeader: string;
  /** `Bearer`, or none for API-key headers. */
  readonly authScheme?: string;
  readonly token: string;
  readonly pathStyle: CloudApiPathStyle;
  /** Meta app secret: webhooks must carry a valid `X-Hub-Signature-256`. */
  readonly appSecret?: string;
  /** Answers the `hub.challenge` handshake when the token matches. */
  readonly verifyToken?: string;
  /** A secret header registered with the webhook (360dialog), required on every webhook POST. */
  readonly webhookSecretHeader?: { readonly name: string; readonly value: string };
  /** 360dialog serves media bytes from its own host: the media URL's origin becomes baseUrl's. */
  readonly mediaViaBaseUrl?: boolean;
  /** Defaults: meta → graph, 360dialog → 360dialog, cloud → graph with phone-number-id paths, else none. */
  readonly connectionChecks?: CloudApiCheckStyle;
}

export const DEFAULT_META_API_VERSION = 'v23.0';
export const DEFAULT_DIALOG360_SECRET_HEADER = 'X-Parley-Webhook-Secret';

/**
 * Settings for Meta's own Cloud API (system-user token, app secret, webhook verify token).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/overview
 */
export function metaSettings(options: {
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  apiVersion?: string;
  baseUrl?: string;
}): CloudApiSettings {
  return {
    kind: 'meta',
    baseUrl: options.baseUrl ?? 'https://graph.facebook.com',
    apiVersion: options.apiVersion ?? DEFAULT_META_API_VERSION,
    authHeader: 'Authorization',
    authScheme: 'Bearer',
    token: options.accessToken,
    pathStyle: 'phone-number-id',
    appSecret: options.appSecret,
    verifyToken: options.verifyToken,
  };
}

/**
 * Settings for 360dialog's Cloud API: `D360-API-KEY`, no version or phone number id in paths, and
 * webhooks secured by a header registered with `POST /v1/configs/webhook` (no Meta signature).
 * The header name has no `_`, which 360dialog refuses in webhook headers.
 * @see https://docs.360dialog.com/docs/waba-messaging/webhook
 */
export function dialog360Settings(options: {
  apiKey: string;
  webhookSecret: string;
  baseUrl?: string;
  webhookSecretHeaderName?: string;
}): CloudApiSettings {
  return {
    kind: '360dialog',
    baseUrl: options.baseUrl ?? 'https://waba-v2.360dialog.io',
    authHeader: 'D360-API-KEY',
    token: options.apiKey,
    pathStyle: 'none',
    webhookSecretHeader: {
      name: options.webhookSecretHeaderName ?? DEFAULT_DIALOG360_SECRET_HEADER,
      value: options.webhookSecret,
    },
    mediaViaBaseUrl: true,
  };
}

export interface CloudApiDeps {
  readonly fetch?: typeof fetch;
  /** Per-request timeout; a send that times out is `provider_unavailable` with `maybeSent`. */
  readonly timeoutMs?: number;
  /** The clock, for `Retry-After` dates and webhook receive times. */
  readonly now?: () => number;
  /** Waits between media download attempts (tests pass a no-op). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One line of `checkConnection`: what was checked, whether it is fine, and what to do if not. */
export interface ConnectionCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

/** A template definition as the template management API takes it (Meta's JSON, kept as given). */
export interface TemplateDefinition {
  readonly name: string;
  readonly language: string;
  readonly category: string;
  readonly components: readonly unknown[];
  readonly parameter_format?: 'POSITIONAL' | 'NAMED';
  readonly [key: string]: unknown;
}

export interface DownloadedMedia {
  readonly bytes: Buffer;
  readonly mimeType?: string;
  readonly sha256?: string;
  readonly fileSize?: number;
}

/** A management call (templates, media, webhook registration) failed; `failure` says why. */
export class CloudApiRequestError extends Error {
  override readonly name = 'CloudApiRequestError';
  constructor(
    message: string,
    readonly failure: SendFailure,
    /** Whether trying again can help (transient provider trouble, a corrupted transfer). */
    readonly retryable: boolean = failure.reason === 'provider_unavailable' ||
      failure.reason === 'throughput',
  ) {
    super(message);
  }
}

export interface CloudApiProvider extends Provider {
  readonly kind: CloudApiKind;
  markRead(channel: ChannelAddress, providerMessageId: string): Promise<SendResult>;
  answerChallenge(query: Readonly<Record<string, string | undefined>>): string | null;
  listTemplates(channel: ChannelAddress): Promise<ProviderTemplate[]>;
  createTemplate(
    channel: ChannelAddress,
    template: TemplateDefinition,
  ): Promise<{ id: string; status?: string; category?: string }>;
  deleteTemplate(channel: ChannelAddress, target: { name: string; hsmId?: string }): Promise<void>;
  /** Absent on 360dialog, which documents no edit: the registry then says to edit in its hub. */
  editTemplate?(
    channel: ChannelAddress,
    providerTemplateId: string,
    template: TemplateDefinition,
  ): Promise<{ status?: string; category?: string }>;
  registerDialog360Webhook(url: string, headers?: Readonly<Record<string, string>>): Promise<void>;
  downloadMedia(mediaId: string): Promise<DownloadedMedia>;
  checkConnection(channel?: ChannelAddress): Promise<ConnectionCheck[]>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** Compares secrets in constant time whatever their lengths (both sides hashed first). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

function defaultCheckStyle(settings: CloudApiSettings): CloudApiCheckStyle {
  if (settings.connectionChecks) return settings.connectionChecks;
  if (settings.kind === '360dialog') return '360dialog';
  return settings.pathStyle === 'phone-number-id' ? 'graph' : 'none';
}

/** Phone number fields read by `checkConnection` (registration, quality, limits). */
const PHONE_FIELDS = [
  'id',
  'display_phone_number',
  'verified_name',
  'status',
  'platform_type',
  'code_verification_status',
  'quality_rating',
  'throughput',
  'whatsapp_business_manager_messaging_limit',
];
/** The fields every Graph version has, for a retry when a newer field is refused (#100). */
const PHONE_FIELDS_BASIC = [
  'id',
  'display_phone_number',
  'verified_name',
  'status',
  'platform_type',
  'quality_rating',
  'messaging_limit_tier',
];

/**
 * Creates a Cloud API provider for Meta, 360dialog or another compatible provider. Sends with a
 * timeout, maps every response to a SendResult (failures are values), verifies webhooks by Meta
 * signature and/or secret header, answers the `hub.challenge` handshake and manages templates.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 * @see https://docs.360dialog.com/docs/waba-messaging/messaging
 */
export function createCloudApiProvider(
  settings: CloudApiSettings,
  deps: CloudApiDeps = {},
): CloudApiProvider {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const now = deps.now ?? (() => Date.now());
  const sleep =
    deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const base = settings.baseUrl.replace(/\/+$/, '');
  const prefix = settings.apiVersion ? `${base}/${settings.apiVersion}` : base;
  const graphPaths = settings.pathStyle === 'phone-number-id';
  const authValue = settings.authScheme
    ? `${settings.authScheme} ${settings.token}`
    : settings.token;
  const label = settings.kind === 'meta' ? 'Meta' : settings.kind;

  async function http(method: string, url: string, body?: unknown): Promise<HttpOutcome> {
    const headers: Record<string, string> = { [settings.authHeader]: authValue };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetchOutcome(
      doFetch,
      url,
      { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      {
        timeoutMs,
        // debug_token carries the token in its query: never echo it.
        redact: (text) => (settings.token ? text.split(settings.token).join('[token]') : text),
      },
    );
  }

  /** Any non-success outcome as a SendFailure (a timeout may have reached the provider). */
  function failureOf(outcome: HttpOutcome): SendFailure {
    switch (outcome.kind) {
      case 'timeout':
        return {
          reason: 'provider_unavailable',
          details: `no response from ${label} within ${timeoutMs} ms`,
          maybeSent: true,
        };
      case 'network':
        return {
          reason: 'provider_unavailable',
          details: `could not reach ${label}: ${outcome.message}`,
          maybeSent: !outcome.connectFailed,
        };
      case 'response':
        return failureFromMetaError(
          outcome.status,
          parseJson(outcome.body),
          outcome.headers.get('retry-after') ?? undefined,
          now(),
        );
    }
  }

  const isSuccess = (o: HttpOutcome): o is Extract<HttpOutcome, { kind: 'response' }> =>
    o.kind === 'response' && o.status >= 200 && o.status < 300;

  /** Management calls throw CloudApiRequestError; sends never throw. */
  async function call(method: string, url: string, what: string, body?: unknown): Promise<unknown> {
    const outcome = await http(method, url, body);
    if (isSuccess(outcome)) return parseJson(outcome.body);
    const failure = failureOf(outcome);
    const code = failure.providerCode ? ` (code ${failure.providerCode})` : '';
    throw new CloudApiRequestError(
      `${what} failed: ${failure.reason}${code}${failure.details ? `: ${failure.details}` : ''}`,
      failure,
    );
  }

  const messagesUrl = (channel: ChannelAddress): string =>
    graphPaths
      ? `${prefix}/${encodeURIComponent(channel.providerKey)}/messages`
      : `${prefix}/messages`;

  function templatesUrl(channel: ChannelAddress): string {
    if (!graphPaths) return `${prefix}/v1/configs/templates`;
    if (!channel.wabaId)
      throw new CloudApiRequestError(
        `channel ${channel.channelId} has no WhatsApp Business Account id; templates belong to the WABA`,
        { reason: 'invalid_request', details: 'the channel has no wabaId' },
      );
    return `${prefix}/${encodeURIComponent(channel.wabaId)}/message_templates`;
  }

  async function postMessage(channel: ChannelAddress, body: unknown): Promise<SendResult> {
    const outcome = await http('POST', messagesUrl(channel), body);
    if (!isSuccess(outcome)) return { ok: false, failure: failureOf(outcome) };
    const json = parseJson(outcome.body);
    const messages = isObject(json) && Array.isArray(json.messages) ? json.messages : [];
    const first: unknown = messages[0];
    const id = isObject(first) ? str(first.id) : undefined;
    if (id) return { ok: true, providerMessageId: id };
    return {
      ok: false,
      failure: {
        reason: 'provider_unavailable',
        details: `${label} answered HTTP ${outcome.status} without messages[0].id; the outcome is unknown`,
        httpStatus: outcome.status,
        maybeSent: true,
      },
    };
  }

  function verifyWebhook(request: RawWebhook): VerifyResult {
    if (!settings.appSecret && !settings.webhookSecretHeader)
      return {
        ok: false,
        status: 401,
        detail:
          'no app secret or webhook secret header is configured for this connection, so no webhook can be trusted',
      };
    if (settings.appSecret) {
      const header = headerOf(request.headers, 'x-hub-signature-256');
      if (header === undefined)
        return { ok: false, status: 401, detail: 'missing X-Hub-Signature-256 header' };
      if (!/^sha256=[0-9a-fA-F]{64}$/.test(header.trim()))
        return {
          ok: false,
          status: 401,
          detail: 'malformed X-Hub-Signature-256 header: expected "sha256=" and 64 hex digits',
        };
      if (!verifyMetaSignature(request.body, header, settings.appSecret))
        return {
          ok: false,
          status: 401,
          detail:
            'X-Hub-Signature-256 does not match the body: check the app secret, and that the raw body reaches Parley unmodified',
        };
    }
    if (settings.webhookSecretHeader) {
      const { name, value } = settings.webhookSecretHeader;
      const given = headerOf(request.headers, name);
      if (given === undefined)
        return {
          ok: false,
          status: 401,
          detail: `missing ${name} header (the secret header registered with the webhook)`,
        };
      if (!sameSecret(given, value))
        return {
          ok: false,
          status: 401,
          detail: `${name} header does not match the secret registered with the webhook`,
        };
    }
    return { ok: true };
  }

  function answerChallenge(query: Readonly<Record<string, string | undefined>>): string | null {
    const token = query['hub.verify_token'];
    const challenge = query['hub.challenge'];
    if (!settings.verifyToken || query['hub.mode'] !== 'subscribe') return null;
    if (token === undefined || challenge === undefined || challenge === '') return null;
    return sameSecret(token, settings.verifyToken) ? challenge : null;
  }

  function toTemplate(raw: Json): ProviderTemplate {
    const template: {
      -readonly [K in keyof ProviderTemplate]: ProviderTemplate[K];
    } = {
      name: str(raw.name) ?? '',
      language: str(raw.language) ?? '',
      category: str(raw.category) ?? '',
      status: str(raw.status) ?? '',
      components: Array.isArray(raw.components) ? (raw.components as unknown[]) : [],
    };
    const id = str(raw.id);
    const format = str(raw.parameter_format);
    if (id !== undefined) template.providerTemplateId = id;
    if (format !== undefined) template.parameterFormat = format;
    return template;
  }

  async function listTemplates(channel: ChannelAddress): Promise<ProviderTemplate[]> {
    const url = templatesUrl(channel);
    const out: ProviderTemplate[] = [];
    if (graphPaths) {
      // Graph pages with cursors; following `after` keeps the token on our own base URL.
      let after: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const query = new URLSearchParams({ limit: '100' });
        if (after) query.set('after', after);
        const json = await call('GET', `${url}?${query.toString()}`, 'listing templates');
        const data = isObject(json) && Array.isArray(json.data) ? json.data : [];
        out.push(...data.filter(isObject).map(toTemplate));
        const paging = isObject(json) && isObject(json.paging) ? json.paging : undefined;
        const cursors = isObject(paging?.cursors) ? paging.cursors : undefined;
        after = paging?.next !== undefined ? str(cursors?.after) : undefined;
        if (!after || data.length === 0) break;
      }
      return out;
    }
    // 360dialog pages with offset/limit and reports `total`.
    const limit = 1000;
    for (let offset = 0; ; offset += limit) {
      const query = new URLSearchParams({ limit: String(limit), offset: String(offset) });
      const json = await call('GET', `${url}?${query.toString()}`, 'listing templates');
      const list = isObject(json)
        ? Array.isArray(json.waba_templates)
          ? json.waba_templates
          : Array.isArray(json.data)
            ? json.data
            : []
        : [];
      out.push(...list.filter(isObject).map(toTemplate));
      const total = isObject(json) ? Number(json.total) : NaN;
      if (list.length === 0 || !Number.isFinite(total) || offset + list.length >= total) break;
    }
    return out;
  }

  async function createTemplate(
    channel: ChannelAddress,
    template: TemplateDefinition,
  ): Promise<{ id: string; status?: string; category?: string }> {
    const json = await call(
      'POST',
      templatesUrl(channel),
      `creating template ${template.name}`,
      template,
    );
    const result: { id: string; status?: string; category?: string } = {
      id: isObject(json) ? (str(json.id) ?? '') : '',
    };
    const status = isObject(json) ? str(json.status) : undefined;
    const category = isObject(json) ? str(json.category) : undefined;
    if (status !== undefined) result.status = status;
    if (category !== undefined) result.category = category;
    return result;
  }

  /**
   * TPL-9: an edit keeps the template's id; only its content (and, for a template not yet
   * approved, its category) changes, so name and language are not sent. Meta answers
   * `{success: true}`; the template goes back to review and its status arrives by webhook.
   * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates#edit-a-message-template
   */
  async function editTemplate(
    _channel: ChannelAddress,
    providerTemplateId: string,
    template: TemplateDefinition,
  ): Promise<{ status?: string; category?: string }> {
    const name = template.name;
    const content = Object.fromEntries(
      Object.entries(template).filter(([key]) => key !== 'name' && key !== 'language'),
    );
    const json = await call(
      'POST',
      `${prefix}/${encodeURIComponent(providerTemplateId)}`,
      `editing template ${name}`,
      content,
    );
    if (!isObject(json) || json.success !== true)
      throw new CloudApiRequestError(`the provider did not confirm the edit of ${name}`, {
        reason: 'provider_unavailable',
        details: 'the answer had no "success": true',
      });
    return { status: 'PENDING' };
  }

  async function deleteTemplate(
    channel: ChannelAddress,
    target: { name: string; hsmId?: string },
  ): Promise<void> {
    if (graphPaths) {
      // Without hsm_id every language of the name goes; with it, only that one template.
      const query = new URLSearchParams({ name: target.name });
      if (target.hsmId) query.set('hsm_id', target.hsmId);
      await call(
        'DELETE',
        `${templatesUrl(channel)}?${query.toString()}`,
        `deleting template ${target.name}`,
      );
      return;
    }
    await call(
      'DELETE',
      `${templatesUrl(channel)}/${encodeURIComponent(target.name)}`,
      `deleting template ${target.name}`,
    );
  }

  async function registerDialog360Webhook(
    url: string,
    headers?: Readonly<Record<string, string>>,
  ): Promise<void> {
    const secret = settings.webhookSecretHeader;
    const sent = headers ?? (secret ? { [secret.name]: secret.value } : undefined);
    const body: Json = { url };
    if (sent) body.headers = sent;
    await call('POST', `${prefix}/v1/configs/webhook`, 'registering the webhook', body);
  }

  /** Media URLs carry our credentials: only our own host or an https URL may receive them. */
  function mediaUrl(raw: string): string {
    const url = new URL(raw);
    if (settings.mediaViaBaseUrl) {
      const own = new URL(base);
      url.protocol = own.protocol;
      url.host = own.host;
    }
    if (url.protocol !== 'https:' && url.origin !== new URL(base).origin)
      throw new CloudApiRequestError(
        `refusing to send credentials to a non-https media URL on another host (${url.origin})`,
        { reason: 'media', details: 'media URL is neither https nor on the provider host' },
      );
    return url.toString();
  }

  async function downloadOnce(mediaId: string): Promise<DownloadedMedia> {
    const meta = await call(
      'GET',
      `${prefix}/${encodeURIComponent(mediaId)}`,
      `looking up media ${mediaId}`,
    );
    const location = isObject(meta) ? str(meta.url) : undefined;
    if (!location)
      throw new CloudApiRequestError(`media ${mediaId} has no download URL`, {
        reason: 'media',
        details: 'the media lookup returned no url',
      });
    const outcome = await http('GET', mediaUrl(location));
    if (!isSuccess(outcome)) {
      const failure = failureOf(outcome);
      throw new CloudApiRequestError(
        `downloading media ${mediaId} failed: ${failure.details ?? failure.reason}`,
        failure,
      );
    }
    const sha256 = isObject(meta) ? str(meta.sha256) : undefined;
    if (sha256 && /^[0-9a-f]{64}$/i.test(sha256)) {
      const actual = createHash('sha256').update(outcome.body).digest('hex');
      if (actual !== sha256.toLowerCase())
        throw new CloudApiRequestError(
          `media ${mediaId} does not match its sha256`,
          {
            reason: 'media',
            details: 'downloaded bytes do not match the sha256 the provider announced',
          },
          true,
        );
    }
    const media: { -readonly [K in keyof DownloadedMedia]: DownloadedMedia[K] } = {
      bytes: outcome.body,
    };
    const mimeType = isObject(meta) ? str(meta.mime_type) : undefined;
    const size = isObject(meta) ? Number(str(meta.file_size) ?? NaN) : NaN;
    if (mimeType !== undefined) media.mimeType = mimeType;
    if (sha256 !== undefined) media.sha256 = sha256;
    if (Number.isFinite(size)) media.fileSize = size;
    return media;
  }

  /**
   * Media URLs expire after minutes, so each attempt looks the URL up again. Transient failures
   * (5xx, throughput, timeouts, a corrupted transfer) are retried twice with growing waits.
   */
  async function downloadMedia(mediaId: string): Promise<DownloadedMedia> {
    const attempts = 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await downloadOnce(mediaId);
      } catch (error) {
        const retryable = error instanceof CloudApiRequestError && error.retryable;
        if (!retryable || attempt >= attempts) throw error;
        await sleep(error.failure.retryAfterMs ?? 250 * 2 ** (attempt - 1));
      }
    }
  }

  async function checkConnection(channel?: ChannelAddress): Promise<ConnectionCheck[]> {
    switch (defaultCheckStyle(settings)) {
      case 'graph':
        return graphChecks(channel);
      case '360dialog':
        return dialog360Checks();
      case 'none':
        return [];
    }
  }

  const describe = (f: SendFailure): string =>
    [f.providerCode ? `code ${f.providerCode}` : undefined, f.title, f.details]
      .filter((x) => x !== undefined && x !== '')
      .join(': ') || f.reason;

  async function tryCall(
    url: string,
  ): Promise<{ ok: true; json: unknown } | { ok: false; failure: SendFailure }> {
    const outcome = await http('GET', url);
    return isSuccess(outcome)
      ? { ok: true, json: parseJson(outcome.body) }
      : { ok: false, failure: failureOf(outcome) };
  }

  const TOKEN_FIX =
    settings.kind === 'meta'
      ? 'Create a system-user token in Meta Business Settings › System users with whatsapp_business_messaging and whatsapp_business_management, expiry "Never", and save it on this connection.'
      : `Create a new API key with ${label} and save it on this connection.`;

  async function graphTokenChecks(): Promise<{ checks: ConnectionCheck[]; appId?: string }> {
    if (settings.kind === 'meta') {
      const query = new URLSearchParams({ input_token: settings.token });
      const debug = await tryCall(`${prefix}/debug_token?${query.toString()}`);
      const data =
        debug.ok && isObject(debug.json) && isObject(debug.json.data) ? debug.json.data : undefined;
      if (data) {
        if (data.is_valid !== true) {
          const reason = isObject(data.error) ? str(data.error.message) : undefined;
          return {
            checks: [
              {
                check: 'token',
                ok: false,
                detail: `Meta says the access token is not valid${reason ? `: ${reason}` : ''}`,
                fix: TOKEN_FIX,
              },
            ],
          };
        }
        const checks: ConnectionCheck[] = [];
        const expiresAt = Number(data.expires_at);
        const type = str(data.type);
        checks.push(
          Number.isFinite(expiresAt) && expiresAt > 0
            ? {
                check: 'token',
                ok: true,
                detail: `valid ${type ? `${type} ` : ''}token, but it expires on ${new Date(expiresAt * 1000).toISOString()}`,
                fix: 'Replace it with a system-user token that never expires before that date.',
              }
            : {
                check: 'token',
                ok: true,
                detail: `valid ${type ? `${type} ` : ''}token that does not expire`,
              },
        );
        const scopes = Array.isArray(data.scopes)
          ? data.scopes.filter((s) => typeof s === 'string')
          : [];
        const missing = ['whatsapp_business_messaging', 'whatsapp_business_management'].filter(
          (s) => !scopes.includes(s),
        );
        checks.push(
          missing.length === 0
            ? {
                check: 'token-permissions',
                ok: true,
                detail: 'whatsapp_business_messaging and whatsapp_business_management granted',
              }
            : {
                check: 'token-permissions',
                ok: false,
                detail: `the token lacks ${missing.join(' and ')}`,
                fix: `Regenerate the system-user token with ${missing.join(' and ')} ticked, for the WhatsApp Business Account of this number.`,
              },
        );
        const appId = str(data.app_id);
        return appId === undefined ? { checks } : { checks, appId };
      }
      if (!debug.ok && debug.failure.reason === 'auth')
        return {
          checks: [
            {
              check: 'token',
              ok: false,
              detail: `Meta refused the token (${describe(debug.failure)})`,
              fix: TOKEN_FIX,
            },
          ],
        };
    }
    // Providers without debug_token (or when it is unavailable): any authenticated read proves the token.
    const me = await tryCall(`${prefix}/me`);
    if (me.ok)
      return { checks: [{ check: 'token', ok: true, detail: `${label} accepted the token` }] };
    return {
      checks: [
        {
          check: 'token',
          ok: false,
          detail: `${label} refused the token (${describe(me.failure)})`,
          fix:
            me.failure.reason === 'auth'
              ? TOKEN_FIX
              : `Check ${settings.baseUrl} is reachable and retry.`,
        },
      ],
    };
  }

  async function graphChecks(channel?: ChannelAddress): Promise<ConnectionCheck[]> {
    const { checks, appId } = await graphTokenChecks();
    if (!channel) return checks;
    if (!channel.wabaId) {
      checks.push({
        check: 'webhook-subscription',
        ok: false,
        detail: `channel ${channel.channelId} has no WhatsApp Business Account id, so its webhook subscription cannot be checked`,
        fix: 'Set the WABA id on the channel (WhatsApp Manager › Account tools › Phone numbers shows it).',
      });
    } else {
      const subscribed = await tryCall(
        `${prefix}/${encodeURIComponent(channel.wabaId)}/subscribed_apps`,
      );
      const subscribeFix = `Subscribe the app to the WABA: POST ${prefix}/${channel.wabaId}/subscribed_apps with this token.`;
      if (!subscribed.ok) {
        checks.push({
          check: 'webhook-subscription',
          ok: false,
          detail: `could not read the subscriptions of WABA ${channel.wabaId} (${describe(subscribed.failure)})`,
          fix: subscribed.failure.reason === 'auth' ? TOKEN_FIX : subscribeFix,
        });
      } else {
        const data =
          isObject(subscribed.json) && Array.isArray(subscribed.json.data)
            ? subscribed.json.data
            : [];
        const apps = data
          .filter(isObject)
          .map((d) => (isObject(d.whatsapp_business_api_data) ? d.whatsapp_business_api_data : d));
        const ours = appId === undefined ? apps[0] : apps.find((a) => str(a.id) === appId);
        checks.push(
          ours
            ? {
                check: 'webhook-subscription',
                ok: true,
                detail: `app ${str(ours.name) ?? str(ours.id) ?? '(unnamed)'} is subscribed to WABA ${channel.wabaId}`,
              }
            : {
                check: 'webhook-subscription',
                ok: false,
                detail:
                  apps.length === 0
                    ? `no app is subscribed to WABA ${channel.wabaId}: no webhooks will arrive`
                    : `this token's app (${appId ?? '?'}) is not among the apps subscribed to WABA ${channel.wabaId}`,
                fix: subscribeFix,
              },
        );
      }
    }
    checks.push(...(await phoneChecks(channel)));
    return checks;
  }

  async function phoneChecks(channel: ChannelAddress): Promise<ConnectionCheck[]> {
    const url = (fields: string[]) =>
      `${prefix}/${encodeURIComponent(channel.providerKey)}?fields=${fields.join(',')}`;
    let read = await tryCall(url(PHONE_FIELDS));
    if (!read.ok && read.failure.providerCode === '100')
      read = await tryCall(url(PHONE_FIELDS_BASIC));
    if (!read.ok || !isObject(read.json))
      return [
        {
          check: 'phone-number-registration',
          ok: false,
          detail: `could not read phone number ${channel.providerKey} (${read.ok ? 'no data' : describe(read.failure)})`,
          fix:
            !read.ok && read.failure.reason === 'auth'
              ? TOKEN_FIX
              : 'Check the phone number id (WhatsApp Manager › Phone numbers) and that the token can see its WABA.',
        },
      ];
    const phone = read.json;
    const checks: ConnectionCheck[] = [];
    const status = str(phone.status);
    const platform = str(phone.platform_type);
    const display = str(phone.display_phone_number) ?? channel.providerKey;
    const registered = platform === undefined || platform === 'CLOUD_API';
    const connected = status === undefined || status === 'CONNECTED';
    checks.push(
      registered && connected
        ? {
            check: 'phone-number-registration',
            ok: true,
            detail: `${display} is registered on the Cloud API (${status ?? 'status unknown'})`,
          }
        : {
            check: 'phone-number-registration',
            ok: false,
            detail: `${display} is ${!registered ? `not registered on the Cloud API (platform_type ${platform ?? '?'})` : `in status ${status ?? '?'}`}`,
            fix: `Register the number: POST ${prefix}/${channel.providerKey}/register with {"messaging_product":"whatsapp","pin":"<6-digit PIN>"}.`,
          },
    );
    const quality = str(phone.quality_rating);
    checks.push(
      quality === 'RED'
        ? {
            check: 'quality-rating',
            ok: false,
            detail: `${display} has a RED (low) quality rating: WhatsApp may limit or block its sends`,
            fix: 'Pause marketing campaigns, review recent templates for blocks and reports, and message only opted-in contacts.',
          }
        : quality === 'YELLOW'
          ? {
              check: 'quality-rating',
              ok: true,
              detail: `${display} has a YELLOW (medium) quality rating`,
              fix: 'Reduce marketing volume and check which templates users block or report.',
            }
          : {
              check: 'quality-rating',
              ok: true,
              detail: `quality rating ${quality ?? 'not reported'}`,
            },
    );
    const limit = phone.whatsapp_business_manager_messaging_limit ?? phone.messaging_limit_tier;
    const limitText =
      typeof limit === 'string' ? limit : limit === undefined ? undefined : JSON.stringify(limit);
    checks.push({
      check: 'messaging-limit',
      ok: true,
      detail:
        limitText === undefined
          ? 'messaging limit not reported'
          : `messaging limit ${limitText} (unique users outside the service window per rolling 24 h)`,
    });
    return checks;
  }

  async function dialog360Checks(): Promise<ConnectionCheck[]> {
    const read = await tryCall(`${prefix}/v1/configs/webhook`);
    if (!read.ok) {
      const auth = read.failure.reason === 'auth';
      return [
        {
          check: 'token',
          ok: false,
          detail: auth
            ? `${label} refused the API key (${describe(read.failure)})`
            : `could not reach ${label} (${describe(read.failure)})`,
          fix: auth ? TOKEN_FIX : `Check ${settings.baseUrl} is reachable and retry.`,
        },
      ];
    }
    const checks: ConnectionCheck[] = [
      { check: 'token', ok: true, detail: `${label} accepted the API key` },
    ];
    const json = isObject(read.json) ? read.json : {};
    const url = str(json.url);
    const headers = isObject(json.headers) ? json.headers : {};
    const secret = settings.webhookSecretHeader;
    const registerFix =
      'Register the webhook from Parley (it sends POST /v1/configs/webhook with the secret header).';
    if (!url) {
      checks.push({
        check: 'webhook-config',
        ok: false,
        detail: 'no webhook URL is registered for this number',
        fix: registerFix,
      });
    } else if (
      secret &&
      !Object.keys(headers).some((k) => k.toLowerCase() === secret.name.toLowerCase())
    ) {
      checks.push({
        check: 'webhook-config',
        ok: false,
        detail: `the webhook ${url} is registered without the ${secret.name} header, so Parley will refuse its deliveries`,
        fix: registerFix,
      });
    } else {
      checks.push({ check: 'webhook-config', ok: true, detail: `webhook registered: ${url}` });
    }
    return checks;
  }

  return {
    kind: settings.kind,
    async send(request: SendRequest): Promise<SendResult> {
      const refusal = checkOutboundLimits(request.content);
      if (refusal)
        return { ok: false, failure: { reason: refusal.reason, details: refusal.detail } };
      return postMessage(request.channel, buildMetaMessageBody(request));
    },
    async markRead(channel: ChannelAddress, providerMessageId: string): Promise<SendResult> {
      const outcome = await http(
        'POST',
        messagesUrl(channel),
        buildMarkReadBody(providerMessageId),
      );
      return isSuccess(outcome)
        ? { ok: true, providerMessageId }
        : { ok: false, failure: failureOf(outcome) };
    },
    verifyWebhook,
    answerChallenge,
    parseWebhook: (request: RawWebhook) => parseMetaWebhook(request.body, { receivedAt: now() }),
    listTemplates,
    createTemplate,
    ...(graphPaths ? { editTemplate } : {}),
    deleteTemplate,
    registerDialog360Webhook,
    // Only 360dialog has a webhook-registration endpoint; Meta's is configured in the app dashboard.
    ...(settings.kind === '360dialog'
      ? { registerWebhook: (url: string) => registerDialog360Webhook(url) }
      : {}),
    downloadMedia,
    checkConnection,
  };
}
