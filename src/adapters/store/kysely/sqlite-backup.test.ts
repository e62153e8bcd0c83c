// `parley backup`: a consistent copy of a live SQLite database while another writer keeps committing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { freshSqliteFile } from '../../../../test/helpers/databases.ts';
import { createKyselyStore } from './kysely-store.ts';
import { backupSqlite } from './sqlite-backup.ts';

const BATCH = 25;

/**
 * A writer on its own thread and connection (as the server would be in its own process):
 * commits transactions of BATCH rows, each row numbered, until told to stop. A consistent copy
 * therefore holds a multiple of BATCH rows numbered 1..n without holes.
 */
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare('insert into jobs (id, queue, key, payload, run_at, attempts, state, created_at) values (?, ?, ?, ?, ?, 0, ?, ?)');
const batch = db.transaction((start) => {
  for (let i = 0; i < ${BATCH}; i++) {
    const n = start + i;
    insert.run(String(n).padStart(9, '0'), 'backup', '', JSON.stringify({ n, pad: 'x'.repeat(200) }), n, 'waiting', n);
  }
});
let next = 1;
let stop = false;
parentPort.on('message', () => { stop = true; });
const tick = () => {
  for (let k = 0; k < 20 && !stop; k++) { batch(next); next += ${BATCH}; }
  if (next === 1 + ${BATCH} * 20) parentPort.postMessage('started');
  if (stop) { db.close(); parentPort.postMessage({ written: next - 1 }); return; }
  setImmediate(tick);
};
tick();
`;

function inspect(file: string): { rows: number; ordinals: number[]; integrity: string } {
  const copy = new Database(file, { readonly: true });
  try {
    const integrity = (copy.pragma('integrity_check', { simple: true }) as string) ?? '';
    const ordinals = (
      copy.prepare('select run_at from jobs order by run_at').all() as { run_at: number }[]
    ).map((r) => r.run_at);
    return { rows: ordinals.length, ordinals, integrity };
  } finally {
    copy.close();
  }
}

describe('backupSqlite', () => {
  it('copies a database consistently while another connection keeps writing', async () => {
    const source = freshSqliteFile();
    const target = freshSqliteFile();
    try {
      const store = await createKyselyStore({ sqliteFile: source.file });
      await store.migrate();
      await store.workspaces.create({ name: 'Kept across the backup' });

      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const writer = new Worker(WRITER, { eval: true, workerData: { file: source.file, driver } });
      const done = new Promise<{ written: number }>((resolve, reject) => {
        writer.on('message', (m: unknown) => {
          if (typeof m === 'object' && m !== null && 'written' in m)
            resolve(m as { written: number });
        });
        writer.on('error', reject);
      });
      await new Promise<void>((resolve, reject) => {
        writer.once('message', () => resolve());
        writer.once('error', reject);
      });

      const backupFile = join(dirname(target.file), 'copy.db');
      await backupSqlite(source.file, backupFile);
      writer.postMessage('stop');
      const { written } = await done;
      await writer.terminate();
      await store.close();

      const copy = inspect(backupFile);
      assert.equal(copy.integrity, 'ok');
      assert.ok(copy.rows > 0, 'the copy holds the rows committed before it started');
      assert.equal(copy.rows % BATCH, 0, 'no transaction is half in the copy');
      assert.deepEqual(
        copy.ordinals,
        Array.from({ length: copy.rows }, (_, i) => i + 1),
        'a prefix of the committed history, without holes',
      );
      assert.ok(copy.rows < written, 'the writer kept committing while the copy was taken');
      const restored = await createKyselyStore({ sqliteFile: backupFile });
      assert.deepEqual(await restored.migrate(), [], 'the copy is already migrated');
      assert.deepEqual(
        (await restored.workspaces.list()).map((w) => w.name),
        ['Kept across the backup'],
      );
      await restored.close();
    } finally {
      source.cleanup();
      target.cleanup();
    }
  });

  it('copies a cleanly closed database (no WAL side files) too', async () => {
    const source = freshSqliteFile();
    const target = freshSqliteFile();
    try {
      const store = await createKyselyStore({ sqliteFile: source.file });
      await store.migrate();
      const ws = await store.workspaces.create({ name: 'Closed' });
      await store.close();
      assert.equal(existsSync(`${source.file}-wal`), false);
      await backupSqlite(source.file, target.file);
      const restored = await createKyselyStore({ sqliteFile: target.file });
      assert.deepEqual(await restored.workspaces.get(ws.id), ws);
      await restored.close();
    } finally {
      source.cleanup();
      target.cleanup();
    }
  });

  it('refuses to overwrite the database with itself, and a missing source', async () => {
    const source = freshSqliteFile();
    try {
      const store = await createKyselyStore({ sqliteFile: source.file });
      await store.migrate();
      await store.close();
      await assert.rejects(backupSqlite(source.file, source.file), /must differ/);
      await assert.rejects(backupSqlite(`${source.file}.missing`, `${source.file}.copy`));
      assert.equal(existsSync(`${source.file}.copy`), false);
    } finally {
      source.cleanup();
    }
  });
});
