// Runs the Store and JobQueue contracts on every dialect in PARLEY_TEST_DIALECTS (default sqlite,postgres).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createKyselyStore } from '../src/adapters/store/kysely/index.ts';
import type { Store } from '../src/ports/store.ts';
import { runQueueContract } from './contracts/queue-contract.ts';
import { runBillingContract } from './contracts/billing-contract.ts';
import { runComplianceContract } from './contracts/compliance-contract.ts';
import { runAutomationContract } from './contracts/automation-contract.ts';
import { runProviderRecordsContract } from './contracts/provider-records-contract.ts';
import { runEventWebhooksContract } from './contracts/event-webhooks-contract.ts';
import { runStoreContract, type StoreUnderTest } from './contracts/store-contract.ts';
import { runUploadContract } from './contracts/upload-contract.ts';
import { runInboxContract } from './contracts/inbox-contract.ts';
import { runCampaignContract } from './contracts/campaign-contract.ts';
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
    runProviderRecordsContract('kysely on SQLite', sqliteStore);
    runBillingContract('kysely on SQLite', sqliteStore);
    runComplianceContract('kysely on SQLite', sqliteStore);
    runAutomationContract('kysely on SQLite', sqliteStore);
    runUploadContract('kysely on SQLite', sqliteStore);
    runInboxContract('kysely on SQLite', sqliteStore);
    runCampaignContract('kysely on SQLite', sqliteStore);
    runEventWebhooksContract('kysely on SQLite', sqliteStore);
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
      runProviderRecordsContract('kysely on PostgreSQL', postgresStore);
      runBillingContract('kysely on PostgreSQL', postgresStore);
      runComplianceContract('kysely on PostgreSQL', postgresStore);
      runAutomationContract('kysely on PostgreSQL', postgresStore);
      runUploadContract('kysely on PostgreSQL', postgresStore);
      runInboxContract('kysely on PostgreSQL', postgresStore);
      runCampaignContract('kysely on PostgreSQL', postgresStore);
      runEventWebhooksContract('kysely on PostgreSQL', postgresStore);
    }
  } else {
    throw new Error(`PARLEY_TEST_DIALECTS names an unknown dialect: ${dialect}`);
  }
}

describe('test database helpers', () => {
  it('skips server-backed tests with a reason locally, and refuses to skip them under CI=true', () => {
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      assert.equal(requireServerOrSkip(true, 'PostgreSQL'), undefined);
      assert.match(requireServerOrSkip(false, 'PostgreSQL') ?? '', /PostgreSQL/);
      process.env.CI = 'true';
      assert.equal(requireServerOrSkip(true, 'PostgreSQL'), undefined);
      assert.throws(() => requireServerOrSkip(false, 'PostgreSQL'), /required in CI/);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });

  it('hands out an empty SQLite file location and removes it with its WAL files', async () => {
    const { file, cleanup } = freshSqliteFile();
    assert.equal(existsSync(file), false);
    const store = await createKyselyStore({ sqliteFile: file });
    await store.migrate();
    assert.ok(existsSync(file));
    await store.close();
    cleanup();
    assert.equal(existsSync(dirname(file)), false);
  });
});
