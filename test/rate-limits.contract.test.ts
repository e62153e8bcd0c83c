// The pacing buckets in process memory pass the RateLimiter contract.
import { createInProcessRateLimiter } from '../src/adapters/limits/in-process-rate-limiter.ts';
import type { RateLimiter } from '../src/ports/rate-limiter.ts';
import { runRateLimiterContract } from './contracts/rate-limiter-contract.ts';

runRateLimiterContract('in process', (nodes) => {
  // Nodes in one process share one limiter: that is what in-process pacing can promise.
  const shared = createInProcessRateLimiter();
  const limiters: RateLimiter[] = Array.from({ length: nodes }, () => shared);
  return Promise.resolve({ limiters, cleanup: () => shared.close() });
});
