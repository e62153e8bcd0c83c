// Benchmark P4: `parley rate` on a generated usage log (10 million events by default): events/s
// and resident memory sampled during the run. `npm run bench -- p4 [--events=N] [--eras=current]`,
// or alone: `node --import tsx bench/p4-rate.ts [--events N] [--eras all|current] [--file PATH] [--keep]`.
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { rateCommand } from '../src/cli/rate-command.ts';
import { describeMachine, machineLine } from './lib/machine.ts';
import { numberOption, type BenchmarkRun } from './lib/types.ts';

const DAY = 86_400_000;

export interface P4Options {
  /** Events in the generated log. */
  readonly events: number;
  /** `all`: late 2021 to the end of 2026 (every era); `current`: 2026-07-01 … 2026-12-31. */
  readonly eras: 'all' | 'current';
  /** Rate this existing log instead of generating one. */
  readonly file?: string;
  /** Keep the generated log (its path is in the result). */
  readonly keep?: boolean;
  readonly log?: (line: string) => void;
}

export interface P4Result {
  readonly events: number;
  readonly delivered: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** CPU time (user + system, all threads) of the run: what a busy shared machine distorts least. */
  readonly cpuSeconds: number;
  readonly eventsPerCpuSecond: number;
  /**
   * CPU time of the main (rating) thread alone, from /proc (Linux; null elsewhere): with a core
   * free for the reader thread, this thread is what limits the rate.
   */
  readonly mainThreadCpuSeconds: number | null;
  /** 1-minute load average at the start: other work competing for the cores. */
  readonly loadAverage: number;
  readonly rssBeforeBytes: number;
  readonly peakRssBytes: number;
  /** RSS at the end of each tenth of the run: flat memory shows as a flat row. */
  readonly rssByTenth: readonly number[];
  readonly peakHeapUsedBytes: number;
  readonly exitCode: number;
  readonly stderr: string;
  readonly file: string;
}

/** mulberry32: a small seeded generator, so every run rates the same log. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Recipient numbering plans: [prefix, digits to add, weight]; markets on the illustrative card. */
const NUMBERS: ReadonlyArray<readonly [string, number, number]> = [
  ['+1212555', 4, 20], // United States → North America
  ['+1416555', 4, 5], // Canada → North America
  ['+4477009', 5, 15], // United Kingdom
  ['+9198', 8, 25], // India
  ['+55119', 8, 15], // Brazil
  ['+49151', 8, 8], // Germany
  ['+43664', 7, 4], // Austria → Rest of Western Europe
  ['+35191', 7, 4], // Portugal → Rest of Western Europe
  ['+3546', 6, 4], // Iceland → Other
];

/** W1 runs in UTC, W2 and W3 name their zone in the log, W4 gets it from --tz. */
const WABAS: ReadonlyArray<{ readonly id: string; readonly tz?: string }> = [
  { id: 'W1' },
  { id: 'W2', tz: 'America/Sao_Paulo' },
  { id: 'W3', tz: 'Asia/Kolkata' },
  { id: 'W4' },
];
export const P4_ZONE_OPTIONS = ['W4=Europe/Berlin'];

interface Contact {
  /** `"waba":…,"channel":…,"contact":…[,"tz":…]` of this contact's lines. */
  readonly fields: string;
  lastInboundAt: number;
}

/**
 * Writes a realistic, time-ordered usage log: a few thousand contacts over four WABAs in
 * different zones and nine countries, users writing in (some through ads), businesses replying
 * free-form inside the window and sending templates of every category. Streamed to disk.
 */
export async function generateUsageLog(
  path: string,
  events: number,
  eras: 'all' | 'current',
  contactsCount = 5000,
): Promise<number> {
  const rnd = random(4);
  const totalWeight = NUMBERS.reduce((s, n) => s + n[2], 0);
  const contacts: Contact[] = [];
  for (let i = 0; i < contactsCount; i++) {
    let pick = rnd() * totalWeight;
    let plan = NUMBERS[0]!;
    for (const n of NUMBERS) {
      pick -= n[2];
      if (pick < 0) {
        plan = n;
        break;
      }
    }
    const number = plan[0] + String(Math.floor(rnd() * 10 ** plan[1])).padStart(plan[1], '0');
    const waba = WABAS[i % WABAS.length]!;
    const channel = `${waba.id}-C${1 + ((i >> 2) % 2)}`;
    const tz = waba.tz ? `,"tz":"${waba.tz}"` : '';
    contacts.push({
      fields: `"waba":"${waba.id}","channel":"${channel}","contact":"${number}"${tz}`,
      lastInboundAt: -Infinity,
    });
  }
  const start = Date.parse(eras === 'all' ? '2021-11-01T00:00:00Z' : '2026-07-01T00:00:00Z');
  const end = Date.parse('2027-01-01T00:00:00Z');
  const step = (end - start) / events;
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let block = '';
  let t = start;
  for (let k = 0; k < events; k++) {
    t += Math.floor(rnd() * 2 * step);
    // a skewed pick: some contacts are much busier than others
    const c = contacts[Math.floor(rnd() * rnd() * contacts.length)]!;
    const at = new Date(t).toISOString();
    const r = rnd();
    if (r < 0.3) {
      c.lastInboundAt = t;
      const entry =
        r < 0.012 ? ',"entry_point":"ctwa"' : r < 0.015 ? ',"entry_point":"page_cta"' : '';
      block += `{"type":"inbound","at":"${at}",${c.fields}${entry}}\n`;
    } else {
      const open = t < c.lastInboundAt + DAY;
      const kind = rnd();
      const category =
        open && kind < 0.6
          ? ''
          : kind < 0.75
            ? ',"template_category":"utility"'
            : kind < 0.93
              ? ',"template_category":"marketing"'
              : ',"template_category":"authentication"';
      block += `{"type":"delivered","at":"${at}",${c.fields},"message":"wamid.${k.toString(36)}"${category}}\n`;
    }
    if (block.length >= 1 << 20) {
      if (!out.write(block)) await once(out, 'drain');
      block = '';
    }
  }
  out.end(block);
  await once(out, 'finish');
  return (await stat(path)).size;
}

/** A stream that counts what it is given and throws it away. */
class Discard extends Writable {
  bytes = 0;
  override _write(chunk: Buffer | string, _e: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _e: BufferEncoding, done: () => void): void {
    if (this.text.length < 10_000) this.text += String(chunk);
    done();
  }
}

/** Generates (or takes) a log and rates it through `parley rate`'s own function, sampling memory. */
export async function measureP4(options: P4Options): Promise<P4Result> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let dir: string | null = null;
  let file = options.file;
  if (file === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'parley-p4-'));
    file = join(dir, 'usage.jsonl');
    log(`p4: writing ${options.events.toLocaleString('en-US')} events to ${file} …`);
    const t0 = performance.now();
    const bytes = await generateUsageLog(file, options.events, options.eras);
    log(
      `p4: ${(bytes / 2 ** 20).toFixed(0)} MiB written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const inputBytes = (await stat(file)).size;
  try {
    const rssBeforeBytes = process.memoryUsage.rss();
    const samples: Array<[number, number]> = [];
    let peakHeapUsedBytes = 0;
    const loadAverage = loadavg()[0] ?? 0;
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuSeconds();
    const t0 = performance.now();
    const sample = () => {
      const m = process.memoryUsage();
      samples.push([performance.now() - t0, m.rss]);
      if (m.heapUsed > peakHeapUsedBytes) peakHeapUsedBytes = m.heapUsed;
    };
    const timer = setInterval(sample, 100);
    const stdout = new Discard();
    const stderr = new Collect();
    log('p4: rating …');
    const { exitCode, summary } = await rateCommand(
      { events: file, tz: P4_ZONE_OPTIONS },
      { stdout, stderr },
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const main1 = mainThreadCpuSeconds();
    clearInterval(timer);
    sample();
    const events = summary?.events ?? 0;
    const rssByTenth: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const until = (seconds * 1000 * i) / 10;
      rssByTenth.push(samples.filter((s) => s[0] <= until).at(-1)?.[1] ?? rssBeforeBytes);
    }
    return {
      events,
      delivered: summary?.delivered ?? 0,
      inputBytes,
      outputBytes: stdout.bytes,
      seconds,
      eventsPerSecond: events / seconds,
      cpuSeconds,
      eventsPerCpuSecond: events / cpuSeconds,
      mainThreadCpuSeconds: main0 === null || main1 === null ? null : main1 - main0,
      loadAverage,
      rssBeforeBytes,
      peakRssBytes: Math.max(...samples.map((s) => s[1])),
      rssByTenth,
      peakHeapUsedBytes,
      exitCode,
      stderr: stderr.text,
      file,
    };
  } finally {
    if (dir !== null && !options.keep) await rm(dir, { recursive: true, force: true });
  }
}

/** utime + stime of this process's main thread (whose thread id is the process id). */
function mainThreadCpuSeconds(): number | null {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
      .split(') ')[1]
      ?.split(' ');
    if (fields === undefined) return null;
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');

export function describeResult(r: P4Result): string {
  return [
    `events: ${count(r.events)}, of which ${count(r.delivered)} delivered (${mib(r.inputBytes)} in, ${mib(r.outputBytes)} out)`,
    `time: ${r.seconds.toFixed(2)} s → ${count(r.eventsPerSecond)} events/s (1-min load average ${r.loadAverage.toFixed(1)} at start)`,
    `CPU: ${r.cpuSeconds.toFixed(2)} s user+system, all threads → ${count(r.eventsPerCpuSecond)} events per CPU-second`,
    r.mainThreadCpuSeconds === null
      ? 'main thread CPU: not available here'
      : `main (rating) thread CPU: ${r.mainThreadCpuSeconds.toFixed(2)} s → ${count(r.events / r.mainThreadCpuSeconds)} events per main-thread CPU-second`,
    `RSS: ${mib(r.rssBeforeBytes)} before, peak ${mib(r.peakRssBytes)}; at each tenth of the run: ${r.rssByTenth.map(mib).join(', ')}`,
    `peak heap used: ${mib(r.peakHeapUsedBytes)}; exit code ${r.exitCode}`,
    `machine: ${machineLine(describeMachine())}`,
  ].join('\n');
}

/** The entry point `bench/run.ts` calls. */
export const run: BenchmarkRun = async (context) => {
  const events = numberOption(context.options, 'events', 10_000_000);
  const eras = context.options.eras === 'current' ? 'current' : 'all';
  const r = await measureP4({ events, eras, log: (l) => context.log(l) });
  context.log(describeResult(r));
  const tenths = r.rssByTenth;
  return {
    id: 'p4',
    title: '`parley rate` on a usage event log',
    rows: [
      {
        label: 'events rated per second',
        value: Math.round(r.eventsPerSecond),
        unit: 'events/s',
        target: { op: '>=', value: 500_000 },
      },
      {
        label: 'events per CPU-second (all threads)',
        value: Math.round(r.eventsPerCpuSecond),
        unit: 'events/s',
      },
      {
        label: 'events per CPU-second of the rating thread',
        value:
          r.mainThreadCpuSeconds === null ? null : Math.round(r.events / r.mainThreadCpuSeconds),
        unit: 'events/s',
      },
      {
        label: 'peak RSS during the run',
        value: Math.round(r.peakRssBytes / 2 ** 20),
        unit: 'MiB',
      },
      {
        label: 'RSS growth over the second half of the run',
        value: Math.round(((tenths.at(-1) ?? 0) - (tenths[4] ?? 0)) / 2 ** 20),
        unit: 'MiB',
      },
    ],
    notes: [
      `${count(r.events)} events (${mib(r.inputBytes)}), ${eras === 'all' ? 'November 2021 to December 2026, every era' : 'July to December 2026'}, 5,000 contacts, 4 WABAs in 4 zones, 9 countries; JSON output discarded (${mib(r.outputBytes)}).`,
      `Rated by rateCommand, the function behind \`parley rate\` (file read as a stream, output written in blocks with backpressure); exit code ${r.exitCode}.`,
      `RSS at each tenth of the run: ${tenths.map(mib).join(', ')}; peak V8 heap used ${mib(r.peakHeapUsedBytes)}.`,
      `1-minute load average ${r.loadAverage.toFixed(1)} when the run started: the CPU-second rows are the figures other work on the machine distorts least; with a core free for the reader thread the rating thread's figure is the ceiling.`,
    ],
  };
};

function argument(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i !== -1) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const events = Number(argument(args, 'events') ?? 10_000_000);
  const eras = argument(args, 'eras') === 'current' ? 'current' : 'all';
  const file = argument(args, 'file');
  const keep = args.includes('--keep');
  const result = await measureP4({ events, eras, file, keep });
  process.stdout.write(`${describeResult(result)}\n`);
  if (result.stderr) process.stdout.write(`stderr of the run:\n${result.stderr.slice(0, 2000)}\n`);
  if (keep && file === undefined) process.stdout.write(`log kept at ${result.file}\n`);
}
