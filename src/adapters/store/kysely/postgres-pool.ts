// PostgreSQL pool for the store: int8 (bigint ms, counts) parsed to numbers, JSON left as text.
import pg from 'pg';

/**
 * A pool whose int8 values come back as JS numbers. Times are milliseconds (far below 2^53) and
 * counts are small, so Number is exact; set per pool rather than on pg's global type registry
 * so other pg users in the process are unaffected.
 */
export function createPostgresPool(connectionString: string, max = 10): pg.Pool {
  const parseInt8 = (value: string): number => Number(value);
  const getTypeParser: typeof pg.types.getTypeParser = (oid, format) =>
    oid === pg.types.builtins.INT8 ? parseInt8 : (pg.types.getTypeParser(oid, format) as unknown);
  const pool = new pg.Pool({ connectionString, max, types: { getTypeParser } });
  // An idle client losing its connection (server restart, failover) is emitted as 'error' on
  // the pool, and an unhandled 'error' event would crash the process. The pool has already
  // dropped that client; the next query opens a fresh one, and a query that fails says why.
  pool.on('error', () => undefined);
  return pool;
}
