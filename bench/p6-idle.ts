// P6: an idle server holding 100,000 contacts: resident memory once healthy and idle, and the
// time from spawning `node bin/parley.js start` to `/healthz` answering 200.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/app/config.ts';
import { openStore } from '../src/app/container.ts';
import { formatNumber } from './lib/format.ts';
import { customerWaId } from './lib/meta-webhooks.ts';
import { startParleyProcess } from './lib/parley-process.ts';
import { numberOption, type BenchContext, type BenchReport } from './lib/types.ts';

// Decimal megabytes, as in the target (250 MB); MiB would flatter the figure by 5 %.
const MB = 1_000_000;
const BATCH = 5_000;

/** Inserts `count` contacts straight through the store, `BATCH` per transaction. */
async function seedContacts(
  dataDir: string,
  count: number,
): Promise<{ seconds: number; stored: number }> {
  const store = await openStore(loadConfig({ PARLEY_DATA_DIR: dataDir }));
  try {
    await store.migrate();
    const workspace = await store.workspaces.create({ name: 'Benchmark workspace' });
    const start = performance.now();
    const at = Date.now();
    for (let from = 0; from < count; from += BATCH) {
      await store.transaction(async (tx) => {
        for (let i = from; i < Math.min(count, from + BATCH); i++)
          await tx.contacts.upsert({
            workspaceId: workspace.id,
            waId: customerWaId(i),
            name: `Customer ${i}`,
            at,
          });
      });
    }
    const seconds = (performance.now() - start) / 1000;
    return { seconds, stored: await store.contacts.count(workspace.id) };
  } finally {
    await store.close();
  }
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const contacts = numberOption(ctx.options, 'contacts', 100_000);
  const starts = numberOption(ctx.options, 'starts', 3);
  const idleSec = numberOption(ctx.options, 'idle', 5);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-p6-'));
  try {
    ctx.log(`p6: inserting ${formatNumber(contacts)} contacts`);
    const seeded = await seedContacts(dataDir, contacts);
    if (seeded.stored !== contacts)
      throw new Error(`expected ${contacts} contacts, the store holds ${seeded.stored}`);

    const startMs: number[] = [];
    const startCpu: number[] = [];
    const rss: number[] = [];
    const peak: number[] = [];
    const loads: number[] = [];
    for (let n = 0; n < starts; n++) {
      loads.push(loadavg()[0] ?? 0);
      const server = await startParleyProcess({ repoRoot: ctx.repoRoot, dataDir });
      try {
        startMs.push(server.healthyAfterMs);
        startCpu.push(server.cpuToHealthySec);
        // Idle: nothing is sent to it; timers (dispatcher, sweeps) run as they would.
        await sleep(idleSec * 1000);
        const page = await server.api('GET', '/v1/contacts?limit=1');
        if (!Array.isArray(page?.items) || page.items.length !== 1)
          throw new Error('the server does not list the seeded contacts');
        // Read after the request above has been answered and the server is idle again.
        await sleep(500);
        rss.push(server.rssBytes());
        peak.push(server.peakRssBytes());
        ctx.log(
          `p6: start ${n + 1}: healthy after ${Math.round(server.healthyAfterMs)} ms, ` +
            `RSS ${(rss.at(-1)! / MB).toFixed(1)} MB`,
        );
      } finally {
        await server.stop();
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const list = (xs: number[], f: (x: number) => string) => xs.map(f).join(', ');
    return {
      id: 'p6',
      title: 'idle server with 100,000 contacts: memory and start time',
      rows: [
        {
          label: `idle RSS with ${formatNumber(contacts)} contacts (largest of ${starts} starts)`,
          value: Math.max(...rss) / MB,
          unit: 'MB',
          target: { op: '<', value: 250 },
        },
        {
          label: `spawn → /healthz 200, mean of ${starts} starts`,
          value: mean(startMs) / 1000,
          unit: 's',
          target: { op: '<', value: 3 },
        },
        {
          label: `spawn → /healthz 200, slowest of ${starts} starts`,
          value: Math.max(...startMs) / 1000,
          unit: 's',
        },
        {
          // All threads (loader hooks, compiler, GC), so it can exceed the wall time on 2 cores.
          label: 'CPU time used by the server until healthy (all threads), mean',
          value: mean(startCpu),
          unit: 's',
        },
      ],
      notes: [
        `Setup: ${formatNumber(contacts)} contacts inserted through the store in transactions of ` +
          `${formatNumber(BATCH)} (${formatNumber(contacts / seeded.seconds)} contacts/s), then ` +
          `\`node bin/parley.js start\` (SQLite, configured with an admin key so no demo traffic runs) ` +
          `spawned ${starts} times on that data dir; RSS is VmRSS of /proc/PID/status ${idleSec} s after ` +
          `/healthz first answered (and after one \`GET /v1/contacts\`).`,
        `Start times ${list(startMs, (ms) => `${(ms / 1000).toFixed(2)} s`)}; idle RSS ` +
          `${list(rss, (b) => `${(b / MB).toFixed(0)} MB`)}; peak RSS (VmHWM) ` +
          `${list(peak, (b) => `${(b / MB).toFixed(0)} MB`)}; 1-minute load average at each start ` +
          `${list(loads, (l) => l.toFixed(1))}. Sources are TypeScript compiled by tsx at start ` +
          `(its cache is warm after the first start).`,
      ],
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
