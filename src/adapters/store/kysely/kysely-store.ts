// The Store port on Kysely: one implementation for SQLite (better-sqlite3) and PostgreSQL (pg).
import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, Migrator, PostgresDialect, sql, type Insertable, type Transaction } from 'kysely';
import type { Store } from '../../../ports/store.ts';
import type { Database, WebhooksTable } from './database-schema.ts';
import { jobQueue } from './job-queue.ts';
import { complianceRepository } from './compliance-repositories.ts';
import { providerRecordsRepository } from './provider-records-repositories.ts';
import { billingRepository } from './billing-repository.ts';
import { automationRepository } from './automation-repositories.ts';
import { uploadRepository } from './upload-repository.ts';
import { eventWebhookRepository } from './event-webhook-repositories.ts';
import { inboxRepository } from './inbox-repositories.ts';
import { campaignRepository } from './campaign-repositories.ts';
import {
  contactRepository,
  careWindowRepository,
  conversationRepository,
} from './conversation-repositories.ts';
import {
  idempotencyRepository,
  templateRepository,
  webhookBatcher,
  webhookRepository,
} from './intake-repositories.ts';
import type { InsertBatcher } from './insert-batcher.ts';
import { messageRepository, statusEventRepository } from './message-repositories.ts';
import { migrationProvider, type SqlDialectName } from './migrations.ts';
import { createPostgresPool } from './postgres-pool.ts';
import { openSqlite, ParleySqliteDialect } from './sqlite-dialect.ts';
import type { StoreContext } from './store-context.ts';
import {
  apiKeyRepository,
  channelRepository,
  connectionRepository,
  workspaceRepository,
} from './tenancy-repositories.ts';

export interface KyselyStoreOptions {
  /** `postgres://` or `postgresql://` selects PostgreSQL; `sqlite:PATH` is also understood. */
  readonly databaseUrl?: string;
  /** The SQLite file when no PostgreSQL URL is given; `:memory:` (the default) for a throwaway. */
  readonly sqliteFile?: string;
  /** Clock for the timestamps the store sets itself (createdAt of workspaces, keys, jobs …). */
  readonly now?: () => number;
}

/** The transaction a flow of async work is inside, if any (per store instance). */
interface TransactionFrame {
  readonly trx: Transaction<Database>;
  readonly store: Store;
  finished: boolean;
}

type Lifecycle = Pick<Store, 'transaction' | 'migrate' | 'ping' | 'close'>;

function buildStore(
  ctx: StoreContext,
  lifecycle: Lifecycle,
  webhookWriter?: InsertBatcher<Insertable<WebhooksTable>>,
): Store {
  return {
    dialect: ctx.dialect,
    ...lifecycle,
    workspaces: workspaceRepository(ctx),
    apiKeys: apiKeyRepository(ctx),
    connections: connectionRepository(ctx),
    channels: channelRepository(ctx),
    contacts: contactRepository(ctx),
    windows: careWindowRepository(ctx),
    conversations: conversationRepository(ctx),
    messages: messageRepository(ctx),
    statusEvents: statusEventRepository(ctx),
    webhooks: webhookRepository(ctx, webhookWriter),
    idempotency: idempotencyRepository(ctx),
    templates: templateRepository(ctx),
    jobs: jobQueue(ctx),
    compliance: complianceRepository(ctx),
    providerRecords: providerRecordsRepository(ctx),
    billing: billingRepository(ctx),
    automations: automationRepository(ctx),
    uploads: uploadRepository(ctx),
    eventWebhooks: eventWebhookRepository(ctx),
    inbox: inboxRepository(ctx),
    outreach: campaignRepository(ctx),
  };
}

function resolveTarget(
  options: KyselyStoreOptions,
): { dialect: 'postgres'; url: string } | { dialect: 'sqlite'; file: string } {
  const url = options.databaseUrl?.trim();
  if (url) {
    if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', url };
    const sqliteUrl = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
    if (sqliteUrl?.[1]) return { dialect: 'sqlite', file: sqliteUrl[1] };
    // Never log the URL itself: it may carry a password.
    throw new Error('unsupported database URL scheme (use postgres://, postgresql:// or sqlite:)');
  }
  return { dialect: 'sqlite', file: options.sqliteFile ?? ':memory:' };
}

/**
 * Opens the store. It does not migrate: call `store.migrate()` (idempotent) first.
 *
 * Inside `transaction(work)`, every call made from that async flow — on the `tx` handed to
 * `work` or on this store itself — joins the transaction, and nested `transaction()` calls reuse
 * it. On SQLite (one connection) this is also what keeps a stray outer call from deadlocking;
 * separate flows queue behind the open transaction and never interleave with it.
 */
export function createKyselyStore(options: KyselyStoreOptions): Promise<Store> {
  try {
    return Promise.resolve(openStore(options));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error('cannot open the store'));
  }
}

function openStore(options: KyselyStoreOptions): Store {
  const target = resolveTarget(options);
  const now = options.now ?? Date.now;
  const dialect: SqlDialectName = target.dialect;

  // SQLite is opened now, so a bad path fails here rather than at the first query.
  let closeUnused = (): void => undefined;
  let db: Kysely<Database>;
  if (target.dialect === 'postgres') {
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: createPostgresPool(target.url) }),
    });
  } else {
    const handle = openSqlite(target.file);
    closeUnused = () => {
      if (handle.open) handle.close();
    };
    db = new Kysely<Database>({ dialect: new ParleySqliteDialect(() => handle) });
  }
  // On PostgreSQL the webhook log has connections of its own: acknowledging a webhook never
  // waits for a connection behind processing's transactions and the queries they set off.
  const intakeDb =
    target.dialect === 'postgres'
      ? new Kysely<Database>({
          dialect: new PostgresDialect({ pool: createPostgresPool(target.url, 2) }),
        })
      : db;
  const webhookWriter = webhookBatcher(intakeDb, dialect);
  let closing: Promise<void> | undefined;

  const frames = new AsyncLocalStorage<TransactionFrame>();
  const activeFrame = (): TransactionFrame | undefined => {
    const frame = frames.getStore();
    return frame && !frame.finished ? frame : undefined;
  };

  const transaction: Store['transaction'] = async (work) => {
    const open = activeFrame();
    if (open) return work(open.store);
    return db.transaction().execute(async (trx) => {
      const txCtx: StoreContext = { dialect, db: () => trx, now };
      const frame: TransactionFrame = {
        trx,
        finished: false,
        store: buildStore(txCtx, {
          transaction: (inner) => inner(frame.store),
          migrate: () => Promise.reject(new Error('migrate() cannot run inside a transaction')),
          ping: async () => {
            await sql`select 1`.execute(trx);
          },
          close: () => Promise.reject(new Error('close() cannot run inside a transaction')),
        }),
      };
      try {
        return await frames.run(frame, () => work(frame.store));
      } finally {
        // Work left running after the transaction ends falls back to the pool, not a dead trx.
        frame.finished = true;
      }
    });
  };

  const rootCtx: StoreContext = {
    dialect,
    db: () => activeFrame()?.trx ?? db,
    now,
  };

  const store = buildStore(
    rootCtx,
    {
      transaction,
      async migrate() {
        if (activeFrame()) throw new Error('migrate() cannot run inside a transaction');
        // Migration numbers are reserved per feature and may land out of order: a database that
        // already ran a later number still takes an earlier one added after it.
        const migrator = new Migrator({
          db,
          provider: migrationProvider(dialect),
          allowUnorderedMigrations: true,
        });
        const { error, results } = await migrator.migrateToLatest();
        if (error !== undefined) {
          throw error instanceof Error ? error : new Error('migration failed', { cause: error });
        }
        return (results ?? [])
          .filter((r) => r.status === 'Success' && r.direction === 'Up')
          .map((r) => r.migrationName);
      },
      async ping() {
        await sql`select 1`.execute(rootCtx.db());
      },
      close() {
        // Idempotent: shutdown paths may close twice.
        closing ??= (async () => {
          await webhookWriter.flush();
          if (intakeDb !== db) await intakeDb.destroy();
          await db.destroy();
          closeUnused();
        })();
        return closing;
      },
    },
    webhookWriter,
  );
  return store;
}
