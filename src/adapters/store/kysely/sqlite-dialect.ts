// SQLite through better-sqlite3: Parley's pragmas, a FIFO-queued single connection, cached statements.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteDialect,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
} from 'kysely';

/** Statements kept prepared; Kysely asks for the same few dozen SQL strings over and over. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Opens the database file with the pragmas the store relies on: WAL so readers (the API, a
 * backup) never block the writer, NORMAL sync (durable at checkpoints, fast commits), a busy
 * timeout for the odd second process (CLI, backup), and enforced foreign keys.
 */
export function openSqlite(file: string): Database.Database {
  if (file !== ':memory:' && !file.startsWith('file:')) {
    mkdirSync(dirname(file), { recursive: true });
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Many indexes are touched per message (inbox listings): keep their pages in memory rather
  // than re-reading them from the OS on every commit.
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  return db;
}

/**
 * The one connection. Kysely prepares every query it runs; better-sqlite3 statements are
 * reusable, so the recent ones are kept (the webhook insert is the same SQL every time) instead
 * of re-parsing SQL per call. Safe because the driver lends the connection to one user at a time.
 */
class SqliteConnection implements DatabaseConnection {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #prepare(sqlText: string): Database.Statement {
    const hit = this.#statements.get(sqlText);
    if (hit) {
      // Map keeps insertion order: re-inserting marks it most recent, the first key is the LRU.
      this.#statements.delete(sqlText);
      this.#statements.set(sqlText, hit);
      return hit;
    }
    const statement = this.#db.prepare(sqlText);
    if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    this.#statements.set(sqlText, statement);
    return statement;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const statement = this.#prepare(compiledQuery.sql);
      const parameters = compiledQuery.parameters as unknown[];
      if (statement.reader) {
        return Promise.resolve({ rows: statement.all(parameters) as R[] });
      }
      const { changes, lastInsertRowid } = statement.run(parameters);
      return Promise.resolve({
        numAffectedRows: BigInt(changes),
        insertId: BigInt(lastInsertRowid),
        rows: [],
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('sqlite query failed'));
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new Error('SQLite streams only select queries');
    }
    // A streamed statement stays busy while iterated, so it is never taken from the cache.
    const statement = this.#db.prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters)) {
      yield { rows: [row as R] };
    }
    await Promise.resolve();
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/**
 * A driver for the single SQLite connection. Kysely's own driver wakes every waiter on each
 * release (a thundering herd that made 20,000 concurrent inserts crawl); this one hands the
 * connection to the next waiter in FIFO order, O(1) per hand-over.
 *
 * Transactions start with BEGIN IMMEDIATE: the write lock is taken up front, so a transaction
 * that reads then writes waits (busy_timeout) for another process instead of failing with
 * SQLITE_BUSY when it tries to upgrade its read snapshot.
 */
class SqliteDriver implements Driver {
  readonly #open: () => Database.Database;
  #connection: SqliteConnection | undefined;
  #busy = false;
  readonly #waiters: ((connection: SqliteConnection) => void)[] = [];

  constructor(open: () => Database.Database) {
    this.#open = open;
  }

  init(): Promise<void> {
    this.#connection = new SqliteConnection(this.#open());
    return Promise.resolve();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    const connection = this.#connection;
    if (!connection) return Promise.reject(new Error('the SQLite store is closed'));
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(connection);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  releaseConnection(): Promise<void> {
    const next = this.#waiters.shift();
    if (next && this.#connection) next(this.#connection);
    else this.#busy = false;
    return Promise.resolve();
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  destroy(): Promise<void> {
    this.#connection?.close();
    this.#connection = undefined;
    return Promise.resolve();
  }
}

/**
 * Kysely assumes one process per SQLite file: its migration lock is a no-op and migrations run
 * outside a transaction. SQLite does run DDL transactionally, so say so: the Migrator then
 * wraps its work in one (BEGIN IMMEDIATE) transaction, which both locks out a second process
 * migrating the same file (it waits, then sees the work done) and rolls back a failed migration
 * instead of leaving half a schema.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely's SQLite dialect (compiler, introspector) with the driver and adapter above. */
export class ParleySqliteDialect extends SqliteDialect {
  readonly #open: () => Database.Database;

  constructor(open: () => Database.Database) {
    // The base config is unused: createDriver() is replaced below.
    super({ database: () => Promise.reject(new Error('unused')) });
    this.#open = open;
  }

  override createDriver(): Driver {
    return new SqliteDriver(this.#open);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
