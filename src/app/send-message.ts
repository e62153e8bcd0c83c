// Sending: validate → policy decision → persist with the idempotency key → queue. A refusal is a
// stored outcome with a reason code, returned to the caller like any other message.
import { createHash } from 'node:crypto';
import { NO_WINDOW, type CareWindowState } from '../core/care-window.ts';
import { refuse, type Decision, type Refusal } from '../core/decision.ts';
import { decideSend } from '../core/eligibility.ts';
import {
  checkOutboundLimits,
  isFreeForm,
  summarise,
  type OutboundContent,
} from '../core/messages.ts';
import type { Channel, Json, MessageRecord, Store } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { checkSendLimits, recordSendLimits, type LimitCheck } from './outbound-limits.ts';
import { checkTemplateSend } from './template-send-policy.ts';

export const OUTBOUND_QUEUE = 'outbound';

export interface SendInput {
  readonly workspaceId: string;
  readonly channelId: string;
  /** The recipient's number, E.164 with or without `+`. */
  readonly to: string;
  readonly content: OutboundContent;
  readonly idempotencyKey?: string;
  /** Parley id of the message being answered (quote/reply). */
  readonly replyTo?: string;
  /** The signed-in agent who sent it from the inbox (reports credit them). */
  readonly agentId?: string;
}

/** A campaign send held back by the messaging limit (LIM-3): nothing was stored. */
export interface DeferredOutcome {
  readonly kind: 'deferred';
  readonly retryAt: number;
  readonly detail: string;
}

export type SendOutcome =
  | {
      readonly kind: 'queued' | 'refused';
      readonly message: MessageRecord;
      readonly replayed: boolean;
    }
  | {
      readonly kind: 'invalid';
      readonly code: 'invalid_request' | 'not_found' | 'idempotency_conflict';
      readonly detail: string;
    };

/** Digits of an E.164 number, or null when it cannot be one. */
export function normaliseWaId(input: string): string | null {
  const digits = input.replace(/^\+/, '').replace(/[\s().-]/g, '');
  return /^[1-9]\d{6,14}$/.test(digits) ? digits : null;
}

export function requestHash(input: SendInput): string {
  const { workspaceId, channelId, to, content, replyTo } = input;
  return createHash('sha256')
    .update(JSON.stringify({ workspaceId, channelId, to, content, replyTo }))
    .digest('hex');
}

export async function sendMessage(deps: AppDeps, input: SendInput): Promise<SendOutcome> {
  return (await send(deps, input, false, null)) as SendOutcome;
}

/**
 * A campaign's send: like `sendMessage`, except that at the messaging limit (LIM-3) it answers
 * `deferred` and stores nothing, instead of a refused message, so the same recipient (and
 * idempotency key) is sent once the rolling window frees a place. `onStored` runs inside the
 * transaction that stores the message, so the campaign's own record of it commits with it.
 * The runner calls it inside its own transaction (a batch of recipients): a concurrent send
 * with the same idempotency key then throws instead of answering as a replay, since only the
 * caller can roll back what this send already wrote; a retry of the recipient finds the winner.
 */
export function sendCampaignMessage(
  deps: AppDeps,
  input: SendInput,
  onStored: (tx: Store, message: MessageRecord) => Promise<void>,
): Promise<SendOutcome | DeferredOutcome> {
  return send(deps, input, true, onStored);
}

async function send(
  deps: AppDeps,
  input: SendInput,
  deferrable: boolean,
  onStored: ((tx: Store, message: MessageRecord) => Promise<void>) | null,
): Promise<SendOutcome | DeferredOutcome> {
  const { store, clock } = deps;
  const now = clock.now();
  const channel = await store.channels.get(input.channelId);
  if (!channel || channel.workspaceId !== input.workspaceId)
    return {
      kind: 'invalid',
      code: 'not_found',
      detail: `No channel ${input.channelId} in this workspace`,
    };
  const waId = normaliseWaId(input.to);
  if (!waId)
    return {
      kind: 'invalid',
      code: 'invalid_request',
      detail: `"${input.to}" is not an E.164 phone number`,
    };
  const hash = requestHash(input);

  // (Inside a caller's transaction the check below, in the same transaction, is enough.)
  if (input.idempotencyKey && !onStored) {
    const replay = await replayIdempotent(
      store,
      input.workspaceId,
      input.idempotencyKey,
      hash,
      now,
    );
    if (replay) return replay;
  }
  const limits = checkOutboundLimits(input.content);
  if (limits) return { kind: 'invalid', code: 'invalid_request', detail: limits.detail };

  let replyTo: string | null = null;
  if (input.replyTo) {
    const quoted = await store.messages.get(input.replyTo);
    if (!quoted || quoted.workspaceId !== input.workspaceId || !quoted.providerMessageId)
      return {
        kind: 'invalid',
        code: 'invalid_request',
        detail: `replyTo ${input.replyTo} is not a delivered message of this workspace`,
      };
    replyTo = quoted.providerMessageId;
  }
  // Parley keeps the link either way; a provider that cannot quote sends the reply without it.
  const quoteNote = replyTo !== null ? await quoteLimitation(deps, channel) : null;
  const documentNote = await documentLimitation(deps, channel, input.content);

  const attempt = store.transaction(async (tx): Promise<SendOutcome | DeferredOutcome> => {
    // The same key may race in twice: re-check inside the transaction.
    if (input.idempotencyKey) {
      const replay = await replayIdempotent(tx, input.workspaceId, input.idempotencyKey, hash, now);
      if (replay) return replay;
    }
    const contact = await tx.contacts.upsert({ workspaceId: input.workspaceId, waId, at: now });
    // Read once: CSW and LIM-3 below judge the same window within this transaction.
    const window = (await tx.windows.get(channel.id, contact.id)) ?? NO_WINDOW;
    const decided = decide(channel, waId, input.content, window, now, deps.policy.dispatchMarginMs);
    // TPL-9, TPL-10/11, OPT-7 and the rendered text (TPL-12) for templates.
    const checked =
      decided.allowed && input.content.type === 'template'
        ? await checkTemplateSend(deps, tx, channel, waId, input.content.template, now)
        : null;
    // LIM-5, LIM-4, LIM-3 once the template itself may go (its category is known by now).
    const limits: LimitCheck | null =
      checked?.decision.allowed === true
        ? await checkSendLimits(deps, tx, {
            channel,
            contactId: contact.id,
            waId,
            purpose: checked.purpose,
            now,
            window,
          })
        : null;
    if (limits && !limits.allowed && limits.reason === 'messaging_limit' && deferrable)
      return { kind: 'deferred', retryAt: limits.retryAt ?? now, detail: limits.detail } as const;
    const decision = limits && !limits.allowed ? limits : (checked?.decision ?? decided);
    const warning = checked?.decision.allowed ? (checked.decision.warning ?? null) : null;
    // A queued message opens or touches the conversation; a refused one only links to it.
    const conversation = decision.allowed
      ? (
          await tx.conversations.openOrTouch({
            workspaceId: input.workspaceId,
            channelId: channel.id,
            contactId: contact.id,
            at: now,
          })
        ).record
      : await tx.conversations.findOpen(channel.id, contact.id);
    const refusal: Refusal | null = decision.allowed ? null : decision;
    const inserted = await tx.messages.insert({
      workspaceId: input.workspaceId,
      channelId: channel.id,
      contactId: contact.id,
      conversationId: conversation?.id ?? null,
      direction: 'outbound',
      type: input.content.type,
      content: contentJson(input.content),
      text: checked?.renderedText ?? summarise(input.content),
      status: refusal ? 'refused' : 'pending',
      reason: refusal?.reason ?? null,
      reasonDetail:
        refusal?.detail ??
        ([warning, quoteNote, documentNote].filter((n) => n !== null).join(' ') || null),
      providerMessageId: null,
      providerError: null,
      idempotencyKey: input.idempotencyKey ?? null,
      replyTo,
      createdAt: now,
      dispatchedAt: null,
      sentAt: null,
      deliveredAt: null,
      readAt: null,
      failedAt: refusal ? now : null,
      needsReview: false,
    });
    const message = inserted.record;
    if (input.idempotencyKey) {
      const won = await tx.idempotency.put({
        workspaceId: input.workspaceId,
        key: input.idempotencyKey,
        requestHash: hash,
        messageId: message.id,
        createdAt: now,
        expiresAt: now + deps.policy.idempotencyTtlMs,
      });
      // A concurrent request with the same key committed first (on PostgreSQL its insert held
      // ours until then): roll all of this back and answer as a replay of the winner.
      if (!won) throw new IdempotencyRaceLost();
    }
    if (!refusal && limits?.allowed)
      await recordSendLimits(
        tx,
        { workspaceId: input.workspaceId, waId, messageId: message.id, now },
        limits,
      );
    if (!refusal && input.agentId !== undefined && message.conversationId !== null)
      await tx.inbox.conversations.attributeReply(message.id, input.agentId);
    if (onStored) await onStored(tx, message);
    if (!refusal)
      await tx.jobs.enqueue(
        OUTBOUND_QUEUE,
        { messageId: message.id, contactId: contact.id },
        { id: message.id, key: channel.id, runAt: now },
      );
    return { kind: refusal ? 'refused' : 'queued', message, replayed: false } as const;
  });
  return attempt.catch(async (error: unknown) => {
    // Inside the caller's transaction nothing was rolled back yet: the caller must.
    if (onStored) throw error;
    const replay =
      error instanceof IdempotencyRaceLost && input.idempotencyKey
        ? await replayIdempotent(store, input.workspaceId, input.idempotencyKey, hash, now)
        : null;
    if (!replay) throw error;
    return replay;
  });
}

/** Why the channel's provider sends a quote-reply without the quote, or null when it quotes. */
async function quoteLimitation(deps: AppDeps, channel: Channel): Promise<string | null> {
  const connection = await deps.lookups.connection(channel.connectionId);
  const reason = connection
    ? deps.providers.forConnection(connection).limitations?.quoteReply
    : undefined;
  return reason === undefined ? null : `Sent without the quote: ${reason}.`;
}

/**
 * Why the channel's provider sends a document without the caption or filename it was given, or
 * null when it carries them (or none was given).
 */
async function documentLimitation(
  deps: AppDeps,
  channel: Channel,
  content: OutboundContent,
): Promise<string | null> {
  if (content.type !== 'document') return null;
  const dropped = [
    content.document.caption ? 'caption' : null,
    content.document.filename ? 'filename' : null,
  ].filter((n) => n !== null);
  if (dropped.length === 0) return null;
  const connection = await deps.lookups.connection(channel.connectionId);
  const reason = connection
    ? deps.providers.forConnection(connection).limitations?.documentCaption
    : undefined;
  return reason === undefined ? null : `Sent without the ${dropped.join(' and ')}: ${reason}.`;
}

/** Rolls back a send whose Idempotency-Key a concurrent request won. */
class IdempotencyRaceLost extends Error {}

async function replayIdempotent(
  store: Store,
  workspaceId: string,
  key: string,
  hash: string,
  now: number,
): Promise<SendOutcome | null> {
  const previous = await store.idempotency.get(workspaceId, key, now);
  if (!previous) return null;
  if (previous.requestHash !== hash)
    return {
      kind: 'invalid',
      code: 'idempotency_conflict',
      detail: `Idempotency-Key "${key}" was already used with a different request`,
    };
  const message = await store.messages.get(previous.messageId);
  if (!message) return null;
  return { kind: message.status === 'refused' ? 'refused' : 'queued', message, replayed: true };
}

/** The policy decision for one send, at request time (re-checked at dispatch: CSW-4). */
export function decide(
  channel: Channel,
  waId: string,
  content: OutboundContent,
  window: CareWindowState,
  now: number,
  marginMs: number,
): Decision {
  if (channel.environment !== 'production' && !channel.allowList.includes(waId))
    return refuse(
      'recipient_not_allowed',
      `Channel "${channel.name}" is a ${channel.environment} channel and ${waId} is not on its allow-list`,
    );
  // Templates: status, parameters and consent are checked by checkTemplateSend (TPL-9, OPT-7).
  return decideSend(window, isFreeForm(content), now, marginMs);
}

function contentJson(content: OutboundContent): Json {
  return JSON.parse(JSON.stringify(content)) as Json;
}
