// Processes stored webhooks after they were acknowledged. Fresh ones arrive in memory with their
// parsed events; anything left behind (a crash, a full backlog) is picked up from the store.
import type { InboundEvent } from '../core/inbound.ts';
import type { WebhookRecord } from '../ports/store.ts';
import { processWebhook } from '../app/receive-webhook.ts';
import type { AppDeps } from '../app/deps.ts';

interface Pending {
  readonly webhook: WebhookRecord;
  readonly events?: InboundEvent[];
}

export class WebhookProcessor {
  readonly #deps: AppDeps;
  readonly #maxBacklog: number;
  readonly #batchSize: number;
  #backlog: Pending[] = [];
  /** Webhooks left in the store because the in-memory backlog was full: sweep them. */
  #overflowed = true;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(deps: AppDeps, options: { maxBacklog?: number; batchSize?: number } = {}) {
    this.#deps = deps;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
    this.#batchSize = options.batchSize ?? 50;
  }

  /** Hands over a freshly stored webhook; processing starts at once without blocking the caller. */
  submit(webhook: WebhookRecord, events?: InboundEvent[]): void {
    if (this.#stopped) return;
    if (this.#backlog.length >= this.#maxBacklog) this.#overflowed = true;
    else this.#backlog.push({ webhook, events });
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
      const batch = this.#backlog.splice(0, this.#batchSize);
      if (batch.length === 0) return;
      await this.#processBatch(batch);
    }
  }

  async #refill(): Promise<void> {
    this.#overflowed = false;
    const pending = await this.#deps.store.webhooks.listPending(500);
    if (pending.length === 500) this.#overflowed = true;
    const queued = new Set(this.#backlog.map((p) => p.webhook.id));
    this.#backlog.push(...pending.filter((w) => !queued.has(w.id)).map((webhook) => ({ webhook })));
  }

  /**
   * One transaction for a batch: on SQLite every commit costs more than the work it commits.
   * Events are published only after the commit; if anything in the batch fails, the batch is
   * rolled back and its webhooks are processed one by one, so one bad webhook fails alone.
   */
  async #processBatch(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outcomes = await this.#deps.store.transaction(async () => {
          const all = [];
          for (const item of batch)
            all.push(await processWebhook(this.#deps, item.webhook, item.events, false));
          return all;
        });
        for (const outcome of outcomes)
          for (const e of outcome.events) this.#deps.events.publish(e);
        return;
      } catch {
        // fall through: find the one that fails
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
}
