// P1: signed Meta webhooks (one text message each) → verified, stored durably, acknowledged, on
// SQLite and PostgreSQL; then how fast processing (contact, window, threading) empties the backlog.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/app/config.ts';
import { openStore } from '../src/app/container.ts';
import type { Store } from '../src/ports/store.ts';
import { freshPostgresUrl, postgresAvailable } from '../test/helpers/databases.ts';
import { cpuProfileFlags, monotonicMicros, profileDirLines } from './lib/cpu-profile.ts';
import { formatNumber } from './lib/format.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { makeWebhookFactory, type SignedWebhook } from './lib/meta-webhooks.ts';
import { createMetaChannel, startParleyProcess } from './lib/parley-process.ts';
import { readStored } from './lib/stored-messages.ts';
import { numberOption, type BenchContext, type BenchReport, type ResultRow } from './lib/types.ts';

const NUMBER = { phoneNumberId: '100000000000001', displayPhoneNumber: '15550001111' };
const CUSTOMERS = 3_000;
const DRAIN_TIMEOUT_MS = 300_000;

interface DialectRun {
  readonly load: LoadResult;
  readonly warmupAcked: number;
  readonly backlogPeak: number;
  /** From the end of the load until no webhook is left unprocessed (null: timed out). */
  readonly drainMs: number | null;
  /** Webhooks processed per second from the start of the measured load until the backlog was empty. */
  readonly processedPerSec: number;
  /** Webhooks processed per second while the load ran (compare with acknowledged per second). */
  readonly processedDuringLoadPerSec: number;
  /** Server CPU (user + system) per webhook, from the start of the load until the backlog was empty. */
  readonly serverCpuUsPerWebhook: number;
  /** The load generator's own CPU during the load, as a share of one core. */
  readonly generatorCores: number;
  /** The server's CPU during the load, as a share of one core. */
  readonly serverCores: number;
  readonly loadAverage: number;
  readonly failed: number;
  readonly acked: number;
  readonly storedMessages: number;
  readonly storedWebhooks: number;
  readonly ackedMissing: number;
  readonly profile: string[];
}

async function countReceived(store: Store): Promise<number> {
  return store.webhooks.countByState('received');
}

/** Polls until no webhook is left unprocessed; false if that took longer than the timeout. */
async function waitForEmptyBacklog(store: Store, onSample: (n: number) => void): Promise<boolean> {
  const start = performance.now();
  while (performance.now() - start < DRAIN_TIMEOUT_MS) {
    const n = await countReceived(store);
    onSample(n);
    if (n === 0) return true;
    await sleep(50);
  }
  return false;
}

async function measure(
  ctx: BenchContext,
  label: string,
  databaseUrl: string | undefined,
): Promise<DialectRun> {
  const durationSec = numberOption(ctx.options, 'duration', 10);
  const warmupSec = numberOption(ctx.options, 'warmup', 2);
  const connections = numberOption(ctx.options, 'connections', 32);
  const profiling = ctx.options.profile === true;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-p1-'));
  const profileDir = join(dataDir, 'profile');
  const server = await startParleyProcess({
    repoRoot: ctx.repoRoot,
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(profiling ? { nodeArgs: cpuProfileFlags(profileDir) } : {}),
  });
  let store: Store | null = null;
  try {
    const appSecret = randomBytes(16).toString('hex');
    const { connectionId, channelId } = await createMetaChannel(server, {
      appSecret,
      phoneNumberId: NUMBER.phoneNumberId,
      phoneNumber: `+${NUMBER.displayPhoneNumber}`,
    });
    const config = loadConfig({
      PARLEY_DATA_DIR: dataDir,
      ...(databaseUrl ? { PARLEY_DATABASE_URL: databaseUrl } : {}),
    });
    store = await openStore(config);

    // Pre-signed so the load generator spends its time sending, not hashing; more are made on
    // demand if the server outruns the estimate.
    const startSec = Math.floor(Date.now() / 1000) - 3_600;
    const make = makeWebhookFactory({
      number: NUMBER,
      appSecret,
      customers: CUSTOMERS,
      // Each customer's next message is a second later than their last, so every message
      // restarts the care window (CSW-1) and is written, as in real traffic.
      timestampSec: (i) => startSec + Math.floor(i / CUSTOMERS),
    });
    const expected = Math.ceil((durationSec + warmupSec) * (databaseUrl ? 8_000 : 16_000));
    ctx.log(`p1 ${label}: signing ${formatNumber(expected)} webhooks`);
    const pool: SignedWebhook[] = [];
    for (let i = 0; i < expected; i++) pool.push(make(i));
    const webhook = (n: number): SignedWebhook => (pool[n] ??= make(n));
    const path = `/webhooks/meta/${connectionId}`;
    const acked: string[] = [];
    const request = (n: number) => {
      const w = webhook(n);
      return {
        method: 'POST' as const,
        path,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': w.signature },
        body: w.body,
      };
    };
    const onResponse = (n: number, status: number) => {
      if (status >= 200 && status < 300) acked.push(webhook(n).messageId);
    };

    ctx.log(`p1 ${label}: warm-up ${warmupSec} s`);
    const warm = await runLoad({
      url: server.url,
      connections,
      durationSec: warmupSec,
      request,
      onResponse,
    });
    await waitForEmptyBacklog(store, () => undefined);
    const processedBefore = await store.webhooks.countByState('processed');
    const warmupAcked = acked.length;

    ctx.log(`p1 ${label}: ${durationSec} s with ${connections} connections`);
    let backlogPeak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        backlogPeak = Math.max(backlogPeak, await countReceived(store));
        await sleep(200);
      }
    })();
    const loadAverage = loadavg()[0] ?? 0;
    const loadStart = performance.now();
    const profileFrom = monotonicMicros();
    const serverCpuStart = server.cpuSeconds();
    const generatorCpuStart = process.cpuUsage();
    const load = await runLoad({
      url: server.url,
      connections,
      durationSec,
      firstIndex: warm.nextIndex,
      request,
      onResponse,
    });
    const loadEnd = performance.now();
    const generatorCpu = process.cpuUsage(generatorCpuStart);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const serverCores = (server.cpuSeconds() - serverCpuStart) / loadSeconds;
    sampling = false;
    await sampler;
    const processedDuringLoad = (await store.webhooks.countByState('processed')) - processedBefore;
    const track = (n: number) => {
      backlogPeak = Math.max(backlogPeak, n);
    };
    let drained = await waitForEmptyBacklog(store, track);
    let drainMs: number | null = performance.now() - loadEnd;
    // Requests still in flight when the generator stopped may be stored a moment later.
    await sleep(1_000);
    if (drained && (await countReceived(store)) > 0) {
      drained = await waitForEmptyBacklog(store, track);
      drainMs = performance.now() - loadEnd;
    }
    if (!drained) drainMs = null;
    const profileTo = monotonicMicros();
    const processed = (await store.webhooks.countByState('processed')) - processedBefore;
    const processedPerSec = processed / ((performance.now() - loadStart) / 1000);
    const serverCpuUsPerWebhook = ((server.cpuSeconds() - serverCpuStart) * 1e6) / processed;
    const failed = await store.webhooks.countByState('failed');
    await store.close();
    store = null;
    await server.stop();

    const stored = await readStored(
      databaseUrl ? { databaseUrl } : { sqliteFile: config.sqliteFile },
      channelId,
      connectionId,
    );
    const ackedMissing = acked.filter((id) => !stored.inboundIds.has(id)).length;
    const profile = profiling
      ? profileDirLines(profileDir, { from: profileFrom, to: profileTo })
      : [];
    for (const line of profile) ctx.log(`p1 ${label}: ${line}`);
    return {
      load,
      warmupAcked,
      backlogPeak,
      drainMs,
      processedPerSec,
      processedDuringLoadPerSec: processedDuringLoad / loadSeconds,
      serverCpuUsPerWebhook,
      generatorCores: (generatorCpu.user + generatorCpu.system) / 1e6 / loadSeconds,
      serverCores,
      loadAverage,
      failed,
      acked: acked.length,
      storedMessages: stored.inboundRows,
      storedWebhooks: stored.webhookRows,
      ackedMissing,
      profile,
    };
  } catch (error) {
    ctx.log(`p1 ${label}: server output:\n${server.output()}`);
    throw error;
  } finally {
    await store?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function rowsFor(label: string, run: DialectRun, rateTarget: number): ResultRow[] {
  const l = run.load;
  return [
    {
      label: `${label}: webhooks acknowledged per second`,
      value: l.okPerSec,
      unit: '/s',
      target: { op: '>=', value: rateTarget },
    },
    { label: `${label}: latency p50`, value: l.latencyP50Ms, unit: 'ms' },
    {
      label: `${label}: latency p99`,
      value: l.latencyP99Ms,
      unit: 'ms',
      target: { op: '<', value: 25 },
    },
    {
      label: `${label}: non-2xx answers and socket errors`,
      value: l.non2xx + l.errors,
      unit: '',
      target: { op: '==', value: 0 },
    },
    {
      label: `${label}: processed per second while the load ran`,
      value: run.processedDuringLoadPerSec,
      unit: '/s',
    },
    { label: `${label}: unprocessed backlog, peak`, value: run.backlogPeak, unit: 'webhooks' },
    {
      label: `${label}: backlog empty after the load ended`,
      value: run.drainMs === null ? null : run.drainMs / 1000,
      unit: 's',
    },
    {
      label: `${label}: processed per second (load start → backlog empty)`,
      value: run.processedPerSec,
      unit: '/s',
    },
    {
      label: `${label}: server CPU per webhook (ingest + processing)`,
      value: run.serverCpuUsPerWebhook,
      unit: 'µs',
    },
    {
      label: `${label}: webhooks per second one full core could take (1 s ÷ CPU per webhook)`,
      value: 1e6 / run.serverCpuUsPerWebhook,
      unit: '/s',
      target: { op: '>=', value: rateTarget },
    },
    {
      label: `${label}: stored webhooks without exactly one stored message`,
      value: run.storedWebhooks - run.storedMessages,
      unit: '',
      target: { op: '==', value: 0 },
    },
    {
      label: `${label}: acknowledged webhooks without their stored message`,
      value: run.ackedMissing,
      unit: '',
      target: { op: '==', value: 0 },
    },
  ];
}

function notesFor(label: string, run: DialectRun): string[] {
  const l = run.load;
  const notes = [
    `${label}: ${formatNumber(l.ok2xx)} webhooks acknowledged in ${l.durationSec.toFixed(1)} s ` +
      `(after a warm-up of ${formatNumber(run.warmupAcked)}), max latency ${formatNumber(l.latencyMaxMs)} ms; ` +
      `${formatNumber(run.acked)} acknowledged in all, ${formatNumber(run.storedWebhooks)} webhooks and ` +
      `${formatNumber(run.storedMessages)} inbound messages stored, ${run.failed} failed processing` +
      (run.storedMessages > run.acked
        ? ` (the ${run.storedMessages - run.acked} extra were stored but their answers were still in flight when the load generator stopped)`
        : '') +
      '.',
  ];
  notes.push(
    `${label}: during the load the server used ${run.serverCores.toFixed(2)} cores and the load generator ` +
      `${run.generatorCores.toFixed(2)}; the 1-minute load average was ${run.loadAverage.toFixed(1)} when it began ` +
      `(other work on the machine takes the rest).`,
  );
  if (label === 'PostgreSQL')
    notes.push(
      'PostgreSQL: CPU figures count the Parley process only; the database server works in its own processes on the same cores.',
    );
  if (run.drainMs === null)
    notes.push(`${label}: the backlog was not empty ${DRAIN_TIMEOUT_MS / 1000} s after the load.`);
  for (const line of run.profile) notes.push(`${label}: ${line.trim()}`);
  return notes;
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const connections = numberOption(ctx.options, 'connections', 32);
  const durationSec = numberOption(ctx.options, 'duration', 10);
  const rows: ResultRow[] = [];
  const notes: string[] = [
    `Setup: \`node bin/parley.js start\` as a child process on 127.0.0.1 (log level info, request logging off), ` +
      `a \`meta\` connection and channel created through the API; autocannon in the benchmark process, ` +
      `${connections} connections, ${durationSec} s after a warm-up, each request a distinct pre-signed ` +
      `webhook (\`X-Hub-Signature-256\`) with one text message from one of ${formatNumber(CUSTOMERS)} customers (each customer's messages a second apart, so every one restarts the care window). ` +
      `Server and load generator share the machine's cores.`,
  ];

  const sqlite = await measure(ctx, 'SQLite', undefined);
  rows.push(...rowsFor('SQLite', sqlite, 10_000));
  notes.push(...notesFor('SQLite', sqlite));

  if (ctx.options['skip-postgres'] === true) {
    notes.push('PostgreSQL: skipped (--skip-postgres).');
  } else if (!(await postgresAvailable())) {
    const where = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
    ctx.log(`p1: PostgreSQL skipped, no server answers at ${where}`);
    notes.push(`PostgreSQL: skipped, no server answered (set PARLEY_TEST_POSTGRES_URL).`);
  } else {
    const db = await freshPostgresUrl();
    try {
      const pg = await measure(ctx, 'PostgreSQL', db.url);
      rows.push(...rowsFor('PostgreSQL', pg, 3_000));
      notes.push(...notesFor('PostgreSQL', pg));
    } finally {
      await db.drop();
    }
  }
  return {
    id: 'p1',
    title: 'signed Meta webhooks → verified, stored, acknowledged; processing keeps up',
    rows,
    notes,
  };
}
