// A fingerprint of every table of a test Parley's SQLite store: proves a rejected request wrote nothing.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { TestParley } from './parley.ts';

/** Per table: how many rows, and a hash of their contents (so updates show up too). */
export type StoreSnapshot = Record<string, { rows: number; hash: string }>;

/**
 * Reads every table through a second, read-only connection (WAL lets it see what the store has
 * committed). Compare two snapshots with `assert.deepEqual` to see which table changed.
 */
export function snapshotStore(t: TestParley): StoreSnapshot {
  if (t.parley.config.databaseUrl)
    throw new Error('snapshotStore reads the embedded SQLite file; this Parley uses PostgreSQL');
  const db = new Database(t.parley.config.sqliteFile, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
      )
      .all() as Array<{ name: string }>;
    const snapshot: StoreSnapshot = {};
    for (const { name } of tables) {
      const rows = db.prepare(`select * from "${name}"`).all();
      const lines = rows.map((row) => JSON.stringify(row)).sort();
      snapshot[name] = {
        rows: rows.length,
        hash: createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16),
      };
    }
    return snapshot;
  } finally {
    db.close();
  }
}

/** Snapshot differences as `table: before → after rows`, for assertion messages. */
export function describeChanges(before: StoreSnapshot, after: StoreSnapshot): string {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const name of names) {
    const a = before[name];
    const b = after[name];
    if (a?.hash !== b?.hash) changed.push(`${name}: ${a?.rows ?? 0} → ${b?.rows ?? 0} rows`);
  }
  return changed.length ? changed.join(', ') : 'no changes';
}
