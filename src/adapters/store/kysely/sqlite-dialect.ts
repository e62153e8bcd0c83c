// SQLite through better-sqlite3: the pragmas Parley runs with, a statement cache, and write-locking transactions.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';

/** Statements kept prepared; Kysely asks for the same few dozen SQL strings over and over. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Opens the database file with the pragmas the store relies on: WAL so readers (the API, a
 * backup) never block the writer, NORMAL sync (durable at checkpoints, fast commits), a busy
 * timeout for the odd second process (CLI, backup), and enforced foreign keys.
 */
export function openSqlite(file: string): Database.Database {
  if (file !== ':memory:' && !file.startsWith('file:'))
    mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Kysely prepares every query it runs; better-sqlite3 statements are reusable, so keep the
 * recent ones (the webhook insert is the same SQL every time) instead of re-parsing SQL per call.
 * Safe because Kysely's SQLite driver runs one query at a time on the single connection.
 */
export function cachingDatabase(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare: (sqlText: string) => {
      const hit = cache.get(sqlText);
      if (hit) {
        // Refresh recency: Map keeps insertion order, so the first key is the least recent.
        cache.delete(sqlText);
        cache.set(sqlText, hit);
        return hit;
      }
      const statement = db.prepare(sqlText) as unknown as SqliteStatement;
      if (cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(sqlText, statement);
      return statement;
    },
  };
}

/**
 * Transactions start with BEGIN IMMEDIATE: the write lock is taken up front, so a transaction
 * that reads then writes waits (busy_timeout) for another process instead of failing with
 * SQLITE_BUSY when it tries to upgrade its read snapshot.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class ParleySqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
