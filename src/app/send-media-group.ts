// Several media in one send: WhatsApp carries one media per message on every provider (Twilio
// ignores a WhatsApp request's MediaUrl after the first), so a group goes as consecutive messages.
import {
  MEDIA_TYPES,
  checkOutboundLimits,
  type MediaBody,
  type MediaType,
  type OutboundContent,
} from '../core/messages.ts';
import type { AppDeps } from './deps.ts';
import { sendMessage, type SendInput, type SendOutcome } from './send-message.ts';

/** One more media after a media message's own; its type defaults to the message's. */
export interface ExtraMedia extends MediaBody {
  readonly type?: MediaType;
}

export type MediaGroupOutcome =
  | {
      readonly kind: 'sent';
      /** The first message's outcome (queued, refused or a replay), as a single send answers. */
      readonly first: Extract<SendOutcome, { kind: 'queued' | 'refused' }>;
      /** Every message of the group that was stored, in order (the first included). */
      readonly messages: ReadonlyArray<Extract<SendOutcome, { kind: 'queued' | 'refused' }>>;
      /** Why the group stopped before its last media, when a later part was not taken. */
      readonly incomplete?: string;
    }
  | Extract<SendOutcome, { kind: 'invalid' }>;

const isMediaType = (type: string): type is MediaType =>
  (MEDIA_TYPES as readonly string[]).includes(type);

/** The group as the messages it becomes: the message itself, then one per extra media. */
export function mediaGroupContents(
  content: OutboundContent,
  extras: readonly ExtraMedia[],
): OutboundContent[] | { readonly detail: string } {
  if (!isMediaType(content.type))
    return {
      detail: `extraMedia goes with a media message (image, video, audio, document, sticker), not ${content.type}`,
    };
  const contents: OutboundContent[] = [content];
  for (const [n, extra] of extras.entries()) {
    const { type = content.type, ...media } = extra;
    const item = { type, [type]: media } as OutboundContent;
    const problem = checkOutboundLimits(item);
    if (problem) return { detail: `extraMedia[${n}]: ${problem.detail}` };
    contents.push(item);
  }
  return contents;
}

/**
 * Sends a media message and its extra media as consecutive messages, each through the whole send
 * path (policy, limits, queue), in order. Everything is validated before anything is stored. The
 * first message takes the Idempotency-Key and the quote; the n-th extra takes `<key>#<n>`, so a
 * retry with the same key replays what was stored and sends only what was not. A refusal stops
 * the group there: later media are not sent.
 */
export async function sendMediaGroup(
  deps: AppDeps,
  input: SendInput,
  extras: readonly ExtraMedia[],
): Promise<MediaGroupOutcome> {
  const contents = mediaGroupContents(input.content, extras);
  if (!Array.isArray(contents))
    return { kind: 'invalid', code: 'invalid_request', detail: contents.detail };
  const messages: Array<Extract<SendOutcome, { kind: 'queued' | 'refused' }>> = [];
  let incomplete: string | undefined;
  for (const [n, content] of contents.entries()) {
    const part: SendInput = {
      workspaceId: input.workspaceId,
      channelId: input.channelId,
      to: input.to,
      content,
      ...(input.idempotencyKey !== undefined
        ? { idempotencyKey: n === 0 ? input.idempotencyKey : `${input.idempotencyKey}#${n}` }
        : {}),
      ...(n === 0 && input.replyTo !== undefined ? { replyTo: input.replyTo } : {}),
      ...(input.agentId !== undefined ? { agentId: input.agentId } : {}),
    };
    const outcome = await sendMessage(deps, part);
    // Validated up front: only the first part, or a later part's reused key, is invalid here.
    if (outcome.kind === 'invalid' && n === 0) return outcome;
    if (outcome.kind === 'invalid') {
      incomplete = `extraMedia[${n - 1}] and the media after it were not sent: ${outcome.detail}`;
      break;
    }
    messages.push(outcome);
    if (outcome.kind === 'refused') {
      if (n > 0 && n < contents.length - 1)
        incomplete = `extraMedia[${n - 1}] was refused; the media after it were not sent`;
      break;
    }
  }
  const [first] = messages;
  if (!first) return { kind: 'invalid', code: 'invalid_request', detail: 'nothing was sent' };
  return { kind: 'sent', first, messages, ...(incomplete ? { incomplete } : {}) };
}
