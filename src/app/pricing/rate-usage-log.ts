// Rates a usage event log as a stream: lines in, rated lines and totals out, bad lines reported.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LedgerTotals } from '../../core/pricing/ledger-totals.ts';
import {
  RatingEngine,
  newRatedMessage,
  type MutableRatedMessage,
  type RateLookup,
  type UsageEvent,
} from '../../core/pricing/rating-engine.ts';
import { createCountryResolver } from './recipient-country.ts';
import {
  JsonLinesWriter,
  MessageTable,
  grandTotalJsonLine,
  totalJsonLine,
  type RateOutputFormat,
} from './rate-output.ts';
import { LineSplitter, type LineSink } from './line-splitter.ts';
import { UsageLineReader, type ScannedLine } from './usage-log-bytes.ts';
import { RecordReader, type RecordSink } from './usage-records.ts';
import type { ReaderMessage, ReaderWorkerData } from './usage-log-worker.ts';

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

/** Output is handed to the stream in blocks of about this size, waiting for the reader between blocks. */
const BLOCK_BYTES = 1 << 20;

async function write(
  stream: Writable,
  chunk: Buffer | string,
  written?: (error?: Error | null) => void,
): Promise<void> {
  if (!stream.write(chunk, written)) await once(stream, 'drain');
}

/**
 * The synchronous part of a run: lines in (as byte ranges), ratings and output out. Kept in a
 * class of its own, away from the async I/O around it, so the hot loop compiles to plain code.
 */
class LogRater implements LineSink, RecordSink {
  readonly #engine: RatingEngine;
  readonly #totals = new LedgerTotals();
  readonly #reader = new UsageLineReader();
  readonly out: JsonLinesWriter;
  readonly #table: MessageTable | null;
  /** The rating of the current line, refilled for every delivered message. */
  readonly #r: MutableRatedMessage = newRatedMessage();

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

  /** One line: bytes [s, e) of `buf`, without its newline. */
  line(buf: Buffer, s: number, e: number): void {
    const lineNo = ++this.lines;
    const reader = this.#reader;
    const problem = reader.readLogLine(buf, s, e);
    if (problem === null) this.event(lineNo, reader.line.event, buf, reader.line);
    else if (problem !== '') this.bad(lineNo, problem);
  }

  tooLong(max: number): void {
    this.bad(++this.lines, `longer than ${max} bytes`);
  }

  /** A line read (here or by the reader thread): rate it and write its output line. */
  event(lineNo: number, event: UsageEvent, buf: Buffer, line: ScannedLine): void {
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

  /** Writes what is ready, waiting for the readers of the streams. */
  async drain(streams: RateStreams): Promise<void> {
    const out = this.out;
    // Blocks go back to the writer once the stream is done with them: no new memory per block.
    for (const block of out.take()) await write(streams.stdout, block, () => out.recycle(block));
    if (this.errors !== '') {
      const text = this.errors;
      this.errors = '';
      await write(streams.stderr, text);
    }
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
  const drain = () => rater.drain(streams);

  const splitter = new LineSplitter(rater);
  for await (const chunk of input) {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    if (out.size >= blockBytes || rater.errors.length >= blockBytes) await drain();
  }
  splitter.end();

  rater.finish();
  await drain();
  const { lines, events, delivered, badLines } = rater;
  return { lines, events, delivered, badLines, exitCode: badLines > 0 ? 2 : 0 };
}

/** Files at least this large are read by a thread of their own (starting one costs ~0.1 s). */
export const READER_THREAD_MIN_BYTES = 32 << 20;

export interface RateUsageLogFileOptions extends RateUsageLogOptions {
  /** Read lines in a second thread: always, never, or (default) for files of 32 MiB and more. */
  readonly readerThread?: boolean;
}

/**
 * `rateUsageLog` for a file. Large files are read by a second thread: it splits and reads lines
 * into compact records while this thread rates them, so both cores work; the output is the same
 * either way.
 */
export async function rateUsageLogFile(
  path: string,
  streams: RateStreams,
  options: RateUsageLogFileOptions,
): Promise<RateUsageLogResult> {
  const thread = options.readerThread ?? (await stat(path)).size >= READER_THREAD_MIN_BYTES;
  if (!thread) {
    const input = createReadStream(path, { highWaterMark: 1 << 20 });
    try {
      return await rateUsageLog(input, streams, options);
    } finally {
      input.destroy();
    }
  }
  const rater = new LogRater(options, options.blockBytes ?? BLOCK_BYTES);
  const records = new RecordReader();
  const data: ReaderWorkerData = { path };
  const worker = new Worker(new URL('./usage-log-worker-entry.mjs', import.meta.url), {
    workerData: data,
  });
  // Messages from the reader, and who waits for the next one.
  const queue: ReaderMessage[] = [];
  let waiting: ((message: ReaderMessage) => void) | null = null;
  const deliver = (message: ReaderMessage) => {
    if (waiting === null) queue.push(message);
    else {
      const wake = waiting;
      waiting = null;
      wake(message);
    }
  };
  worker.on('message', (message: ReaderMessage) => deliver(message));
  worker.on('error', (error: Error) => deliver({ kind: 'error', message: error.message }));
  worker.on('exit', (code) => {
    if (code !== 0) deliver({ kind: 'error', message: `the reader thread stopped (${code})` });
  });
  const next = () =>
    new Promise<ReaderMessage>((resolve) => {
      const message = queue.shift();
      if (message === undefined) waiting = resolve;
      else resolve(message);
    });
  try {
    for (;;) {
      const message = await next();
      if (message.kind === 'error') throw new Error(`cannot read ${path}: ${message.message}`);
      if (message.kind === 'end') {
        rater.lines = message.lines;
        break;
      }
      const batch = message.batch;
      records.read(Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength), rater);
      worker.postMessage('rated');
      await rater.drain(streams);
    }
  } finally {
    await worker.terminate();
  }
  rater.finish();
  await rater.drain(streams);
  const { lines, events, delivered, badLines } = rater;
  return { lines, events, delivered, badLines, exitCode: badLines > 0 ? 2 : 0 };
}
