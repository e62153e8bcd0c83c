// The JobQueue contract on BullMQ (Redis), on the wall clock: BullMQ's scripts read the server's
// time and leases are Redis TTLs, so the suite waits for real in short units.
import { after } from 'node:test';
import {
  createBullmqJobQueue,
  type BullmqJobQueue,
} from '../src/adapters/queue/bullmq/bullmq-job-queue.ts';
import { runQueueContract } from './contracts/queue-contract.ts';
import { requireServerOrSkip } from './helpers/databases.ts';
import { connectRedis, dropPrefix, redisAvailable, uniquePrefix } from './helpers/redis.ts';

const skip = requireServerOrSkip(await redisAvailable(), 'Redis');

/** Expired leases come back within this long: the suite's wall unit is 200 ms. */
const STALLED_CHECK_MS = 20;

function open(prefix: string): { queue: BullmqJobQueue; close: () => Promise<void> } {
  const connection = connectRedis();
  const queue = createBullmqJobQueue(connection, { prefix, stalledCheckMs: STALLED_CHECK_MS });
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

if (skip) {
  const { it } = await import('node:test');
  it('JobQueue contract: BullMQ on Redis', { skip }, () => undefined);
} else {
  const prefixes: string[] = [];
  after(async () => {
    for (const prefix of prefixes) await dropPrefix(prefix);
  });
  runQueueContract(
    'BullMQ on Redis',
    () => {
      const prefix = uniquePrefix('bullmq');
      prefixes.push(prefix);
      const main = open(prefix);
      return Promise.resolve({
        queue: main.queue,
        cleanup: main.close,
        openAnother: () => Promise.resolve(open(prefix)),
      });
    },
    { time: 'wall' },
  );
}
