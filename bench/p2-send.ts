// P2: `POST /v1/messages` → policy → stored → queued → paced → sent to the Cloud API emulator over
// HTTP → `sent`/`delivered`/`read` status webhooks back → stored: messages per second end to end,
// with every channel's busiest second checked against its rate (LIM-1), and where the CPU goes.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { startEmulator } from '../src/adapters/providers/sandbox/emulator/index.ts';
import { cpuProfileFlags, monotonicMicros, profileDirLines } from './lib/cpu-profile.ts';
import { formatNumber } from './lib/format.ts';
import { runLoad } from './lib/load.ts';
import {
  BENCH_API_KEY,
  freePort,
  processCpuSeconds,
  startParleyProcess,
} from './lib/parley-process.ts';
import { numberOption, type BenchContext, type BenchReport } from './lib/types.ts';

const MPS = 1_000;
const ACCESS_TOKEN = 'p2-access-token';
const APP_SECRET = 'p2-app-secret';
const DRAIN_TIMEOUT_MS = 300_000;

/** The most sends in any half-open second [s, s + 1000). */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let from = 0, to = 0; to < sorted.length; to++) {
    while (sorted[to]! - sorted[from]! >= 1_000) from++;
    max = Math.max(max, to - from + 1);
  }
  return max;
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const connections = numberOption(ctx.options, 'connections', 32);
  const durationSec = numberOption(ctx.options, 'duration', 10);
  const channelCount = numberOption(ctx.options, 'channels', 4);
  const profiling = ctx.options.profile === true;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-p2-'));
  const profileDir = join(dataDir, 'profile');
  const numbers = Array.from({ length: channelCount }, (_, i) => ({
    phoneNumberId: `10900000000000${i}`,
    displayPhoneNumber: `1555010${String(1000 + i)}`,
    throughputMps: MPS,
  }));
  const emulatorPort = await freePort();
  const server = await startParleyProcess({
    repoRoot: ctx.repoRoot,
    dataDir,
    env: { PARLEY_LOG_LEVEL: 'warn' },
    ...(profiling ? { nodeArgs: cpuProfileFlags(profileDir) } : {}),
  });
  let emulator: Awaited<ReturnType<typeof startEmulator>> | null = null;
  try {
    const connection = await server.api('POST', '/v1/connections', {
      provider: 'meta',
      name: 'Emulated Cloud API',
      config: { baseUrl: `http://127.0.0.1:${emulatorPort}` },
      secrets: { accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: 'p2-verify' },
    });
    const channelIds: string[] = [];
    for (const n of numbers) {
      const channel = await server.api('POST', '/v1/channels', {
        connectionId: connection.id,
        name: `P2 ${n.phoneNumberId}`,
        providerKey: n.phoneNumberId,
        phoneNumber: n.displayPhoneNumber,
        throughputMps: MPS,
      });
      channelIds.push(String(channel.id));
    }
    // Transactional notifications to customers who agreed elsewhere: P2 measures sending.
    await server.api('PATCH', '/v1/consent/policy', { policy: 'permissive' });
    emulator = await startEmulator({
      port: emulatorPort,
      webhookUrl: `${server.url}/webhooks/meta/${String(connection.id)}`,
      appSecret: APP_SECRET,
      accessToken: ACCESS_TOKEN,
      numbers,
      statusDelays: { sent: [0, 20], delivered: [0, 20], read: [0, 20] },
      onError: (error) => ctx.log(`p2 emulator: ${String(error)}`),
    });
    const world = emulator.world;

    const body = (n: number) =>
      Buffer.from(
        JSON.stringify({
          channelId: channelIds[n % channelIds.length],
          to: `4477${String(10_000_000 + n)}`,
          type: 'template',
          template: { name: 'hello_world', language: { code: 'en_US' } },
        }),
      );
    const request = (n: number) => ({
      method: 'POST' as const,
      path: '/v1/messages',
      headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
      body: body(n),
    });
    ctx.log(`p2: warm-up`);
    const warm = await runLoad({ url: server.url, connections, durationSec: 2, request });
    await sleep(2_000);

    const loadAverage = loadavg()[0] ?? 0;
    const db = new Database(join(dataDir, 'parley.db'), { readonly: true });
    const countRead = db.prepare(
      `select count(*) as n from messages where direction = 'outbound' and status = 'read'`,
    );
    const sendsBefore = world.outbound().length;
    ctx.log(`p2: ${durationSec} s with ${connections} connections, ${channelCount} channels`);
    const cpuBefore = processCpuSeconds(server.pid);
    const ownCpuBefore = process.cpuUsage();
    const profileFrom = monotonicMicros();
    const started = performance.now();
    const load = await runLoad({
      url: server.url,
      connections,
      durationSec,
      firstIndex: warm.nextIndex,
      request,
    });
    // End to end: until every accepted message (warm-up included) has its `read` status stored.
    const expected = warm.ok2xx + load.ok2xx;
    let readNow = 0;
    let doneAt: number | null = null;
    while (performance.now() - started < DRAIN_TIMEOUT_MS + durationSec * 1_000) {
      readNow = (countRead.get() as { n: number }).n;
      if (readNow >= expected) {
        doneAt = performance.now();
        break;
      }
      await sleep(50);
    }
    const profileTo = monotonicMicros();
    const elapsedSec = ((doneAt ?? performance.now()) - started) / 1_000;
    const serverCpu = processCpuSeconds(server.pid) - cpuBefore;
    const own = process.cpuUsage(ownCpuBefore);
    const ownCpu = (own.user + own.system) / 1e6;
    const stats = db
      .prepare(
        `select status, needs_review as review, count(*) as n from messages where direction = 'outbound' group by 1, 2`,
      )
      .all() as { status: string; review: number; n: number }[];
    db.close();

    const sends = world.outbound().slice(sendsBefore);
    const busiest = Math.max(
      0,
      ...numbers.map((n) =>
        busiestSecond(
          sends.filter((s) => s.phoneNumberId === n.phoneNumberId).map((s) => s.acceptedAt),
        ),
      ),
    );
    const perRecipient = new Map<string, number>();
    for (const s of world.outbound()) perRecipient.set(s.to, (perRecipient.get(s.to) ?? 0) + 1);
    const duplicates = [...perRecipient.values()].filter((n) => n > 1).length;
    const endToEnd = doneAt === null ? null : load.ok2xx / elapsedSec;
    await server.stop();
    const profile = profiling
      ? profileDirLines(profileDir, { from: profileFrom, to: profileTo })
      : [];
    for (const line of profile) ctx.log(`p2: ${line}`);

    return {
      id: 'p2',
      title:
        'send path end to end (API → policy → store → queue → Cloud API emulator → status webhooks → store)',
      rows: [
        {
          label: 'messages per second end to end (read status stored)',
          value: endToEnd,
          unit: 'msg/s',
          target: { op: '>=', value: 3_000 },
        },
        { label: 'API accepted per second (202)', value: load.okPerSec, unit: 'req/s' },
        { label: 'API latency p99', value: load.latencyP99Ms, unit: 'ms' },
        {
          label: `busiest second of any channel (tier ${MPS} mps)`,
          value: busiest,
          unit: 'msg',
          target: { op: '<=', value: MPS },
        },
        {
          label: 'recipients who got two messages',
          value: duplicates,
          unit: '',
          target: { op: '==', value: 0 },
        },
        {
          label: 'server CPU per message',
          value: load.ok2xx > 0 ? (serverCpu / load.ok2xx) * 1e6 : null,
          unit: 'µs',
        },
      ],
      notes: [
        `Setup: one \`node bin/parley.js start\` on SQLite (log level warn) as a child process; the Cloud API emulator (\`startEmulator\`, ${channelCount} numbers at ${MPS} mps, LIM-1 and LIM-2 enforced, statuses after 0–20 ms each, every message read) and autocannon (${connections} connections) in the benchmark process; about five HTTP exchanges per message (the API call, the send, three status webhooks). All on the same cores.`,
        `${formatNumber(load.ok2xx)} messages accepted in ${load.durationSec.toFixed(1)} s (after a 2 s warm-up of ${formatNumber(warm.ok2xx)}); the last \`read\` status was stored ${elapsedSec.toFixed(1)} s after the load began${doneAt === null ? ' — NOT all within the drain timeout' : ''}; ${load.non2xx} non-2xx answers, ${load.errors} errors.`,
        `Outcomes stored: ${stats.map((s) => `${s.status}${s.review ? ' (review)' : ''} ${formatNumber(s.n)}`).join(', ')}.`,
        `CPU during the measurement: server ${serverCpu.toFixed(1)} s (${(serverCpu / elapsedSec).toFixed(2)} cores), benchmark process with emulator and load generator ${ownCpu.toFixed(1)} s (${(ownCpu / elapsedSec).toFixed(2)} cores); 1-minute load average ${loadAverage.toFixed(1)} when it began (other work on the machine takes the rest).`,
        ...profile.map((line) => line.trim()),
      ],
    };
  } finally {
    await server.stop().catch(() => undefined);
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
