// The JobQueue contract: the local store-backed queue and any other backend (BullMQ) pass these cases.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClaimOptions, Job, JobQueue } from '../../src/ports/job-queue.ts';

export interface QueueUnderTest {
  /** A queue on an empty backend. */
  readonly queue: JobQueue;
  /** Closes the queue and removes its data. */
  readonly cleanup: () => Promise<void>;
  /** A second, independently connected queue on the same backend (another worker process). */
  readonly openAnother?: () => Promise<{ queue: JobQueue; close: () => Promise<void> }>;
}

/** Case ids a backend may list in `skip`, each with the reason it cannot support the case. */
export const QUEUE_CASE_IDS = [
  'keys-filter',
  'explicit-id-idempotent',
  'lease-expiry',
  'release',
  'dead-jobs-kept',
  'next-run-at',
  'two-instances',
] as const;
export type QueueCaseId = (typeof QUEUE_CASE_IDS)[number];

export interface QueueContractOptions {
  readonly skip?: Readonly<Partial<Record<QueueCaseId, string>>>;
  /**
   * 'injected' (default): claim() honours the `now` it is given, so the suite jumps in time.
   * 'wall': the backend runs on the wall clock (BullMQ: Lua scripts read the server time, leases
   * are Redis TTLs), so each case starts near Date.now() and really waits, in short units.
   */
  readonly time?: 'injected' | 'wall';
}

/** One case's time base: its start, its unit, and the waits a wall-clock backend needs. */
interface CaseTime {
  readonly T0: number;
  /** A second on an injected clock; a short real interval on the wall clock. */
  readonly SECOND: number;
  /** Returns `now` once the backend's clock has reached it (a real wait on the wall clock). */
  at(now: number): Promise<number>;
  /**
   * A moment past `boundary` for a lease that began at a claim: exact on an injected clock; on
   * the wall clock one unit later, since the lease began when the claim really ran.
   */
  justAfter(boundary: number): number;
}

const INJECTED_T0 = Date.parse('2026-01-15T10:00:00Z');
/** Short enough that the suite takes seconds, long enough for a loaded 2-core machine. */
const WALL_UNIT = 200;

function caseTime(kind: 'injected' | 'wall'): CaseTime {
  if (kind === 'injected')
    return {
      T0: INJECTED_T0,
      SECOND: 1000,
      at: (now) => Promise.resolve(now),
      justAfter: (b) => b,
    };
  const T0 = Date.now();
  return {
    T0,
    SECOND: WALL_UNIT,
    async at(now) {
      // A quarter unit past `now`, so a job due at `now` is due on the server's clock too.
      const wait = now + WALL_UNIT / 4 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return now;
    },
    justAfter: (boundary) => boundary + WALL_UNIT,
  };
}

let sequence = 0;
/** Each case works in its own queue name, so cases sharing a backend cannot see each other. */
function queueName(label: string): string {
  sequence += 1;
  return `${label}-${Date.now().toString(36)}-${sequence}`;
}

/** Leases last a day unless a case says otherwise, so expiry happens only where a case wants it. */
const claimOptions = (now: number, limit = 10, worker = 'worker-a') => ({
  now,
  limit,
  leaseMs: 86_400_000,
  worker,
});

function ids(jobs: readonly Job[]): string[] {
  return jobs.map((job) => job.id);
}

export function runQueueContract(
  name: string,
  makeQueue: () => Promise<QueueUnderTest>,
  options: QueueContractOptions = {},
): void {
  const caseOptions = (id?: QueueCaseId): { skip?: string } => {
    const reason = id === undefined ? undefined : options.skip?.[id];
    return reason === undefined ? {} : { skip: reason };
  };

  describe(`JobQueue contract: ${name}`, () => {
    let subject: QueueUnderTest | undefined;
    before(async () => {
      subject = await makeQueue();
    });
    after(async () => {
      await subject?.cleanup();
    });
    const queue = (): JobQueue => {
      if (!subject) throw new Error('queue not ready');
      return subject.queue;
    };
    const timeBase = options.time ?? 'injected';
    /** Each case takes its own time base when it starts (the wall clock moves on between cases). */
    let time = caseTime(timeBase);
    beforeEach(() => {
      time = caseTime(timeBase);
    });
    /** claim() once the backend's clock has reached `now`. */
    const claimAt = async <P = unknown>(
      q: string,
      now: number,
      overrides: Partial<ClaimOptions> = {},
    ): Promise<Job<P>[]> =>
      queue().claim<P>(q, { ...claimOptions(await time.at(now)), ...overrides });

    it('leases a due job with its payload, key and attempt count', async () => {
      const { T0 } = time;
      const q = queueName('basic');
      const payload = { messageId: 'm-1', text: 'Grüße 👋🏽 你好', nested: [1, null, { ok: true }] };
      const id = await queue().enqueue(q, payload, { key: 'channel-1', runAt: T0 });
      assert.equal(typeof id, 'string');
      const [job, ...rest] = await claimAt<typeof payload>(q, T0);
      assert.deepEqual(rest, []);
      assert.deepEqual(job, {
        id,
        queue: q,
        key: 'channel-1',
        payload,
        attempts: 0,
        runAt: T0,
        lastError: null,
      });
    });

    it('does not lease jobs before their runAt, and leases the oldest runAt first up to the limit', async () => {
      const { T0, SECOND } = time;
      const q = queueName('order');
      const later = await queue().enqueue(q, { n: 3 }, { runAt: T0 + 3 * SECOND });
      const first = await queue().enqueue(q, { n: 1 }, { runAt: T0 + SECOND });
      const second = await queue().enqueue(q, { n: 2 }, { runAt: T0 + 2 * SECOND });
      const future = await queue().enqueue(q, { n: 9 }, { runAt: T0 + 12 * SECOND });
      assert.deepEqual(await claimAt(q, T0), []);
      assert.deepEqual(ids(await claimAt(q, T0 + 10 * SECOND, { limit: 2 })), [first, second]);
      assert.deepEqual(ids(await claimAt(q, T0 + 10 * SECOND, { limit: 5 })), [later]);
      assert.deepEqual(ids(await claimAt(q, T0 + 12 * SECOND)), [future]);
    });

    it('keeps queues apart: a claim or size never sees another queue’s jobs', async () => {
      const { T0 } = time;
      const a = queueName('apart-a');
      const b = queueName('apart-b');
      await queue().enqueue(a, { q: 'a' }, { runAt: T0 });
      const onlyB = await queue().enqueue(b, { q: 'b' }, { runAt: T0 });
      assert.equal(await queue().size(b), 1);
      assert.deepEqual(ids(await claimAt(b, T0)), [onlyB]);
      assert.equal(await queue().size(a), 1);
    });

    it(
      'enqueueing a caller-chosen id again is a no-op, also while the job is leased',
      caseOptions('explicit-id-idempotent'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('idem');
        const id = `send:${q}`;
        assert.equal(await queue().enqueue(q, { v: 1 }, { id, runAt: T0 }), id);
        assert.equal(await queue().enqueue(q, { v: 2 }, { id, runAt: T0 - SECOND }), id);
        assert.equal(await queue().size(q), 1);
        const [job] = await claimAt<{ v: number }>(q, T0);
        assert.deepEqual(job?.payload, { v: 1 });
        await queue().enqueue(q, { v: 3 }, { id, runAt: T0 });
        assert.equal(await queue().size(q), 1);
        assert.deepEqual(await claimAt(q, T0 + SECOND), []);
      },
    );

    it(
      'a leased job is not leased again until its lease expires; then attempts counts the lost claim',
      caseOptions('lease-expiry'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('lease');
        const id = await queue().enqueue(q, {}, { runAt: T0 });
        const [first] = await claimAt(q, T0, { leaseMs: 10 * SECOND });
        assert.equal(first?.attempts, 0);
        assert.deepEqual(await claimAt(q, T0 + 9 * SECOND, { worker: 'worker-b' }), []);
        const [again] = await claimAt(q, time.justAfter(T0 + 10 * SECOND), { worker: 'worker-b' });
        assert.equal(again?.id, id);
        assert.equal(again.attempts, 1);
        assert.equal(await queue().size(q), 1);
      },
    );

    it('complete() removes the job for good', async () => {
      const { T0, SECOND } = time;
      const q = queueName('complete');
      const id = await queue().enqueue(q, {}, { runAt: T0 });
      await claimAt(q, T0, { leaseMs: SECOND });
      await queue().complete(id);
      assert.equal(await queue().size(q), 0);
      // Past the lease it had: a completed job does not come back as an expired one.
      assert.deepEqual(await claimAt(q, time.justAfter(T0 + 2 * SECOND)), []);
      assert.equal(await queue().nextRunAt(q), null);
    });

    it('retry() puts the job back at runAt with its error, counting the attempt', async () => {
      const { T0, SECOND } = time;
      const q = queueName('retry');
      const id = await queue().enqueue(q, { x: 1 }, { runAt: T0 });
      await claimAt(q, T0);
      await queue().retry(id, T0 + 5 * SECOND, 'provider 503: Service Unavailable ✗');
      assert.equal(await queue().nextRunAt(q), T0 + 5 * SECOND);
      assert.deepEqual(await claimAt(q, T0 + 4 * SECOND), []);
      const [job] = await claimAt(q, T0 + 5 * SECOND);
      assert.equal(job?.id, id);
      assert.equal(job.attempts, 1);
      assert.equal(job.runAt, T0 + 5 * SECOND);
      assert.equal(job.lastError, 'provider 503: Service Unavailable ✗');
      assert.deepEqual(job.payload, { x: 1 });
    });

    it(
      'release() puts the job back at runAt without counting an attempt',
      caseOptions('release'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('release');
        const id = await queue().enqueue(q, {}, { runAt: T0 });
        await claimAt(q, T0);
        await queue().release(id, T0 + 2 * SECOND);
        assert.equal(await queue().nextRunAt(q), T0 + 2 * SECOND);
        assert.deepEqual(await claimAt(q, T0 + SECOND), []);
        const [job] = await claimAt(q, T0 + 2 * SECOND);
        assert.equal(job?.id, id);
        assert.equal(job.attempts, 0);
        assert.equal(job.lastError, null);
      },
    );

    it(
      'fail() keeps the job as dead: never leased again and not counted by size()',
      caseOptions('dead-jobs-kept'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('fail');
        const id = await queue().enqueue(q, {}, { id: `dead:${q}`, runAt: T0 });
        const alive = await queue().enqueue(q, {}, { runAt: T0 + 3 * SECOND });
        await claimAt(q, T0, { limit: 1, leaseMs: 2 * SECOND });
        await queue().fail(id, 'template_disabled');
        assert.equal(await queue().size(q), 1, 'only the live job counts');
        // After the dead job's lease would have expired, only the live job is leased.
        assert.deepEqual(ids(await claimAt(q, time.justAfter(T0 + 3 * SECOND))), [alive]);
        await queue().complete(alive);
        // Kept, not deleted: enqueueing the same id again stays a no-op.
        await queue().enqueue(q, {}, { id, runAt: T0 });
        assert.equal(await queue().size(q), 0);
        assert.deepEqual(await claimAt(q, time.justAfter(T0 + 4 * SECOND)), []);
      },
    );

    it('size() counts waiting and leased jobs', async () => {
      const { T0, SECOND } = time;
      const q = queueName('size');
      assert.equal(await queue().size(q), 0);
      await queue().enqueue(q, {}, { runAt: T0 });
      await queue().enqueue(q, {}, { runAt: T0 });
      await queue().enqueue(q, {}, { runAt: T0 + 60 * SECOND });
      await claimAt(q, T0, { limit: 1 });
      assert.equal(await queue().size(q), 3);
    });

    it(
      'nextRunAt() is the earliest waiting job, ignoring leased and dead ones',
      caseOptions('next-run-at'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('next');
        assert.equal(await queue().nextRunAt(q), null);
        const soon = await queue().enqueue(q, {}, { runAt: T0 });
        const dead = await queue().enqueue(q, {}, { runAt: T0 + SECOND });
        await queue().enqueue(q, {}, { runAt: T0 + 7 * SECOND });
        assert.equal(await queue().nextRunAt(q), T0);
        const [leased] = await claimAt(q, T0, { limit: 1 });
        assert.equal(leased?.id, soon);
        assert.equal(await queue().nextRunAt(q), T0 + SECOND);
        await queue().fail(dead, 'gave up');
        assert.equal(await queue().nextRunAt(q), T0 + 7 * SECOND);
      },
    );

    it(
      'claims only jobs of the given keys, and nothing for an empty key list',
      caseOptions('keys-filter'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('keys');
        const a1 = await queue().enqueue(q, {}, { key: 'channel-a', runAt: T0 });
        const b1 = await queue().enqueue(q, {}, { key: 'channel-b', runAt: T0 + 1 });
        const c1 = await queue().enqueue(q, {}, { key: 'channel-c', runAt: T0 + 2 });
        assert.deepEqual(await claimAt(q, T0 + SECOND, { keys: [] }), []);
        assert.deepEqual(ids(await claimAt(q, T0 + SECOND, { keys: ['channel-c', 'channel-a'] })), [
          a1,
          c1,
        ]);
        assert.deepEqual(ids(await claimAt(q, T0 + SECOND)), [b1]);
      },
    );

    it(
      'honours a long key list (dozens of channels) just as exactly, oldest first',
      caseOptions('keys-filter'),
      async () => {
        const { T0, SECOND } = time;
        const q = queueName('many-keys');
        const enqueued: string[] = [];
        for (let i = 0; i < 50; i++) {
          enqueued.push(await queue().enqueue(q, { i }, { key: `ch-${i}`, runAt: T0 + i }));
        }
        // Channels 0..39 asked for in scrambled order (and one twice); 40..49 are not asked for.
        const wanted = Array.from({ length: 40 }, (_, i) => `ch-${(i * 7) % 40}`).concat('ch-3');
        const claimed = await claimAt(q, T0 + SECOND, { limit: 100, keys: wanted });
        assert.deepEqual(ids(claimed), enqueued.slice(0, 40));
      },
    );

    it('concurrent claims never lease the same job twice', async () => {
      const { T0, SECOND } = time;
      const q = queueName('race');
      const enqueued = new Set<string>();
      for (let i = 0; i < 40; i++) {
        enqueued.add(await queue().enqueue(q, { i }, { key: `k${i % 4}`, runAt: T0 + i }));
      }
      const now = await time.at(T0 + SECOND);
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, w) => queue().claim(q, claimOptions(now, 7, `w${w}`))),
      );
      const claimed = batches.flatMap(ids);
      assert.equal(new Set(claimed).size, claimed.length, 'no job leased twice');
      assert.equal(claimed.length, 40);
      assert.deepEqual(new Set(claimed), enqueued);
    });

    it(
      'two queue instances (two processes) racing for jobs never lease the same one',
      caseOptions('two-instances'),
      async (t) => {
        const { T0, SECOND } = time;
        if (!subject?.openAnother) {
          t.skip('the backend offers no second instance');
          return;
        }
        const q = queueName('two');
        for (let i = 0; i < 60; i++) await queue().enqueue(q, { i }, { runAt: T0 });
        const other = await subject.openAnother();
        try {
          const claimers = [queue(), other.queue];
          const now = await time.at(T0 + SECOND);
          const rounds = await Promise.all(
            Array.from({ length: 10 }, (_, n) =>
              claimers[n % 2]!.claim(q, claimOptions(now, 9, `p${n % 2}-${n}`)),
            ),
          );
          const claimed = rounds.flatMap(ids);
          assert.equal(new Set(claimed).size, claimed.length, 'no job leased twice');
          assert.equal(claimed.length, 60);
        } finally {
          await other.close();
        }
      },
    );
  });
}
