// Twilio WhatsApp webhooks (inbound messages and status callbacks, form-encoded) as Parley's
// InboundEvents, in the Cloud API's shapes so the rest of Parley never sees Twilio's vocabulary.
import type {
  InboundEvent,
  InboundMessage,
  OtherNotice,
  ProviderError,
  Referral,
  StatusUpdate,
} from '../../../core/inbound.ts';
import { normaliseTwilioStatus } from '../../../core/message-status.ts';
import { formText, formValue, parseForm, type FormParams } from './twilio-form.ts';
import { reasonForTwilioError } from './twilio-errors.ts';
import { waIdOf } from './twilio-request-build.ts';

/** The query parameter of a StatusCallback URL that carries Parley's own message id. */
export const CALLBACK_REF_PARAM = 'ref';

export interface TwilioParseOptions {
  /** Twilio webhooks carry no event time: everything happened when it arrived (CSW-5 note, §1). */
  readonly receivedAt: number;
  /** The URL Twilio called: tells a status callback by its path and carries the callback ref. */
  readonly url?: string;
}

const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;

/** A Twilio-side media kind from a MIME type, as the Cloud API names it. */
function mediaKind(contentType: string | undefined): (typeof MEDIA_TYPES)[number] {
  const major = (contentType ?? '').split('/')[0]?.toLowerCase();
  if (major === 'image') return contentType?.toLowerCase() === 'image/webp' ? 'sticker' : 'image';
  if (major === 'video') return 'video';
  if (major === 'audio') return 'audio';
  return 'document';
}

function urlOf(raw: string | undefined): URL | null {
  if (raw === undefined) return null;
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** `ReferralCtwaClid` → `ctwa_clid`: any Referral field Twilio adds later is kept under its own name. */
function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Click-to-WhatsApp referral: every `Referral*` field, in the Cloud API's `referral` names where
 * one exists (`source_url`, `headline`, `ctwa_clid` …), the rest under their own snake-case name.
 * @see https://www.twilio.com/docs/messaging/guides/webhook-request#whatsapp-specific-parameters
 */
export function twilioReferral(params: FormParams): Referral | undefined {
  const referral: Referral = {};
  let meaningful = false;
  for (const [name, values] of params) {
    if (!name.startsWith('Referral') || name === 'Referral') continue;
    const value = values[0] ?? '';
    const key = snakeCase(name.slice('Referral'.length));
    referral[key] = value;
    if (value !== '' && !(name === 'ReferralNumMedia' && value === '0')) meaningful = true;
  }
  if (!meaningful) return undefined;
  const contentType = formText(params, 'ReferralMediaContentType');
  const mediaUrl = formText(params, 'ReferralMediaUrl');
  if (contentType !== undefined) {
    const kind = mediaKind(contentType) === 'video' ? 'video' : 'image';
    referral.media_type = kind;
    if (mediaUrl !== undefined) referral[`${kind}_url`] = mediaUrl;
  }
  return referral;
}

function messageContent(params: FormParams): { type: string; content: Record<string, unknown> } {
  const declared = formText(params, 'MessageType')?.toLowerCase();
  const body = formValue(params, 'Body') ?? '';
  const numMedia = Number(formValue(params, 'NumMedia') ?? '0');
  const media: Array<{ url: string; mime_type?: string }> = [];
  for (let i = 0; i < (Number.isInteger(numMedia) ? Math.min(numMedia, 50) : 0); i++) {
    const url = formText(params, `MediaUrl${i}`);
    if (url === undefined) continue;
    const mimeType = formText(params, `MediaContentType${i}`);
    media.push(mimeType === undefined ? { url } : { url, mime_type: mimeType });
  }
  const latitude = formText(params, 'Latitude');
  const longitude = formText(params, 'Longitude');
  const buttonPayload = formValue(params, 'ButtonPayload');
  const buttonText = formValue(params, 'ButtonText');
  const listId = formText(params, 'ListId');

  if (declared === 'location' || (declared === undefined && latitude && longitude)) {
    const content: Record<string, unknown> = {
      latitude: Number(latitude),
      longitude: Number(longitude),
    };
    const label = formText(params, 'Label');
    const address = formText(params, 'Address');
    if (label !== undefined) content.name = label;
    if (address !== undefined) content.address = address;
    return { type: 'location', content };
  }
  if (declared === 'interactive' && listId !== undefined)
    return {
      type: 'interactive',
      content: {
        type: 'list_reply',
        list_reply: { id: listId, title: formText(params, 'ListTitle') ?? body },
      },
    };
  if (declared === 'interactive' && buttonPayload !== undefined)
    return {
      type: 'interactive',
      content: {
        type: 'button_reply',
        button_reply: { id: buttonPayload, title: buttonText ?? body },
      },
    };
  if (declared === 'button' || (declared === undefined && buttonPayload !== undefined))
    return { type: 'button', content: { payload: buttonPayload ?? '', text: buttonText ?? body } };
  const first = media[0];
  if (first !== undefined && (declared === undefined || declared !== 'text')) {
    const type =
      declared !== undefined && (MEDIA_TYPES as readonly string[]).includes(declared)
        ? declared
        : mediaKind(first.mime_type);
    // `id` is the provider's handle for the bytes (Twilio's media URL, fetched with credentials).
    const content: Record<string, unknown> = { id: first.url, url: first.url };
    if (first.mime_type !== undefined) content.mime_type = first.mime_type;
    if (body !== '') content.caption = body;
    if (media.length > 1) content.media = media;
    return { type, content };
  }
  if (declared === undefined || declared === 'text') return { type: 'text', content: { body } };
  // A type Parley does not know yet: keep what came, typed as Twilio named it.
  return { type: declared, content: body === '' ? {} : { body } };
}

function inboundMessage(params: FormParams, receivedAt: number): InboundMessage {
  const id =
    formText(params, 'MessageSid') ??
    formText(params, 'SmsMessageSid') ??
    formText(params, 'SmsSid');
  const to = formText(params, 'To');
  const from = formText(params, 'WaId') ?? waIdOf(formText(params, 'From') ?? '');
  if (id === undefined || to === undefined || from === '')
    throw new Error('not a Twilio message webhook: MessageSid, From and To are required');
  const { type, content } = messageContent(params);
  const message: { -readonly [K in keyof InboundMessage]: InboundMessage[K] } = {
    kind: 'message',
    channelKey: to,
    providerMessageId: id,
    from,
    at: receivedAt,
    type,
    content,
  };
  const profileName = formText(params, 'ProfileName');
  if (profileName !== undefined) message.profileName = profileName;
  const context: NonNullable<InboundMessage['context']> = {};
  const repliedTo = formText(params, 'OriginalRepliedMessageSid');
  const repliedSender = formText(params, 'OriginalRepliedMessageSender');
  if (repliedTo !== undefined) context.id = repliedTo;
  if (repliedSender !== undefined) context.from = waIdOf(repliedSender);
  if (formValue(params, 'Forwarded') === 'true') context.forwarded = true;
  if (formValue(params, 'FrequentlyForwarded') === 'true') context.frequently_forwarded = true;
  if (Object.keys(context).length > 0) message.context = context;
  const referral = twilioReferral(params);
  if (referral) message.referral = referral;
  return message;
}

function statusEvent(
  params: FormParams,
  value: string,
  receivedAt: number,
  url: URL | null,
): StatusUpdate | OtherNotice {
  const id = formText(params, 'MessageSid') ?? formText(params, 'SmsSid');
  if (id === undefined) throw new Error('not a Twilio status callback: MessageSid is required');
  const channelKey = formText(params, 'From');
  const status = normaliseTwilioStatus(value);
  if (status === undefined)
    // `received`, `receiving` and statuses Twilio may add: kept, never fatal.
    return {
      kind: 'notice',
      ...(channelKey !== undefined ? { channelKey } : {}),
      field: 'twilio_message_status',
      at: receivedAt,
      value: Object.fromEntries([...params].map(([k, v]) => [k, v[0]])),
    };
  const update: { -readonly [K in keyof StatusUpdate]: StatusUpdate[K] } = {
    kind: 'status',
    channelKey: channelKey ?? '',
    providerMessageId: id,
    status,
    at: receivedAt,
  };
  const to = formText(params, 'To');
  if (to !== undefined) update.recipient = waIdOf(to);
  const rawCode = formText(params, 'ErrorCode');
  const message = formText(params, 'ErrorMessage');
  if (rawCode !== undefined) {
    const numeric = /^\d+$/.test(rawCode) ? Number(rawCode) : undefined;
    const error: ProviderError = { code: numeric ?? rawCode };
    if (message !== undefined) error.message = message;
    update.errors = [error];
    if (status === 'failed') update.reason = reasonForTwilioError(numeric, message);
  }
  const ref = url?.searchParams.get(CALLBACK_REF_PARAM);
  if (ref) update.callbackData = ref;
  return update;
}

/**
 * A webhook's parameters: the form body of a POST, or — for a webhook configured with the GET
 * method, which has no body — the query string of the URL Twilio called (and signed).
 * @see https://www.twilio.com/docs/usage/webhooks/webhooks-security#validating-signatures-from-twilio
 */
export function webhookParams(body: Buffer, url: URL | null): FormParams {
  if (body.length > 0 || url === null || url.search === '') return parseForm(body);
  return parseForm(url.search.slice(1));
}

/**
 * Normalises one verified Twilio webhook (a POST form, or a GET with its parameters in the query). A status callback (it has `MessageStatus` and no
 * `NumMedia`, or came to the `/status` URL) becomes a `status` event routed by its `From` (the
 * business sender); anything else is an inbound message routed by its `To`. Times are the
 * receive time: Twilio sends none. Throws only on a body that is not a Twilio webhook.
 * @see https://www.twilio.com/docs/messaging/guides/webhook-request
 * @see https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 */
export function parseTwilioWebhook(body: Buffer, options: TwilioParseOptions): InboundEvent[] {
  const url = urlOf(options.url);
  const params = webhookParams(body, url);
  if (params.size === 0) throw new Error('not a Twilio webhook: the form body is empty');
  const messageStatus = formText(params, 'MessageStatus');
  const toStatusUrl = url !== null && /\/status\/?$/.test(url.pathname);
  if (messageStatus !== undefined && (toStatusUrl || !params.has('NumMedia')))
    return [statusEvent(params, messageStatus, options.receivedAt, url)];
  return [inboundMessage(params, options.receivedAt)];
}
