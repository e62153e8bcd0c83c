// Rate card CSV (PRODUCT.md): `effective_from,market,category,currency,rate,volume_from` → RateCard.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import {
  RateCard,
  type RateCardResult,
  type RateCardRowText,
} from '../../core/pricing/rate-card.ts';

export const RATE_CARD_COLUMNS = [
  'effective_from',
  'market',
  'category',
  'currency',
  'rate',
  'volume_from',
] as const;
type Column = (typeof RATE_CARD_COLUMNS)[number];
/** `volume_from` may be left out of the header: every row is then a first tier. */
const OPTIONAL_COLUMNS: readonly Column[] = ['volume_from'];

/** The sample card bundled with Parley: illustrative rates, not Meta's (see docs/pricing.md). */
export const ILLUSTRATIVE_RATE_CARD_PATH = fileURLToPath(
  new URL('../../../data/rate-cards/illustrative.csv', import.meta.url),
);

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/** Parses and validates a rate card; every problem names its line (1 is the header). */
export function parseRateCardCsv(text: string): RateCardResult {
  let records: CsvRecord[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    }) as CsvRecord[];
  } catch (e) {
    const line = (e as { lines?: unknown }).lines;
    return {
      ok: false,
      problems: [
        {
          line: typeof line === 'number' ? line : 1,
          message: `not valid CSV: ${e instanceof Error ? e.message : String(e)}`,
        },
      ],
    };
  }
  const [header, ...data] = records;
  if (header === undefined)
    return { ok: false, problems: [{ line: 1, message: 'the rate card is empty' }] };
  const columns = header.record.map((c) => c.toLowerCase());
  const index = new Map<Column, number>();
  const problems: { line: number; message: string }[] = [];
  for (const [i, name] of columns.entries()) {
    if (!(RATE_CARD_COLUMNS as readonly string[]).includes(name))
      problems.push({
        line: header.info.lines,
        message: `unknown column "${name}" (expected ${RATE_CARD_COLUMNS.join(',')})`,
      });
    else if (index.has(name as Column))
      problems.push({ line: header.info.lines, message: `column "${name}" appears twice` });
    else index.set(name as Column, i);
  }
  for (const column of RATE_CARD_COLUMNS)
    if (!index.has(column) && !OPTIONAL_COLUMNS.includes(column))
      problems.push({ line: header.info.lines, message: `missing column "${column}"` });
  if (problems.length > 0) return { ok: false, problems };

  const rows: RateCardRowText[] = [];
  for (const { record, info } of data) {
    if (record.length !== columns.length) {
      problems.push({
        line: info.lines,
        message: `has ${record.length} fields, the header has ${columns.length}`,
      });
      continue;
    }
    const field = (c: Column): string => {
      const i = index.get(c);
      return i === undefined ? '' : (record[i] ?? '');
    };
    rows.push({
      line: info.lines,
      effectiveFrom: field('effective_from'),
      market: field('market'),
      category: field('category'),
      currency: field('currency'),
      rate: field('rate'),
      volumeFrom: field('volume_from'),
    });
  }
  const built = RateCard.fromRows(rows);
  if (problems.length === 0) return built;
  const all = [...problems, ...(built.ok ? [] : built.problems)].sort((a, b) => a.line - b.line);
  return { ok: false, problems: all };
}

/** Reads a rate card file; a file that cannot be read is reported as a problem on line 0. */
export async function loadRateCardFile(path: string): Promise<RateCardResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return {
      ok: false,
      problems: [{ line: 0, message: `cannot read ${path}: ${(e as Error).message}` }],
    };
  }
  return parseRateCardCsv(text);
}
