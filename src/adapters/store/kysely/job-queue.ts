// The local durable job queue, kept in the store's own database (jobs table, leased claims).
import type { Selectable } from 'kysely';
import type { Job, JobQueue } from '../../../ports/job-queue.ts';
import type { JobsTable } from './database-schema.ts';
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
      let due = db
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', queue)
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'waiting'), eb('run_at', '<=', options.now)]),
            // An expired lease: its worker died or stalled, so the job is due again.
            eb.and([eb('state', '=', 'leased'), eb('lease_until', '<=', options.now)]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit);
      if (options.keys !== undefined) due = due.where('key', 'in', [...options.keys]);
      if (ctx.dialect === 'postgres') due = due.forUpdate().skipLocked();
      const rows = await db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'leased',
          lease_owner: options.worker,
          lease_until: options.now + options.leaseMs,
          attempts: eb('attempts', '+', 1),
        }))
        .where('id', 'in', due)
        .returningAll()
        .execute();
      // RETURNING order is unspecified in both dialects.
      rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return rows.map((row) => toJob<P>(row));
    },

    async complete(id) {
      await ctx.db().deleteFrom('jobs').where('id', '=', id).execute();
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
      const row = await ctx
        .db()
        .selectFrom('jobs')
        .select((eb) => eb.fn.min('run_at').as('next'))
        .where('queue', '=', queue)
        .where('state', '=', 'waiting')
        .executeTakeFirst();
      return row?.next ?? null;
    },
  };
}
