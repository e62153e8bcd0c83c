// Rates a usage event log as a stream: lines in, rated lines and totals out, bad lines reported.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { LedgerTotals } from '../../core/pricing/ledger-totals.ts';
import {
  RatingEngine,
  type MutableRatedMessage,
  type RateLookup,
} from '../../core/pricing/rating-engine.ts';
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
 * The synchronous part of a run: lines in (as byte ranges), ratings and output out. Kept in a
 * class of its own, away from the async I/O around it, so the hot loop compiles to plain code.
 */
class LogRater {
  readonly #engine: RatingEngine;
  readonly #totals = new LedgerTotals();
  readonly #reader = new UsageLineReader();
  readonly out: JsonLinesWriter;
  readonly #table: MessageTable | null;
  /** The rating of the current line, refilled for every delivered message. */
  readonly #r: MutableRatedMessage = {
    kind: 'rated',
    message: '',
    waba: '',
    channel: '',
    contact: '',
    at: 0,
    date: '',
    month: '',
    pricingModel: 'PMP',
    era: 'pmp2025',
    category: 'service',
    pricingType: 'regular',
    conversation: null,
    market: 'Other',
    country: '',
    billable: false,
    amountMicros: 0,
    currency: '',
  };
  errors = '';
  lines = 0;
  events = 0;
  delivered = 0;
  badLines = 0;

  constructor(options: RateUsageLogOptions, blockBytes: number) {
    this.#engine = new RatingEngine({
      rates: options.rates,
      countryOf: options.countryOf ?? createCountryResolver(),
      zones: options.zones,
    });
    this.out = new JsonLinesWriter(blockBytes);
    this.#table = options.format === 'table' ? new MessageTable() : null;
  }

  bad(line: number, reason: string): void {
    this.badLines++;
    this.errors += `line ${line}: ${reason}\n`;
  }

  /** Every complete line of `buf` from `start`; returns where the unfinished last line starts. */
  chunk(buf: Buffer, start: number): number {
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      this.line(buf, start, nl);
      start = nl + 1;
    }
    return start;
  }

  /** One line: bytes [s, e) of `buf`, without its newline. */
  line(buf: Buffer, s: number, e: number): void {
    const lineNo = ++this.lines;
    if (e > s && buf[e - 1] === 13) e--;
    const reader = this.#reader;
    const problem = reader.read(buf, s, e);
    if (problem !== null) {
      if (!isBlank(buf, s, e)) this.bad(lineNo, problem);
      return;
    }
    const line = reader.line;
    const event = line.event;
    this.events++;
    if (event.type === 'delivered') this.delivered++;
    const r = this.#r;
    const outcome = this.#engine.rateInto(event, r);
    if (outcome === null) return;
    if (outcome !== 'rated') {
      this.bad(
        lineNo,
        event.type === 'delivered' ? `message ${event.message}: ${outcome.detail}` : outcome.detail,
      );
      return;
    }
    this.#totals.add(r);
    if (this.#table !== null) this.out.text(this.#table.row(r, line.atText()));
    else this.out.message(r, buf, line);
  }

  /** Month totals and grand totals, after the last line. */
  finish(): void {
    const months = this.#totals.monthTotals();
    const currencies = this.#totals.currencyTotals();
    if (this.#table !== null) this.out.text(this.#table.finish(months, currencies));
    else {
      for (const t of months) this.out.text(totalJsonLine(t));
      for (const t of currencies) this.out.text(grandTotalJsonLine(t));
    }
    if (this.badLines > 0)
      this.errors += `${this.badLines} bad line${this.badLines === 1 ? '' : 's'} skipped\n`;
  }
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
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  const rater = new LogRater(options, blockBytes);
  const out = rater.out;

  const drain = async () => {
    // Blocks go back to the writer once the stream is done with them: no new memory per block.
    for (const block of out.take()) await write(streams.stdout, block, () => out.recycle(block));
    if (rater.errors !== '') {
      const text = rater.errors;
      rater.errors = '';
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
          rater.bad(rater.lines + 1, `longer than ${MAX_LINE_BYTES} bytes`);
        } else if (!skipping) carry = Buffer.concat([carry ?? Buffer.alloc(0), buf]);
        await drain();
        continue;
      }
      if (skipping) {
        skipping = false;
        rater.lines++;
      } else if (carry !== null) {
        const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
        rater.line(joined, 0, joined.length);
      }
      carry = null;
      start = nl + 1;
    }
    start = rater.chunk(buf, start);
    if (start < buf.length) {
      if (buf.length - start > MAX_LINE_BYTES) {
        skipping = true;
        rater.bad(rater.lines + 1, `longer than ${MAX_LINE_BYTES} bytes`);
      } else carry = Buffer.from(buf.subarray(start)); // a copy: the chunk itself can go
    }
    if (out.size >= blockBytes || rater.errors.length >= blockBytes) await drain();
  }
  if (carry !== null) rater.line(carry, 0, carry.length);
  else if (skipping) rater.lines++;

  rater.finish();
  await drain();
  const { lines, events, delivered, badLines } = rater;
  return { lines, events, delivered, badLines, exitCode: badLines > 0 ? 2 : 0 };
}
