// How records look on the wire: ISO-8601 times, no secrets, no internal columns.
import type { Eligibility } from '../core/eligibility.ts';
import { REASONS } from '../core/reason-codes.ts';
import type {
  ApiKey,
  Channel,
  Contact,
  Conversation,
  MessageRecord,
  StatusEventRecord,
} from '../ports/store.ts';

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function channelView(c: Channel) {
  return {
    id: c.id,
    connectionId: c.connectionId,
    name: c.name,
    providerKey: c.providerKey,
    phoneNumber: `+${c.phoneNumber}`,
    wabaId: c.wabaId,
    throughputMps: c.throughputMps,
    environment: c.environment,
    allowList: c.allowList.map((n) => `+${n}`),
    createdAt: iso(c.createdAt),
  };
}

export function contactView(c: Contact) {
  return {
    id: c.id,
    waId: c.waId,
    phoneNumber: `+${c.waId}`,
    name: c.name,
    userId: c.userId,
    attributes: c.attributes,
    tags: c.tags,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export function windowView(e: Eligibility) {
  return {
    open: e.windowOpen,
    closesAt: iso(e.windowClosesAt),
    freeFormAllowed: e.freeFormAllowed,
    freeFormUntil: iso(e.freeFormUntil),
    templatesAllowed: e.templatesAllowed,
  };
}

export function conversationView(c: Conversation) {
  return {
    id: c.id,
    channelId: c.channelId,
    contactId: c.contactId,
    state: c.state,
    assigneeId: c.assigneeId,
    createdAt: iso(c.createdAt),
    lastMessageAt: iso(c.lastMessageAt),
    closedAt: iso(c.closedAt),
  };
}

export function messageView(m: MessageRecord) {
  return {
    id: m.id,
    channelId: m.channelId,
    contactId: m.contactId,
    conversationId: m.conversationId,
    direction: m.direction,
    type: m.type,
    content: m.content,
    text: m.text,
    status: m.status,
    reason: m.reason,
    reasonDetail: m.reasonDetail,
    /** Plain words for the sender, from the reason vocabulary. */
    explanation: m.reason ? REASONS[m.reason].explanation : null,
    providerMessageId: m.providerMessageId,
    providerError: m.providerError,
    needsReview: m.needsReview,
    idempotencyKey: m.idempotencyKey,
    createdAt: iso(m.createdAt),
    sentAt: iso(m.sentAt),
    deliveredAt: iso(m.deliveredAt),
    readAt: iso(m.readAt),
    failedAt: iso(m.failedAt),
  };
}

export function statusView(s: StatusEventRecord) {
  return {
    status: s.status,
    at: iso(s.at),
    providerCode: s.providerCode,
    receivedAt: iso(s.receivedAt),
    details: s.raw,
  };
}

export function apiKeyView(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    createdAt: iso(k.createdAt),
    revokedAt: iso(k.revokedAt),
  };
}
