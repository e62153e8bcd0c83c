// Rates a usage event log as a stream: lines in, rated lines and totals out, bad lines reported.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { LedgerTotals } from '../../core/pricing/ledger-totals.ts';
import { RatingEngine, type RateLookup } from '../../core/pricing/rating-engine.ts';
import { createCountryResolver } from './recipient-country.ts';
import {
  JsonLinesWriter,
  MessageTable,
  grandTotalJsonLine,
  totalJsonLine,
  type RateOutputFormat,
} from './rate-output.ts';
import { UsageLineReader } from './usage-log-bytes.ts';

export interface RateUsageLogOptions {
  readonly rates: RateLookup;
  /** WABA → IANA zone; wins over `tz` in the log; UTC otherwise. */
  readonly zones?: ReadonlyMap<string, string>;
  readonly format?: RateOutputFormat;
  /** Recipient → ISO country; libphonenumber-js (cached) unless given. */
  readonly countryOf?: (contact: string) => string | null;
  /** Output block size in bytes (1 MiB). */
  readonly blockBytes?: number;
}

export interface RateStreams {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface RateUsageLogResult {
  readonly lines: number;
  readonly events: number;
  readonly delivered: number;
  readonly badLines: number;
  /** 2 if any line was bad (and skipped), else 0 (PRODUCT.md). */
  readonly exitCode: 0 | 2;
}

/** Longer lines are reported and skipped instead of being held in memory. */
const MAX_LINE_BYTES = 1 << 20;
/** Output is handed to the stream in blocks of about this size, waiting for the reader between blocks. */
const BLOCK_BYTES = 1 << 20;

async function write(
  stream: Writable,
  chunk: Buffer | string,
  written?: (error?: Error | null) => void,
): Promise<void> {
  if (!stream.write(chunk, written)) await once(stream, 'drain');
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * Prices a usage event log (PRODUCT.md) read from `input` as it streams: one line per delivered
 * message, then month totals and grand totals. Bad lines (unparsable, missing fields, unknown
 * market, no rate) go to stderr with their line number and are skipped. Memory stays flat: input
 * is read in chunks, output written in blocks as the reader takes them, and rating state is
 * bounded by the contacts with something open.
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 */
export async function rateUsageLog(
  input: AsyncIterable<Buffer | string>,
  streams: RateStreams,
  options: RateUsageLogOptions,
): Promise<RateUsageLogResult> {
  const engine = new RatingEngine({
    rates: options.rates,
    countryOf: options.countryOf ?? createCountryResolver(),
    zones: options.zones,
  });
  const totals = new LedgerTotals();
  const reader = new UsageLineReader();
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  const out = new JsonLinesWriter(blockBytes);
  const table = options.format === 'table' ? new MessageTable() : null;
  let errors = '';
  let lines = 0;
  let events = 0;
  let delivered = 0;
  let badLines = 0;

  const bad = (line: number, reason: string) => {
    badLines++;
    errors += `line ${line}: ${reason}\n`;
  };

  const handle = (buf: Buffer, s: number, e: number, lineNo: number) => {
    if (e > s && buf[e - 1] === 13) e--;
    const problem = reader.read(buf, s, e);
    if (problem !== null) {
      if (!isBlank(buf, s, e)) bad(lineNo, problem);
      return;
    }
    const line = reader.line;
    const event = line.event;
    events++;
    if (event.type === 'delivered') delivered++;
    const r = engine.rate(event);
    if (r === null) return;
    if (r.kind === 'problem') {
      bad(lineNo, event.type === 'delivered' ? `message ${event.message}: ${r.detail}` : r.detail);
      return;
    }
    totals.add(r);
    if (table !== null) out.text(table.row(r, line.atText()));
    else out.message(r, buf, line);
  };

  const drain = async () => {
    // Blocks go back to the writer once the stream is done with them: no new memory per block.
    for (const block of out.take()) await write(streams.stdout, block, () => out.recycle(block));
    if (errors !== '') {
      const text = errors;
      errors = '';
      await write(streams.stderr, text);
    }
  };

  // The unfinished last line of the previous chunk, if any.
  let carry: Buffer | null = null;
  // While a line longer than MAX_LINE_BYTES is being skipped: true.
  let skipping = false;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    if (carry !== null || skipping) {
      const nl = buf.indexOf(10);
      if (nl === -1) {
        if (!skipping && carry !== null && carry.length + buf.length > MAX_LINE_BYTES) {
          skipping = true;
          carry = null;
          bad(lines + 1, `longer than ${MAX_LINE_BYTES} bytes`);
        } else if (!skipping) carry = Buffer.concat([carry ?? Buffer.alloc(0), buf]);
        await drain();
        continue;
      }
      lines++;
      if (skipping) skipping = false;
      else if (carry !== null) {
        const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
        handle(joined, 0, joined.length, lines);
      }
      carry = null;
      start = nl + 1;
    }
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      lines++;
      handle(buf, start, nl, lines);
      start = nl + 1;
    }
    if (start < buf.length) {
      if (buf.length - start > MAX_LINE_BYTES) {
        skipping = true;
        bad(lines + 1, `longer than ${MAX_LINE_BYTES} bytes`);
      } else carry = Buffer.from(buf.subarray(start)); // a copy: the chunk itself can go
    }
    if (out.size >= blockBytes || errors.length >= blockBytes) await drain();
  }
  if (carry !== null) {
    lines++;
    handle(carry, 0, carry.length, lines);
  } else if (skipping) lines++;

  const months = totals.monthTotals();
  const currencies = totals.currencyTotals();
  if (table !== null) out.text(table.finish(months, currencies));
  else {
    for (const t of months) out.text(totalJsonLine(t));
    for (const t of currencies) out.text(grandTotalJsonLine(t));
  }
  if (badLines > 0) errors += `${badLines} bad line${badLines === 1 ? '' : 's'} skipped\n`;
  await drain();
  return { lines, events, delivered, badLines, exitCode: badLines > 0 ? 2 : 0 };
}
