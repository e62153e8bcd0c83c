// Rates a usage event log as a stream: lines in, rated lines and totals out, bad lines reported.
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import { LedgerTotals } from '../../core/pricing/ledger-totals.ts';
import { RatingEngine, type RateLookup } from '../../core/pricing/rating-engine.ts';
import { createCountryResolver } from './recipient-country.ts';
import {
  MessageTable,
  grandTotalJsonLine,
  messageJsonLine,
  totalJsonLine,
  type RateOutputFormat,
} from './rate-output.ts';
import { parseUsageLine } from './usage-log.ts';

export interface RateUsageLogOptions {
  readonly rates: RateLookup;
  /** WABA → IANA zone; wins over `tz` in the log; UTC otherwise. */
  readonly zones?: ReadonlyMap<string, string>;
  readonly format?: RateOutputFormat;
  /** Recipient → ISO country; libphonenumber-js (cached) unless given. */
  readonly countryOf?: (contact: string) => string | null;
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
const MAX_LINE_CHARS = 1 << 20;
/** Output is written in blocks of about this many characters, waiting for the reader between blocks. */
const BLOCK_CHARS = 1 << 16;

/** Collects text and writes it in blocks, honouring backpressure. */
class BlockWriter {
  #text = '';
  readonly #stream: Writable;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  push(text: string): void {
    this.#text += text;
  }

  get size(): number {
    return this.#text.length;
  }

  async flush(): Promise<void> {
    if (this.#text === '') return;
    const text = this.#text;
    this.#text = '';
    if (!this.#stream.write(text)) await once(this.#stream, 'drain');
  }
}

/**
 * Prices a usage event log (PRODUCT.md) read from `input` as it streams: one line per delivered
 * message, then month totals and grand totals. Bad lines (unparsable, missing fields, unknown
 * market, no rate) go to stderr with their line number and are skipped.
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
  const out = new BlockWriter(streams.stdout);
  const err = new BlockWriter(streams.stderr);
  const table = options.format === 'table' ? new MessageTable() : null;
  let lines = 0;
  let events = 0;
  let delivered = 0;
  let badLines = 0;

  const bad = (line: number, reason: string) => {
    badLines++;
    err.push(`line ${line}: ${reason}\n`);
  };

  const handle = (line: string, lineNo: number) => {
    const last = line.length - 1;
    if (last >= 0 && line.charCodeAt(last) === 13) line = line.slice(0, last);
    const event = parseUsageLine(line);
    if (typeof event === 'string') {
      if (line.trim() !== '') bad(lineNo, event);
      return;
    }
    events++;
    if (event.type === 'delivered') delivered++;
    const r = engine.rate(event);
    if (r === null) return;
    if (r.kind === 'problem') {
      bad(lineNo, event.type === 'delivered' ? `message ${event.message}: ${r.detail}` : r.detail);
      return;
    }
    totals.add(r);
    out.push(table === null ? messageJsonLine(r, event.atText) : table.row(r, event.atText));
  };

  const decoder = new StringDecoder('utf8');
  let rest = '';
  // While a line longer than MAX_LINE_CHARS is being skipped: its number.
  let skipping = 0;
  for await (const chunk of input) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      lines++;
      if (skipping !== 0) skipping = 0;
      else handle(text.slice(start, nl), lines);
      start = nl + 1;
      if (out.size >= BLOCK_CHARS) await out.flush();
      if (err.size >= BLOCK_CHARS) await err.flush();
    }
    rest = start === 0 ? text : text.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      if (skipping === 0) {
        skipping = lines + 1;
        bad(skipping, `longer than ${MAX_LINE_CHARS} characters`);
      }
      rest = '';
    }
  }
  rest += decoder.end();
  if (rest !== '' && skipping === 0) {
    lines++;
    handle(rest, lines);
  } else if (skipping !== 0) lines++;

  const months = totals.monthTotals();
  const currencies = totals.currencyTotals();
  if (table !== null) out.push(table.finish(months, currencies));
  else {
    for (const t of months) out.push(totalJsonLine(t));
    for (const t of currencies) out.push(grandTotalJsonLine(t));
  }
  if (badLines > 0) err.push(`${badLines} bad line${badLines === 1 ? '' : 's'} skipped\n`);
  await out.flush();
  await err.flush();
  return { lines, events, delivered, badLines, exitCode: badLines > 0 ? 2 : 0 };
}
