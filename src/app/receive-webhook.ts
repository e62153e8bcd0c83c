// Receiving provider webhooks: verify → store the raw body durably → acknowledge → process
// (contact, care window, conversation threading, message or status, events). Processing is
// idempotent (STA-2), so a re-delivered or replayed webhook changes nothing.
import {
  opensWindow,
  recordInbound,
  closeOnLateWindowFailure,
  NO_WINDOW,
} from '../core/care-window.ts';
import type { InboundEvent, InboundMessage, OtherNotice, StatusUpdate } from '../core/inbound.ts';
import { isFreeForm } from '../core/messages.ts';
import { mergeStatus } from '../core/message-status.ts';
import { reasonForMetaCode, type ReasonCode } from '../core/reason-codes.ts';
import type { ProviderKind, RawWebhook } from '../ports/provider.ts';
import type {
  Channel,
  Connection,
  Json,
  MessageRecord,
  Store,
  WebhookRecord,
} from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import { recordNoticeHealth } from './account-health.ts';
import { queueMediaDownload } from './media.ts';
import { applyNumberChange } from './changed-number.ts';
import { recordInboundConsent, recordUserPreferences } from './consent-signals.ts';
import { applyTemplateNotice, isTemplateNotice } from './template-registry.ts';

/** Which stored connection kinds each ingress path accepts. */
const INGRESS_KINDS: Readonly<Record<string, readonly ProviderKind[]>> = {
  meta: ['meta', 'sandbox'],
  '360dialog': ['360dialog'],
  cloud: ['cloud', 'meta'],
  twilio: ['twilio'],
  sandbox: ['sandbox'],
};

export type IngestResult =
  | { readonly kind: 'stored'; readonly webhook: WebhookRecord; readonly events: InboundEvent[] }
  | {
      readonly kind: 'rejected';
      readonly status: 400 | 401 | 403 | 404;
      readonly code: string;
      readonly detail: string;
    };

export type ChallengeResult =
  | { readonly kind: 'challenge'; readonly body: string }
  | {
      readonly kind: 'rejected';
      readonly status: 403 | 404;
      readonly code: string;
      readonly detail: string;
    };

/** The `hub.challenge` handshake of Cloud-API webhooks (no signature on the GET). */
export async function answerChallenge(
  deps: AppDeps,
  input: {
    connectionId: string;
    ingress: string;
    query: Readonly<Record<string, string | undefined>>;
  },
): Promise<ChallengeResult> {
  const connection = await deps.lookups.connection(input.connectionId);
  if (!connection || !INGRESS_KINDS[input.ingress]?.includes(connection.provider))
    return {
      kind: 'rejected',
      status: 404,
      code: 'unknown_connection',
      detail: `No ${input.ingress} connection ${input.connectionId}`,
    };
  const provider = deps.providers.forConnection(connection);
  const challenge = provider.answerChallenge?.(input.query) ?? null;
  if (challenge === null)
    return {
      kind: 'rejected',
      status: 403,
      code: 'verify_token_mismatch',
      detail: 'hub.mode must be subscribe and hub.verify_token must match the connection',
    };
  return { kind: 'challenge', body: challenge };
}

/**
 * Verifies and durably stores one webhook; only then may the caller acknowledge it.
 * The parsed events are handed back so processing need not parse twice.
 */
export async function ingestWebhook(
  deps: AppDeps,
  input: { connectionId: string; ingress: string; raw: RawWebhook },
): Promise<IngestResult> {
  const connection = await deps.lookups.connection(input.connectionId);
  if (!connection || !INGRESS_KINDS[input.ingress]?.includes(connection.provider))
    return {
      kind: 'rejected',
      status: 404,
      code: 'unknown_connection',
      detail: `No ${input.ingress} connection ${input.connectionId}`,
    };
  const provider = deps.providers.forConnection(connection);
  const verdict = provider.verifyWebhook(input.raw);
  if (!verdict.ok)
    return {
      kind: 'rejected',
      status: verdict.status,
      code: 'bad_signature',
      detail: verdict.detail,
    };
  let events: InboundEvent[];
  try {
    events = provider.parseWebhook(input.raw);
  } catch (error) {
    return {
      kind: 'rejected',
      status: 400,
      code: 'malformed_webhook',
      detail: (error as Error).message,
    };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.raw.headers))
    if (value !== undefined) headers[name] = value;
  const webhook = await deps.store.webhooks.insert({
    connectionId: connection.id,
    provider: connection.provider,
    receivedAt: deps.clock.now(),
    headers,
    body: input.raw.body,
    url: input.raw.url,
  });
  return { kind: 'stored', webhook, events };
}

export interface ProcessOutcome {
  readonly state: 'processed' | 'unrouted';
  /** Why some of its events went nowhere, kept on the webhook. */
  readonly note: string | null;
  readonly events: DomainEvent[];
}

export interface ProcessOptions {
  /** False when the caller commits a batch first and publishes the returned events after it. */
  readonly publish?: boolean;
  /** False when the caller marks the webhook itself (a batch marks its webhooks in one statement). */
  readonly mark?: boolean;
}

/** The events a stored webhook carries, parsed again by its connection's provider. */
export async function parseStoredWebhook(
  deps: AppDeps,
  webhook: WebhookRecord,
): Promise<InboundEvent[]> {
  const connection = await deps.lookups.connection(webhook.connectionId);
  if (!connection) throw new Error(`connection ${webhook.connectionId} no longer exists`);
  return deps.providers.forConnection(connection).parseWebhook({
    method: 'POST',
    url: webhook.url,
    headers: webhook.headers,
    query: {},
    body: webhook.body,
  });
}

/** Processes a stored webhook; safe to run again for the same webhook. */
export async function processWebhook(
  deps: AppDeps,
  webhook: WebhookRecord,
  parsed?: InboundEvent[],
  options: ProcessOptions = {},
): Promise<ProcessOutcome> {
  const connection = await deps.lookups.connection(webhook.connectionId);
  if (!connection) throw new Error(`connection ${webhook.connectionId} no longer exists`);
  const events = parsed ?? (await parseStoredWebhook(deps, webhook));
  const emitted: DomainEvent[] = [];
  let routed = 0;
  let unrouted = 0;
  for (const parsedEvent of events) {
    const event = withPlausibleTime(parsedEvent, webhook.receivedAt);
    const channel = await channelFor(deps, connection, event);
    if (!channel) {
      unrouted++;
      continue;
    }
    routed++;
    const out =
      event.kind === 'message'
        ? await receiveMessage(deps, channel, event)
        : event.kind === 'status'
          ? await receiveStatus(deps, channel, event, connection.provider)
          : [
              ...(await receiveNotice(deps, channel, event)),
              // Quality, limits, account updates and template pauses become health events.
              ...(await recordNoticeHealth(deps, channel, event)),
            ];
    emitted.push(...out);
  }
  const state = unrouted > 0 && routed === 0 ? 'unrouted' : 'processed';
  const note = unrouted > 0 ? `${unrouted} event(s) for unknown numbers` : null;
  if (options.mark !== false)
    await deps.store.webhooks.mark(webhook.id, state, deps.clock.now(), note);
  if (options.publish !== false) for (const e of emitted) deps.events.publish(e);
  return { state, note, events: emitted };
}

/** The latest instant a JavaScript Date (and so an ISO-8601 answer) can hold. */
const LAST_INSTANT = 8_640_000_000_000_000;

/**
 * A provider time outside what a date can be (`"timestamp": "99999999999999999999"`) is no time
 * at all: the event counts as happening when it arrived. Kept as sent, it could not be stored on
 * PostgreSQL (bigint) and, stored on SQLite, would break every list that shows it.
 */
function withPlausibleTime<E extends InboundEvent>(event: E, receivedAt: number): E {
  return Number.isSafeInteger(event.at) && event.at >= 0 && event.at <= LAST_INSTANT
    ? event
    : { ...event, at: receivedAt };
}

/**
 * The channel an event belongs to: the connection's channel for its phone number id; for
 * account-level notices (template status, quality …), which carry only the WABA id, the
 * connection's channel on that WABA.
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/webhooks/components
 */
async function channelFor(
  deps: AppDeps,
  connection: Connection,
  event: InboundEvent,
): Promise<Channel | null> {
  if (event.channelKey === undefined) return null;
  const byNumber = await deps.lookups.channelByProviderKey(connection.id, event.channelKey);
  if (byNumber || event.kind !== 'notice') return byNumber;
  const channels = await deps.store.channels.list(connection.workspaceId);
  return (
    channels.find((c) => c.connectionId === connection.id && c.wabaId === event.channelKey) ?? null
  );
}

async function receiveMessage(
  deps: AppDeps,
  channel: Channel,
  m: InboundMessage,
): Promise<DomainEvent[]> {
  return deps.store.transaction(async (tx) => {
    const existing = await tx.messages.findByProviderId(channel.id, m.providerMessageId);
    if (existing) return []; // STA-2: a re-delivery changes nothing
    const contact = await tx.contacts.upsert({
      workspaceId: channel.workspaceId,
      waId: m.from,
      name: m.profileName ?? null,
      userId: m.userId ?? null,
      at: m.at,
    });
    if (opensWindow(m.type)) {
      const current = (await tx.windows.get(channel.id, contact.id)) ?? {
        channelId: channel.id,
        contactId: contact.id,
        ...NO_WINDOW,
      };
      const next = recordInbound(current, m.at);
      if (next !== current)
        await tx.windows.put({ channelId: channel.id, contactId: contact.id, ...next });
    }
    const events: DomainEvent[] = [];
    const opened = await tx.conversations.openOrTouch({
      workspaceId: channel.workspaceId,
      channelId: channel.id,
      contactId: contact.id,
      at: m.at,
    });
    const conversation = opened.record;
    if (opened.inserted) {
      events.push(
        event('conversation.created', channel.workspaceId, m.at, {
          conversationId: conversation.id,
          channelId: channel.id,
          contactId: contact.id,
        }),
      );
    }
    // A reply names the provider's id of the message it answers; Parley's own id goes with it
    // when that message is stored here (sent by the business or received earlier).
    const quoted = m.context?.id
      ? await tx.messages.findByProviderId(channel.id, m.context.id)
      : null;
    const inserted = await tx.messages.insert({
      workspaceId: channel.workspaceId,
      channelId: channel.id,
      contactId: contact.id,
      conversationId: conversation.id,
      direction: 'inbound',
      type: m.type,
      content: toJson({
        content: m.content,
        context: quoted ? { ...m.context, messageId: quoted.id } : m.context,
        referral: m.referral,
        errors: m.errors,
      }),
      text: inboundText(m),
      status: 'delivered',
      reason: null,
      reasonDetail: null,
      providerMessageId: m.providerMessageId,
      providerError: null,
      idempotencyKey: null,
      replyTo: m.context?.id ?? null,
      createdAt: m.at,
      dispatchedAt: null,
      sentAt: null,
      deliveredAt: m.at,
      readAt: null,
      failedAt: null,
      needsReview: false,
    });
    if (!inserted.inserted) return [];
    // B.4: media bytes are copied to Parley's blob store before the provider's URL expires.
    const media = await queueMediaDownload(deps, tx, inserted.record, m.content);
    // B.4: a user who changed number takes history, window and consent to the new one.
    events.push(...(await applyNumberChange(deps, tx, channel, contact, inserted.record, m)));
    // OPT-4/5/6: implied opt-in or stop/start keyword, in this same transaction.
    events.push(...(await recordInboundConsent(deps, tx, channel, contact, inserted.record)));
    events.push(
      event('message.received', channel.workspaceId, m.at, {
        messageId: inserted.record.id,
        conversationId: conversation.id,
        channelId: channel.id,
        contactId: contact.id,
        from: m.from,
        type: m.type,
        text: inserted.record.text,
        // What a subscriber needs to rebuild the provider's own webhook (event format 'meta').
        providerMessageId: m.providerMessageId,
        phoneNumberId: channel.providerKey,
        displayPhoneNumber: channel.phoneNumber,
        wabaId: channel.wabaId,
        profileName: m.profileName ?? null,
        content: toJson(m.content),
        context: m.context ? toJson(m.context) : null,
        replyToMessageId: quoted?.id ?? null,
        mediaId: media[0]?.id ?? null,
        // Every media the message carried (Twilio's MediaUrl0..N), the first one included.
        mediaIds: media.map((row) => row.id),
      }),
    );
    return events;
  });
}

async function receiveStatus(
  deps: AppDeps,
  channel: Channel,
  s: StatusUpdate,
  provider: ProviderKind,
): Promise<DomainEvent[]> {
  return deps.store.transaction(async (tx) => {
    let message = await tx.messages.findByProviderId(channel.id, s.providerMessageId);
    if (!message && s.callbackData) message = await claimUnknownOutcome(tx, channel, s);
    if (!message) return []; // a message sent outside Parley
    const stored = await tx.statusEvents.insert({
      messageId: message.id,
      status: s.status,
      at: s.at,
      providerCode: s.errors?.[0] ? String(s.errors[0].code) : null,
      raw: toJson({ errors: s.errors, pricing: s.pricing, conversation: s.conversation }),
      receivedAt: deps.clock.now(),
    });
    if (!stored.inserted) return []; // STA-2
    const merged = mergeStatus(message.status, s.status);
    const patch: Partial<MessageRecord> = { status: merged };
    if (s.status === 'sent') patch.sentAt = s.at;
    if (s.status === 'delivered') patch.deliveredAt = s.at;
    if (s.status === 'read' || s.status === 'played') patch.readAt = message.readAt ?? s.at;
    const events: DomainEvent[] = [];
    if (merged === 'failed' && message.status !== 'failed') {
      const first = s.errors?.[0];
      const reason: ReasonCode =
        s.reason ?? (first ? reasonForMetaCode(Number(first.code)) : 'provider_unavailable');
      patch.reason = reason;
      patch.reasonDetail = first?.details ?? first?.message ?? first?.title ?? null;
      patch.providerError = toJson(first ?? null);
      patch.failedAt = s.at;
      if (reason === 'window_closed') {
        // CSW-5: a late 131047/63016 closes the window only for a free-form message with no newer inbound.
        const current = await tx.windows.get(channel.id, message.contactId);
        if (current) {
          const next = closeOnLateWindowFailure(current, {
            freeForm: isFreeForm({ type: message.type }),
            sentAt: message.dispatchedAt ?? message.createdAt,
            failedAt: s.at,
          });
          if (next !== current) await tx.windows.put({ ...current, ...next });
        }
      }
      events.push(
        event('message.failed', message.workspaceId, s.at, {
          messageId: message.id,
          conversationId: message.conversationId,
          reason,
          providerCode: first ? String(first.code) : null,
          provider,
        }),
      );
    }
    await tx.messages.update(message.id, patch, deps.clock.now());
    events.push(
      event('message.status', message.workspaceId, s.at, {
        messageId: message.id,
        conversationId: message.conversationId,
        status: s.status,
        current: merged,
        providerMessageId: s.providerMessageId,
        phoneNumberId: channel.providerKey,
        displayPhoneNumber: channel.phoneNumber,
        wabaId: channel.wabaId,
        recipient: s.recipient ?? null,
        errors: s.errors ? toJson(s.errors) : null,
        pricing: s.pricing ? toJson(s.pricing) : null,
        conversation: s.conversation ? toJson(s.conversation) : null,
      }),
    );
    return events;
  });
}

/**
 * A send whose outcome was unknown (timeout, crash mid-dispatch) carried our message id as the
 * provider's callback data; its first status tells us it really went out, and under which id.
 */
async function claimUnknownOutcome(
  tx: Store,
  channel: Channel,
  s: StatusUpdate,
): Promise<MessageRecord | null> {
  const candidate = await tx.messages.get(s.callbackData ?? '');
  if (!candidate || candidate.channelId !== channel.id || candidate.providerMessageId !== null)
    return null;
  return tx.messages.update(
    candidate.id,
    { providerMessageId: s.providerMessageId, needsReview: false, status: 'accepted' },
    s.at,
  );
}

async function receiveNotice(
  deps: AppDeps,
  channel: Channel,
  n: OtherNotice,
): Promise<DomainEvent[]> {
  // TPL-8: status, category and quality through the template lifecycle.
  if (isTemplateNotice(n.field)) return applyTemplateNotice(deps, channel, n);
  // OPT-5: marketing stop/resume.
  if (n.field === 'user_preferences') return recordUserPreferences(deps, channel, n);
  return [];
}

function event(
  type: DomainEvent['type'],
  workspaceId: string,
  at: number,
  data: Record<string, unknown>,
): DomainEvent {
  return { type, workspaceId, at, data };
}

/** A readable line for transcripts and previews. */
export function inboundText(m: InboundMessage): string | null {
  const c = (m.content ?? {}) as Record<string, unknown>;
  switch (m.type) {
    case 'text':
      return typeof c.body === 'string' ? c.body : null;
    case 'button':
      return typeof c.text === 'string' ? c.text : null;
    case 'interactive': {
      const reply = (c.button_reply ?? c.list_reply) as { title?: string } | undefined;
      return reply?.title ?? null;
    }
    case 'reaction':
      return typeof c.emoji === 'string' ? c.emoji : null;
    case 'location':
      return typeof c.name === 'string'
        ? c.name
        : `📍 ${String(c.latitude)}, ${String(c.longitude)}`;
    case 'system':
      return typeof c.body === 'string' ? c.body : null;
    default:
      return typeof c.caption === 'string' ? c.caption : `[${m.type}]`;
  }
}

function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
