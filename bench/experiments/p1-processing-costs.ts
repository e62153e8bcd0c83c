// What batching P1's processing would buy: server CPU per webhook for ingestion and processing,
// in-process (no HTTP), as the code is and with several webhooks processed per transaction
// (simulated from the outside: nested store transactions join the open one). Not part of
// `npm run bench`:
// `node --import tsx bench/experiments/p1-processing-costs.ts [--postgres]` (a throwaway database
// on the test server, dropped afterwards).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createChannel, createConnection, createWorkspace } from '../../src/app/admin.ts';
import { loadConfig } from '../../src/app/config.ts';
import { createParley } from '../../src/app/container.ts';
import { ingestWebhook, processWebhook, type IngestResult } from '../../src/app/receive-webhook.ts';
import { freshPostgresUrl } from '../../test/helpers/databases.ts';
import { makeWebhookFactory } from '../lib/meta-webhooks.ts';

type Stored = Extract<IngestResult, { kind: 'stored' }>;

const CUSTOMERS = 3_000;
const ROUND = 3_000;
const postgres = process.argv.includes('--postgres') ? await freshPostgresUrl() : null;
const databaseUrl = postgres?.url;
const dir = mkdtempSync(join(tmpdir(), 'parley-p1-costs-'));
const config = loadConfig({
  PARLEY_DATA_DIR: dir,
  PARLEY_LOG_LEVEL: 'silent',
  PARLEY_ADMIN_API_KEY: 'parley-experiment-key-0123456789',
  ...(databaseUrl ? { PARLEY_DATABASE_URL: databaseUrl } : {}),
});
const parley = await createParley(config);
const deps = parley.deps;
try {
  const workspace = await createWorkspace(deps, 'Experiment');
  const connection = await createConnection(deps, {
    workspaceId: workspace.id,
    provider: 'meta',
    name: 'Meta',
    secrets: { accessToken: 'a', appSecret: 'experiment-secret', verifyToken: 'v' },
  });
  await createChannel(deps, {
    workspaceId: workspace.id,
    connectionId: connection.id,
    name: 'Number',
    providerKey: '100000000000001',
    phoneNumber: '15550001111',
  });
  await parley.start({ listen: false });
  // Processing is driven below, one way or another; nothing else may run meanwhile.
  await parley.processor.stop();
  await parley.dispatcher.stop();

  const make = makeWebhookFactory({
    number: { phoneNumberId: '100000000000001', displayPhoneNumber: '15550001111' },
    appSecret: 'experiment-secret',
    customers: CUSTOMERS,
    timestampSec: (i) => 1_790_000_000 + Math.floor(i / CUSTOMERS),
  });
  let next = 0;

  /** Ingests `n` webhooks concurrently (as parallel HTTP requests would); CPU µs per webhook. */
  const ingest = async (n: number): Promise<{ stored: Stored[]; cpuUs: number }> => {
    const start = process.cpuUsage();
    const results = await Promise.all(
      Array.from({ length: n }, () => {
        const w = make(next++);
        return ingestWebhook(deps, {
          connectionId: connection.id,
          ingress: 'meta',
          raw: {
            method: 'POST',
            url: `${config.publicUrl}/webhooks/meta/${connection.id}`,
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': w.signature },
            query: {},
            body: w.body,
          },
        });
      }),
    );
    const cpu = process.cpuUsage(start);
    const stored = results.filter((r): r is Stored => r.kind === 'stored');
    if (stored.length !== n) throw new Error('a webhook was rejected');
    return { stored, cpuUs: (cpu.user + cpu.system) / n };
  };

  /** CPU and wall µs per webhook to process one fresh round of webhooks. */
  const processRound = async (perTransaction: number): Promise<{ cpu: number; wall: number }> => {
    const { stored } = await ingest(ROUND);
    const start = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < stored.length; i += perTransaction) {
      const slice = stored.slice(i, i + perTransaction);
      // The store reuses an open transaction for nested ones, so each webhook joins this one.
      if (perTransaction === 1) await processWebhook(deps, slice[0]!.webhook, slice[0]!.events);
      else
        await deps.store.transaction(async () => {
          for (const s of slice) await processWebhook(deps, s.webhook, s.events);
        });
    }
    const cpu = process.cpuUsage(start);
    return {
      cpu: (cpu.user + cpu.system) / ROUND,
      wall: ((performance.now() - t0) * 1000) / ROUND,
    };
  };

  const variants = [1, 10, 100, 500].map((perTransaction) => ({
    label:
      perTransaction === 1
        ? 'as is: one transaction per webhook'
        : `${perTransaction} webhooks per transaction`,
    perTransaction,
  }));
  const repeats = 3;
  console.log(
    `store: ${deps.store.dialect}; ${ROUND} webhooks per measurement, ${CUSTOMERS} customers, ` +
      `best of ${repeats} interleaved repeats (the machine is shared)`,
  );
  await processRound(1); // every customer's first message: contacts and conversations created
  const best = variants.map(() => ({ cpu: Infinity, wall: Infinity, ingest: Infinity }));
  for (let r = 0; r < repeats; r++) {
    for (const [i, v] of variants.entries()) {
      const p = await processRound(v.perTransaction);
      const { cpuUs } = await ingest(ROUND);
      const b = best[i]!;
      b.cpu = Math.min(b.cpu, p.cpu);
      b.wall = Math.min(b.wall, p.wall);
      b.ingest = Math.min(b.ingest, cpuUs);
    }
  }
  for (const [i, v] of variants.entries()) {
    const b = best[i]!;
    console.log(
      `${v.label.padEnd(40)} processing ${b.cpu.toFixed(0).padStart(5)} µs CPU ` +
        `(${b.wall.toFixed(0).padStart(5)} µs wall), ingest ${b.ingest.toFixed(0).padStart(4)} µs CPU per webhook`,
    );
  }
} finally {
  await parley.stop();
  rmSync(dir, { recursive: true, force: true });
  await postgres?.drop();
}
