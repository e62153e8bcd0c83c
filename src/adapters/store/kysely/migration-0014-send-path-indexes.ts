// Migration 0014: an index for the job claim's expired-lease branch, which otherwise walks every leased job.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder, the same on both dialects. */
export const sendPathIndexes: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    // `queue = ? and state = 'leased' and lease_until <= now`: with only jobs_due (… run_at) the
    // claim read all leased jobs (a dispatcher holds up to thousands) on every pass to find none.
    await db.schema
      .createIndex('jobs_lease_expiry')
      .on('jobs')
      .columns(['queue', 'state', 'lease_until'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('jobs_lease_expiry').ifExists().execute();
  },
});
