// The live cost ledger: listens on the event bus for user messages and deliveries, records each
// as a usage event and prices it (ledger-apply.ts), in batches, one WABA per transaction; after
// a crash, what was stored but never recorded is found and recorded at the next start.
import { opensWindow, WINDOW_OPENING_TYPES } from '../../core/care-window.ts';
import { isTemplateCategory, type TemplateCategory } from '../../core/pricing/categories.ts';
import { formatMicros } from '../../core/pricing/money.ts';
import { DAY } from '../../core/time.ts';
import type { DomainEvent } from '../../ports/event-bus.ts';
import type { Channel, JsonObject, MessageRecord, Store } from '../../ports/store.ts';
import type { AppDeps } from '../deps.ts';
import { createCountryResolver } from '../pricing/recipient-country.ts';
import {
  changesNothing,
  recordUsage,
  type ThresholdCrossing,
  type UsageInput,
} from './ledger-apply.ts';

/** Statuses that make a message delivered (STA-1: `read` and `played` imply it). */
const DELIVERED_STATUSES: readonly string[] = ['delivered', 'read', 'played'];
const BATCH = 200;
const ATTEMPTS = 3;
/** How far back the start-up sweep looks for messages the ledger never recorded. */
export const CATCH_UP_WINDOW = 3 * DAY;

const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The WABA a channel bills to; a channel without one is its own billing account. */
export function wabaOf(channel: { readonly id: string; readonly wabaId: string | null }): string {
  return channel.wabaId ?? channel.id;
}

/**
 * The template category a delivered template is priced under: the stored template's, else the
 * category the provider reported for it, else `marketing` (the dearest: an unknown template is
 * never under-priced, and the reconciliation shows the provider's figure beside it).
 */
async function templateCategoryOf(
  store: Store,
  message: MessageRecord,
  providerPricing: JsonObject | null,
): Promise<TemplateCategory> {
  const content = isObject(message.content) ? message.content : {};
  const template = isObject(content.template) ? content.template : content;
  const name = typeof template.name === 'string' ? template.name : null;
  const language = isObject(template.language) ? template.language.code : template.language;
  if (name !== null && typeof language === 'string') {
    const stored = await store.templates.find(
      message.workspaceId,
      name,
      language,
      message.channelId,
    );
    const category = stored?.category.toLowerCase();
    if (category !== undefined && isTemplateCategory(category)) return category;
  }
  const reported = providerPricing?.category;
  if (typeof reported === 'string' && isTemplateCategory(reported.toLowerCase()))
    return reported.toLowerCase() as TemplateCategory;
  return 'marketing';
}

/**
 * The usage event a stored message stands for, or null: a user message that opens the care
 * window (CSW-1), with `ctwa` when it carries a referral (FEP-1); a business message once
 * delivered, at its delivery instant (STA-1: the delivered time, else the earliest read).
 */
export async function usageInputFor(
  store: Store,
  workspaceId: string,
  messageId: string,
  channels: Map<string, Promise<Channel | null>> = new Map(),
): Promise<UsageInput | null> {
  const message = await store.messages.get(messageId);
  if (!message || message.workspaceId !== workspaceId) return null;
  let channelLookup = channels.get(message.channelId);
  if (channelLookup === undefined) {
    channelLookup = store.channels.get(message.channelId);
    channels.set(message.channelId, channelLookup);
  }
  const channel = await channelLookup;
  const contact = await store.contacts.get(message.contactId);
  if (!channel || !contact) return null;
  const common = {
    workspaceId,
    waba: wabaOf(channel),
    channelId: channel.id,
    contactId: contact.id,
    contact: `+${contact.waId}`,
    messageId: message.id,
  };
  if (message.direction === 'inbound') {
    if (!opensWindow(message.type)) return null;
    const content = isObject(message.content) ? message.content : {};
    return {
      ...common,
      type: 'inbound',
      at: message.createdAt,
      entryPoint: isObject(content.referral) ? 'ctwa' : null,
      templateCategory: null,
      providerPricing: null,
      providerConversation: null,
    };
  }
  const statuses = await store.statusEvents.list(message.id);
  const delivered = statuses.find((s) => s.status === 'delivered');
  const reads = statuses.filter((s) => s.status === 'read' || s.status === 'played');
  const at = delivered?.at ?? (reads.length > 0 ? Math.min(...reads.map((s) => s.at)) : null);
  if (at === null) return null;
  // The provider's own figures, from the delivery's status event first.
  let providerPricing: JsonObject | null = null;
  let providerConversation: JsonObject | null = null;
  const order = ['delivered', 'read', 'played', 'sent', 'accepted'];
  for (const s of [...statuses].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))) {
    const raw = isObject(s.raw) ? s.raw : {};
    if (providerPricing === null && isObject(raw.pricing)) providerPricing = raw.pricing;
    if (providerConversation === null && isObject(raw.conversation))
      providerConversation = raw.conversation;
  }
  return {
    ...common,
    type: 'delivered',
    at,
    entryPoint: null,
    templateCategory:
      message.type === 'template'
        ? await templateCategoryOf(store, message, providerPricing)
        : null,
    providerPricing,
    providerConversation,
  };
}

/** `billing.threshold`: a WABA's month reached its budget. */
export function thresholdEvent(crossing: ThresholdCrossing, at: number): DomainEvent {
  return {
    type: 'billing.threshold',
    workspaceId: crossing.workspaceId,
    at,
    data: {
      waba: crossing.waba,
      month: crossing.month,
      currency: crossing.currency,
      budget: formatMicros(crossing.budgetMicros),
      amount: formatMicros(crossing.amountMicros),
    },
  };
}

interface Pending {
  readonly workspaceId: string;
  readonly messageId: string;
  attempts: number;
}

/**
 * The ledger as a subscriber: every `message.received` and every `message.status` that makes
 * a message delivered is recorded and priced shortly after, in order of arrival.
 */
export class CostLedger {
  readonly #deps: AppDeps;
  readonly #countryOf = createCountryResolver();
  readonly #pending = new Map<string, Pending>();
  #running: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;
  #stopped = false;

  constructor(deps: AppDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the event bus and, in the background, records what a crash left behind. */
  start(): void {
    // Local only: the node where a message was stored records it, so each is recorded once.
    this.#unsubscribe ??= this.#deps.events.subscribe(
      (event) => {
        this.observe(event);
      },
      { localOnly: true },
    );
    void this.catchUp().catch((error: unknown) => {
      this.#deps.log.error({ err: error }, 'cost ledger catch-up failed');
    });
  }

  /** The bus handler: queues the message an event is about. */
  observe(event: DomainEvent): void {
    if (event.type === 'message.received') this.#queue(event.workspaceId, event.data.messageId);
    else if (
      event.type === 'message.status' &&
      DELIVERED_STATUSES.includes(String(event.data.status))
    )
      this.#queue(event.workspaceId, event.data.messageId);
  }

  /** Records one message now (or soon): for callers that know a message changed. */
  record(workspaceId: string, messageId: string): void {
    this.#queue(workspaceId, messageId);
  }

  /** Waits until everything queued so far is recorded. */
  async drain(): Promise<void> {
    this.#kick();
    while (this.#running) await this.#running;
  }

  /** Stops listening and finishes what was queued. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.drain();
    this.#stopped = true;
  }

  /** Messages stored since `CATCH_UP_WINDOW` ago that the ledger never recorded (a crash). */
  async catchUp(): Promise<number> {
    const since = this.#deps.clock.now() - CATCH_UP_WINDOW;
    const seen = new Set<string>();
    for (;;) {
      const missing = await this.#deps.store.billing.unrecorded(since, 500, WINDOW_OPENING_TYPES);
      let fresh = 0;
      for (const m of missing) {
        if (seen.has(m.messageId)) continue;
        seen.add(m.messageId);
        this.#queue(m.workspaceId, m.messageId);
        fresh++;
      }
      await this.drain();
      // Messages that stand for no usage event (never delivered after all) come back: stop then.
      if (missing.length < 500 || fresh === 0) return seen.size;
    }
  }

  #queue(workspaceId: string, messageId: unknown): void {
    if (this.#stopped || typeof messageId !== 'string') return;
    if (!this.#pending.has(messageId))
      this.#pending.set(messageId, { workspaceId, messageId, attempts: 0 });
    this.#kick();
  }

  #kick(): void {
    if (this.#running || this.#pending.size === 0) return;
    this.#running = this.#work().finally(() => {
      this.#running = null;
      if (this.#pending.size > 0) this.#kick();
    });
  }

  async #work(): Promise<void> {
    // A turn of the event loop first, so the messages of this I/O phase share a transaction
    // (SQLite answers synchronously: started now, each would be recorded alone).
    if (this.#pending.size < BATCH) await new Promise((r) => setImmediate(r));
    while (this.#pending.size > 0) {
      const batch: Pending[] = [];
      for (const p of this.#pending.values()) {
        batch.push(p);
        if (batch.length >= BATCH) break;
      }
      for (const p of batch) this.#pending.delete(p.messageId);
      await this.#process(batch);
    }
  }

  async #process(batch: readonly Pending[]): Promise<void> {
    const { store, clock, log, events } = this.#deps;
    const groups = new Map<string, { inputs: UsageInput[]; items: Pending[] }>();
    const channels = new Map<string, Promise<Channel | null>>();
    for (const item of batch) {
      let input: UsageInput | null;
      try {
        input = await usageInputFor(store, item.workspaceId, item.messageId, channels);
        // A message's later statuses (read after delivered) usually change nothing.
        if (input !== null && (await changesNothing(store, input))) input = null;
      } catch (error) {
        this.#retry(item, error);
        continue;
      }
      if (input === null) continue;
      const key = `${input.workspaceId}\n${input.waba}`;
      const group = groups.get(key) ?? { inputs: [], items: [] };
      group.inputs.push(input);
      group.items.push(item);
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      try {
        const now = clock.now();
        const crossings = await store.transaction((tx) =>
          recordUsage(tx, group.inputs, { now, countryOf: this.#countryOf }),
        );
        for (const c of crossings) events.publish(thresholdEvent(c, now));
      } catch (error) {
        log.error({ err: error }, 'cost ledger: recording usage failed');
        for (const item of group.items) this.#retry(item, error);
      }
    }
  }

  #retry(item: Pending, error: unknown): void {
    item.attempts++;
    if (item.attempts >= ATTEMPTS) {
      this.#deps.log.error(
        { err: error, messageId: item.messageId },
        'cost ledger: message left unrecorded (the next start records it)',
      );
      return;
    }
    if (!this.#pending.has(item.messageId)) this.#pending.set(item.messageId, item);
  }
}

/** Builds the ledger and starts it (the container's one line). */
export function startCostLedger(deps: AppDeps): CostLedger {
  const ledger = new CostLedger(deps);
  ledger.start();
  return ledger;
}
