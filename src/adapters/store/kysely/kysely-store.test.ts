// Adapter behaviour beyond the port contract: opening, migrating, SQLite pragmas and serialisation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Store } from '../../../ports/store.ts';
import {
  freshPostgresUrl,
  freshSqliteFile,
  postgresAvailable,
  requireServerOrSkip,
} from '../../../../test/helpers/databases.ts';
import { createKyselyStore } from './kysely-store.ts';
import { migrationProvider } from './migrations.ts';

const T0 = Date.parse('2026-01-15T10:00:00Z');

async function seedChannel(store: Store) {
  const workspace = await store.workspaces.create({ name: 'W' });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'sandbox',
    name: 'c',
    config: {},
    secretsEncrypted: '',
  });
  const channel = await store.channels.create({
    workspaceId: workspace.id,
    connectionId: connection.id,
    providerKey: 'pn',
    phoneNumber: '1',
    wabaId: null,
    name: 'n',
    throughputMps: 0,
    environment: 'production',
    allowList: [],
  });
  return { workspace, connection, channel };
}

/** Every migration the store knows, in the order it applies them. */
async function allMigrations(): Promise<string[]> {
  return Object.keys(await migrationProvider('sqlite').getMigrations()).sort();
}

describe('createKyselyStore', () => {
  it('opens an in-memory SQLite store by default and migrates only when asked', async () => {
    const store = await createKyselyStore({});
    try {
      assert.equal(store.dialect, 'sqlite');
      await assert.rejects(store.workspaces.create({ name: 'too early' }), /no such table/);
      assert.deepEqual(await store.migrate(), await allMigrations());
      assert.deepEqual(await store.migrate(), []);
      await store.workspaces.create({ name: 'now' });
      assert.equal(await store.workspaces.count(), 1);
    } finally {
      await store.close();
    }
  });

  it('understands sqlite: URLs and creates the file’s folder', async () => {
    const { file, cleanup } = freshSqliteFile();
    const nested = join(dirname(file), 'data', 'parley.db');
    try {
      const store = await createKyselyStore({ databaseUrl: `sqlite:${nested}` });
      await store.migrate();
      await store.close();
      assert.ok(existsSync(nested));
    } finally {
      cleanup();
    }
  });

  it('picks PostgreSQL for postgres:// and postgresql:// URLs without connecting yet', async () => {
    for (const url of ['postgres://u@127.0.0.1:1/none', 'postgresql://u@127.0.0.1:1/none']) {
      const store = await createKyselyStore({ databaseUrl: url });
      assert.equal(store.dialect, 'postgres');
      await store.close();
    }
  });

  it('rejects an unknown URL scheme without echoing the URL (it may hold a password)', async () => {
    await assert.rejects(
      createKyselyStore({ databaseUrl: 'mysql://root:s3cret@db/parley' }),
      (error) => {
        assert.ok(error instanceof Error);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      },
    );
  });

  it('stamps createdAt with the injected clock', async () => {
    const store = await createKyselyStore({ now: () => T0 });
    try {
      await store.migrate();
      assert.equal((await store.workspaces.create({ name: 'w' })).createdAt, T0);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite specifics', () => {
  it('runs in WAL mode and enforces foreign keys', async () => {
    const { file, cleanup } = freshSqliteFile();
    try {
      const store = await createKyselyStore({ sqliteFile: file });
      await store.migrate();
      const { workspace } = await seedChannel(store);
      await assert.rejects(
        store.channels.create({
          workspaceId: workspace.id,
          connectionId: 'no-such-connection',
          providerKey: 'x',
          phoneNumber: '1',
          wabaId: null,
          name: 'orphan',
          throughputMps: 1,
          environment: 'production',
          allowList: [],
        }),
        /FOREIGN KEY/,
      );
      await store.close();
      const raw = new Database(file, { readonly: true });
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      raw.close();
    } finally {
      cleanup();
    }
  });

  it('waits for another process’s write lock (busy timeout) instead of failing', async () => {
    const { file, cleanup } = freshSqliteFile();
    try {
      const store = await createKyselyStore({ sqliteFile: file });
      await store.migrate();
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      // Another connection takes the write lock, tells us, holds it 300 ms, then commits.
      const holder = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const db = new (require(workerData.driver))(workerData.file);
         db.exec('begin immediate');
         parentPort.postMessage('locked');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
         db.exec('commit'); db.close(); parentPort.postMessage('released');`,
        { eval: true, workerData: { file, driver } },
      );
      await new Promise((resolve) => holder.once('message', resolve));
      const started = performance.now();
      const ws = await store.workspaces.create({ name: 'after the lock' });
      assert.ok(performance.now() - started >= 200, 'the write waited for the lock');
      assert.deepEqual(await store.workspaces.get(ws.id), ws);
      await holder.terminate();
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('serialises concurrent transactions: read-modify-write from 20 flows loses no update', async () => {
    const store = await createKyselyStore({});
    try {
      await store.migrate();
      const { channel } = await seedChannel(store);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.transaction(async (tx) => {
            const current = await tx.channels.get(channel.id);
            await new Promise((resolve) => setImmediate(resolve));
            await tx.channels.update(channel.id, {
              throughputMps: (current?.throughputMps ?? 0) + 1,
            });
          }),
        ),
      );
      assert.equal((await store.channels.get(channel.id))?.throughputMps, 20);
    } finally {
      await store.close();
    }
  });

  it('stores every one of 3,000 concurrent webhooks (group commit)', async () => {
    const { file, cleanup } = freshSqliteFile();
    try {
      const store = await createKyselyStore({ sqliteFile: file });
      await store.migrate();
      const stored = await Promise.all(
        Array.from({ length: 3000 }, (_, i) =>
          store.webhooks.insert({
            connectionId: 'c',
            provider: 'meta',
            receivedAt: T0 + i,
            headers: { n: String(i) },
            body: Buffer.from([i & 0xff, 0x00, 0xff]),
            url: '/webhooks/meta/c',
          }),
        ),
      );
      assert.equal(new Set(stored.map((w) => w.id)).size, 3000);
      assert.equal(await store.webhooks.countByState('received'), 3000);
      const sample = stored[1234]!;
      assert.deepEqual(await store.webhooks.get(sample.id), sample);
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('a webhook that cannot be stored fails alone; the rest of its batch is kept', async () => {
    const store = await createKyselyStore({});
    try {
      await store.migrate();
      const insert = (body: unknown) =>
        store.webhooks.insert({
          connectionId: 'c',
          provider: 'meta',
          receivedAt: T0,
          headers: {},
          body: body as Buffer,
          url: '/x',
        });
      const outcomes = await Promise.allSettled([
        insert(Buffer.from('a')),
        insert({ not: 'bytes' }),
        insert(Buffer.from('c')),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal(await store.webhooks.countByState('received'), 2);
    } finally {
      await store.close();
    }
  });
});

const pgSkip = requireServerOrSkip(
  await postgresAvailable(),
  'PostgreSQL (PARLEY_TEST_POSTGRES_URL)',
);

describe('migrating from two instances at once', () => {
  it('SQLite: two processes applying migrations to one file apply each exactly once', async () => {
    const { file, cleanup } = freshSqliteFile();
    const storeModule = new URL('./kysely-store.ts', import.meta.url).href;
    // Separate processes: SQLite's busy wait blocks a thread, so two stores in one thread
    // waiting on each other is not a situation the server ever meets.
    // Each child opens the store, says "ready", and migrates when told "go": both children
    // are released together, after their (slow, uneven) start-up.
    const child = () => {
      const process_ = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { createKyselyStore } = await import(${JSON.stringify(storeModule)});
           const store = await createKyselyStore({ sqliteFile: ${JSON.stringify(file)} });
           process.stdout.write('ready\\n');
           await new Promise((resolve) => process.stdin.once('data', resolve));
           const applied = await store.migrate();
           await store.close();
           process.stdout.write(JSON.stringify(applied) + '\\n');
           process.exit(0);`,
        ],
        { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let out = '';
      const ready = new Promise<void>((resolve) => {
        process_.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.startsWith('ready\n')) resolve();
        });
      });
      const applied = new Promise<string[]>((resolve, reject) => {
        process_.on('exit', (code) => {
          if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)) as string[]);
          else reject(new Error(`migrating child exited with ${code}`));
        });
      });
      return { ready, go: () => process_.stdin.end('go\n'), applied };
    };
    try {
      const children = [child(), child()];
      await Promise.all(children.map((c) => c.ready));
      children.forEach((c) => c.go());
      const applied = await Promise.all(children.map((c) => c.applied));
      assert.deepEqual(applied.flat(), await allMigrations());
      const store = await createKyselyStore({ sqliteFile: file });
      assert.deepEqual(await store.migrate(), []);
      await store.close();
    } finally {
      cleanup();
    }
  });

  it(
    'PostgreSQL: two instances applying migrations at once apply each exactly once',
    pgSkip ? { skip: pgSkip } : {},
    async () => {
      const { url, drop } = await freshPostgresUrl();
      try {
        const a = await createKyselyStore({ databaseUrl: url });
        const b = await createKyselyStore({ databaseUrl: url });
        const applied = await Promise.all([a.migrate(), b.migrate()]);
        assert.deepEqual(applied.flat(), await allMigrations());
        await Promise.all([a.close(), b.close()]);
      } finally {
        await drop();
      }
    },
  );
});
