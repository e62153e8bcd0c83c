// The event webhook worker: delivery passes whenever deliveries are due, sleeping until the next
// one (or a wake-up when new events are recorded), the window-event scan every half minute and
// the removal of events older than the retention period once an hour.
import type { AppDeps } from '../app/deps.ts';
import type { EventWebhooks } from '../app/event-webhooks.ts';
import { emitWindowEvents } from '../app/window-events.ts';
import { LoopWorker } from './worker-loop.ts';

export interface EventDelivererOptions {
  readonly worker: string;
  /** window.closing lead time. */
  readonly windowClosingLeadMs: number;
  /** Deliveries leased per pass. */
  readonly batch?: number;
  /** Longest sleep when nothing is due (other nodes may record events). */
  readonly idleMs?: number;
  /** How often the care windows are scanned. */
  readonly windowScanMs?: number;
  /** Events recorded longer ago than this, with no delivery pending, are removed. */
  readonly retentionMs?: number;
}

const PURGE_EVERY_MS = 60 * 60_000;
const PURGE_BATCH = 5_000;
/** The repair sweep for deliveries left waiting by a concurrent finish (see wakeWaiting). */
const WAKE_WAITING_EVERY_MS = 5 * 60_000;

export class EventDeliverer extends LoopWorker {
  readonly #deps: AppDeps;
  readonly #webhooks: EventWebhooks;
  readonly #options: Required<EventDelivererOptions>;
  #lastWindowScan = -Infinity;
  #lastPurge = -Infinity;
  #lastWake = -Infinity;

  constructor(deps: AppDeps, webhooks: EventWebhooks, options: EventDelivererOptions) {
    super('event webhook', deps.log, options.idleMs ?? 1_000);
    this.#deps = deps;
    this.#webhooks = webhooks;
    this.#options = {
      batch: 100,
      idleMs: 1_000,
      windowScanMs: 30_000,
      retentionMs: 30 * 86_400_000,
      ...options,
    };
  }

  /** One delivery pass; returns how many deliveries were tried. Tests drive the worker with it. */
  runOnce(): Promise<number> {
    return this.#webhooks.deliverDue(this.#options.worker, this.#options.batch);
  }

  /** Passes until nothing is due at the clock's current time. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const tried = await this.runOnce();
      total += tried;
      if (tried === 0) return total;
    }
  }

  /** One window-event scan at the clock's current time; returns how many events it emitted. */
  scanWindows(): Promise<number> {
    return emitWindowEvents(this.#deps, this.#options.windowClosingLeadMs);
  }

  /** Removes events past the retention period (a bounded batch per call); returns how many. */
  async purgeExpired(): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.#deps.store.eventWebhooks.events.purge(
        this.#deps.clock.now() - this.#options.retentionMs,
        PURGE_BATCH,
      );
      removed += batch;
      if (batch < PURGE_BATCH) return removed;
    }
  }

  protected async pass(): Promise<number> {
    const now = this.#deps.clock.now();
    if (now - this.#lastWindowScan >= this.#options.windowScanMs) {
      this.#lastWindowScan = now;
      await this.scanWindows();
    }
    if (now - this.#lastWake >= WAKE_WAITING_EVERY_MS) {
      this.#lastWake = now;
      await this.#deps.store.eventWebhooks.deliveries.wakeWaiting(now);
    }
    if (now - this.#lastPurge >= PURGE_EVERY_MS) {
      this.#lastPurge = now;
      await this.purgeExpired();
    }
    const tried = await this.runOnce();
    if (tried > 0) return 0;
    const due = await this.#webhooks.nextDueAt();
    return Math.max(
      5,
      Math.min(this.#options.idleMs, due === null ? Infinity : due - this.#deps.clock.now()),
    );
  }
}
