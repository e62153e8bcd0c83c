// `POST /v1/notifications`: a template notification from a business system to a phone number.
// Picks the channel, goes through the normal send path (consent, template status, parameters,
// Idempotency-Key) and suppresses the same notification within the window (LIM-7).
import { createHash } from 'node:crypto';
import type { TemplateBody } from '../core/messages.ts';
import { notificationDedupeKey } from '../core/templates/notification-dedupe.ts';
import type { NotificationDedupeRecord } from '../ports/compliance-store.ts';
import type { Channel, MessageRecord } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { PolicyError } from './policy-errors.ts';
import { normaliseWaId, sendMessage, type SendOutcome } from './send-message.ts';
import { notificationSettings } from './workspace-policy.ts';

export interface NotificationInput {
  readonly workspaceId: string;
  /** Explicit channel; else the workspace's default; else its only channel. */
  readonly channelId?: string;
  readonly to: string;
  readonly template: TemplateBody;
  readonly idempotencyKey?: string;
}

export type NotificationOutcome =
  | Exclude<SendOutcome, { kind: 'invalid' }>
  | {
      readonly kind: 'duplicate';
      /** The notification sent first, which this one repeats. */
      readonly message: MessageRecord;
      readonly suppressedUntil: number;
    };

/** The channel a notification goes out on (explicit, the workspace default, or the only one). */
async function pickChannel(deps: AppDeps, input: NotificationInput): Promise<Channel> {
  const workspace = await deps.store.workspaces.get(input.workspaceId);
  const wanted = input.channelId ?? notificationSettings(workspace).defaultChannelId;
  if (wanted !== null) {
    const channel = await deps.store.channels.get(wanted);
    if (!channel || channel.workspaceId !== input.workspaceId)
      throw new PolicyError(
        'not_found',
        input.channelId
          ? `No channel ${wanted} in this workspace`
          : `The workspace's default notification channel ${wanted} no longer exists; set another`,
      );
    return channel;
  }
  const channels = await deps.store.channels.list(input.workspaceId);
  const only = channels.length === 1 ? channels[0] : undefined;
  if (only) return only;
  throw new PolicyError(
    'invalid_request',
    channels.length === 0
      ? 'This workspace has no channel to send from'
      : `This workspace has ${channels.length} channels: name a channelId, or set a default with PATCH /v1/notifications/settings`,
  );
}

/** A concurrent request with the same Idempotency-Key won inside our transaction: start over. */
class ReplayInstead extends Error {}

class DuplicateRaceLost extends Error {
  constructor(readonly existing: NotificationDedupeRecord) {
    super('a concurrent identical notification was sent first');
  }
}

/**
 * Sends a template notification. LIM-7: the same template with the same parameters to the same
 * number within the workspace's window (default 10 minutes) is not sent again, whatever channel
 * it names: the answer is the first notification. An `Idempotency-Key` already used answers as
 * `POST /v1/messages` does (the first result, or a conflict for a different request).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
 */
export async function sendNotification(
  deps: AppDeps,
  input: NotificationInput,
): Promise<NotificationOutcome> {
  const channel = await pickChannel(deps, input);
  const waId = normaliseWaId(input.to);
  if (!waId) throw new PolicyError('invalid_request', `"${input.to}" is not an E.164 phone number`);
  const workspace = await deps.store.workspaces.get(input.workspaceId);
  const windowMs = notificationSettings(workspace).dedupeWindowMs;
  const send = {
    workspaceId: input.workspaceId,
    channelId: channel.id,
    to: waId,
    content: { type: 'template' as const, template: input.template },
    ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
  };
  const now = deps.clock.now();
  const keyHash = createHash('sha256')
    .update(
      notificationDedupeKey(
        waId,
        input.template.name,
        input.template.language.code,
        input.template.components,
      ),
    )
    .digest('hex');

  // A repeated Idempotency-Key is answered by the send path itself (replay or conflict).
  if (
    input.idempotencyKey &&
    (await deps.store.idempotency.get(input.workspaceId, input.idempotencyKey, now))
  )
    return unwrap(await sendMessage(deps, send));
  if (windowMs === 0) return unwrap(await sendMessage(deps, send));

  const duplicateOf = async (
    record: NotificationDedupeRecord,
  ): Promise<NotificationOutcome | null> => {
    const message = await deps.store.messages.get(record.messageId);
    return message ? { kind: 'duplicate', message, suppressedUntil: record.expiresAt } : null;
  };

  try {
    return await deps.store.transaction(async (tx) => {
      const live = await tx.compliance.notifications.find(input.workspaceId, keyHash, now);
      if (live) {
        const duplicate = await duplicateOf(live);
        if (duplicate) return duplicate;
      }
      const outcome = unwrap(await sendMessage(deps, send));
      // Only a notification that went into the queue suppresses its repeats: a refused one
      // (no consent yet, say) may be sent once the reason is gone.
      if (outcome.replayed) throw new ReplayInstead();
      if (outcome.kind !== 'queued') return outcome;
      const claim = await tx.compliance.notifications.claim({
        workspaceId: input.workspaceId,
        keyHash,
        messageId: outcome.message.id,
        sentAt: now,
        expiresAt: now + windowMs,
      });
      if (!claim.won) throw new DuplicateRaceLost(claim.existing);
      return outcome;
    });
  } catch (error) {
    if (error instanceof ReplayInstead) return unwrap(await sendMessage(deps, send));
    if (!(error instanceof DuplicateRaceLost)) throw error;
    // Everything this request wrote was rolled back; answer with the winner.
    const duplicate = await duplicateOf(error.existing);
    if (!duplicate) throw error;
    return duplicate;
  }
}

function unwrap(outcome: SendOutcome): Exclude<SendOutcome, { kind: 'invalid' }> {
  if (outcome.kind === 'invalid') throw new PolicyError(outcome.code, outcome.detail);
  return outcome;
}
