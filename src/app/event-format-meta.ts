// Event format 'meta': events re-emitted as Meta Cloud API webhooks, signed with
// `X-Hub-Signature-256`, so webhook handlers written for the Cloud API work against Parley.
import { createHmac } from 'node:crypto';
import { REASONS, REASON_CODES, metaCodeForReason, type ReasonCode } from '../core/reason-codes.ts';
import type { EventFormatter, FormatInput, WireRequest } from './event-formats.ts';

type Data = Readonly<Record<string, unknown>>;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const isReason = (v: unknown): v is ReasonCode =>
  typeof v === 'string' && (REASON_CODES as readonly string[]).includes(v);

/**
 * `sha256=<hex HMAC-SHA256 of the raw body>` with the endpoint's secret (Meta signs with the app
 * secret; here the endpoint's secret plays that part).
 * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
 */
export function hubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Meta's envelope around one change of one WABA. */
function envelope(entryId: string, field: string, value: unknown) {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: entryId, changes: [{ field, value }] }],
  };
}

/**
 * The number a change is about. The Parley channel id stands in for `phone_number_id` when the
 * event does not carry the provider's (the Cloud-API-compatible endpoint takes either).
 */
function metadata(data: Data) {
  return {
    display_phone_number: str(data.displayPhoneNumber) ?? '',
    phone_number_id: str(data.phoneNumberId) ?? str(data.channelId) ?? '',
  };
}

const entryIdOf = (data: Data): string =>
  str(data.wabaId) ?? str(data.phoneNumberId) ?? str(data.channelId) ?? '';

const timestamp = (at: number): string => String(Math.floor(at / 1000));

/**
 * `message.received` → a `messages` change. The message `id` is the provider's `wamid`, as Meta
 * would send it (mark-as-read and reply context take it).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
 */
function received(event: FormatInput['event']) {
  const d = event.data;
  const type = str(d.type) ?? 'unknown';
  const from = str(d.from) ?? '';
  const name = str(d.profileName);
  const raw =
    d.content !== undefined && d.content !== null ? d.content : { body: str(d.text) ?? '' };
  // Media: Parley's copy's id, which `GET /graph/{v}/{media-id}` answers (the provider's id
  // expires and is not Parley's to serve).
  const mediaId = str(d.mediaId);
  const content =
    mediaId !== null && typeof raw === 'object' && !Array.isArray(raw)
      ? { ...raw, id: mediaId }
      : raw;
  return envelope(entryIdOf(d), 'messages', {
    messaging_product: 'whatsapp',
    metadata: metadata(d),
    contacts: [{ ...(name !== null ? { profile: { name } } : {}), wa_id: from }],
    messages: [
      {
        from,
        id: str(d.providerMessageId) ?? str(d.messageId) ?? event.id,
        timestamp: timestamp(event.at),
        ...(d.context ? { context: d.context } : {}),
        type,
        [type]: content,
      },
    ],
  });
}

/**
 * `message.status` and dispatch-time `message.failed` → a `statuses` change. The status `id` is
 * the Parley message id: the id the Cloud-API-compatible endpoint answered the send with.
 */
function status(event: FormatInput['event'], failed: boolean) {
  const d = event.data;
  const recipient = str(d.recipient);
  const reason = isReason(d.reason) ? d.reason : null;
  const errors = failed
    ? [
        {
          code: reason ? metaCodeForReason(reason) : 131000,
          title: reason ? REASONS[reason].explanation : 'Message failed',
          message: reason ? REASONS[reason].explanation : 'Message failed',
          error_data: { details: str(d.detail) ?? reason ?? 'failed' },
        },
      ]
    : Array.isArray(d.errors)
      ? d.errors
      : null;
  return envelope(entryIdOf(d), 'messages', {
    messaging_product: 'whatsapp',
    metadata: metadata(d),
    statuses: [
      {
        id: str(d.messageId) ?? event.id,
        status: failed ? 'failed' : (str(d.status) ?? 'sent'),
        timestamp: timestamp(event.at),
        ...(recipient !== null ? { recipient_id: recipient } : {}),
        ...(d.conversation ? { conversation: d.conversation } : {}),
        ...(d.pricing ? { pricing: d.pricing } : {}),
        ...(errors ? { errors } : {}),
      },
    ],
  });
}

/** `template.status` → a `message_template_status_update` change. */
function templateStatus(event: FormatInput['event']) {
  const d = event.data;
  return envelope(entryIdOf(d), 'message_template_status_update', {
    event: str(d.status) ?? 'PENDING',
    message_template_id: str(d.providerTemplateId) ?? str(d.templateId) ?? '',
    message_template_name: str(d.name) ?? '',
    message_template_language: str(d.language) ?? '',
    reason: str(d.reason) ?? 'NONE',
  });
}

/** The body for an event, or null when Meta's webhooks have nothing like it. */
export function metaWebhookBody(event: FormatInput['event']): unknown {
  switch (event.type) {
    case 'message.received':
      return received(event);
    case 'message.status':
      return status(event, false);
    case 'message.failed':
      // A failure a status webhook reported also arrives as message.status 'failed' (with
      // `provider` set here): only failures at dispatch, which have no status, become one.
      return event.data.provider === undefined ? status(event, true) : null;
    case 'template.status':
      return templateStatus(event);
    case 'webhook.ping':
      // A well-formed notification with nothing in it: handlers accept it and do nothing.
      return { object: 'whatsapp_business_account', entry: [] };
    default:
      return null;
  }
}

export const metaFormat: EventFormatter = ({ event, secret }): WireRequest | null => {
  const payload = metaWebhookBody(event);
  if (payload === null) return null;
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'X-Hub-Signature-256': hubSignature(secret, body),
    },
  };
};
