// The outbound dispatcher: claims queued messages and hands them to providers, each channel paced
// by its token bucket (LIM-1) and each (channel, contact) pair by the pair bucket (LIM-2). The
// buckets live behind the RateLimiter port, so with Redis every node spends from the same ones.
// Jobs come from `deps.outboundQueue` (the store's queue, or BullMQ shared by every node) and wait
// in per-channel lanes while they hold a lease; stop() drains in-flight sends and returns waiting
// jobs to the queue.
import { channelBucket, type BucketRule } from '../core/rate-limit.ts';
import type { Job } from '../ports/job-queue.ts';
import { deliverOutbound, type OutboundJob } from '../app/deliver-outbound.ts';
import type { AppDeps } from '../app/deps.ts';
import { OUTBOUND_QUEUE } from '../app/send-message.ts';
import { LoopWorker } from './worker-loop.ts';

export interface DispatcherOptions {
  readonly worker: string;
  /** Jobs held in lanes at most (bounds memory and leases). */
  readonly maxHeld?: number;
  readonly maxInFlight?: number;
  readonly leaseMs?: number;
  /** Longest sleep when the queue looks empty (other nodes may enqueue). */
  readonly idleMs?: number;
}

interface Lane {
  rule: BucketRule;
  /** This node's copy of a pause (429); the shared bucket is paused too, for the other nodes. */
  pausedUntil: number;
  /** When the shared channel bucket said its next token is due: no need to ask before. */
  readyAt: number;
  jobs: Job<OutboundJob>[];
}

/** Shortest time between two claims while lanes still hold jobs. */
const CLAIM_INTERVAL_MS = 25;

/** Jobs offered to the pacer per lane and pass: a bucket holds about one token, plus deferrals. */
const OFFER_PER_LANE = 64;

export class OutboundDispatcher extends LoopWorker {
  readonly #deps: AppDeps;
  readonly #worker: string;
  readonly #maxHeld: number;
  readonly #maxInFlight: number;
  readonly #leaseMs: number;
  readonly #idleMs: number;
  readonly #lanes = new Map<string, Lane>();
  readonly #inFlight = new Set<Promise<void>>();
  /** When each held job was claimed: one held too close to its lease's end goes back instead. */
  readonly #claimedAt = new WeakMap<Job<OutboundJob>, number>();
  #held = 0;
  #lastClaimAt = -Infinity;
  /**
   * Messages a campaign cancel withdrew (announced from any node), with when we heard: their
   * jobs are dropped before they meet a bucket, so they spend no LIM-1 token. Kept for a lease,
   * for jobs claimed after the announcement (with BullMQ, jobs the cancel could not delete).
   */
  readonly #withdrawn = new Map<string, number>();
  #withdrawnSince = false;

  constructor(deps: AppDeps, options: DispatcherOptions) {
    super('outbound dispatcher', deps.log, options.idleMs ?? 1_000);
    this.#deps = deps;
    this.#worker = options.worker;
    this.#maxHeld = options.maxHeld ?? 5_000;
    this.#maxInFlight = options.maxInFlight ?? 256;
    this.#leaseMs = options.leaseMs ?? 5 * 60_000;
    this.#idleMs = options.idleMs ?? 1_000;
    deps.events.subscribe((event) => {
      const messageId = event.data.messageId;
      if (event.type !== 'message.failed' || event.data.withdrawn !== true) return;
      if (typeof messageId !== 'string') return;
      this.#withdrawn.set(messageId, deps.clock.now());
      this.#withdrawnSince = true;
      this.wake();
    });
  }

  /** Graceful stop: no new claims, in-flight sends finish, waiting jobs go back to the queue. */
  override async stop(): Promise<void> {
    await super.stop();
    await Promise.all(this.#inFlight);
    const now = this.#deps.clock.now();
    for (const lane of this.#lanes.values()) {
      for (const job of lane.jobs.splice(0)) await this.#deps.outboundQueue.release(job.id, now);
    }
    this.#held = 0;
  }

  /**
   * One pass: claims due jobs and dispatches every one its buckets allow now, awaiting the sends.
   * Returns how many were handed to providers. Tests drive the dispatcher with this and a manual clock.
   */
  async runOnce(): Promise<number> {
    await this.#claim();
    const started = await this.#dispatchAllowed();
    await Promise.all(this.#inFlight);
    return started.count;
  }

  get held(): number {
    return this.#held;
  }

  protected async pass(): Promise<number> {
    // While lanes hold work, claim in batches every few milliseconds rather than on every
    // pass: a busy channel wakes the loop once per token, and each claim is a query.
    const started = this.#deps.clock.now();
    if (this.#held === 0 || started - this.#lastClaimAt >= CLAIM_INTERVAL_MS) {
      this.#lastClaimAt = started;
      await this.#claim();
    }
    const { nextAt } = await this.#dispatchAllowed();
    const now = this.#deps.clock.now();
    const queued =
      this.#held > 0
        ? nextAt
        : ((await this.#deps.outboundQueue.nextRunAt(OUTBOUND_QUEUE)) ?? Infinity);
    const delay = Math.max(
      0,
      Math.min(this.#idleMs, (Number.isFinite(queued) ? queued : Infinity) - now),
    );
    return delay > 0 || this.#inFlight.size >= this.#maxInFlight ? delay || 5 : 0;
  }

  async #claim(): Promise<void> {
    const room = this.#maxHeld - this.#held;
    if (room <= 0) return;
    const jobs = await this.#deps.outboundQueue.claim<OutboundJob>(OUTBOUND_QUEUE, {
      now: this.#deps.clock.now(),
      limit: Math.min(room, 1_000),
      leaseMs: this.#leaseMs,
      worker: this.#worker,
    });
    const claimedAt = this.#deps.clock.now();
    for (const job of jobs) {
      if (this.#withdrawn.has(job.payload.messageId)) {
        this.#track(this.#deps.outboundQueue.complete(job.id));
        continue;
      }
      this.#claimedAt.set(job, claimedAt);
      const lane = await this.#lane(job.key);
      lane.jobs.push(job);
      this.#held++;
    }
  }

  async #lane(channelId: string): Promise<Lane> {
    let lane = this.#lanes.get(channelId);
    if (!lane) {
      const channel = await this.#deps.store.channels.get(channelId);
      const rule = channelBucket(channel?.throughputMps ?? 80);
      lane = { rule, pausedUntil: 0, readyAt: 0, jobs: [] };
      this.#lanes.set(channelId, lane);
    }
    return lane;
  }

  /** Hands out every job whose channel and pair buckets have a token now. */
  async #dispatchAllowed(): Promise<{ count: number; nextAt: number }> {
    const now = this.#deps.clock.now();
    let count = 0;
    let nextAt = Infinity;
    if (this.#withdrawnSince) this.#dropWithdrawn(now);
    for (const [channelId, lane] of this.#lanes) {
      this.#returnStale(lane, now);
      if (lane.jobs.length === 0) continue;
      const waitUntil = Math.max(lane.pausedUntil, lane.readyAt);
      if (waitUntil > now) {
        nextAt = Math.min(nextAt, waitUntil);
        continue;
      }
      const room = this.#maxInFlight - this.#inFlight.size;
      if (room <= 0) break;
      const offered = lane.jobs.slice(0, Math.min(room, OFFER_PER_LANE));
      const { admissions, channelReadyAt } = await this.#deps.limits.admit({
        channelId,
        rule: lane.rule,
        contactIds: offered.map((job) => job.payload.contactId),
        now,
      });
      const waiting: Job<OutboundJob>[] = [];
      admissions.forEach((admission, i) => {
        const job = offered[i] as Job<OutboundJob>;
        if (admission.kind === 'wait') {
          waiting.push(job);
          return;
        }
        this.#held--;
        if (admission.kind === 'pair') {
          // LIM-2: this contact has had its burst; other contacts on the channel go on.
          this.#track(this.#deps.outboundQueue.release(job.id, admission.retryAt));
          return;
        }
        count++;
        this.#track(this.#deliver(job, lane));
      });
      lane.jobs = waiting.concat(lane.jobs.slice(offered.length));
      lane.readyAt = channelReadyAt ?? 0;
      if (lane.jobs.length > 0) nextAt = Math.min(nextAt, channelReadyAt ?? now);
    }
    return { count, nextAt };
  }

  /** Drops the held jobs of withdrawn messages (their sends are no-ops) and forgets old ids. */
  #dropWithdrawn(now: number): void {
    this.#withdrawnSince = false;
    for (const lane of this.#lanes.values()) {
      if (!lane.jobs.some((job) => this.#withdrawn.has(job.payload.messageId))) continue;
      lane.jobs = lane.jobs.filter((job) => {
        if (!this.#withdrawn.has(job.payload.messageId)) return true;
        this.#held--;
        this.#track(this.#deps.outboundQueue.complete(job.id));
        return false;
      });
    }
    const forgetBefore = now - this.#leaseMs;
    for (const [id, at] of this.#withdrawn) if (at < forgetBefore) this.#withdrawn.delete(id);
  }

  /**
   * A job held for most of its lease goes back to the queue: past the lease another node may
   * claim it, and though the dispatch compare-and-set keeps that from sending twice, the loser
   * could take the winner's send for a crashed one and flag it for review.
   */
  #returnStale(lane: Lane, now: number): void {
    const staleBefore = now - this.#leaseMs * 0.8;
    const oldest = lane.jobs[0];
    if (!oldest || (this.#claimedAt.get(oldest) ?? now) > staleBefore) return;
    const fresh: Job<OutboundJob>[] = [];
    for (const job of lane.jobs) {
      if ((this.#claimedAt.get(job) ?? now) > staleBefore) fresh.push(job);
      else {
        this.#held--;
        this.#track(this.#deps.outboundQueue.release(job.id, now));
      }
    }
    lane.jobs = fresh;
  }

  async #deliver(job: Job<OutboundJob>, lane: Lane): Promise<void> {
    try {
      const result = await deliverOutbound(this.#deps, job);
      if (result.kind === 'retry' && result.paceChannelUntil !== undefined) {
        lane.pausedUntil = result.paceChannelUntil;
        await this.#deps.limits.pause(job.key, result.paceChannelUntil);
      }
    } catch (error) {
      // The lease expires and the job is claimed again; deliverOutbound then sees dispatchedAt.
      this.#deps.log.error({ err: error, jobId: job.id }, 'outbound delivery failed unexpectedly');
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work.finally(() => {
      this.#inFlight.delete(tracked);
      this.wake();
    });
    this.#inFlight.add(tracked);
  }
}
