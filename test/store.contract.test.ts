// Runs the Store and JobQueue contracts on every dialect in PARLEY_TEST_DIALECTS (default sqlite,postgres).
import { it } from 'node:test';
import { createKyselyStore } from '../src/adapters/store/kysely/index.ts';
import type { Store } from '../src/ports/store.ts';
import { runQueueContract } from './contracts/queue-contract.ts';
import { runStoreContract, type StoreUnderTest } from './contracts/store-contract.ts';
import {
  freshPostgresUrl,
  freshSqliteFile,
  postgresAvailable,
  requireServerOrSkip,
} from './helpers/databases.ts';

const dialects = (process.env.PARLEY_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean);

async function migrated(store: Store): Promise<Store> {
  await store.migrate();
  return store;
}

async function sqliteStore(): Promise<StoreUnderTest> {
  const sqlite = freshSqliteFile();
  const file = sqlite.file;
  const store = await migrated(await createKyselyStore({ sqliteFile: file }));
  return {
    store,
    cleanup: async () => {
      await store.close();
      sqlite.cleanup();
    },
    openAnother: () => createKyselyStore({ sqliteFile: file }),
  };
}

async function postgresStore(): Promise<StoreUnderTest> {
  const { url, drop } = await freshPostgresUrl();
  const store = await migrated(await createKyselyStore({ databaseUrl: url }));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await drop();
    },
    openAnother: () => createKyselyStore({ databaseUrl: url }),
  };
}

function asQueue(make: () => Promise<StoreUnderTest>) {
  return async () => {
    const { store, cleanup, openAnother } = await make();
    return {
      queue: store.jobs,
      cleanup,
      ...(openAnother
        ? {
            openAnother: async () => {
              const other = await openAnother();
              return { queue: other.jobs, close: () => other.close() };
            },
          }
        : {}),
    };
  };
}

for (const dialect of dialects) {
  if (dialect === 'sqlite') {
    runStoreContract('kysely on SQLite (better-sqlite3, WAL file)', sqliteStore);
    runQueueContract('kysely store jobs on SQLite', asQueue(sqliteStore));
  } else if (dialect === 'postgres') {
    const skip = requireServerOrSkip(
      await postgresAvailable(),
      'PostgreSQL (PARLEY_TEST_POSTGRES_URL)',
    );
    if (skip !== undefined) {
      it('Store and JobQueue contracts on PostgreSQL', { skip }, () => undefined);
    } else {
      runStoreContract('kysely on PostgreSQL (pg)', postgresStore);
      runQueueContract('kysely store jobs on PostgreSQL', asQueue(postgresStore));
    }
  } else {
    throw new Error(`PARLEY_TEST_DIALECTS names an unknown dialect: ${dialect}`);
  }
}
