// Runs chatbot flows on inbound messages: claims each message once, feeds a waiting question its
// answer or starts the best matching flow, and executes steps. Every bot message goes through
// sendMessage, the same policy core as an agent's; a flow stops when an agent takes over.
import { isOpen, type BusinessCalendar } from '../../core/automation/business-hours.ts';
import {
  DEFAULT_ASK_TIMEOUT_MS,
  DEFAULT_HTTP_TIMEOUT_MS,
  normaliseText,
  type FlowDefinition,
  type Step,
} from '../../core/automation/flow.ts';
import {
  START,
  advance,
  fillDeep,
  fill,
  hasLapsed,
  isActive,
  pick,
  readAnswer,
  replyMessage,
  type PlaceholderValues,
  type RunCursor,
  type StepOutcome,
} from '../../core/automation/step-machine.ts';
import { matchingFlows, type InboundFacts } from '../../core/automation/triggers.ts';
import type { OutboundContent } from '../../core/messages.ts';
import type { AutomationRecord, AutomationRunRecord } from '../../ports/automation-store.ts';
import type { DomainEvent } from '../../ports/event-bus.ts';
import type {
  Channel,
  Contact,
  Conversation,
  Json,
  JsonObject,
  MessageRecord,
} from '../../ports/store.ts';
import { recordConsent } from '../consent-ledger.ts';
import { assignConversation, setLabels } from '../inbox.ts';
import type { AppDeps } from '../deps.ts';
import { sendMessage } from '../send-message.ts';

/** Inbound types that never start or answer a flow: reactions, system notices, unsupported. */
const IGNORED_TYPES = new Set(['reaction', 'system', 'unsupported', 'call']);

/** A run found `running` this long after its last write was cut short (a crash mid-run). */
const STALE_RUN_MS = 5 * 60_000;

export interface AutomationOptions {
  /** A bot message was queued: wake the dispatcher. */
  readonly onMessageQueued: () => void;
  /** For the `http` step (tests inject one); the global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

export interface AutomationRunner {
  /** Handles one event now (the subscription calls this; tests may too). */
  handle(event: DomainEvent): Promise<void>;
  /** Resolves when every event heard so far has been handled. */
  idle(): Promise<void>;
  stop(): void;
}

/** What one run works on. */
interface RunContext {
  readonly channel: Channel;
  readonly conversation: Conversation;
  contact: Contact;
  /** The inbound message being handled now. */
  readonly inbound: MessageRecord;
}

export function startAutomation(deps: AppDeps, options: AutomationOptions): AutomationRunner {
  const lanes = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();

  /** One conversation's events are handled one after the other, in the order heard. */
  function enqueue(key: string, work: () => Promise<void>): void {
    const previous = lanes.get(key) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      deps.log.error({ err: error, conversationId: key }, 'automation failed on an event');
    });
    lanes.set(key, next);
    pending.add(next);
    void next.finally(() => {
      pending.delete(next);
      if (lanes.get(key) === next) lanes.delete(key);
    });
  }

  async function handle(event: DomainEvent): Promise<void> {
    if (event.type === 'message.received') await onInbound(deps, options, event);
    else if (event.type === 'conversation.assigned') await onAssigned(deps, event);
  }

  const unsubscribe = deps.events.subscribe(
    (event) => {
      if (event.type !== 'message.received' && event.type !== 'conversation.assigned') return;
      const conversationId = event.data.conversationId;
      if (typeof conversationId !== 'string') return;
      enqueue(conversationId, () => handle(event));
      // Handled by the node that stored the message; the claim table covers any other way in.
    },
    { localOnly: true },
  );

  return {
    handle,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    stop: unsubscribe,
  };
}

/** An agent was assigned: whatever the bot was doing in that conversation stops. */
async function onAssigned(deps: AppDeps, event: DomainEvent): Promise<void> {
  const agentId = event.data.agentId ?? event.data.assigneeId;
  if (typeof agentId !== 'string' || agentId === '') return;
  await stopActiveRuns(deps, String(event.data.conversationId), 'an agent took over');
}

async function stopActiveRuns(
  deps: AppDeps,
  conversationId: string,
  reason: string,
): Promise<void> {
  for (const run of await deps.store.automations.runs.listByConversation(conversationId))
    if (isActive(run.status))
      await deps.store.automations.runs.update(
        run.id,
        { status: 'stopped', reason, waitingUntil: null },
        deps.clock.now(),
      );
}

async function onInbound(
  deps: AppDeps,
  options: AutomationOptions,
  event: DomainEvent,
): Promise<void> {
  const { store } = deps;
  const messageId = event.data.messageId;
  if (typeof messageId !== 'string') return;
  // Most workspaces have no flows: one small read, and nothing written for their messages.
  const flows = await store.automations.flows.list(event.workspaceId);
  if (flows.length === 0) return;
  if (!(await store.automations.claimInbound(event.workspaceId, messageId, deps.clock.now())))
    return; // handled already (a duplicate event, another node)
  const inbound = await store.messages.get(messageId);
  if (!inbound?.conversationId || inbound.direction !== 'inbound') return;
  if (IGNORED_TYPES.has(inbound.type)) return;
  const [conversation, contact, channel] = await Promise.all([
    store.conversations.get(inbound.conversationId),
    store.contacts.get(inbound.contactId),
    store.channels.get(inbound.channelId),
  ]);
  if (!conversation || !contact || !channel) return;
  const ctx: RunContext = { channel, conversation, contact, inbound };

  // An agent owns the conversation: the bot stays out of it.
  if (conversation.assigneeId !== null) {
    await stopActiveRuns(deps, conversation.id, 'an agent took over');
    return;
  }
  const runs = await store.automations.runs.listByConversation(conversation.id);
  // Handed to people (or taken over) earlier in this conversation: no more bot until it closes.
  if (runs.some((r) => r.status === 'handed_off' || r.status === 'stopped')) return;

  const now = deps.clock.now();
  const active = runs.find((r) => isActive(r.status));
  if (active) {
    if (await store.automations.humanSentSince(conversation.id, active.startedAt)) {
      await stopActiveRuns(deps, conversation.id, 'an agent replied');
      return;
    }
    const cursor = cursorOf(active);
    if (active.status === 'waiting' && !hasLapsed(cursor, now)) {
      await answer(deps, options, ctx, active);
      return;
    }
    if (active.status === 'running' && now - active.updatedAt < STALE_RUN_MS) return;
    await store.automations.runs.update(
      active.id,
      active.status === 'waiting'
        ? { status: 'lapsed', reason: 'the question was not answered in time', waitingUntil: null }
        : { status: 'failed', reason: 'interrupted before it finished' },
      now,
    );
  } else if (await store.automations.humanSentSince(conversation.id, conversation.createdAt)) {
    // Someone already answered in this conversation by hand: the bot does not cut in.
    return;
  }

  const facts = await factsOf(deps, ctx, flows);
  const byId = new Map(flows.map((f) => [f.id, f]));
  for (const flow of matchingFlows(
    flows.map((record, order) => ({ flow: { ...definitionOf(record), id: record.id }, order })),
    facts,
  )) {
    const record = byId.get(flow.id);
    if (!record) continue;
    if (flow.cooldownMs) {
      const last = await store.automations.runs.lastStartFor(record.id, contact.id);
      if (last !== null && now - last < flow.cooldownMs) continue;
    }
    const run = await store.automations.runs.create({
      workspaceId: event.workspaceId,
      automationId: record.id,
      definition: record.definition,
      channelId: channel.id,
      contactId: contact.id,
      conversationId: conversation.id,
      messageId: inbound.id,
      ...START,
      log: [],
      startedAt: now,
    });
    await execute(deps, options, ctx, run, START);
    return;
  }
}

function flowOf(definition: JsonObject): FlowDefinition {
  return definition as unknown as FlowDefinition;
}

function definitionOf(record: AutomationRecord): FlowDefinition {
  return flowOf(record.definition);
}

function cursorOf(run: AutomationRunRecord): RunCursor {
  return { step: run.step, status: run.status, waitingUntil: run.waitingUntil, reason: run.reason };
}

/** The stored inbound message's content object (`{content, context, referral, errors}`). */
function storedParts(m: MessageRecord): { content: Record<string, unknown>; referral: unknown } {
  const stored = (m.content ?? {}) as Record<string, unknown>;
  const content = stored.content;
  return {
    content:
      content !== null && typeof content === 'object' ? (content as Record<string, unknown>) : {},
    referral: stored.referral ?? null,
  };
}

/** The id behind a tap: a reply button, a list row, or a template quick-reply button. */
export function payloadOf(m: MessageRecord): string | null {
  const { content } = storedParts(m);
  if (m.type === 'button') return typeof content.payload === 'string' ? content.payload : null;
  if (m.type === 'interactive') {
    const reply = (content.button_reply ?? content.list_reply) as { id?: unknown } | undefined;
    return typeof reply?.id === 'string' ? reply.id : null;
  }
  return null;
}

async function factsOf(
  deps: AppDeps,
  ctx: RunContext,
  flows: readonly AutomationRecord[],
): Promise<InboundFacts> {
  const { store } = deps;
  const { inbound, conversation } = ctx;
  const triggers = new Set(flows.map((f) => definitionOf(f).trigger.type));
  const { referral } = storedParts(inbound);
  let firstOfConversation = false;
  let firstOfContact = false;
  if (triggers.has('first_message')) {
    firstOfConversation = !(await store.automations.hasEarlierInbound(
      [conversation.id],
      inbound.id,
      inbound.createdAt,
    ));
    if (firstOfConversation) {
      const others = await store.conversations.list({
        workspaceId: inbound.workspaceId,
        contactId: inbound.contactId,
        limit: 200,
      });
      firstOfContact = !(await store.automations.hasEarlierInbound(
        others.items.map((c) => c.id).filter((id) => id !== conversation.id),
        inbound.id,
        inbound.createdAt,
      ));
    }
  }
  let open: boolean | null = null;
  if (triggers.has('outside_hours')) {
    const calendar = await store.automations.calendars.get(ctx.channel.id);
    if (calendar) open = isOpen(calendar as unknown as BusinessCalendar, inbound.createdAt);
  }
  const ref = referral !== null && typeof referral === 'object' ? (referral as JsonObject) : null;
  return {
    channelId: ctx.channel.id,
    text: inbound.text,
    payload: payloadOf(inbound),
    referral: ref ? { sourceId: typeof ref.source_id === 'string' ? ref.source_id : null } : null,
    firstOfContact,
    firstOfConversation,
    open,
  };
}

/** The customer answered a waiting question: keep the answer, or ask again. */
async function answer(
  deps: AppDeps,
  options: AutomationOptions,
  ctx: RunContext,
  run: AutomationRunRecord,
): Promise<void> {
  const steps = flowOf(run.definition).steps;
  const step = steps[run.step];
  if (step?.type !== 'ask') return;
  const reply = readAnswer(step, { text: ctx.inbound.text, payload: payloadOf(ctx.inbound) });
  const log = [...run.log];
  if (!reply.accepted) {
    const retry = await say(deps, options, ctx, run, `${run.step}:retry:${ctx.inbound.id}`, {
      ...step,
      text: step.retry ?? step.text,
    });
    log.push(entry(run.step, 'ask', { answer: 'rejected', ...retry.log }));
    await deps.store.automations.runs.update(run.id, { log }, deps.clock.now());
    return;
  }
  ctx.contact = await setAttributes(deps, ctx.contact, { [step.attribute]: reply.value });
  log.push(entry(run.step, 'ask', { answer: 'stored', attribute: step.attribute }));
  const cursor = advance(steps, cursorOf(run), { kind: 'next' });
  await deps.store.automations.runs.update(
    run.id,
    { status: cursor.status, step: cursor.step, waitingUntil: null, log },
    deps.clock.now(),
  );
  await execute(deps, options, ctx, { ...run, log }, cursor);
}

/** Runs steps from `cursor` until the flow waits, ends, hands off or fails; persists each step. */
async function execute(
  deps: AppDeps,
  options: AutomationOptions,
  ctx: RunContext,
  run: AutomationRunRecord,
  from: RunCursor,
): Promise<void> {
  const steps = flowOf(run.definition).steps;
  const flowId = run.automationId;
  let cursor = from;
  const log = [...run.log];
  while (cursor.status === 'running' && cursor.step < steps.length) {
    const step = steps[cursor.step];
    if (!step) break;
    // An agent may have taken the conversation while an earlier step ran (an HTTP call …).
    const conversation = await deps.store.conversations.get(ctx.conversation.id);
    if (conversation?.assigneeId) {
      cursor = { ...cursor, status: 'stopped', reason: 'an agent took over' };
      break;
    }
    let result: { outcome: StepOutcome; log: JsonObject };
    try {
      result = await runStep(deps, options, ctx, run, cursor.step, step, flowId);
    } catch (error) {
      deps.log.error(
        { err: error, automationId: flowId, step: cursor.step },
        'automation step failed',
      );
      result = {
        outcome: { kind: 'fail', reason: `step ${cursor.step} (${step.type}) failed` },
        log: { error: 'internal' },
      };
    }
    log.push(entry(cursor.step, step.type, result.log));
    cursor = advance(steps, cursor, result.outcome);
    await deps.store.automations.runs.update(
      run.id,
      {
        status: cursor.status,
        step: cursor.step,
        waitingUntil: cursor.waitingUntil,
        reason: cursor.reason,
        log,
      },
      deps.clock.now(),
    );
  }
  if (cursor.status === 'stopped')
    await deps.store.automations.runs.update(
      run.id,
      { status: 'stopped', reason: cursor.reason, waitingUntil: null, log },
      deps.clock.now(),
    );
}

function entry(step: number, type: Step['type'], detail: JsonObject): Json {
  return { step, type, ...detail };
}

function values(ctx: RunContext): PlaceholderValues {
  return {
    contact: { name: ctx.contact.name, phone: ctx.contact.waId },
    attributes: ctx.contact.attributes,
  };
}

async function runStep(
  deps: AppDeps,
  options: AutomationOptions,
  ctx: RunContext,
  run: AutomationRunRecord,
  index: number,
  step: Step,
  flowId: string,
): Promise<{ outcome: StepOutcome; log: JsonObject }> {
  const now = deps.clock.now();
  switch (step.type) {
    case 'reply': {
      const sent = await say(deps, options, ctx, run, `${index}`, step);
      return {
        outcome: sent.ok ? { kind: 'next' } : { kind: 'fail', reason: sent.reason },
        log: sent.log,
      };
    }
    case 'ask': {
      const sent = await say(deps, options, ctx, run, `${index}`, step);
      return {
        outcome: sent.ok
          ? { kind: 'wait', until: now + (step.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS) }
          : { kind: 'fail', reason: sent.reason },
        log: sent.log,
      };
    }
    case 'tag': {
      const remove = new Set(step.remove ?? []);
      const tags = [...new Set([...ctx.contact.tags, ...(step.add ?? [])])].filter(
        (t) => !remove.has(t),
      );
      const updated = await deps.store.contacts.update(ctx.contact.id, { tags }, now);
      if (updated) ctx.contact = updated;
      return { outcome: { kind: 'next' }, log: { tags } };
    }
    case 'consent': {
      const recorded = await recordConsent(deps, ctx.channel.workspaceId, ctx.contact, {
        kind: step.kind,
        purpose: step.purpose,
        channelId: ctx.channel.id,
        // The person said so in this WhatsApp conversation.
        source: 'inbound_message',
        recordedBy: `automation:${flowId}`,
        evidence: {
          ...(step.evidenceText ? { text: step.evidenceText } : {}),
          businessName: ctx.channel.name,
          ...(ctx.inbound.providerMessageId ? { messageId: ctx.inbound.providerMessageId } : {}),
        },
      });
      return { outcome: { kind: 'next' }, log: { consentEventId: recorded.id } };
    }
    case 'http':
      return callBusinessSystem(deps, options, ctx, step, flowId);
    case 'assign': {
      const assigned = await assignDepartment(deps, ctx, step);
      return assigned.ok
        ? { outcome: { kind: 'next' }, log: { departmentId: assigned.departmentId } }
        : { outcome: { kind: 'fail', reason: assigned.reason }, log: { error: assigned.reason } };
    }
    case 'handoff': {
      const log: JsonObject = {};
      if (step.text) {
        const sent = await say(deps, options, ctx, run, `${index}`, { text: step.text });
        Object.assign(log, sent.log);
      }
      if (step.departmentId || step.department) {
        const assigned = await assignDepartment(deps, ctx, step);
        if (assigned.ok) log.departmentId = assigned.departmentId;
        else log.error = assigned.reason;
      }
      await markHandedOff(deps, ctx);
      return { outcome: { kind: 'handoff' }, log };
    }
  }
}

type Said =
  | { readonly ok: true; readonly log: JsonObject }
  | { readonly ok: false; readonly reason: string; readonly log: JsonObject };

/** Sends a bot message through the policy core, keyed so a retry never sends it twice. */
async function say(
  deps: AppDeps,
  options: AutomationOptions,
  ctx: RunContext,
  run: AutomationRunRecord,
  key: string,
  reply: Parameters<typeof replyMessage>[0],
): Promise<Said> {
  const content: OutboundContent = replyMessage(reply, values(ctx));
  const outcome = await sendMessage(deps, {
    workspaceId: ctx.channel.workspaceId,
    channelId: ctx.channel.id,
    to: ctx.contact.waId,
    content,
    idempotencyKey: `automation:${run.id}:${key}`,
  });
  if (outcome.kind === 'invalid')
    return {
      ok: false,
      reason: `the reply is not a valid message: ${outcome.detail}`,
      log: { error: outcome.code, detail: outcome.detail },
    };
  if (outcome.kind === 'refused')
    return {
      ok: false,
      reason:
        `the policy refused the reply (${outcome.message.reason ?? 'refused'}): ${outcome.message.reasonDetail ?? ''}`.trim(),
      log: { messageId: outcome.message.id, refused: outcome.message.reason },
    };
  options.onMessageQueued();
  return { ok: true, log: { messageId: outcome.message.id } };
}

async function setAttributes(
  deps: AppDeps,
  contact: Contact,
  attributes: Readonly<Record<string, Json>>,
): Promise<Contact> {
  return deps.store.transaction(async (tx) => {
    const current = (await tx.contacts.get(contact.id)) ?? contact;
    return (
      (await tx.contacts.update(
        contact.id,
        { attributes: { ...current.attributes, ...attributes } },
        deps.clock.now(),
      )) ?? current
    );
  });
}

/**
 * Calls a business system. A failure (timeout, non-2xx, a body that is not JSON when values are
 * to be read from it) is logged without the URL's query or any header, and then the flow goes
 * on or stops as the step says.
 */
async function callBusinessSystem(
  deps: AppDeps,
  options: AutomationOptions,
  ctx: RunContext,
  step: Extract<Step, { type: 'http' }>,
  flowId: string,
): Promise<{ outcome: StepOutcome; log: JsonObject }> {
  const v = values(ctx);
  const method = step.method ?? (step.body === undefined ? 'GET' : 'POST');
  const url = fill(step.url, {
    ...v,
    attributes: Object.fromEntries(
      Object.entries(v.attributes).map(([k, value]) => [k, encodeURIComponent(String(value))]),
    ),
  });
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, value] of Object.entries(step.headers ?? {})) headers[name] = fill(value, v);
  const hasBody = step.body !== undefined && method !== 'GET';
  if (hasBody) headers['content-type'] = 'application/json';
  const started = Date.now();
  const where = safeUrl(url);
  const fail = (detail: string, status?: number): { outcome: StepOutcome; log: JsonObject } => {
    deps.log.warn(
      { automationId: flowId, url: where, status, detail },
      'automation HTTP call failed',
    );
    return {
      outcome:
        step.onError === 'stop'
          ? { kind: 'fail', reason: `the call to ${where} failed: ${detail}` }
          : { kind: 'next' },
      log: { url: where, ok: false, detail, ...(status !== undefined ? { status } : {}) },
    };
  };
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method,
      headers,
      ...(hasBody ? { body: JSON.stringify(fillDeep(step.body, v)) } : {}),
      signal: AbortSignal.timeout(step.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (error) {
    const name = (error as Error).name;
    return fail(
      name === 'TimeoutError' || name === 'AbortError'
        ? `no answer within ${step.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS} ms`
        : 'the request could not be made',
    );
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) return fail(`HTTP ${response.status}`, response.status);
  const set: Record<string, Json> = {};
  if (step.set && Object.keys(step.set).length > 0) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail('the answer is not JSON', response.status);
    }
    for (const [attribute, path] of Object.entries(step.set)) {
      const value = pick(body, path);
      if (value !== undefined) set[attribute] = value as Json;
    }
    ctx.contact = await setAttributes(deps, ctx.contact, set);
  }
  return {
    outcome: { kind: 'next' },
    log: {
      url: where,
      ok: true,
      status: response.status,
      ms: Date.now() - started,
      set: Object.keys(set),
    },
  };
}

/** Scheme, host and path only: a query string may carry a token. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

type Assigned =
  | { readonly ok: true; readonly departmentId: string }
  | { readonly ok: false; readonly reason: string };

/** Puts the conversation in a department's queue (by id, or by name in any case). */
async function assignDepartment(
  deps: AppDeps,
  ctx: RunContext,
  step: { readonly departmentId?: string; readonly department?: string },
): Promise<Assigned> {
  const departments = await deps.store.inbox.departments.list(ctx.channel.workspaceId);
  const wanted = step.department === undefined ? null : normaliseText(step.department);
  const department = departments.find((d) =>
    step.departmentId ? d.id === step.departmentId : normaliseText(d.name) === wanted,
  );
  if (!department)
    return {
      ok: false,
      reason: `there is no department ${step.departmentId ?? `"${step.department ?? ''}"`} in this workspace`,
    };
  // An assignment to a department only: agents see it in that queue; the bot goes on.
  await assignConversation(deps, {
    workspaceId: ctx.channel.workspaceId,
    conversationId: ctx.conversation.id,
    departmentId: department.id,
    byAgentId: null,
  });
  return { ok: true, departmentId: department.id };
}

/** The label a hand-off puts on the conversation, so agents can see the bot let go of it. */
export const HANDOFF_LABEL = 'handed off';

async function markHandedOff(deps: AppDeps, ctx: RunContext): Promise<void> {
  const current = await deps.store.inbox.conversations.get(ctx.conversation.id);
  if (!current || current.labels.includes(HANDOFF_LABEL)) return;
  await setLabels(deps, ctx.channel.workspaceId, current.id, [...current.labels, HANDOFF_LABEL]);
}
