// The pacing port: token buckets for a channel's throughput (LIM-1) and its (channel, contact)
// pairs (LIM-2), kept in process memory for one node or in Redis so that every node shares them.
import type { AdmitResult, BucketRule } from '../core/rate-limit.ts';

export interface AdmitRequest {
  readonly channelId: string;
  /** The channel's bucket (from its configured throughput tier). */
  readonly rule: BucketRule;
  /** The contact of each job offered, in lane order; one admission comes back per entry. */
  readonly contactIds: readonly string[];
  readonly now: number;
}

export interface RateLimiter {
  /**
   * Atomically admits the offered jobs in order (core `admitBatch`): a job goes only when both
   * its channel and its pair have a token, and every node sees the tokens it spent.
   */
  admit(request: AdmitRequest): Promise<AdmitResult>;
  /** Empties the channel's bucket until `until` (the provider answered 429 with Retry-After). */
  pause(channelId: string, until: number): Promise<void>;
  close(): Promise<void>;
}
