// `parley rate --events FILE.jsonl [--rates FILE.csv] [--format json|table] [--tz WABA=ZONE …]`:
// prices a usage event log offline. Exit 0, or 2 when bad lines were skipped, 1 on unusable input.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { isValidTimeZone } from '../core/pricing/local-calendar.ts';
import { ILLUSTRATIVE_RATE_CARD_PATH, loadRateCardFile } from '../app/pricing/rate-card-csv.ts';
import { RATE_OUTPUT_FORMATS, type RateOutputFormat } from '../app/pricing/rate-output.ts';
import {
  rateUsageLog,
  rateUsageLogFile,
  type RateUsageLogResult,
} from '../app/pricing/rate-usage-log.ts';

export interface RateCommandOptions {
  /** The usage event log; `-` reads standard input. */
  readonly events: string;
  /** The rate card CSV; the bundled illustrative card when absent. */
  readonly rates?: string;
  readonly format?: string;
  /** `WABA=ZONE` pairs. */
  readonly tz?: readonly string[];
  /** Read the file in a second thread (default: for files of 32 MiB and more). */
  readonly readerThread?: boolean;
}

export interface RateIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin?: NodeJS.ReadableStream;
}

/** Exit code when the inputs cannot be used at all (bad option, unreadable file, invalid card). */
export const EXIT_UNUSABLE_INPUT = 1;

function say(stream: Writable, text: string): void {
  stream.write(`parley rate: ${text}\n`);
}

/** `--tz W1=Europe/Berlin W2=America/Sao_Paulo` → a map, or the first problem. */
export function parseZoneOptions(pairs: readonly string[]): Map<string, string> | string {
  const zones = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const waba = eq > 0 ? pair.slice(0, eq).trim() : '';
    const zone = eq > 0 ? pair.slice(eq + 1).trim() : '';
    if (waba === '' || zone === '') return `--tz expects WABA=ZONE, got "${pair}"`;
    if (!isValidTimeZone(zone)) return `--tz ${pair}: "${zone}" is not an IANA time zone`;
    const known = zones.get(waba);
    if (known !== undefined && known !== zone)
      return `--tz names two zones for WABA ${waba}: ${known} and ${zone}`;
    zones.set(waba, zone);
  }
  return zones;
}

function isFormat(value: string): value is RateOutputFormat {
  return (RATE_OUTPUT_FORMATS as readonly string[]).includes(value);
}

/**
 * Runs `parley rate` and returns its exit code: 0, 2 if bad lines were reported and skipped,
 * 1 if an option, the rate card or the events file cannot be used.
 */
export async function runRate(options: RateCommandOptions, io: RateIo): Promise<number> {
  return (await rateCommand(options, io)).exitCode;
}

/** What a run did: the exit code, and the counts when the log was read. */
export interface RateCommandOutcome {
  readonly exitCode: number;
  readonly summary: RateUsageLogResult | null;
}

/** `runRate` with the counts of the run (lines, events, delivered, bad lines) as well. */
export async function rateCommand(
  options: RateCommandOptions,
  io: RateIo,
): Promise<RateCommandOutcome> {
  const unusable = { exitCode: EXIT_UNUSABLE_INPUT, summary: null };
  const format = options.format ?? 'json';
  if (!isFormat(format)) {
    say(io.stderr, `--format must be json or table, got "${format}"`);
    return unusable;
  }
  const zones = parseZoneOptions(options.tz ?? []);
  if (typeof zones === 'string') {
    say(io.stderr, zones);
    return unusable;
  }
  const ratesPath = options.rates ?? ILLUSTRATIVE_RATE_CARD_PATH;
  const card = await loadRateCardFile(ratesPath);
  if (!card.ok) {
    for (const p of card.problems) io.stderr.write(`${ratesPath}:${p.line}: ${p.message}\n`);
    say(io.stderr, `the rate card ${ratesPath} cannot be used`);
    return unusable;
  }

  const rateOptions = { rates: card.card, zones, format, readerThread: options.readerThread };
  try {
    let summary: RateUsageLogResult;
    if (options.events === '-') {
      if (io.stdin === undefined) {
        say(io.stderr, '--events - needs standard input');
        return unusable;
      }
      summary = await rateUsageLog(io.stdin as AsyncIterable<Buffer>, io, rateOptions);
    } else {
      // Check first so a missing file is a clear message rather than a stream error.
      try {
        await access(options.events, constants.R_OK);
      } catch (e) {
        say(io.stderr, `cannot read ${options.events}: ${(e as Error).message}`);
        return unusable;
      }
      summary = await rateUsageLogFile(options.events, io, rateOptions);
    }
    return { exitCode: summary.exitCode, summary };
  } catch (e) {
    // The reader went away (`parley rate … | head`): nothing left to say.
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return { exitCode: 0, summary: null };
    say(io.stderr, (e as Error).message);
    return unusable;
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds `parley rate` to the program; the exit code goes to `setExitCode` (process.exitCode by default). */
export function registerRateCommand(
  program: Command,
  io: RateIo & { setExitCode?: (code: number) => void } = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  },
): Command {
  return program
    .command('rate')
    .description(
      'price a usage event log offline: one line per delivered message, then month and grand totals',
    )
    .requiredOption(
      '--events <file>',
      'usage event log, one JSON object per line, ordered by time (- for stdin)',
    )
    .option('--rates <file>', 'rate card CSV (default: the bundled illustrative card)')
    .addOption(
      new Option('--format <format>', 'output format').choices(RATE_OUTPUT_FORMATS).default('json'),
    )
    .option(
      '--tz <waba=zone...>',
      "a WABA's IANA time zone for eras and billing months (repeatable; default UTC)",
      collect,
    )
    .action(async (opts: { events: string; rates?: string; format: string; tz?: string[] }) => {
      const code = await runRate(opts, io);
      if (io.setExitCode) io.setExitCode(code);
      else process.exitCode = code;
    });
}
