// The local durable job queue, kept in the store's own database (jobs table, leased claims).
import type { CompiledQuery, Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { ClaimOptions, Job, JobQueue } from '../../../ports/job-queue.ts';
import type { Database, JobsTable } from './database-schema.ts';
import { compiledOnce } from './compiled-once.ts';
import { newId } from './ids.ts';
import { fromJsonText, toJsonText } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

function toJob<P>(row: Selectable<JobsTable>): Job<P> {
  return {
    id: row.id,
    queue: row.queue,
    key: row.key,
    payload: fromJsonText(row.payload) as P,
    // The column counts claims including this one; the port reports the claims before it.
    attempts: row.attempts - 1,
    runAt: row.run_at,
    lastError: row.last_error,
  };
}

/** Beyond this many keys one sorted query beats a branch per key. */
const MAX_KEY_BRANCHES = 32;

/**
 * The ids of up to `limit` due jobs, oldest runAt first. Each branch is an ordered walk of an
 * index that stops after `limit` rows — waiting jobs of the queue (or of each key), plus
 * leases that expired (their worker died or stalled, so the job is due again) — and only the
 * branches' few rows are merged and sorted.
 */
function dueJobIds(
  db: Kysely<Database>,
  dialect: StoreContext['dialect'],
  queue: string,
  options: ClaimOptions,
  limit: number,
) {
  const lock = <Q extends SelectQueryBuilder<Database, 'jobs', { id: string; run_at: number }>>(
    query: Q,
  ): Q => (dialect === 'postgres' ? (query.forUpdate().skipLocked() as Q) : query);
  const branch = (state: 'waiting' | 'leased', key?: string) => {
    let query = db
      .selectFrom('jobs')
      .select(['id', 'run_at'])
      .where('queue', '=', queue)
      .where('state', '=', state)
      .where(state === 'waiting' ? 'run_at' : 'lease_until', '<=', options.now);
    if (key !== undefined) query = query.where('key', '=', key);
    else if (state === 'leased' && options.keys !== undefined) {
      query = query.where('key', 'in', [...options.keys]);
    }
    return lock(query.orderBy('run_at').orderBy('id').limit(limit));
  };

  const keys = options.keys;
  if (keys !== undefined && keys.length > MAX_KEY_BRANCHES) {
    const due = lock(
      db
        .selectFrom('jobs')
        .select(['id', 'run_at'])
        .where('queue', '=', queue)
        .where('key', 'in', [...keys])
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'waiting'), eb('run_at', '<=', options.now)]),
            eb.and([eb('state', '=', 'leased'), eb('lease_until', '<=', options.now)]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit),
    );
    return db.selectFrom(due.as('due')).select('id');
  }

  const branches = [
    ...(keys === undefined
      ? [branch('waiting')]
      : [...new Set(keys)].map((k) => branch('waiting', k))),
    branch('leased'),
  ];
  // Each branch sits in its own subquery: SQLite allows ORDER BY / LIMIT only there.
  const [first, ...rest] = branches.map((b, i) =>
    db.selectFrom(b.as(`b${i}`)).select(['id', 'run_at']),
  );
  if (!first) throw new Error('unreachable: at least one branch');
  const union = rest.reduce((acc, next) => acc.unionAll(next), first);
  return db.selectFrom(union.as('due')).select('id').orderBy('run_at').orderBy('id').limit(limit);
}

/** Stand-ins for the claim's per-call values in its compiled template (never real values). */
const SLOT = {
  now: '\u0000claim:now',
  worker: '\u0000claim:worker',
  queue: '\u0000claim:queue',
  until: '\u0000claim:until',
  limit: '\u0000claim:limit',
} as const;

/** The claim compiled with stand-ins, per dialect (the SQL differs: FOR UPDATE SKIP LOCKED). */
const claimTemplates = new Map<StoreContext['dialect'], CompiledQuery<Selectable<JobsTable>>>();

// The dispatcher asks for its next due time and completes a job for every message.
const selectNextRunAt = compiledOnce(['queue'], (db, v) =>
  db
    .selectFrom('jobs')
    .select((eb) => eb.fn.min('run_at').as('next'))
    .where('queue', '=', v.queue)
    .where('state', '=', 'waiting'),
);
const deleteJob = compiledOnce(['id'], (db, v) => db.deleteFrom('jobs').where('id', '=', v.id));

export function jobQueue(ctx: StoreContext): JobQueue {
  return {
    async enqueue(queue, payload, options) {
      const id = options.id ?? newId();
      // A caller-chosen id already present (waiting, leased or dead) makes this a no-op.
      await ctx
        .db()
        .insertInto('jobs')
        .values({
          id,
          queue,
          key: options.key ?? '',
          payload: toJsonText(payload),
          run_at: options.runAt,
          attempts: 0,
          state: 'waiting',
          lease_owner: null,
          lease_until: null,
          last_error: null,
          created_at: ctx.now(),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return id;
    },

    /**
     * One UPDATE … WHERE id IN (due jobs) RETURNING: the lease is taken atomically. PostgreSQL
     * locks the chosen rows with FOR UPDATE SKIP LOCKED so concurrent claimers (other
     * processes) take different jobs instead of waiting on or double-leasing the same ones;
     * SQLite has a single writer, so the statement alone is atomic.
     */
    async claim<P>(queue: string, options: Parameters<JobQueue['claim']>[1]): Promise<Job<P>[]> {
      if (options.keys !== undefined && options.keys.length === 0) return [];
      const limit = Math.max(0, Math.floor(options.limit));
      if (limit === 0) return [];
      const db = ctx.db();
      const build = (o: ClaimOptions, q: string, until: number, n: number) =>
        db
          .updateTable('jobs')
          .set((eb) => ({
            state: 'leased',
            lease_owner: o.worker,
            lease_until: until,
            attempts: eb('attempts', '+', 1),
          }))
          .where('id', 'in', dueJobIds(db, ctx.dialect, q, o, n))
          .returningAll();
      let rows: Selectable<JobsTable>[];
      if (options.keys === undefined) {
        // The dispatcher claims every few milliseconds with this one shape; building it in
        // Kysely cost four times what SQLite spends running it. Compiled once with stand-ins.
        let template = claimTemplates.get(ctx.dialect);
        if (template === undefined) {
          template = build(
            { now: SLOT.now, limit: 0, leaseMs: 0, worker: SLOT.worker } as unknown as ClaimOptions,
            SLOT.queue,
            SLOT.until as unknown as number,
            SLOT.limit as unknown as number,
          ).compile();
          // Every stand-in must have become a bound parameter, never text inside the SQL.
          if (Object.values(SLOT).some((v) => !template?.parameters.includes(v)))
            throw new Error('job claim template: a value was not bound as a parameter');
          claimTemplates.set(ctx.dialect, template);
        }
        const values: Record<string, unknown> = {
          [SLOT.now]: options.now,
          [SLOT.worker]: options.worker,
          [SLOT.queue]: queue,
          [SLOT.until]: options.now + options.leaseMs,
          [SLOT.limit]: limit,
        };
        const compiled: CompiledQuery<Selectable<JobsTable>> = {
          ...template,
          parameters: template.parameters.map((p) =>
            typeof p === 'string' && p in values ? values[p] : p,
          ),
        };
        rows = (await db.executeQuery(compiled)).rows;
      } else {
        rows = await build(options, queue, options.now + options.leaseMs, limit).execute();
      }
      // RETURNING order is unspecified in both dialects.
      rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return rows.map((row) => toJob<P>(row));
    },

    async complete(id) {
      await deleteJob(ctx, { id });
    },

    async release(id, runAt) {
      // Pacing, not failure: give back the attempt the claim counted.
      await ctx
        .db()
        .updateTable('jobs')
        .set((eb) => ({
          state: 'waiting',
          run_at: runAt,
          lease_owner: null,
          lease_until: null,
          attempts: eb('attempts', '-', 1),
        }))
        .where('id', '=', id)
        .where('state', '=', 'leased')
        .execute();
    },

    async retry(id, runAt, error) {
      await ctx
        .db()
        .updateTable('jobs')
        .set({
          state: 'waiting',
          run_at: runAt,
          lease_owner: null,
          lease_until: null,
          last_error: error,
        })
        .where('id', '=', id)
        .where('state', '!=', 'dead')
        .execute();
    },

    async fail(id, error) {
      await ctx
        .db()
        .updateTable('jobs')
        .set({ state: 'dead', lease_owner: null, lease_until: null, last_error: error })
        .where('id', '=', id)
        .execute();
    },

    async size(queue) {
      const row = await ctx
        .db()
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('queue', '=', queue)
        .where('state', 'in', ['waiting', 'leased'])
        .executeTakeFirstOrThrow();
      return row.n;
    },

    async nextRunAt(queue) {
      const [row] = await selectNextRunAt(ctx, { queue });
      return row?.next ?? null;
    },
  };
}
