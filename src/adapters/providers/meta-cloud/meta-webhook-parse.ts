// Meta-format webhooks (Meta, 360dialog, any Cloud-API provider) normalised into Parley's InboundEvents.
import type {
  InboundEvent,
  InboundMessage,
  OtherNotice,
  ProviderError,
  StatusUpdate,
} from '../../../core/inbound.ts';
import { PROVIDER_STATUSES, type ProviderStatus } from '../../../core/message-status.ts';
import { fromUnixSeconds } from '../../../core/time.ts';
import { failureFromStatusErrors, toProviderError } from './meta-errors.ts';

/** The body is not a Cloud API webhook at all (not JSON, or not a WhatsApp Business Account envelope). */
export class MetaWebhookFormatError extends Error {
  override readonly name = 'MetaWebhookFormatError';
}

export interface ParseMetaWebhookOptions {
  /** When the webhook arrived; used only for events that carry no time of their own. */
  readonly receivedAt?: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** Builds an object without the keys whose value is undefined (events stay easy to compare and store). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function timeOf(value: unknown): number | undefined {
  return typeof value === 'string' || typeof value === 'number'
    ? fromUnixSeconds(value)
    : undefined;
}

const MESSAGE_VALUE_KEYS = new Set([
  'messaging_product',
  'metadata',
  'contacts',
  'messages',
  'statuses',
  'errors',
]);
const isProviderStatus = (s: string): s is ProviderStatus =>
  (PROVIDER_STATUSES as readonly string[]).includes(s);

/**
 * Parses a Cloud API webhook body into normalised events, leniently: unknown fields stay inside
 * `content` (messages) or `value` (notices) and never fail the parse.
 *
 * - `messages[]` → `message` events (`channelKey` = `metadata.phone_number_id`, timestamps in ms,
 *   the type's own object as `content`, a removed reaction as `emoji: ""`).
 * - `statuses[]` → `status` events (a `failed` one carries `reason`, mapped from its errors).
 * - A `messages` change's value-level `errors` → a `notice` with field `errors` and the whole value;
 *   unknown statuses → field `statuses`; unknown keys → field `messages` with the whole value.
 * - Every other field (`message_template_status_update`, `user_preferences`, `account_update` …)
 *   → a `notice` with the value kept whole; `channelKey` is the phone number id when the value has
 *   metadata, else the entry id (the WABA id).
 *
 * Throws MetaWebhookFormatError only when the body is not JSON or not a
 * `whatsapp_business_account` envelope.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/messages
 */
export function parseMetaWebhook(
  rawBody: Buffer,
  options: ParseMetaWebhookOptions = {},
): InboundEvent[] {
  const receivedAt = options.receivedAt ?? Date.now();
  const text = rawBody.toString('utf8');
  if (text.trim() === '')
    throw new MetaWebhookFormatError(
      'webhook body is empty; expected a JSON object with "object": "whatsapp_business_account"',
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new MetaWebhookFormatError(
      `webhook body is not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!isObject(doc))
    throw new MetaWebhookFormatError(
      `webhook body is a JSON ${Array.isArray(doc) ? 'array' : doc === null ? 'null' : typeof doc}; expected an object with "object": "whatsapp_business_account"`,
    );
  if (doc.object !== 'whatsapp_business_account')
    throw new MetaWebhookFormatError(
      `webhook "object" is ${doc.object === undefined ? 'missing' : JSON.stringify(doc.object)}; expected "whatsapp_business_account"`,
    );
  if (!Array.isArray(doc.entry))
    throw new MetaWebhookFormatError('webhook "entry" is missing or not an array');

  const events: InboundEvent[] = [];
  for (const entry of objects(doc.entry)) {
    const entryId = str(entry.id);
    const entryTime = timeOf(entry.time);
    for (const change of objects(entry.changes)) {
      const field = str(change.field) ?? 'unknown';
      const value = change.value;
      if (field === 'messages' && isObject(value)) {
        events.push(...parseMessagesValue(value, entryId, entryTime, receivedAt));
      } else {
        events.push(notice(field, value, entryId, entryTime, receivedAt));
      }
    }
  }
  return events;
}

function channelKeyOf(value: unknown, entryId: string | undefined): string | undefined {
  const metadata = isObject(value) && isObject(value.metadata) ? value.metadata : undefined;
  return str(metadata?.phone_number_id) ?? entryId;
}

function notice(
  field: string,
  value: unknown,
  entryId: string | undefined,
  entryTime: number | undefined,
  receivedAt: number,
): OtherNotice {
  // Prefer the event's own time (e.g. user_preferences[].timestamp) over the delivery's.
  const own = isObject(value)
    ? (timeOf(value.timestamp) ?? timeOf(objects(value[field])[0]?.timestamp))
    : undefined;
  return compact<OtherNotice>({
    kind: 'notice',
    channelKey: channelKeyOf(value, entryId),
    field,
    at: own ?? entryTime ?? receivedAt,
    value,
  });
}

function parseMessagesValue(
  value: Json,
  entryId: string | undefined,
  entryTime: number | undefined,
  receivedAt: number,
): InboundEvent[] {
  const channelKey = channelKeyOf(value, entryId) ?? '';
  const contacts = objects(value.contacts);
  const events: InboundEvent[] = [];

  for (const message of objects(value.messages)) {
    events.push(parseMessage(message, channelKey, contacts, receivedAt));
  }
  for (const status of objects(value.statuses)) {
    const parsed = parseStatus(status, channelKey, receivedAt);
    events.push(parsed ?? notice('statuses', status, channelKey, entryTime, receivedAt));
  }
  if (value.errors !== undefined) {
    events.push(notice('errors', value, entryId, entryTime, receivedAt));
  }
  if (Object.keys(value).some((k) => !MESSAGE_VALUE_KEYS.has(k))) {
    events.push(notice('messages', value, entryId, entryTime, receivedAt));
  }
  return events;
}

/** The type's own object: `text` → `{body}`, `image` → `{id, mime_type, sha256, caption?…}` … */
function contentOf(type: string, message: Json): unknown {
  const own = message[type];
  if (type === 'reaction') {
    // Meta omits (or empties) the emoji when the user removes a reaction: normalise to "".
    const reaction = isObject(own) ? { ...own } : {};
    if (typeof reaction.emoji !== 'string') reaction.emoji = '';
    return reaction;
  }
  if (own !== undefined) return own;
  if (type === 'unsupported') return {};
  // An unknown type without its own object: keep everything that is not an envelope field.
  const rest = Object.fromEntries(
    Object.entries(message).filter(
      ([k]) => !['from', 'id', 'timestamp', 'type', 'context', 'referral', 'errors'].includes(k),
    ),
  );
  return rest;
}

function parseMessage(
  message: Json,
  channelKey: string,
  contacts: Json[],
  receivedAt: number,
): InboundMessage {
  const type = str(message.type) ?? 'unknown';
  const from = str(message.from);
  const contact =
    contacts.find((c) => from !== undefined && str(c.wa_id) === from) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  const profile = isObject(contact?.profile) ? contact.profile : undefined;
  const errors = objects(message.errors).map(toProviderError);
  return compact<InboundMessage>({
    kind: 'message',
    channelKey,
    providerMessageId: str(message.id) ?? '',
    from: from ?? str(contact?.wa_id) ?? str(message.from_user_id) ?? '',
    profileName: str(profile?.name),
    userId: str(contact?.user_id) ?? str(message.from_user_id),
    at: timeOf(message.timestamp) ?? receivedAt,
    type,
    content: contentOf(type, message),
    context: isObject(message.context) ? message.context : undefined,
    referral: isObject(message.referral) ? message.referral : undefined,
    errors: errors.length > 0 ? errors : undefined,
  });
}

function parseStatus(status: Json, channelKey: string, receivedAt: number): StatusUpdate | null {
  const value = str(status.status);
  if (value === undefined || !isProviderStatus(value)) return null;
  const errors: ProviderError[] = objects(status.errors).map(toProviderError);
  return compact<StatusUpdate>({
    kind: 'status',
    channelKey,
    providerMessageId: str(status.id) ?? '',
    status: value,
    at: timeOf(status.timestamp) ?? receivedAt,
    recipient: str(status.recipient_id),
    errors: errors.length > 0 ? errors : undefined,
    reason: value === 'failed' ? failureFromStatusErrors(errors).reason : undefined,
    pricing: isObject(status.pricing) ? status.pricing : undefined,
    conversation: isObject(status.conversation) ? status.conversation : undefined,
    callbackData: str(status.biz_opaque_callback_data),
  });
}
