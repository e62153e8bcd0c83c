// What every repository gets: the executor for the current call, the dialect, and the store's clock.
import type { Kysely } from 'kysely';
import type { Database, DbBool } from './database-schema.ts';
import type { SqlDialectName } from './migrations.ts';

export interface StoreContext {
  readonly dialect: SqlDialectName;
  /** The executor for this call: the open transaction when there is one, else the pool. */
  db(): Kysely<Database>;
  /** Time for the few records the port stamps itself (createdAt of workspaces, keys …). */
  now(): number;
}

/** better-sqlite3 cannot bind booleans; PostgreSQL columns are real booleans. */
export function toDbBool(ctx: StoreContext, value: boolean): DbBool {
  return ctx.dialect === 'sqlite' ? (value ? 1 : 0) : value;
}
