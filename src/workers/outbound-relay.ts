// The outbound relay (several nodes): moves due outbound jobs from the store's queue, where they
// were enqueued in the message's own transaction, to the shared queue (BullMQ on Redis) in batches.
// Crash safety: a job is added under its local id before it is completed locally, so a crash in
// between re-adds it idempotently. A periodic sweep re-offers the jobs of sends still waiting after
// a while, so a Redis that lost its data loses no send; see docs/scaling.md.
import type { EnqueueItem, Job, JobQueue } from '../ports/job-queue.ts';
import type { AppDeps } from '../app/deps.ts';
import { IN_FLIGHT_GRACE_MS, type OutboundJob } from '../app/deliver-outbound.ts';
import type { MessageRecord } from '../ports/store.ts';
import { OUTBOUND_QUEUE } from '../app/send-message.ts';
import { LoopWorker } from './worker-loop.ts';

export interface OutboundRelayOptions {
  readonly worker: string;
  /** Jobs moved per pass (one claim, one bulk add, one complete each). */
  readonly batch?: number;
  /** The local lease: a relay that dies mid-batch has its jobs relayed by another after this. */
  readonly leaseMs?: number;
  /** Longest sleep when nothing is due (other nodes may enqueue). */
  readonly idleMs?: number;
  /** Told after each pass that moved jobs (the local dispatcher claims them now). */
  readonly onRelayed?: () => void;
  /** How often the sweep runs, and how old a waiting send must be for it to be re-offered. */
  readonly sweepEveryMs?: number;
  readonly sweepAfterMs?: number;
}

/** Messages re-offered per page of the sweep. */
const SWEEP_PAGE = 500;

export class OutboundRelay extends LoopWorker {
  readonly #deps: AppDeps;
  readonly #target: JobQueue;
  readonly #worker: string;
  readonly #batch: number;
  readonly #leaseMs: number;
  readonly #idleMs: number;
  readonly #onRelayed: () => void;
  readonly #sweepEveryMs: number;
  readonly #sweepAfterMs: number;
  #lastSweep: number;

  constructor(deps: AppDeps, options: OutboundRelayOptions) {
    super('outbound relay', deps.log, options.idleMs ?? 1_000);
    this.#deps = deps;
    this.#target = deps.outboundQueue;
    if (this.#target === deps.store.jobs)
      throw new Error('the outbound relay needs a shared queue apart from the store');
    this.#worker = options.worker;
    this.#batch = options.batch ?? 500;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#idleMs = options.idleMs ?? 1_000;
    this.#onRelayed = options.onRelayed ?? (() => undefined);
    this.#sweepEveryMs = options.sweepEveryMs ?? 5 * 60_000;
    this.#sweepAfterMs = options.sweepAfterMs ?? 10 * 60_000;
    this.#lastSweep = deps.clock.now();
  }

  /** One pass: relays up to a batch of due jobs; returns how many. */
  async runOnce(): Promise<number> {
    const { store, clock } = this.#deps;
    const jobs = await store.jobs.claim<OutboundJob>(OUTBOUND_QUEUE, {
      now: clock.now(),
      limit: this.#batch,
      leaseMs: this.#leaseMs,
      worker: this.#worker,
    });
    if (jobs.length === 0) return 0;
    await this.#add(jobs);
    // Only now: until here a crash leaves the local job to be relayed again, under the same id.
    await Promise.all(jobs.map((job) => store.jobs.complete(job.id)));
    this.#onRelayed();
    return jobs.length;
  }

  /**
   * Re-offers to the shared queue, under their own ids (no-ops where the job is there), the jobs
   * of sends that should have gone out by now: those never dispatched, and those dispatched but
   * unconfirmed long past any live send (the dispatcher then flags them for review). A message
   * waiting in the queue always has a job (it is enqueued with it), so only lost jobs come back.
   * Returns how many were offered.
   */
  async sweepOnce(): Promise<number> {
    const { store, clock } = this.#deps;
    const now = clock.now();
    this.#lastSweep = now;
    const before = now - this.#sweepAfterMs;
    let offered = 0;
    const offer = async (messages: readonly MessageRecord[]) => {
      await this.#add(
        messages.map((m) => ({
          id: m.id,
          key: m.channelId,
          runAt: now,
          payload: { messageId: m.id, contactId: m.contactId },
        })),
      );
      offered += messages.length;
    };
    let afterId: string | null = null;
    for (;;) {
      const page = await store.messages.listUndispatched(before, afterId, SWEEP_PAGE);
      if (page.length > 0) await offer(page);
      if (page.length < SWEEP_PAGE) break;
      afterId = page.at(-1)?.id ?? null;
    }
    await offer(
      await store.messages.listDispatchedUnconfirmed(
        Math.min(before, now - IN_FLIGHT_GRACE_MS),
        SWEEP_PAGE,
      ),
    );
    return offered;
  }

  async #add(
    jobs: readonly Pick<Job<OutboundJob>, 'id' | 'key' | 'runAt' | 'payload'>[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    const items: EnqueueItem[] = jobs.map((job) => ({
      payload: job.payload,
      options: { id: job.id, key: job.key, runAt: job.runAt },
    }));
    if (this.#target.enqueueMany) {
      await this.#target.enqueueMany(OUTBOUND_QUEUE, items);
      return;
    }
    for (const item of items)
      await this.#target.enqueue(OUTBOUND_QUEUE, item.payload, item.options);
  }

  protected async pass(): Promise<number> {
    if (this.#deps.clock.now() - this.#lastSweep >= this.#sweepEveryMs) await this.sweepOnce();
    const moved = await this.runOnce();
    if (moved === this.#batch) return 0;
    const next = await this.#deps.store.jobs.nextRunAt(OUTBOUND_QUEUE);
    const wait =
      next === null
        ? this.#idleMs
        : Math.min(this.#idleMs, Math.max(0, next - this.#deps.clock.now()));
    // Due jobs none of which we could claim are another relay's: do not spin on them.
    return moved === 0 ? Math.max(wait, 25) : wait;
  }
}
