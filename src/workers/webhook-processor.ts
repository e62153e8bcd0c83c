// Processes stored webhooks after they were acknowledged. Fresh ones arrive in memory with their
// parsed events; anything left behind (a crash, a full backlog) is picked up from the store.
// With several lanes (PostgreSQL), webhooks about different users are processed side by side,
// each lane in its own transaction, so their round trips overlap; one user's stay in order.
import type { InboundEvent } from '../core/inbound.ts';
import { orderingKeysOf, planLanes } from '../core/webhook-lanes.ts';
import type { WebhookRecord } from '../ports/store.ts';
import { parseStoredWebhook, processWebhook, type ProcessOutcome } from '../app/receive-webhook.ts';
import type { AppDeps } from '../app/deps.ts';

interface Pending {
  readonly webhook: WebhookRecord;
  readonly events?: InboundEvent[];
  /** Who its events are about (see orderingKeysOf); null: unknown, processed alone. */
  readonly keys: string[] | null;
}

export class WebhookProcessor {
  readonly #deps: AppDeps;
  readonly #maxBacklog: number;
  readonly #batchSize: number;
  readonly #lanes: number;
  #backlog: Pending[] = [];
  /** Webhooks left in the store because the in-memory backlog was full: sweep them. */
  #overflowed = true;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(
    deps: AppDeps,
    options: {
      maxBacklog?: number;
      /** Webhooks per transaction (per lane). */
      batchSize?: number;
      /** Transactions at once; 1 processes strictly in arrival order (SQLite: one connection). */
      lanes?: number;
    } = {},
  ) {
    this.#deps = deps;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
    this.#batchSize = options.batchSize ?? 50;
    this.#lanes = Math.max(1, Math.floor(options.lanes ?? 1));
  }

  /** Hands over a freshly stored webhook; processing starts at once without blocking the caller. */
  submit(webhook: WebhookRecord, events?: InboundEvent[]): void {
    if (this.#stopped) return;
    if (this.#backlog.length >= this.#maxBacklog) this.#overflowed = true;
    else this.#backlog.push({ webhook, events, keys: events ? orderingKeysOf(events) : null });
    this.#kick();
  }

  /** Processes everything pending, including webhooks stored before a restart. */
  async drain(): Promise<void> {
    this.#kick();
    while (this.#running) await this.#running;
  }

  /** Stops taking work; what is stored but unprocessed is swept at the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    while (this.#running) await this.#running;
  }

  get backlog(): number {
    return this.#backlog.length;
  }

  #kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#work().finally(() => {
      this.#running = null;
      if (!this.#stopped && (this.#backlog.length > 0 || this.#overflowed)) this.#kick();
    });
  }

  async #work(): Promise<void> {
    // One turn of the event loop first: the webhooks acknowledged in this I/O phase are handed
    // over one by one (each from its own setImmediate), and SQLite answers synchronously, so
    // starting now would process them one per transaction. Gathered, they share one commit.
    if (this.#backlog.length < this.#batchSize) await new Promise((r) => setImmediate(r));
    for (;;) {
      if (this.#stopped) return;
      if (this.#backlog.length === 0 && this.#overflowed) await this.#refill();
      const round = this.#nextRound();
      if (round.length === 0) return;
      await Promise.all(round.map((batch) => this.#processBatch(batch)));
    }
  }

  /** The next batches to run side by side, taken off the backlog. */
  #nextRound(): Pending[][] {
    if (this.#lanes === 1) {
      const batch = this.#backlog.splice(0, this.#batchSize);
      return batch.length === 0 ? [] : [batch];
    }
    const window = this.#backlog.slice(0, this.#lanes * this.#batchSize);
    const plan = planLanes(
      window.map((p) => p.keys),
      this.#lanes,
      this.#batchSize,
    );
    this.#backlog.splice(0, plan.taken);
    return plan.lanes.map((lane) => lane.map((i) => window[i] as Pending));
  }

  async #refill(): Promise<void> {
    this.#overflowed = false;
    const pending = await this.#deps.store.webhooks.listPending(500);
    if (pending.length === 500) this.#overflowed = true;
    const queued = new Set(this.#backlog.map((p) => p.webhook.id));
    for (const webhook of pending) {
      if (queued.has(webhook.id)) continue;
      if (this.#lanes === 1) {
        this.#backlog.push({ webhook, keys: null });
        continue;
      }
      // Parsed now to know whose they are; one that cannot be parsed fails alone later.
      const events = await parseStoredWebhook(this.#deps, webhook).catch(() => undefined);
      this.#backlog.push({ webhook, events, keys: events ? orderingKeysOf(events) : null });
    }
  }

  /**
   * One transaction for a batch: on SQLite every commit costs more than the work it commits.
   * Its webhooks are marked in one statement and its events published only after the commit; if
   * anything in the batch fails, the batch is rolled back and its webhooks are processed one by
   * one, so one bad webhook fails alone.
   */
  async #processBatch(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outcomes = await this.#deps.store.transaction(async () => {
          const all: ProcessOutcome[] = [];
          for (const item of batch)
            all.push(
              await processWebhook(this.#deps, item.webhook, item.events, {
                publish: false,
                mark: false,
              }),
            );
          await this.#markAll(batch, all);
          return all;
        });
        for (const outcome of outcomes)
          for (const e of outcome.events) this.#deps.events.publish(e);
        return;
      } catch (error) {
        // Fall through and find the one that fails (or, on PostgreSQL, retry after a deadlock
        // between lanes); say so, since a batch failing often is a slowdown worth seeing.
        this.#deps.log.warn(
          { err: error, webhooks: batch.length },
          'webhook batch rolled back; processing its webhooks one by one',
        );
      }
    }
    for (const item of batch) {
      try {
        await processWebhook(this.#deps, item.webhook, item.events);
      } catch (error) {
        this.#deps.log.error(
          { err: error, webhookId: item.webhook.id },
          'webhook processing failed',
        );
        await this.#deps.store.webhooks.mark(
          item.webhook.id,
          'failed',
          this.#deps.clock.now(),
          (error as Error).message,
        );
      }
    }
  }

  /** One statement per distinct outcome (almost always one: all processed). */
  async #markAll(batch: Pending[], outcomes: ProcessOutcome[]): Promise<void> {
    const groups = new Map<
      string,
      { state: ProcessOutcome['state']; note: string | null; ids: string[] }
    >();
    outcomes.forEach((o, i) => {
      const key = `${o.state}\n${o.note ?? ''}`;
      const group = groups.get(key) ?? { state: o.state, note: o.note, ids: [] };
      group.ids.push((batch[i] as Pending).webhook.id);
      groups.set(key, group);
    });
    const at = this.#deps.clock.now();
    for (const g of groups.values())
      await this.#deps.store.webhooks.mark(g.ids, g.state, at, g.note);
  }
}
