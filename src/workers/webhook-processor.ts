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
  #backlog: Pending[] = [];
  /** Webhooks left in the store because the in-memory backlog was full: sweep them. */
  #overflowed = true;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(deps: AppDeps, options: { maxBacklog?: number } = {}) {
    this.#deps = deps;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
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
    for (;;) {
      if (this.#stopped) return;
      let next = this.#backlog.shift();
      if (!next && this.#overflowed) {
        this.#overflowed = false;
        const pending = await this.#deps.store.webhooks.listPending(500);
        if (pending.length === 500) this.#overflowed = true;
        const queued = new Set(this.#backlog.map((p) => p.webhook.id));
        this.#backlog.push(
          ...pending.filter((w) => !queued.has(w.id)).map((webhook) => ({ webhook })),
        );
        next = this.#backlog.shift();
      }
      if (!next) return;
      try {
        await processWebhook(this.#deps, next.webhook, next.events);
      } catch (error) {
        this.#deps.log.error(
          { err: error, webhookId: next.webhook.id },
          'webhook processing failed',
        );
        await this.#deps.store.webhooks.mark(
          next.webhook.id,
          'failed',
          this.#deps.clock.now(),
          (error as Error).message,
        );
      }
    }
  }
}
