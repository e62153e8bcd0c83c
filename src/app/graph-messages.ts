// Cloud-API-compatible messages: Meta-shaped sends and mark-as-read through Parley's own send path
// (policy, pacing, idempotency, cost ledger, the channel's real provider).
import type { OutboundContent } from '../core/messages.ts';
import type { ReasonCode } from '../core/reason-codes.ts';
import type { ChannelAddress, SendFailure } from '../ports/provider.ts';
import type { Channel, MessageRecord } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { markUploadsUsed, resolveUploads } from './graph-media.ts';
import { normaliseWaId, sendMessage } from './send-message.ts';

/**
 * The channel a Cloud API path names: its provider phone number id (what existing client code
 * already has), its E.164 number, or its Parley id — only among the caller's workspace's channels.
 */
export async function findGraphChannel(
  deps: AppDeps,
  workspaceId: string,
  node: string,
): Promise<Channel | null> {
  const channels = await deps.store.channels.list(workspaceId);
  const digits = node.replace(/^\+/, '');
  return (
    channels.find((c) => c.id === node) ??
    channels.find((c) => c.providerKey === node) ??
    channels.find((c) => c.phoneNumber === digits) ??
    null
  );
}

export function channelAddress(channel: Channel): ChannelAddress {
  return {
    channelId: channel.id,
    providerKey: channel.providerKey,
    phoneNumber: channel.phoneNumber,
    wabaId: channel.wabaId ?? undefined,
  };
}

/** Why a Cloud API request could not be taken (the route answers with Meta's code for it). */
export interface GraphInvalid {
  readonly kind: 'invalid';
  readonly code:
    'invalid_parameter' | 'not_found' | 'idempotency_conflict' | 'not_supported' | 'media';
  readonly detail: string;
}

export type GraphSendOutcome =
  | { readonly kind: 'accepted'; readonly message: MessageRecord; readonly waId: string }
  | { readonly kind: 'refused'; readonly message: MessageRecord; readonly reason: ReasonCode }
  | GraphInvalid;

export interface GraphSendInput {
  readonly workspaceId: string;
  readonly channel: Channel;
  readonly to: string;
  readonly content: OutboundContent;
  /** `context.message_id`: the message being replied to, as the client knows it. */
  readonly contextMessageId?: string;
  readonly idempotencyKey?: string;
}

/**
 * A message of this workspace and channel by either id a client may hold: Parley's id (what this
 * endpoint answers sends with) or the provider's id (the `wamid` inbound webhooks carry).
 */
export async function findByClientId(
  deps: AppDeps,
  workspaceId: string,
  channel: Channel,
  id: string,
): Promise<MessageRecord | null> {
  const own = await deps.store.messages.get(id);
  if (own && own.workspaceId === workspaceId && own.channelId === channel.id) return own;
  const byProvider = await deps.store.messages.findByProviderId(channel.id, id);
  return byProvider && byProvider.workspaceId === workspaceId ? byProvider : null;
}

/**
 * A Meta-shaped send: the reply context and a reaction's target may name messages by Parley id or
 * wamid; the message then takes Parley's send path like any `/v1/messages` send.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 */
export async function graphSend(deps: AppDeps, input: GraphSendInput): Promise<GraphSendOutcome> {
  const waId = normaliseWaId(input.to);
  if (!waId)
    return {
      kind: 'invalid',
      code: 'invalid_parameter',
      detail: `Param to "${input.to}" is not a valid phone number`,
    };
  let replyTo: string | undefined;
  if (input.contextMessageId !== undefined) {
    const quoted = await findByClientId(
      deps,
      input.workspaceId,
      input.channel,
      input.contextMessageId,
    );
    if (!quoted?.providerMessageId)
      return {
        kind: 'invalid',
        code: 'invalid_parameter',
        detail: `Param context['message_id'] "${input.contextMessageId}" is not a message of this phone number that reached WhatsApp`,
      };
    replyTo = quoted.id;
  }
  let content = input.content;
  if (content.type === 'reaction') {
    const target = await findByClientId(
      deps,
      input.workspaceId,
      input.channel,
      content.reaction.message_id,
    );
    if (!target?.providerMessageId)
      return {
        kind: 'invalid',
        code: 'invalid_parameter',
        detail: `Param reaction['message_id'] "${content.reaction.message_id}" is not a message of this phone number that reached WhatsApp`,
      };
    content = {
      type: 'reaction',
      reaction: { ...content.reaction, message_id: target.providerMessageId },
    };
  }
  const resolved = await resolveUploads(deps, input.workspaceId, content);
  if (resolved.kind === 'invalid')
    return { kind: 'invalid', code: 'media', detail: resolved.detail };
  const gone = await markUploadsUsed(deps, resolved.uploadIds);
  if (gone) return { kind: 'invalid', code: 'media', detail: gone };
  content = resolved.content;
  const outcome = await sendMessage(deps, {
    workspaceId: input.workspaceId,
    channelId: input.channel.id,
    to: waId,
    content,
    ...(replyTo !== undefined ? { replyTo } : {}),
    ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
  });
  switch (outcome.kind) {
    case 'invalid':
      return {
        kind: 'invalid',
        code: outcome.code === 'invalid_request' ? 'invalid_parameter' : outcome.code,
        detail: outcome.detail,
      };
    case 'refused':
      return {
        kind: 'refused',
        message: outcome.message,
        reason: outcome.message.reason ?? 'invalid_request',
      };
    case 'queued':
      return { kind: 'accepted', message: outcome.message, waId };
  }
}

export type GraphReadOutcome =
  | { readonly kind: 'read' }
  | { readonly kind: 'failed'; readonly failure: SendFailure }
  | GraphInvalid;

/**
 * `{status:'read', message_id}`: blue ticks on an inbound message, by its wamid (as webhooks
 * showed it) or its Parley id, through the channel's provider.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/mark-message-as-read
 */
export async function graphMarkRead(
  deps: AppDeps,
  workspaceId: string,
  channel: Channel,
  messageId: string,
): Promise<GraphReadOutcome> {
  const message = await findByClientId(deps, workspaceId, channel, messageId);
  if (!message || message.direction !== 'inbound' || !message.providerMessageId)
    return {
      kind: 'invalid',
      code: 'invalid_parameter',
      detail: `Param message_id "${messageId}" is not a message this phone number received`,
    };
  const connection = await deps.store.connections.get(channel.connectionId);
  if (!connection)
    return { kind: 'invalid', code: 'not_found', detail: 'The channel has no connection' };
  const provider = deps.providers.forConnection(connection);
  if (!provider.markRead)
    return {
      kind: 'invalid',
      code: 'not_supported',
      detail: `${connection.provider} connections cannot mark messages read`,
    };
  const result = await provider.markRead(channelAddress(channel), message.providerMessageId);
  return result.ok ? { kind: 'read' } : { kind: 'failed', failure: result.failure };
}
