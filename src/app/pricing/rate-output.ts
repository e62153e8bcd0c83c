// Output of `parley rate`: JSON lines (the contract in PRODUCT.md) or an aligned table for people.
import type { CurrencyTotal, MonthTotal } from '../../core/pricing/ledger-totals.ts';
import { formatMicros } from '../../core/pricing/money.ts';
import {
  PRICING_TYPES,
  RATE_CATEGORIES,
  REFERRAL_CONVERSION,
} from '../../core/pricing/categories.ts';
import { ERA_IDS } from '../../core/pricing/eras.ts';
import type { RatedMessage } from '../../core/pricing/rating-engine.ts';
import type { ScannedLine } from './usage-log-bytes.ts';

export const RATE_OUTPUT_FORMATS = ['json', 'table'] as const;
export type RateOutputFormat = (typeof RATE_OUTPUT_FORMATS)[number];

// Characters that JSON must escape; strings without them are quoted by hand (hot path).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

function q(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

const ZERO = formatMicros(0);

/** WABA ids repeat on every line: quote each once. */
const quotedWabas = new Map<string, string>();

function quotedWaba(waba: string): string {
  let quoted = quotedWabas.get(waba);
  if (quoted === undefined) {
    if (quotedWabas.size >= 10_000) quotedWabas.clear();
    quoted = q(waba);
    quotedWabas.set(waba, quoted);
  }
  return quoted;
}

/**
 * One line per delivered message: the fields PRODUCT.md lists, plus `waba` and `at` for context.
 * `at` passed the strict instant parser, markets, eras, categories and pricing types are fixed
 * names and currencies three capitals, so only ids need escaping.
 */
export function messageJsonLine(r: RatedMessage, atText: string): string {
  return (
    `{"message":${q(r.message)},"waba":${quotedWaba(r.waba)},"at":"${atText}",` +
    `"pricing_model":"${r.pricingModel}","era":"${r.era}","category":"${r.category}",` +
    `"pricing_type":"${r.pricingType}","conversation":${r.conversation === null ? 'null' : q(r.conversation)},` +
    `"market":"${r.market}","billable":${r.billable ? 'true' : 'false'},` +
    `"amount":"${r.amountMicros === 0 ? ZERO : formatMicros(r.amountMicros)}","currency":"${r.currency}"}\n`
  );
}

export function totalJsonLine(t: MonthTotal): string {
  return `${JSON.stringify({
    type: 'total',
    waba: t.waba,
    month: t.month,
    category: t.category,
    currency: t.currency,
    amount: formatMicros(t.amountMicros),
    messages: t.messages,
    billable: t.billable,
  })}\n`;
}

export function grandTotalJsonLine(t: CurrencyTotal): string {
  return `${JSON.stringify({ type: 'grand_total', currency: t.currency, amount: formatMicros(t.amountMicros) })}\n`;
}

interface Column {
  readonly title: string;
  readonly right?: boolean;
}

/** Pads cells to column widths; numbers align right. */
function renderRow(
  columns: readonly Column[],
  widths: readonly number[],
  cells: readonly string[],
): string {
  const out = cells.map((cell, i) => {
    const w = widths[i] ?? cell.length;
    return columns[i]?.right ? cell.padStart(w) : cell.padEnd(w);
  });
  return `${out.join('  ').trimEnd()}\n`;
}

function widthsOf(columns: readonly Column[], rows: readonly (readonly string[])[]): number[] {
  return columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => r[i]?.length ?? 0)));
}

function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = widthsOf(columns, rows);
  const header = renderRow(
    columns,
    widths,
    columns.map((c) => c.title),
  );
  const rule = `${widths.map((w) => '-'.repeat(w)).join('  ')}\n`;
  return header + rule + rows.map((r) => renderRow(columns, widths, r)).join('');
}

const MESSAGE_COLUMNS: readonly Column[] = [
  { title: 'at' },
  { title: 'waba' },
  { title: 'message' },
  { title: 'era' },
  { title: 'category' },
  { title: 'pricing_type' },
  { title: 'conversation' },
  { title: 'market' },
  { title: 'billable' },
  { title: 'amount', right: true },
  { title: 'currency' },
];

/**
 * A streaming table: the first rows fix the column widths (longer values later on stretch
 * their own row only), so memory stays flat however long the log is.
 */
export class MessageTable {
  readonly #pending: string[][] = [];
  #widths: number[] | null = null;
  readonly #sample: number;

  constructor(sampleRows = 500) {
    this.#sample = sampleRows;
  }

  /** Returns text to write now (empty while the first rows are being sampled). */
  row(r: RatedMessage, atText: string): string {
    const cells = [
      atText,
      r.waba,
      r.message,
      r.era,
      r.category,
      r.pricingType,
      r.conversation ?? '-',
      r.market,
      r.billable ? 'yes' : 'no',
      formatMicros(r.amountMicros),
      r.currency,
    ];
    if (this.#widths !== null) return renderRow(MESSAGE_COLUMNS, this.#widths, cells);
    this.#pending.push(cells);
    return this.#pending.length >= this.#sample ? this.#flushSample() : '';
  }

  #flushSample(): string {
    const widths = widthsOf(MESSAGE_COLUMNS, this.#pending);
    this.#widths = widths;
    const text = renderTable(MESSAGE_COLUMNS, this.#pending);
    this.#pending.length = 0;
    return text;
  }

  /** The rest of the message table, then the month totals and the grand totals. */
  finish(months: readonly MonthTotal[], currencies: readonly CurrencyTotal[]): string {
    let text = this.#widths === null ? this.#flushSample() : '';
    text += '\nTotals\n';
    text += renderTable(
      [
        { title: 'waba' },
        { title: 'month' },
        { title: 'category' },
        { title: 'messages', right: true },
        { title: 'billable', right: true },
        { title: 'amount', right: true },
        { title: 'currency' },
      ],
      months.map((t) => [
        t.waba,
        t.month,
        t.category,
        String(t.messages),
        String(t.billable),
        formatMicros(t.amountMicros),
        t.currency,
      ]),
    );
    text += '\nGrand total\n';
    text += renderTable(
      [{ title: 'currency' }, { title: 'amount', right: true }],
      currencies.map((t) => [t.currency, formatMicros(t.amountMicros)]),
    );
    return text;
  }
}

const utf8 = new TextEncoder();

/**
 * JSON lines written straight into byte buffers: ids and instants are copied from the input
 * bytes, the rest from byte segments prepared once per era, category, market, amount and
 * currency. Produces exactly `messageJsonLine`'s text without building a string per line.
 */
export class JsonLinesWriter {
  #buf: Buffer;
  #pos = 0;
  readonly #blockSize: number;
  readonly #full: Buffer[] = [];
  readonly #wabas = new Map<string, Uint8Array>();
  #lastWaba = '';
  #lastWabaBytes: Uint8Array = new Uint8Array(0);
  readonly #middles: (Uint8Array | undefined)[] = [];
  readonly #markets = new Map<string, Uint8Array>();
  readonly #freeTails = new Map<string, Uint8Array>();
  readonly #freeTailCurrency = new Map<string, string>();
  readonly #chargedTails = new Map<
    number,
    { readonly currency: string; readonly bytes: Uint8Array }
  >();

  constructor(blockSize = 1 << 20) {
    this.#blockSize = blockSize;
    this.#buf = Buffer.allocUnsafeSlow(blockSize);
  }

  /** Bytes waiting to be written. */
  get size(): number {
    let n = this.#pos;
    for (const b of this.#full) n += b.length;
    return n;
  }

  /** Hands over what was written so far (the writer moves on to other memory). */
  take(): Buffer[] {
    if (this.#pos > 0) {
      this.#full.push(this.#buf.subarray(0, this.#pos));
      this.#buf = this.#fresh(this.#blockSize);
      this.#pos = 0;
    }
    return this.#full.splice(0);
  }

  /** Gives back a block from `take()` once it has been written out, for reuse. */
  recycle(block: Buffer): void {
    if (this.#spare.length < 4 && block.buffer.byteLength === this.#blockSize)
      this.#spare.push(Buffer.from(block.buffer, 0, this.#blockSize));
  }

  readonly #spare: Buffer[] = [];

  #fresh(bytes: number): Buffer {
    const spare = bytes <= this.#blockSize ? this.#spare.pop() : undefined;
    return spare ?? Buffer.allocUnsafeSlow(Math.max(this.#blockSize, bytes));
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    if (this.#pos > 0) this.#full.push(this.#buf.subarray(0, this.#pos));
    this.#buf = this.#fresh(bytes);
    this.#pos = 0;
  }

  /** A prepared segment (tens of bytes: a loop beats a native call at this size). */
  #segment(src: Uint8Array): void {
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < src.length; i++) buf[pos++] = src[i] ?? 0;
    this.#pos = pos;
  }

  /** A short range of the input (a loop beats a native call at this size). */
  #bytes(src: Uint8Array, s: number, e: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = s; i < e; i++) buf[pos++] = src[i] ?? 0;
    this.#pos = pos;
  }

  #string(text: string): void {
    this.#pos += this.#buf.write(text, this.#pos, 'utf8');
  }

  /** Any text (totals, or a whole line built elsewhere). */
  text(text: string): void {
    this.#room(Buffer.byteLength(text));
    this.#string(text);
  }

  /**
   * One rated message. `src` and the ranges locate `message` and `at` in the input bytes when
   * they were read there unescaped (start -1 otherwise).
   */
  message(r: RatedMessage, src: Uint8Array, line: ScannedLine): void {
    const { messageStart, messageEnd, atStart, atEnd } = line;
    // Raw bytes only for plain ASCII ids read unescaped; anything else is escaped from the string
    // (invalid UTF-8 comes out as the replacement character, as JSON.parse read it).
    const conversation = r.conversation === null ? null : q(r.conversation);
    this.#room(400 + 3 * (r.message.length + (conversation?.length ?? 0)));
    this.#segment(SEG_MESSAGE);
    if (messageStart >= 0 && line.messageAscii) {
      this.#buf[this.#pos++] = 34;
      this.#bytes(src, messageStart, messageEnd);
      this.#buf[this.#pos++] = 34;
    } else this.#string(q(r.message));
    this.#segment(this.#waba(r.waba));
    if (atStart >= 0) this.#bytes(src, atStart, atEnd);
    else this.#string(line.atText());
    this.#segment(this.#middle(r));
    if (conversation === null) this.#segment(SEG_NULL);
    else this.#string(conversation);
    if (r.billable) {
      this.#segment(this.#market(r.market));
      this.#segment(this.#chargedTail(r.amountMicros, r.currency));
    } else this.#segment(this.#freeTail(r.market, r.currency));
  }

  #waba(waba: string): Uint8Array {
    if (waba === this.#lastWaba) return this.#lastWabaBytes;
    let bytes = this.#wabas.get(waba);
    if (bytes === undefined) {
      if (this.#wabas.size >= 10_000) this.#wabas.clear();
      bytes = utf8.encode(`,"waba":${q(waba)},"at":"`);
      this.#wabas.set(waba, bytes);
    }
    this.#lastWaba = waba;
    this.#lastWabaBytes = bytes;
    return bytes;
  }

  /** By era, category and pricing type: a handful of fixed names, found by position, not hashing. */
  #middle(r: RatedMessage): Uint8Array {
    const index =
      (ERA_IDS.indexOf(r.era) * CATEGORY_NAMES.length + CATEGORY_NAMES.indexOf(r.category)) *
        PRICING_TYPES.length +
      PRICING_TYPES.indexOf(r.pricingType);
    let bytes = this.#middles[index];
    if (bytes === undefined) {
      bytes = utf8.encode(
        `","pricing_model":"${r.pricingModel}","era":"${r.era}","category":"${r.category}","pricing_type":"${r.pricingType}","conversation":`,
      );
      this.#middles[index] = bytes;
    }
    return bytes;
  }

  #market(market: string): Uint8Array {
    let bytes = this.#markets.get(market);
    if (bytes === undefined) {
      bytes = utf8.encode(`,"market":${q(market)},"billable":true,"amount":"`);
      this.#markets.set(market, bytes);
    }
    return bytes;
  }

  /** Market to the end of the line for a free message (its amount is always 0). */
  #freeTail(market: string, currency: string): Uint8Array {
    let bytes = this.#freeTails.get(market);
    if (bytes === undefined || this.#freeTailCurrency.get(market) !== currency) {
      bytes = utf8.encode(
        `,"market":${q(market)},"billable":false,"amount":"${ZERO}","currency":${q(currency)}}\n`,
      );
      this.#freeTails.set(market, bytes);
      this.#freeTailCurrency.set(market, currency);
    }
    return bytes;
  }

  /** Amount to the end of the line, by amount (the currency is checked: one lookup). */
  #chargedTail(micros: number, currency: string): Uint8Array {
    let tail = this.#chargedTails.get(micros);
    if (tail === undefined || tail.currency !== currency) {
      if (this.#chargedTails.size >= 10_000) this.#chargedTails.clear();
      tail = {
        currency,
        bytes: utf8.encode(`${formatMicros(micros)}","currency":${q(currency)}}\n`),
      };
      this.#chargedTails.set(micros, tail);
    }
    return tail.bytes;
  }
}

const CATEGORY_NAMES: readonly string[] = [...RATE_CATEGORIES, REFERRAL_CONVERSION];
const SEG_MESSAGE = utf8.encode('{"message":');
const SEG_NULL = utf8.encode('null');
