// Dispatching one queued outbound message to its provider. The policy is decided again at
// dispatch time (CSW-4). Crash safety: `dispatchedAt` is written before the provider is called, so
// a message found dispatched but unconfirmed after a crash is flagged for review, never resent.
import { NO_WINDOW } from '../core/care-window.ts';
import { decideSend } from '../core/eligibility.ts';
import { isFreeForm, type OutboundContent } from '../core/messages.ts';
import { mergeStatus } from '../core/message-status.ts';
import { REASONS } from '../core/reason-codes.ts';
import { SECOND, MINUTE } from '../core/time.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { Job } from '../ports/job-queue.ts';
import type { SendFailure } from '../ports/provider.ts';
import type { Json, MessageRecord } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { checkSendLimits } from './outbound-limits.ts';
import { checkTemplateSend } from './template-send-policy.ts';
import { OUTBOUND_QUEUE } from './send-message.ts';

export interface OutboundJob {
  readonly messageId: string;
  /** For pair pacing (LIM-2) before the message is loaded. */
  readonly contactId: string;
}

export type DeliverResult =
  | { readonly kind: 'sent'; readonly message: MessageRecord }
  | { readonly kind: 'failed'; readonly message: MessageRecord }
  | {
      readonly kind: 'retry';
      readonly runAt: number;
      readonly failure: SendFailure;
      readonly paceChannelUntil?: number;
    }
  | { readonly kind: 'review'; readonly message: MessageRecord }
  | { readonly kind: 'skipped' };

/**
 * The longest a live send can take (the provider request's 15 s timeout, with room for slow
 * database writes). A dispatched, unconfirmed message younger than this may still be in a
 * live worker's hands; an older one was in the hands of a worker that died.
 */
export const IN_FLIGHT_GRACE_MS = 30 * SECOND;

/** Exponential backoff with ±20 % jitter, capped at 5 minutes; `Retry-After` wins when longer. */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const base = Math.min(5 * MINUTE, SECOND * 2 ** attempt);
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * Outbound jobs waiting or in flight: the store's queue, plus the shared queue (BullMQ) the relay
 * feeds when there is one. A job being relayed may count twice for a moment.
 */
export async function outboundBacklog(
  deps: Pick<AppDeps, 'store' | 'outboundQueue'>,
): Promise<number> {
  const local = await deps.store.jobs.size(OUTBOUND_QUEUE);
  if (deps.outboundQueue === deps.store.jobs) return local;
  return local + (await deps.outboundQueue.size(OUTBOUND_QUEUE));
}

export async function deliverOutbound(
  deps: AppDeps,
  job: Job<OutboundJob>,
): Promise<DeliverResult> {
  const { store, clock } = deps;
  const message = await store.messages.get(job.payload.messageId);
  if (!message || message.status !== 'pending' || message.needsReview) {
    await deps.outboundQueue.complete(job.id);
    return { kind: 'skipped' };
  }
  if (message.dispatchedAt !== null && message.providerMessageId === null) {
    const settledAt = message.dispatchedAt + IN_FLIGHT_GRACE_MS;
    if (clock.now() < settledAt) {
      // Another node may still be waiting for the provider's answer (its lease ran out while
      // the job waited): look again once any live send would have ended.
      await deps.outboundQueue.release(job.id, settledAt);
      return { kind: 'skipped' };
    }
    // We may have handed it to the provider before a crash: WhatsApp has no idempotency key.
    const flagged = await flagForReview(
      deps,
      message,
      'The process stopped while this message was being handed to the provider; it was not resent.',
    );
    await deps.outboundQueue.complete(job.id);
    return { kind: 'review', message: flagged };
  }
  const channel = await store.channels.get(message.channelId);
  const connection = channel ? await store.connections.get(channel.connectionId) : null;
  const contact = await store.contacts.get(message.contactId);
  if (!channel || !connection || !contact) {
    return fail(deps, job, message, {
      reason: 'invalid_request',
      details: 'channel, connection or contact no longer exists',
    });
  }
  const content = message.content as unknown as OutboundContent;
  const now = clock.now();
  // CSW-4: the window may have closed while the message waited in the queue.
  const window = (await store.windows.get(channel.id, contact.id)) ?? NO_WINDOW;
  const decision = decideSend(window, isFreeForm(content), now, deps.policy.dispatchMarginMs);
  if (!decision.allowed)
    return fail(deps, job, message, { reason: decision.reason, details: decision.detail });
  let reachScope: string | null = null;
  if (content.type === 'template') {
    // OPT-7, TPL-9: a STOP or a pause may have arrived while the template waited in the queue.
    const checked = await checkTemplateSend(
      deps,
      store,
      channel,
      contact.waId,
      content.template,
      now,
    );
    if (!checked.decision.allowed)
      return fail(deps, job, message, {
        reason: checked.decision.reason,
        details: checked.decision.detail,
      });
    // LIM-3/4/5 again: the rolling window, a 131049 hold-off or the US block may apply by now.
    const limits = await checkSendLimits(deps, store, {
      channel,
      contactId: contact.id,
      waId: contact.waId,
      purpose: checked.purpose,
      now,
      atDispatch: true,
      window,
    });
    if (!limits.allowed) {
      if (limits.retryAt !== undefined && message.idempotencyKey?.startsWith('campaign:')) {
        // A campaign waits for the rolling 24 h to free a place; a single send fails.
        await deps.outboundQueue.release(job.id, limits.retryAt);
        return {
          kind: 'retry',
          runAt: limits.retryAt,
          failure: { reason: limits.reason, details: limits.detail },
        };
      }
      return fail(deps, job, message, { reason: limits.reason, details: limits.detail });
    }
    reachScope = limits.reachScope;
  }

  // Compare-and-set: two nodes may hold this job (a lease that expired while it waited); one sends.
  // The loser leaves the job alone: its winner completes it, or it is re-claimed and reviewed.
  // The reach (LIM-3) and the claim share one commit, made before the provider is called.
  const claimed = await store.transaction(async (tx) => {
    if (reachScope !== null)
      await tx.outreach.reach.record(channel.workspaceId, reachScope, contact.waId, now);
    return tx.messages.claimDispatch(message.id, now);
  });
  if (!claimed) return { kind: 'skipped' };
  const provider = deps.providers.forConnection(connection);
  const result = await provider.send({
    channel: {
      channelId: channel.id,
      providerKey: channel.providerKey,
      phoneNumber: channel.phoneNumber,
      wabaId: channel.wabaId ?? undefined,
    },
    to: contact.waId,
    content,
    replyTo: message.replyTo ?? undefined,
    callbackData: message.id,
  });
  const after = clock.now();
  if (result.ok) {
    // The provider's id and the job's end in one commit (one fewer per message, and no window
    // in which the message is accepted but its job still queued). A shared queue's job (BullMQ)
    // ends right after: a crash in between leaves a job whose message is no longer pending.
    const localQueue = deps.outboundQueue === store.jobs;
    const updated = await store.transaction(async (tx) => {
      // A status webhook may already have arrived and matched through the callback data.
      const current = (await tx.messages.get(message.id)) ?? message;
      const record = await tx.messages.update(
        message.id,
        {
          providerMessageId: result.providerMessageId,
          status: mergeStatus(current.status, 'accepted'),
          // The answer is here: whatever another worker concluded meanwhile, it was sent once.
          needsReview: false,
        },
        after,
      );
      if (localQueue) await tx.jobs.complete(job.id);
      return record;
    });
    if (!localQueue) await deps.outboundQueue.complete(job.id);
    return { kind: 'sent', message: updated ?? message };
  }
  const failure = result.failure;
  if (failure.maybeSent) {
    // A timeout: the provider may have sent it. Resending could deliver it twice. Its first
    // status webhook may already have told us it went out (matched through the callback data).
    const current = await store.messages.get(message.id);
    if (current?.providerMessageId) {
      await deps.outboundQueue.complete(job.id);
      return { kind: 'sent', message: current };
    }
    const flagged = await flagForReview(
      deps,
      message,
      `Outcome unknown: ${failure.details ?? failure.title ?? 'the provider did not answer in time'}`,
    );
    await deps.outboundQueue.complete(job.id);
    return { kind: 'review', message: flagged };
  }
  const retry = REASONS[failure.reason].retry;
  const retryable = retry !== 'never' && !(retry === 'once' && job.attempts >= 1);
  if (retryable && job.attempts + 1 < deps.policy.maxAttempts) {
    const runAt = after + backoffDelay(job.attempts, failure.retryAfterMs);
    await store.messages.update(
      message.id,
      { dispatchedAt: null, reasonDetail: describe(failure) },
      after,
    );
    await deps.outboundQueue.retry(job.id, runAt, describe(failure));
    return {
      kind: 'retry',
      runAt,
      failure,
      ...(retry === 'pace_channel' ? { paceChannelUntil: runAt } : {}),
    };
  }
  return fail(deps, job, message, failure);
}

async function fail(
  deps: AppDeps,
  job: Job,
  message: MessageRecord,
  failure: SendFailure,
): Promise<DeliverResult> {
  const now = deps.clock.now();
  const updated = await deps.store.messages.update(
    message.id,
    {
      status: 'failed',
      reason: failure.reason,
      reasonDetail: failure.details ?? failure.title ?? REASONS[failure.reason].explanation,
      providerError: failure.providerCode
        ? (JSON.parse(
            JSON.stringify({
              code: failure.providerCode,
              title: failure.title,
              details: failure.details,
            }),
          ) as Json)
        : null,
      failedAt: now,
    },
    now,
  );
  await deps.outboundQueue.complete(job.id);
  const record = updated ?? message;
  deps.events.publish(failedEvent(record, now));
  return { kind: 'failed', message: record };
}

async function flagForReview(
  deps: AppDeps,
  message: MessageRecord,
  detail: string,
): Promise<MessageRecord> {
  const now = deps.clock.now();
  const updated = await deps.store.messages.update(
    message.id,
    { needsReview: true, reasonDetail: detail },
    now,
  );
  deps.log.warn({ messageId: message.id }, 'outbound message flagged for review: outcome unknown');
  return updated ?? message;
}

/** `message.failed` for a message that will not go out: failed at dispatch, or withdrawn. */
export function failedEvent(message: MessageRecord, at: number): DomainEvent {
  return {
    type: 'message.failed',
    workspaceId: message.workspaceId,
    at,
    data: {
      messageId: message.id,
      conversationId: message.conversationId,
      channelId: message.channelId,
      reason: message.reason,
      detail: message.reasonDetail,
    },
  };
}

function describe(failure: SendFailure): string {
  return [failure.reason, failure.providerCode, failure.title, failure.details]
    .filter(Boolean)
    .join(': ');
}
