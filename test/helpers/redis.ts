// Test Redis: the server named by PARLEY_TEST_REDIS_URL (default local), a unique key prefix per
// test so parallel runs never collide, and cleanup of that prefix.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export function testRedisUrl(): string {
  return process.env.PARLEY_TEST_REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
}

let available: Promise<boolean> | undefined;

export function redisAvailable(): Promise<boolean> {
  available ??= (async () => {
    const client = new Redis(testRedisUrl(), {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  })();
  return available;
}

/** A key prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `parley-test:${label}:${Date.now().toString(36)}${randomBytes(3).toString('hex')}:`;
}

export function connectRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 3 });
}

/** Deletes every key under the prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const client = connectRedis();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
