// The job queue port: durable, leased jobs grouped by key (e.g. one key per channel for pacing).
// The local implementation lives in the store's database; BullMQ on Redis implements it at scale.

export interface Job<P = unknown> {
  readonly id: string;
  readonly queue: string;
  /** Groups jobs (the outbound queue uses the channel id). */
  readonly key: string;
  readonly payload: P;
  /** How many times the job was claimed before this claim. */
  readonly attempts: number;
  readonly runAt: number;
  readonly lastError: string | null;
}

export interface EnqueueOptions {
  /** A caller-chosen id makes enqueueing idempotent: enqueueing it again is a no-op. */
  readonly id?: string;
  readonly key?: string;
  readonly runAt: number;
}

export interface EnqueueItem {
  readonly payload: unknown;
  readonly options: EnqueueOptions;
}

export interface ClaimOptions {
  readonly now: number;
  readonly limit: number;
  /** The job is leased to this worker until now + leaseMs; an expired lease makes it claimable again. */
  readonly leaseMs: number;
  readonly worker: string;
  /** Only jobs of these keys (e.g. channels with tokens to spend). */
  readonly keys?: readonly string[];
}

export interface JobQueue {
  enqueue(queue: string, payload: unknown, options: EnqueueOptions): Promise<string>;
  /** Enqueues many at once (one round trip where the backend can); ids in the items' order. */
  enqueueMany?(queue: string, items: readonly EnqueueItem[]): Promise<string[]>;
  /** Leases up to `limit` due jobs, oldest runAt first. */
  claim<P>(queue: string, options: ClaimOptions): Promise<Job<P>[]>;
  /** Done: the job is removed. */
  complete(id: string): Promise<void>;
  /** Back to the queue at `runAt` without counting an attempt (pacing, not failure). */
  release(id: string, runAt: number): Promise<void>;
  /** Back to the queue at `runAt`, with the error kept. */
  retry(id: string, runAt: number, error: string): Promise<void>;
  /** Gives up: the job is kept as dead with its error. */
  fail(id: string, error: string): Promise<void>;
  /** Jobs waiting or leased (not dead). */
  size(queue: string): Promise<number>;
  /** Earliest runAt among waiting jobs of the queue, for the worker's sleep. */
  nextRunAt(queue: string): Promise<number | null>;
}
