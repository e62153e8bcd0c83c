// The pacing buckets in Redis pass the RateLimiter contract, also as three nodes with their own
// connections sharing the buckets.
import { describe } from 'node:test';
import { createRedisRateLimiter } from '../src/adapters/limits/redis-rate-limiter.ts';
import { runRateLimiterContract } from './contracts/rate-limiter-contract.ts';
import { requireServerOrSkip } from './helpers/databases.ts';
import { connectRedis, dropPrefix, redisAvailable, uniquePrefix } from './helpers/redis.ts';

const skip = requireServerOrSkip(await redisAvailable(), 'Redis');

describe('Redis rate limiter', { skip }, () => {
  runRateLimiterContract('Redis (Lua token buckets)', (nodes) => {
    const prefix = uniquePrefix('limits');
    const clients = Array.from({ length: nodes }, () => connectRedis());
    const limiters = clients.map((client) => createRedisRateLimiter(client, { prefix }));
    return Promise.resolve({
      limiters,
      cleanup: async () => {
        for (const client of clients) client.disconnect();
        await dropPrefix(prefix);
      },
    });
  });
});
