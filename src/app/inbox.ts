// The agent inbox's use cases: the conversation list with its row fields, assignment, close and
// reopen, snooze, labels, read marks (also on WhatsApp), notes, parked replies, the contact panel
// and the response-time report. Every call is scoped to one workspace.
import { NO_WINDOW } from '../core/care-window.ts';
import { eligibility, type Eligibility } from '../core/eligibility.ts';
import type { TemplateComponentParams } from '../core/messages.ts';
import { formatMicros } from '../core/pricing/money.ts';
import type { DomainEvent, EventType } from '../ports/event-bus.ts';
import type {
  Agent,
  ConversationNote,
  CostSum,
  Department,
  InboxConversation,
  InboxFilter,
  InboxStatus,
  LastMessage,
  ParkedReply,
} from '../ports/inbox-store.ts';
import type { Contact, MessageRecord, Page } from '../ports/store.ts';
import { InboxError } from './agents.ts';
import type { AppDeps } from './deps.ts';
import { markUploadsUsed, resolveUploads } from './graph-media.ts';
import { sendMessage } from './send-message.ts';

export interface InboxRow {
  conversation: InboxConversation;
  status: InboxStatus;
  contact: Contact | null;
  assignee: Agent | null;
  department: Department | null;
  unread: number;
  lastMessage: LastMessage | null;
  window: Eligibility;
  cost: CostSum[];
}

/** What an agent sees: open, snoozed (until a future instant) or closed. */
export function inboxStatus(c: InboxConversation, now: number): InboxStatus {
  if (c.state === 'closed') return 'closed';
  return c.snoozedUntil !== null && c.snoozedUntil > now ? 'snoozed' : 'open';
}

function publish(
  deps: AppDeps,
  type: EventType,
  workspaceId: string,
  data: Record<string, unknown>,
): void {
  const event: DomainEvent = { type, workspaceId, at: deps.clock.now(), data };
  deps.events.publish(event);
}

/** One page of the inbox, each row with what the list shows (one indexed lookup per field). */
export async function listInbox(
  deps: AppDeps,
  filter: Omit<InboxFilter, 'now'>,
): Promise<Page<InboxRow>> {
  const now = deps.clock.now();
  const page = await deps.store.inbox.conversations.list({ ...filter, now });
  return { items: await rows(deps, page.items, now), nextCursor: page.nextCursor };
}

async function rows(
  deps: AppDeps,
  conversations: readonly InboxConversation[],
  now: number,
): Promise<InboxRow[]> {
  const ids = conversations.map((c) => c.id);
  const workspaceId = conversations[0]?.workspaceId;
  // A fixed number of queries per page whatever its size: no per-row round trips.
  const [unread, last, costs, contacts, windows, agents, departments] = await Promise.all([
    deps.store.inbox.conversations.unreadCounts(conversations),
    deps.store.inbox.conversations.lastMessages(ids),
    deps.store.inbox.conversations.costs(ids),
    deps.store.inbox.conversations.contacts(conversations.map((c) => c.contactId)),
    deps.store.inbox.conversations.windows(conversations),
    workspaceId ? deps.store.inbox.agents.list(workspaceId) : [],
    workspaceId ? deps.store.inbox.departments.list(workspaceId) : [],
  ]);
  const agentById = new Map(agents.map((a) => [a.id, a]));
  const departmentById = new Map(departments.map((d) => [d.id, d]));
  const result: InboxRow[] = [];
  for (const c of conversations) {
    const window = windows.get(`${c.channelId}:${c.contactId}`);
    result.push({
      conversation: c,
      status: inboxStatus(c, now),
      contact: contacts.get(c.contactId) ?? null,
      assignee: c.assigneeId === null ? null : (agentById.get(c.assigneeId) ?? null),
      department: c.departmentId === null ? null : (departmentById.get(c.departmentId) ?? null),
      unread: unread.get(c.id) ?? 0,
      lastMessage: last.get(c.id) ?? null,
      window: eligibility(window ?? NO_WINDOW, now, deps.policy.dispatchMarginMs),
      cost: costs.get(c.id) ?? [],
    });
  }
  return result;
}

export async function getInboxConversation(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<InboxConversation> {
  const c = await deps.store.inbox.conversations.get(id);
  if (!c || c.workspaceId !== workspaceId)
    throw new InboxError('not_found', `No conversation ${id} in this workspace`);
  return c;
}

export async function getInboxRow(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<InboxRow> {
  const c = await getInboxConversation(deps, workspaceId, id);
  const [row] = await rows(deps, [c], deps.clock.now());
  if (!row) throw new InboxError('not_found', `No conversation ${id} in this workspace`);
  return row;
}

/** `cost` as the list shows it: the first currency's sum as a decimal string, or null. */
export function costView(costs: readonly CostSum[]): { amount: string; currency: string } | null {
  const first = costs[0];
  return first ? { amount: formatMicros(first.micros), currency: first.currency } : null;
}

/**
 * Assigns or transfers: to an agent, a department, both, or back to nobody (null). An agent
 * taking over emits `conversation.assigned`, which also stops a bot flow.
 */
export async function assignConversation(
  deps: AppDeps,
  input: {
    workspaceId: string;
    conversationId: string;
    agentId?: string | null;
    departmentId?: string | null;
    byAgentId: string | null;
  },
): Promise<InboxConversation> {
  const c = await getInboxConversation(deps, input.workspaceId, input.conversationId);
  if (input.agentId === undefined && input.departmentId === undefined)
    throw new InboxError('invalid_request', 'Give agentId, departmentId or both (null unassigns)');
  if (input.agentId) {
    const agent = await deps.store.inbox.agents.get(input.agentId);
    if (!agent || agent.workspaceId !== input.workspaceId || agent.state === 'disabled')
      throw new InboxError(
        'invalid_request',
        `agentId: no agent ${input.agentId} in this workspace`,
      );
  }
  if (input.departmentId) {
    const d = await deps.store.inbox.departments.get(input.departmentId);
    if (!d || d.workspaceId !== input.workspaceId)
      throw new InboxError(
        'invalid_request',
        `departmentId: no department ${input.departmentId} in this workspace`,
      );
  }
  const updated = await deps.store.inbox.conversations.update(c.id, {
    ...(input.agentId !== undefined ? { assigneeId: input.agentId } : {}),
    ...(input.departmentId !== undefined ? { departmentId: input.departmentId } : {}),
  });
  if (!updated) throw new InboxError('not_found', `No conversation ${c.id} in this workspace`);
  publish(deps, 'conversation.assigned', input.workspaceId, {
    conversationId: c.id,
    channelId: c.channelId,
    contactId: c.contactId,
    agentId: updated.assigneeId,
    departmentId: updated.departmentId,
    previousAgentId: c.assigneeId,
    previousDepartmentId: c.departmentId,
    byAgentId: input.byAgentId,
  });
  return updated;
}

export async function closeConversation(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  byAgentId: string | null,
): Promise<InboxConversation> {
  const c = await getInboxConversation(deps, workspaceId, id);
  if (c.state === 'closed') return c;
  const updated = await deps.store.inbox.conversations.update(id, {
    state: 'closed',
    closedAt: deps.clock.now(),
    snoozedUntil: null,
    // Resolution is credited to whoever closed it, in the department it was in then.
    closedBy: byAgentId,
    closedDepartmentId: c.departmentId,
  });
  if (!updated) throw new InboxError('not_found', `No conversation ${id} in this workspace`);
  publish(deps, 'conversation.closed', workspaceId, {
    conversationId: id,
    channelId: c.channelId,
    contactId: c.contactId,
    byAgentId,
  });
  return updated;
}

/** Reopens; refused while the customer already has a newer open conversation on that number. */
export async function reopenConversation(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  byAgentId: string | null,
): Promise<InboxConversation> {
  const c = await getInboxConversation(deps, workspaceId, id);
  if (c.state === 'open') return c;
  const open = await deps.store.conversations.findOpen(c.channelId, c.contactId);
  if (open)
    throw new InboxError(
      'conflict',
      `The customer has another open conversation on this number (${open.id})`,
      { openConversationId: open.id },
    );
  const updated = await deps.store.inbox.conversations.update(id, {
    state: 'open',
    closedAt: null,
    closedBy: null,
    closedDepartmentId: null,
  });
  if (!updated) throw new InboxError('not_found', `No conversation ${id} in this workspace`);
  publish(deps, 'conversation.updated', workspaceId, {
    conversationId: id,
    change: 'reopened',
    byAgentId,
  });
  return updated;
}

/** Hidden from the open queue until `until`, or until the customer writes. */
export async function snoozeConversation(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  until: number,
  byAgentId: string | null,
): Promise<InboxConversation> {
  const c = await getInboxConversation(deps, workspaceId, id);
  if (until <= deps.clock.now())
    throw new InboxError('invalid_request', 'until must be in the future');
  if (c.state === 'closed')
    throw new InboxError('conflict', 'A closed conversation cannot be snoozed; reopen it first');
  const updated = await deps.store.inbox.conversations.update(id, { snoozedUntil: until });
  if (!updated) throw new InboxError('not_found', `No conversation ${id} in this workspace`);
  publish(deps, 'conversation.updated', workspaceId, {
    conversationId: id,
    change: 'snoozed',
    snoozedUntil: until,
    byAgentId,
  });
  return updated;
}

export async function setLabels(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  labels: readonly string[],
): Promise<InboxConversation> {
  await getInboxConversation(deps, workspaceId, id);
  const clean = [...new Set(labels.map((l) => l.trim()).filter((l) => l.length > 0))];
  const updated = await deps.store.inbox.conversations.update(id, { labels: clean });
  if (!updated) throw new InboxError('not_found', `No conversation ${id} in this workspace`);
  publish(deps, 'conversation.updated', workspaceId, {
    conversationId: id,
    change: 'labels',
    labels: clean,
  });
  return updated;
}

/**
 * An agent opened the conversation: unread resets, and the latest inbound message is marked read
 * on WhatsApp (blue ticks for the customer; Meta marks every earlier message read with it).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/mark-message-as-read
 */
export async function markConversationRead(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<{ markedOnWhatsApp: boolean; messageId: string | null }> {
  const c = await getInboxConversation(deps, workspaceId, id);
  await deps.store.inbox.conversations.update(id, { readAt: deps.clock.now() });
  publish(deps, 'conversation.updated', workspaceId, { conversationId: id, change: 'read' });
  const latest = await latestInbound(deps, id);
  if (!latest?.providerMessageId) return { markedOnWhatsApp: false, messageId: null };
  const channel = await deps.store.channels.get(c.channelId);
  const connection = channel ? await deps.store.connections.get(channel.connectionId) : null;
  if (!channel || !connection) return { markedOnWhatsApp: false, messageId: latest.id };
  const provider = deps.providers.forConnection(connection);
  if (!provider.markRead) return { markedOnWhatsApp: false, messageId: latest.id };
  try {
    const result = await provider.markRead(
      {
        channelId: channel.id,
        providerKey: channel.providerKey,
        phoneNumber: channel.phoneNumber,
        ...(channel.wabaId ? { wabaId: channel.wabaId } : {}),
      },
      latest.providerMessageId,
    );
    return { markedOnWhatsApp: result.ok, messageId: latest.id };
  } catch (error) {
    // A read receipt is a courtesy: the agent's read mark stands even when the provider fails.
    deps.log.warn({ conversationId: id, error: (error as Error).message }, 'mark as read failed');
    return { markedOnWhatsApp: false, messageId: latest.id };
  }
}

async function latestInbound(deps: AppDeps, conversationId: string): Promise<MessageRecord | null> {
  let cursor: string | undefined;
  let latest: MessageRecord | null = null;
  // The transcript is oldest first; walk its pages (conversations are short) to the newest inbound.
  for (;;) {
    const page = await deps.store.messages.listByConversation(conversationId, {
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    for (const m of page.items) if (m.direction === 'inbound') latest = m;
    if (!page.nextCursor) return latest;
    cursor = page.nextCursor;
  }
}

export async function addNote(
  deps: AppDeps,
  input: { workspaceId: string; conversationId: string; agentId: string | null; text: string },
): Promise<ConversationNote> {
  await getInboxConversation(deps, input.workspaceId, input.conversationId);
  const note = await deps.store.inbox.notes.create({
    workspaceId: input.workspaceId,
    conversationId: input.conversationId,
    agentId: input.agentId,
    text: input.text,
    createdAt: deps.clock.now(),
  });
  publish(deps, 'conversation.updated', input.workspaceId, {
    conversationId: input.conversationId,
    change: 'note',
    noteId: note.id,
  });
  return note;
}

export type TranscriptItem =
  { kind: 'message'; message: MessageRecord } | { kind: 'note'; note: ConversationNote };

/** A transcript page, oldest first, with the internal notes written between its messages. */
export async function transcriptWithNotes(
  deps: AppDeps,
  workspaceId: string,
  conversationId: string,
  paging: { limit: number; cursor?: string },
): Promise<Page<TranscriptItem>> {
  await getInboxConversation(deps, workspaceId, conversationId);
  const page = await deps.store.messages.listByConversation(conversationId, paging);
  const first = page.items[0];
  const last = page.items[page.items.length - 1];
  // Notes after the previous page's last message, up to this page's last (all of them at the end).
  const after = paging.cursor ? (first ? first.createdAt - 1 : Number.MAX_SAFE_INTEGER) : -1;
  const until = page.nextCursor && last ? last.createdAt : Number.MAX_SAFE_INTEGER;
  const notes = await deps.store.inbox.notes.list(conversationId, after, until);
  const items: TranscriptItem[] = [];
  let n = 0;
  for (const message of page.items) {
    while (n < notes.length && (notes[n]?.createdAt ?? 0) < message.createdAt)
      items.push({ kind: 'note', note: notes[n++] as ConversationNote });
    items.push({ kind: 'message', message });
  }
  while (n < notes.length) items.push({ kind: 'note', note: notes[n++] as ConversationNote });
  return { items, nextCursor: page.nextCursor };
}

export interface ParkInput {
  workspaceId: string;
  conversationId: string;
  agentId: string | null;
  text: string;
  reengagement?: {
    templateId: string;
    /** Positional body parameters, or named ones for a template with named parameters. */
    parameters?: readonly string[] | Readonly<Record<string, string>>;
    /**
     * The template's components as /v1/messages takes them (a media header, URL button endings,
     * header and body text): any template the picker can send. Not with `parameters`.
     */
    components?: readonly TemplateComponentParams[];
  };
}

/**
 * Parks a reply while the window is closed: it is held, an optional re-engagement template goes
 * out through the normal send path (policy core included), and the held text is sent when the
 * customer answers — through the policy core again, which then sees the window open. A
 * re-engagement the send path finds invalid parks nothing.
 */
export async function parkReply(
  deps: AppDeps,
  input: ParkInput,
  onQueued: () => void,
): Promise<{ parked: ParkedReply; reengagement: MessageRecord | null }> {
  const c = await getInboxConversation(deps, input.workspaceId, input.conversationId);
  const contact = await deps.store.contacts.get(c.contactId);
  if (!contact) throw new InboxError('not_found', `No contact for conversation ${c.id}`);
  let reengagement: MessageRecord | null = null;
  if (input.reengagement) {
    const wanted = input.reengagement;
    const t = (await deps.store.templates.list(input.workspaceId)).find(
      (x) => x.id === wanted.templateId,
    );
    if (!t)
      throw new InboxError(
        'invalid_request',
        `reengagement.templateId: no template ${wanted.templateId} in this workspace`,
      );
    if (wanted.parameters !== undefined && wanted.components !== undefined)
      throw new InboxError(
        'invalid_request',
        'reengagement: give either parameters (body only) or components, not both',
      );
    const components = wanted.components ?? bodyComponents(wanted.parameters);
    // A header media named by the id of a Parley upload goes out as its link, as on /v1/messages.
    const resolved = await resolveUploads(deps, input.workspaceId, {
      type: 'template',
      template: {
        name: t.name,
        language: { code: t.language },
        ...(components.length > 0 ? { components: [...components] } : {}),
      },
    });
    if (resolved.kind === 'invalid')
      throw new InboxError('invalid_request', `reengagement: ${resolved.detail}`);
    const gone = await markUploadsUsed(deps, resolved.uploadIds);
    if (gone) throw new InboxError('invalid_request', `reengagement: ${gone}`);
    const outcome = await sendMessage(deps, {
      workspaceId: input.workspaceId,
      channelId: c.channelId,
      to: contact.waId,
      content: resolved.content,
      ...(input.agentId !== null ? { agentId: input.agentId } : {}),
    });
    if (outcome.kind === 'invalid') throw new InboxError('invalid_request', outcome.detail);
    reengagement = outcome.message;
    if (outcome.kind === 'queued') onQueued();
  }
  const parked = await deps.store.inbox.parked.create({
    workspaceId: input.workspaceId,
    conversationId: c.id,
    channelId: c.channelId,
    contactId: c.contactId,
    agentId: input.agentId,
    text: input.text,
    reengagementMessageId: reengagement?.id ?? null,
    createdAt: deps.clock.now(),
  });
  publish(deps, 'conversation.updated', input.workspaceId, {
    conversationId: c.id,
    change: 'parked',
    parkedReplyId: parked.id,
  });
  return { parked, reengagement };
}

/** Body parameters as a template's one body component (none when there are none). */
function bodyComponents(
  params: readonly string[] | Readonly<Record<string, string>> | undefined,
): TemplateComponentParams[] {
  const parameters = Array.isArray(params)
    ? params.map((text: string) => ({ type: 'text' as const, text }))
    : Object.entries(params ?? {}).map(([name, text]) => ({
        type: 'text' as const,
        parameter_name: name,
        text,
      }));
  return parameters.length > 0 ? [{ type: 'body', parameters }] : [];
}

/** A customer wrote: wake a snoozed conversation and send the replies held for them. */
export async function onCustomerMessage(
  deps: AppDeps,
  event: DomainEvent,
  onQueued: () => void,
): Promise<void> {
  const { channelId, contactId, conversationId } = event.data;
  if (typeof channelId !== 'string' || typeof contactId !== 'string') return;
  const woken = await deps.store.inbox.conversations.wake(channelId, contactId);
  if (woken)
    publish(deps, 'conversation.updated', event.workspaceId, {
      conversationId: woken,
      change: 'woken',
    });
  const held = await deps.store.inbox.parked.listHeld(channelId, contactId);
  if (held.length === 0) return;
  const contact = await deps.store.contacts.get(contactId);
  if (!contact) return;
  for (const reply of held) {
    // Claim first, so two nodes hearing the same message never both send it.
    if (!(await deps.store.inbox.parked.settle(reply.id, 'sent', deps.clock.now(), null))) continue;
    const outcome = await sendMessage(deps, {
      workspaceId: reply.workspaceId,
      channelId,
      to: contact.waId,
      content: { type: 'text', text: { body: reply.text } },
      idempotencyKey: `parked:${reply.id}`,
      // The agent who wrote the held reply sent it, whenever it goes out.
      ...(reply.agentId !== null ? { agentId: reply.agentId } : {}),
    });
    if (outcome.kind === 'invalid') {
      deps.log.warn(
        { parkedReplyId: reply.id, detail: outcome.detail },
        'held reply could not be sent',
      );
      continue;
    }
    await deps.store.inbox.parked.settle(reply.id, 'sent', deps.clock.now(), outcome.message.id);
    if (outcome.kind === 'queued') onQueued();
    publish(deps, 'conversation.updated', reply.workspaceId, {
      conversationId: typeof conversationId === 'string' ? conversationId : reply.conversationId,
      change: 'parked_reply_sent',
      parkedReplyId: reply.id,
      messageId: outcome.message.id,
    });
  }
}

export async function cancelParked(deps: AppDeps, workspaceId: string, id: string): Promise<void> {
  const reply = await deps.store.inbox.parked.get(id);
  if (!reply || reply.workspaceId !== workspaceId)
    throw new InboxError('not_found', `No parked reply ${id} in this workspace`);
  if (!(await deps.store.inbox.parked.settle(id, 'cancelled', deps.clock.now(), null)))
    throw new InboxError('conflict', 'The reply was already sent or cancelled');
}

/**
 * Listens for customer messages (snooze wake-up, held replies). Returns a stop function and
 * `idle()` that waits for the work started so far (tests, shutdown).
 */
export function subscribeInbox(deps: AppDeps, onQueued: () => void) {
  const running = new Set<Promise<void>>();
  const stop = deps.events.subscribe((event) => {
    if (event.type !== 'message.received') return;
    const work = onCustomerMessage(deps, event, onQueued)
      .catch((error: unknown) =>
        deps.log.error(
          { error: (error as Error).message },
          'inbox follow-up of a customer message failed',
        ),
      )
      .finally(() => running.delete(work));
    running.add(work);
  });
  return {
    stop,
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

/** Median and 90th percentile (nearest rank) of durations in ms. */
export function durationStats(values: readonly number[]): {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) =>
    sorted.length === 0 ? null : (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? null);
  return { count: sorted.length, medianMs: rank(0.5), p90Ms: rank(0.9) };
}

export interface ResponseTimeGroup {
  id: string | null;
  name: string | null;
  firstResponse: ReturnType<typeof durationStats>;
  resolution: ReturnType<typeof durationStats>;
}

/**
 * First-response time (first customer message → first business reply that went out) credited to
 * the agent who sent that reply and the department the conversation was in then; resolution time
 * (opened → closed) to the agent who closed it and its department then — for the conversations
 * opened in [from, to). A reply or close not done by an agent (API key, automation, campaign)
 * counts under no agent (id null); such a reply's department is the conversation's current one.
 */
export async function responseTimes(
  deps: AppDeps,
  workspaceId: string,
  from: number,
  to: number,
): Promise<{ agents: ResponseTimeGroup[]; departments: ResponseTimeGroup[] }> {
  const data = await deps.store.inbox.conversations.responseTimes(workspaceId, from, to);
  const agents = new Map(
    (await deps.store.inbox.agents.list(workspaceId)).map((a) => [a.id, a.name]),
  );
  const departments = new Map(
    (await deps.store.inbox.departments.list(workspaceId)).map((d) => [d.id, d.name]),
  );
  type Row = (typeof data)[number];
  const group = (
    firstKey: (r: Row) => string | null,
    closeKey: (r: Row) => string | null,
    names: Map<string, string>,
  ) => {
    const buckets = new Map<string | null, { first: number[]; resolution: number[] }>();
    const bucket = (k: string | null) => {
      const b = buckets.get(k) ?? { first: [], resolution: [] };
      buckets.set(k, b);
      return b;
    };
    for (const r of data) {
      if (r.firstInboundAt !== null && r.firstResponseAt !== null)
        bucket(firstKey(r)).first.push(r.firstResponseAt - r.firstInboundAt);
      if (r.closedAt !== null) bucket(closeKey(r)).resolution.push(r.closedAt - r.createdAt);
    }
    return [...buckets.entries()]
      .map(([id, b]) => ({
        id,
        name: id === null ? null : (names.get(id) ?? null),
        firstResponse: durationStats(b.first),
        resolution: durationStats(b.resolution),
      }))
      .sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff'));
  };
  return {
    agents: group(
      (r) => r.firstResponseAgentId,
      (r) => r.closedBy,
      agents,
    ),
    departments: group(
      (r) => (r.firstResponseAgentId !== null ? r.firstResponseDepartmentId : r.departmentId),
      (r) => r.closedDepartmentId,
      departments,
    ),
  };
}
