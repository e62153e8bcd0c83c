// P3: the eligibility decision of the pure core (a tight loop over varied window states), and
// `GET /v1/contacts/{id}/eligibility` over HTTP against a real server.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CareWindowState } from '../src/core/care-window.ts';
import { decideSend, eligibility } from '../src/core/eligibility.ts';
import { cpuProfileFlags, monotonicMicros, profileDirLines } from './lib/cpu-profile.ts';
import { formatNumber } from './lib/format.ts';
import { runLoad } from './lib/load.ts';
import { makeWebhookFactory } from './lib/meta-webhooks.ts';
import {
  BENCH_API_KEY,
  createMetaChannel,
  startParleyProcess,
  type ParleyProcess,
} from './lib/parley-process.ts';
import { numberOption, type BenchContext, type BenchReport, type ResultRow } from './lib/types.ts';

const HOUR = 3_600_000;
const NUMBER = { phoneNumberId: '100000000000003', displayPhoneNumber: '15550003333' };
const CONTACTS = 2_000;

/**
 * Window states as they occur: never wrote, open for hours, inside the dispatch margin, closed
 * for a day, and closed early by a late 131047 (CSW-5). Deterministic so runs compare.
 */
export function variedStates(count: number, now: number): CareWindowState[] {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const states: CareWindowState[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    const ago = Math.floor(random() * 23 * HOUR);
    states.push(
      kind === 0
        ? { lastInboundAt: null, closedAt: null }
        : kind === 1
          ? { lastInboundAt: now - ago, closedAt: null }
          : kind === 2
            ? { lastInboundAt: now - 24 * HOUR + 30_000, closedAt: null }
            : kind === 3
              ? { lastInboundAt: now - 25 * HOUR - ago, closedAt: null }
              : { lastInboundAt: now - ago, closedAt: now - Math.floor(ago / 2) },
    );
  }
  return states;
}

/** Calls per second of `decide` over the states, measured for about `seconds`. */
function loopRate(
  states: readonly CareWindowState[],
  now: number,
  seconds: number,
  decide: (state: CareWindowState, at: number) => boolean,
): { perSec: number; allowedShare: number } {
  const mask = states.length - 1; // a power of two
  let calls = 0;
  let allowed = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  for (;;) {
    for (let i = 0; i < 65_536; i++) {
      // The clock moves a little each call, as it does between requests.
      if (decide(states[i & mask]!, now + (i & 1023))) allowed++;
    }
    calls += 65_536;
    if (performance.now() >= until) break;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { perSec: calls / elapsed, allowedShare: allowed / calls };
}

function coreRows(seconds: number): { rows: ResultRow[]; notes: string[] } {
  const now = Date.parse('2026-03-02T09:00:00Z');
  const states = variedStates(4096, now);
  const byEligibility = (s: CareWindowState, at: number) => eligibility(s, at).freeFormAllowed;
  const byDecision = (s: CareWindowState, at: number) => decideSend(s, true, at).allowed;
  // Warm up both so the JIT has optimised them before anything is timed.
  loopRate(states, now, 0.3, byEligibility);
  loopRate(states, now, 0.3, byDecision);
  const e = loopRate(states, now, seconds, byEligibility);
  const d = loopRate(states, now, seconds, byDecision);
  return {
    rows: [
      {
        label: 'core: eligibility(window, now) per second',
        value: e.perSec,
        unit: '/s',
        target: { op: '>=', value: 1_000_000 },
      },
      {
        label:
          'core: decideSend(window, free-form, now) per second, refusals with their detail text',
        value: d.perSec,
        unit: '/s',
        target: { op: '>=', value: 1_000_000 },
      },
    ],
    notes: [
      `Core: one thread, ${seconds} s per function after a warm-up, over 4,096 window states ` +
        `(never wrote, open, inside the 60 s dispatch margin, closed, closed early by CSW-5); ` +
        `${Math.round(e.allowedShare * 100)}% of calls allow free-form.`,
    ],
  };
}

async function listContactIds(server: ParleyProcess): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = null; ;) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page: { items: { id: string }[]; nextCursor: string | null } = await server.api(
      'GET',
      `/v1/contacts?limit=200${query}`,
    );
    ids.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor;
    if (!cursor) return ids;
  }
}

async function httpRows(ctx: BenchContext): Promise<{ rows: ResultRow[]; notes: string[] }> {
  const durationSec = numberOption(ctx.options, 'duration', 10);
  const raw = ctx.options['http-connections'];
  const concurrencies = (typeof raw === 'string' ? raw : '1,10')
    .split(',')
    .map((c) => Number(c))
    .filter((c) => Number.isInteger(c) && c > 0);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-p3-'));
  const profiling = ctx.options.profile === true;
  const profileDir = join(dataDir, 'profile');
  const server = await startParleyProcess({
    repoRoot: ctx.repoRoot,
    dataDir,
    ...(profiling ? { nodeArgs: cpuProfileFlags(profileDir) } : {}),
  });
  let profileFrom: number | undefined;
  let profileTo: number | undefined;
  try {
    const appSecret = randomBytes(16).toString('hex');
    const { connectionId, channelId } = await createMetaChannel(server, {
      appSecret,
      phoneNumberId: NUMBER.phoneNumberId,
      phoneNumber: `+${NUMBER.displayPhoneNumber}`,
    });
    // Contacts with real windows, made the way production makes them: by inbound webhooks.
    // A third wrote 25–48 h ago (closed), the rest within the last day (open).
    const nowSec = Math.floor(Date.now() / 1000);
    const make = makeWebhookFactory({
      number: NUMBER,
      appSecret,
      customers: CONTACTS,
      timestampSec: (i) =>
        i % 3 === 0 ? nowSec - 25 * 3600 - (i % 23) * 3600 : nowSec - (i % 23) * 3600,
    });
    ctx.log(`p3: creating ${formatNumber(CONTACTS)} contacts by webhook`);
    let next = 0;
    const send = async () => {
      while (next < CONTACTS) {
        const w = make(next++);
        const res = await fetch(`${server.url}/webhooks/meta/${connectionId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': w.signature },
          body: w.body,
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, send));
    // Processing runs after the acknowledgement: list until every contact is there.
    let ids: string[] = [];
    for (let tries = 0; ids.length < CONTACTS && tries < 300; tries++) {
      if (tries > 0) await sleep(200);
      ids = await listContactIds(server);
    }
    if (ids.length < CONTACTS)
      throw new Error(`only ${ids.length} of ${CONTACTS} contacts were listed`);
    const sample = await server.api(
      'GET',
      `/v1/contacts/${ids[0]!}/eligibility?channel=${channelId}`,
    );
    if (typeof sample?.allowed?.freeForm !== 'boolean')
      throw new Error(`unexpected eligibility answer ${JSON.stringify(sample)}`);

    const rows: ResultRow[] = [];
    const notes: string[] = [
      `HTTP: \`node bin/parley.js start\` (SQLite) with ${formatNumber(CONTACTS)} contacts created by ` +
        `signed webhooks (a third with a closed window); autocannon for ${durationSec} s per ` +
        `concurrency, each request a different contact.`,
    ];
    const headers = { authorization: `Bearer ${BENCH_API_KEY}` };
    profileFrom = monotonicMicros();
    for (const connections of concurrencies) {
      ctx.log(`p3: GET eligibility for ${durationSec} s with ${connections} connection(s)`);
      const loadAverage = loadavg()[0] ?? 0;
      const cpuStart = server.cpuSeconds();
      let open = 0;
      let answered = 0;
      const load = await runLoad({
        url: server.url,
        connections,
        durationSec,
        request: (n) => ({
          method: 'GET',
          path: `/v1/contacts/${ids[n % ids.length]!}/eligibility?channel=${channelId}`,
          headers,
        }),
        onResponse: (_n, status, body) => {
          if (status !== 200) return;
          answered++;
          if (body.includes('"freeForm":true')) open++;
        },
      });
      const serverCpu = server.cpuSeconds() - cpuStart;
      const c = `${connections} connection${connections === 1 ? '' : 's'}`;
      rows.push(
        { label: `HTTP, ${c}: answers per second`, value: load.okPerSec, unit: '/s' },
        { label: `HTTP, ${c}: latency p50`, value: load.latencyP50Ms, unit: 'ms' },
        {
          label: `HTTP, ${c}: latency p99`,
          value: load.latencyP99Ms,
          unit: 'ms',
          target: { op: '<', value: 5 },
        },
        {
          label: `HTTP, ${c}: non-2xx answers and socket errors`,
          value: load.non2xx + load.errors,
          unit: '',
          target: { op: '==', value: 0 },
        },
        {
          label: `HTTP, ${c}: server CPU per answer`,
          value: (serverCpu * 1e6) / Math.max(1, load.ok2xx),
          unit: 'µs',
        },
      );
      notes.push(
        `HTTP, ${c}: ${formatNumber(load.ok2xx)} answers ` +
          `(${Math.round((open / Math.max(1, answered)) * 100)}% free-form allowed), max latency ` +
          `${formatNumber(load.latencyMaxMs)} ms; the server used ${(serverCpu / load.durationSec).toFixed(2)} ` +
          `cores; 1-minute load average ${loadAverage.toFixed(1)} at the start.`,
      );
    }
    profileTo = monotonicMicros();
    if (profiling) {
      await server.stop();
      const lines = profileDirLines(profileDir, { from: profileFrom, to: profileTo });
      for (const line of lines) ctx.log(`p3: ${line}`);
      notes.push(...lines.map((l) => `HTTP: ${l.trim()}`));
    }
    return { rows, notes };
  } catch (error) {
    ctx.log(`p3: server output:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const core = coreRows(numberOption(ctx.options, 'core-seconds', 2));
  const http = await httpRows(ctx);
  return {
    id: 'p3',
    title: 'eligibility decision: pure core, and over HTTP',
    rows: [...core.rows, ...http.rows],
    notes: [...core.notes, ...http.notes],
  };
}
