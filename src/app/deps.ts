// What every use case receives: ports only, wired by container.ts.
import type { Clock } from '../ports/clock.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { Logger } from '../ports/logger.ts';
import type { Provider } from '../ports/provider.ts';
import type { RateLimiter } from '../ports/rate-limiter.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import type { Connection, Store } from '../ports/store.ts';
import type { SecretBox } from './secrets.ts';
import type { Lookups } from './lookups.ts';
import { DEFAULT_DISPATCH_MARGIN } from '../core/care-window.ts';
import { DAY } from '../core/time.ts';

/** Builds (and caches) a ready Provider for a stored connection. */
export interface ProviderRegistry {
  forConnection(connection: Connection): Provider;
  /** Forgets a cached provider after its connection changed. */
  evict(connectionId: string): void;
}

export interface PolicySettings {
  /** CSW-4 safety margin before the window closes. */
  readonly dispatchMarginMs: number;
  /** LIM-7: how long an Idempotency-Key answers with the first result. */
  readonly idempotencyTtlMs: number;
  /** Retryable failures are retried this many times before the message fails. */
  readonly maxAttempts: number;
}

export const DEFAULT_POLICY: PolicySettings = {
  dispatchMarginMs: DEFAULT_DISPATCH_MARGIN,
  idempotencyTtlMs: DAY,
  maxAttempts: 8,
};

export interface AppDeps {
  readonly store: Store;
  readonly secretBox: SecretBox;
  /** How providers reach this deployment (webhook URLs shown to users). */
  readonly publicUrl: string;
  readonly clock: Clock;
  readonly events: EventBus;
  readonly providers: ProviderRegistry;
  readonly log: Logger;
  readonly policy: PolicySettings;
  /** Cached connection and channel lookups for the webhook hot path. */
  readonly lookups: Lookups;
  /** Parley's own copies of inbound media (local files under PARLEY_DATA_DIR/media by default). */
  readonly blobs: BlobStore;
  /** LIM-1/LIM-2 token buckets: in this process, or in Redis shared by every node. */
  readonly limits: RateLimiter;
  /**
   * Where outbound jobs are claimed and settled: the store's own queue (`store.jobs`), or with
   * Redis the queue every node shares (BullMQ), fed by the outbound relay. Enqueueing always goes
   * to the store in the message's transaction.
   */
  readonly outboundQueue: JobQueue;
}
