// Output of `parley rate`: JSON lines (the contract in PRODUCT.md) or an aligned table for people.
import type { CurrencyTotal, MonthTotal } from '../../core/pricing/ledger-totals.ts';
import { formatMicros } from '../../core/pricing/money.ts';
import type { RatedMessage } from '../../core/pricing/rating-engine.ts';

export const RATE_OUTPUT_FORMATS = ['json', 'table'] as const;
export type RateOutputFormat = (typeof RATE_OUTPUT_FORMATS)[number];

// Characters that JSON must escape; strings without them are quoted by hand (hot path).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

function q(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

const ZERO = formatMicros(0);

/** One line per delivered message: the fields PRODUCT.md lists, plus `waba` and `at` for context. */
export function messageJsonLine(r: RatedMessage, atText: string): string {
  return (
    `{"message":${q(r.message)},"waba":${q(r.waba)},"at":${q(atText)},` +
    `"pricing_model":"${r.pricingModel}","era":"${r.era}","category":"${r.category}",` +
    `"pricing_type":"${r.pricingType}","conversation":${r.conversation === null ? 'null' : q(r.conversation)},` +
    `"market":${q(r.market)},"billable":${r.billable ? 'true' : 'false'},` +
    `"amount":"${r.amountMicros === 0 ? ZERO : formatMicros(r.amountMicros)}","currency":${q(r.currency)}}\n`
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
