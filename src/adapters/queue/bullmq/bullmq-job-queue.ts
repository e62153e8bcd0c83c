// The JobQueue port on BullMQ (Redis), shared by every node: one BullMQ queue per (queue, key).
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type {
  ClaimOptions,
  EnqueueItem,
  EnqueueOptions,
  Job,
  JobQueue,
} from '../../../ports/job-queue.ts';

export interface BullmqJobQueueOptions {
  /** Redis key prefix (PARLEY_REDIS_PREFIX); BullMQ's keys live under `<prefix>bullmq:`. */
  readonly prefix: string;
  /**
   * How often each queue looks for expired leases (BullMQ's stalled-job check). An expired lease
   * becomes claimable at most this long after it ran out.
   */
  readonly stalledCheckMs?: number;
}

export interface BullmqJobQueue extends JobQueue {
  enqueueMany(queue: string, items: readonly EnqueueItem[]): Promise<string[]>;
  /** Closes BullMQ's queues and workers (their duplicated connections); not the given one. */
  close(): Promise<void>;
}

/** What BullMQ stores as the job's data: the port's fields BullMQ has no place for. */
interface Envelope {
  readonly id: string;
  readonly queue: string;
  readonly key: string;
  readonly payload: unknown;
  readonly runAt: number;
  /** Retries so far; lost leases are BullMQ's stalled counter. */
  readonly retries: number;
  readonly lastError: string | null;
}

interface Lane {
  readonly queue: Queue<Envelope>;
  worker: Worker<Envelope> | null;
  lockDuration: number;
}

interface Lease {
  readonly lane: Lane;
  readonly job: BullJob<Envelope>;
  readonly token: string;
}

/** BullMQ forbids ':' in queue names and job ids, and integer job ids. */
const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const jobIdOf = (id: string): string => `j${encode(id)}`;

/** Jobs taken from one BullMQ queue at once (each is one moveToActive script). */
const TAKE_CHUNK = 64;

/** A waiting or delayed job to dead, for a job not leased (BullMQ fails only active jobs). */
const FAIL_WAITING = `
if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
local removed = redis.call('LREM', KEYS[1], 0, ARGV[1]) + redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 0 then return -1 end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[4], 'failedReason', ARGV[2], 'finishedOn', ARGV[3])
return 1`;

export function createBullmqJobQueue(
  connection: Redis,
  options: BullmqJobQueueOptions,
): BullmqJobQueue {
  const bullPrefix = `${options.prefix}bullmq`;
  const stalledInterval = Math.max(1, options.stalledCheckMs ?? 1_000);
  const lanes = new Map<string, Lane>();
  // BullMQ workers need a connection that retries forever (it duplicates it for blocking reads).
  let workerConnection: Redis | null = null;
  const leases = new Map<string, Lease>();
  /** The keys seen per queue name (a Redis set), so a claim without `keys` visits every lane. */
  const keySet = (queue: string) => `${options.prefix}bullmq-keys:${encode(queue)}`;
  /** Job id → lane name, for complete/fail of a job this process did not lease. */
  const laneIndex = `${options.prefix}bullmq-lanes`;
  let rotation = 0;

  const laneName = (queue: string, key: string) => `${encode(queue)}.${encode(key)}`;

  function lane(name: string): Lane {
    let found = lanes.get(name);
    if (!found) {
      found = {
        // Nobody listens to BullMQ's event stream: keep it short.
        queue: new Queue<Envelope>(name, {
          connection,
          prefix: bullPrefix,
          streams: { events: { maxLen: 100 } },
        }),
        worker: null,
        lockDuration: 0,
      };
      lanes.set(name, found);
    }
    return found;
  }

  function workerOf(l: Lane, leaseMs: number): Worker<Envelope> {
    if (l.worker) return l.worker;
    // Manual processing: no processor, no lock renewal (the lease is the lock's TTL), and a
    // stalled check that returns expired leases to the queue. A lost lease never fails a job.
    workerConnection ??= connection.duplicate({ maxRetriesPerRequest: null });
    const worker = new Worker<Envelope>(l.queue.name, null, {
      connection: workerConnection,
      prefix: bullPrefix,
      autorun: false,
      lockDuration: leaseMs,
      skipLockRenewal: true,
      stalledInterval,
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    worker.on('error', () => undefined); // connection errors surface in the calls that fail
    void worker.startStalledCheckTimer().catch(() => undefined);
    l.worker = worker;
    l.lockDuration = leaseMs;
    return worker;
  }

  function toJob<P>(job: BullJob<Envelope>): Job<P> {
    const data = job.data;
    return {
      id: data.id,
      queue: data.queue,
      key: data.key,
      payload: data.payload as P,
      attempts: data.retries + (job.stalledCounter || 0),
      runAt: data.runAt,
      lastError: data.lastError,
    };
  }

  async function take(l: Lane, count: number, token: string, leaseMs: number) {
    const worker = workerOf(l, leaseMs);
    const taken: BullJob<Envelope>[] = [];
    while (taken.length < count) {
      const n = Math.min(TAKE_CHUNK, count - taken.length);
      const batch = await Promise.all(
        Array.from({ length: n }, () => worker.getNextJob(token, { block: false })),
      );
      const jobs = batch.filter((job): job is BullJob<Envelope> => job !== undefined);
      taken.push(...jobs);
      if (jobs.length < n) break;
    }
    if (taken.length > 0 && leaseMs !== l.lockDuration) {
      // The lock was taken with the worker's lockDuration; this claim asked for another lease.
      await worker.extendJobLocks(
        taken.map((job) => job.id ?? ''),
        taken.map(() => token),
        leaseMs,
      );
    }
    return { lane: l, jobs: taken, exhausted: taken.length < count };
  }

  /** Our lock is gone (the lease expired): the job is back in the queue or in other hands. */
  async function leaseLost(lease: Lease): Promise<boolean> {
    const lock = await connection.get(`${lease.lane.queue.toKey(lease.job.id ?? '')}:lock`);
    return lock !== lease.token;
  }

  async function laneOf(id: string): Promise<Lane | null> {
    const name = await connection.hget(laneIndex, id);
    return name === null ? null : lane(name);
  }

  const bullmq: BullmqJobQueue = {
    async enqueue(queue: string, payload: unknown, options: EnqueueOptions) {
      const [id] = await bullmq.enqueueMany(queue, [{ payload, options }]);
      return id as string;
    },

    async enqueueMany(queue, items) {
      const now = Date.now();
      const byLane = new Map<string, Array<{ name: string; data: Envelope; opts: object }>>();
      const ids: string[] = [];
      const keys = new Set<string>();
      const index: string[] = [];
      for (const { payload, options: o } of items) {
        const id = o.id ?? randomUUID();
        const key = o.key ?? '';
        const name = laneName(queue, key);
        ids.push(id);
        keys.add(key);
        index.push(id, name);
        const data: Envelope = {
          id,
          queue,
          key,
          // A JSON round trip now, so what is claimed equals what a database queue returns.
          payload: JSON.parse(JSON.stringify(payload ?? null)) as unknown,
          runAt: o.runAt,
          retries: 0,
          lastError: null,
        };
        const list = byLane.get(name) ?? [];
        list.push({
          name: 'job',
          data,
          // timestamp + delay = runAt: BullMQ orders delayed jobs by it. An existing jobId
          // (waiting, leased or dead) makes the add a no-op.
          opts: {
            jobId: jobIdOf(id),
            timestamp: now,
            delay: Math.max(0, o.runAt - now),
            removeOnComplete: true,
            removeOnFail: false,
          },
        });
        byLane.set(name, list);
      }
      if (ids.length === 0) return [];
      await connection
        .multi()
        .sadd(keySet(queue), ...keys)
        .hset(laneIndex, ...index)
        .exec();
      await Promise.all([...byLane].map(([name, jobs]) => lane(name).queue.addBulk(jobs)));
      return ids;
    },

    async claim<P>(queue: string, options: ClaimOptions): Promise<Job<P>[]> {
      if (options.keys !== undefined && options.keys.length === 0) return [];
      let remaining = Math.max(0, Math.floor(options.limit));
      if (remaining === 0) return [];
      const keys = options.keys
        ? [...new Set(options.keys)]
        : await connection.smembers(keySet(queue));
      // Start at a different key each time so no key is always served last.
      rotation = (rotation + 1) % Math.max(1, keys.length);
      let open = keys
        .slice(rotation)
        .concat(keys.slice(0, rotation))
        .map((key) => lane(laneName(queue, key)));
      const token = `${options.worker}:${randomUUID()}`;
      const claimed: BullJob<Envelope>[] = [];
      // A fair share per key first, then what is left from the keys that still have jobs.
      while (remaining > 0 && open.length > 0) {
        const visit = open.slice(0, remaining);
        const share = Math.max(1, Math.floor(remaining / visit.length));
        const results = await Promise.all(visit.map((l) => take(l, share, token, options.leaseMs)));
        for (const result of results) {
          claimed.push(...result.jobs);
          remaining -= result.jobs.length;
          for (const job of result.jobs) leases.set(job.data.id, { lane: result.lane, job, token });
        }
        const drained = new Set(results.filter((r) => r.exhausted).map((r) => r.lane));
        open = open.filter((l) => !drained.has(l));
      }
      return claimed
        .map((job) => toJob<P>(job))
        .sort((a, b) => a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    async complete(id) {
      const lease = leases.get(id);
      leases.delete(id);
      if (lease) {
        try {
          await lease.job.moveToCompleted(null, lease.token, false);
          await connection.hdel(laneIndex, id);
          return;
        } catch (error) {
          if (!(await leaseLost(lease))) throw error;
        }
      }
      const l = lease?.lane ?? (await laneOf(id));
      if (!l) return;
      const job = await l.queue.getJob(jobIdOf(id));
      // Leased by another worker since: it finishes the job (the message's dispatch
      // compare-and-set keeps it from sending twice).
      if (job && (await job.getState()) === 'active') return;
      if (job) await job.remove();
      await connection.hdel(laneIndex, id);
    },

    async release(id, runAt) {
      await moveBack(id, runAt, null);
    },

    async retry(id, runAt, error) {
      await moveBack(id, runAt, error);
    },

    async fail(id, error) {
      const lease = leases.get(id);
      leases.delete(id);
      if (lease) {
        try {
          await lease.job.moveToFailed(new Error(error), lease.token, false);
          return;
        } catch (failure) {
          if (!(await leaseLost(lease))) throw failure;
        }
      }
      const l = lease?.lane ?? (await laneOf(id));
      if (!l) return;
      const keys = l.queue.keys;
      await connection.eval(
        FAIL_WAITING,
        4,
        keys.wait ?? '',
        keys.delayed ?? '',
        keys.failed ?? '',
        l.queue.toKey(jobIdOf(id)),
        jobIdOf(id),
        error,
        Date.now(),
      );
    },

    async size(queue) {
      const keys = await connection.smembers(keySet(queue));
      const counts = await Promise.all(
        keys.map((key) =>
          lane(laneName(queue, key)).queue.getJobCountByTypes(
            'wait',
            'delayed',
            'active',
            'prioritized',
          ),
        ),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    },

    async nextRunAt(queue) {
      const keys = await connection.smembers(keySet(queue));
      // The oldest waiting job of each lane: the tail of its wait list and the head of delayed.
      const heads = await Promise.all(
        keys.map(async (key) => {
          const l = lane(laneName(queue, key));
          const [waiting, delayed] = await Promise.all([
            connection.lindex(l.queue.keys.wait ?? '', -1),
            connection.zrange(l.queue.keys.delayed ?? '', 0, 0),
          ]);
          return [waiting, delayed[0]]
            .filter((jobId): jobId is string => typeof jobId === 'string')
            .map((jobId) => connection.hget(l.queue.toKey(jobId), 'data'));
        }),
      );
      let next: number | null = null;
      for (const raw of await Promise.all(heads.flat())) {
        if (raw === null) continue;
        const runAt = (JSON.parse(raw) as Envelope).runAt;
        if (next === null || runAt < next) next = runAt;
      }
      return next;
    },

    async close() {
      const all = [...lanes.values()];
      lanes.clear();
      leases.clear();
      await Promise.all(
        all.flatMap((l) => [l.worker?.close() ?? Promise.resolve(), l.queue.close()]),
      );
      workerConnection?.disconnect();
      workerConnection = null;
    },
  };

  /** release (error null: no attempt counted) and retry: back to the queue at runAt. */
  async function moveBack(id: string, runAt: number, error: string | null): Promise<void> {
    const lease = leases.get(id);
    leases.delete(id);
    if (!lease) return; // not leased here: it is already claimable by whoever holds it next
    // A lease that ran out put the job back already (its stalled count is the attempt); its
    // data is then its next holder's to change.
    if (await leaseLost(lease)) return;
    const data = lease.job.data;
    try {
      await lease.job.updateData({
        ...data,
        runAt,
        ...(error === null ? {} : { retries: data.retries + 1, lastError: error }),
      });
      await lease.job.moveToDelayed(runAt, lease.token);
    } catch (failure) {
      if (!(await leaseLost(lease))) throw failure;
    }
  }

  return bullmq;
}
