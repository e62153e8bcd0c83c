// Usage event log lines (PRODUCT.md): one JSON object per line → a usage event, or why not.
import {
  isEntryPoint,
  isTemplateCategory,
  type TemplateCategory,
  type EntryPoint,
} from '../../core/pricing/categories.ts';
import type { UsageEvent } from '../../core/pricing/rating-engine.ts';

/** A usage event with its `at` exactly as the log wrote it (echoed in the output). */
export type LoggedUsageEvent = UsageEvent & { readonly atText: string };

/** The fields of one line, as strings; undefined when absent (or null in the slow path). */
interface RawFields {
  type: string | undefined;
  at: string | undefined;
  waba: string | undefined;
  channel: string | undefined;
  contact: string | undefined;
  message: string | undefined;
  template_category: string | undefined;
  entry_point: string | undefined;
  tz: string | undefined;
}

const FIELD_NAMES = [
  'type',
  'at',
  'waba',
  'channel',
  'contact',
  'message',
  'template_category',
  'entry_point',
  'tz',
] as const;

/**
 * Parses one line with JSON.parse and checks its fields. This is the reference reader:
 * `parley rate` reads most lines straight from bytes (usage-log-bytes.ts) and hands every line
 * it does not handle itself to this function, so both accept and refuse exactly alike.
 */
export function parseUsageLine(line: string): LoggedUsageEvent | string {
  return validate(slowFields(line));
}

function slowFields(line: string): RawFields | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object';
  const obj = value as Record<string, unknown>;
  const f: Partial<RawFields> = {};
  for (const name of FIELD_NAMES) {
    const v = obj[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return `"${name}" must be a string`;
    f[name] = v;
  }
  return f as RawFields;
}

function validate(f: RawFields | string): LoggedUsageEvent | string {
  if (typeof f === 'string') return f;
  const { type, at: atText } = f;
  if (type === undefined) return 'missing field "type"';
  if (type !== 'inbound' && type !== 'delivered')
    return `unknown type "${type}" (expected inbound or delivered)`;
  if (atText === undefined) return 'missing field "at"';
  if (f.waba === undefined || f.waba === '') return 'missing field "waba"';
  if (f.channel === undefined || f.channel === '') return 'missing field "channel"';
  if (f.contact === undefined || f.contact === '') return 'missing field "contact"';
  const at = parseInstant(atText);
  if (at === null) return `"at" is not an ISO 8601 instant with a zone: "${atText}"`;
  const { waba, channel, contact } = f;
  const tz = f.tz === '' ? undefined : f.tz;
  if (type === 'inbound') {
    const ep = f.entry_point;
    let entryPoint: EntryPoint | undefined;
    if (ep !== undefined && ep !== '') {
      if (!isEntryPoint(ep)) return `unknown entry_point "${ep}" (expected ctwa or page_cta)`;
      entryPoint = ep;
    }
    return { type, at, atText, waba, channel, contact, entryPoint, tz };
  }
  const message = f.message;
  if (message === undefined || message === '') return 'missing field "message"';
  const tc = f.template_category;
  let templateCategory: TemplateCategory | undefined;
  if (tc !== undefined && tc !== '') {
    if (!isTemplateCategory(tc)) return `unknown template_category "${tc}"`;
    templateCategory = tc;
  }
  return { type, at, atText, waba, channel, contact, message, templateCategory, tz };
}

let cachedDayKey = -1;
let cachedDayMs = 0;

function digits(b: Uint8Array, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const d = (b[i] ?? 0) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** `parseInstantBytes` for a string (a valid instant is plain ASCII). */
export function parseInstant(s: string): number | null {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(s)) return null;
  return parseInstantBytes(Buffer.from(s, 'latin1'), 0, s.length);
}

/**
 * Bytes [s, e) holding `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` → epoch milliseconds, or null.
 * Written out by hand because it runs once per line; consecutive lines mostly share a day,
 * which is remembered.
 */
export function parseInstantBytes(b: Uint8Array, s: number, e: number): number | null {
  const n = e - s;
  if (n < 20 || b[s + 4] !== 45 || b[s + 7] !== 45) return null;
  const t = b[s + 10];
  if (t !== 84 && t !== 116) return null; // T or t
  if (b[s + 13] !== 58 || b[s + 16] !== 58) return null;
  const year = digits(b, s, 4);
  const month = digits(b, s + 5, 2);
  const day = digits(b, s + 8, 2);
  const hour = digits(b, s + 11, 2);
  const minute = digits(b, s + 14, 2);
  const second = digits(b, s + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  let i = s + 19;
  let millis = 0;
  if (b[i] === 46) {
    // fraction: keep milliseconds, ignore finer digits
    i++;
    const start = i;
    while (i < e && (b[i] ?? 0) >= 48 && (b[i] ?? 0) <= 57) {
      if (i - start < 3) millis = millis * 10 + ((b[i] ?? 0) - 48);
      i++;
    }
    const len = i - start;
    if (len === 0) return null;
    if (len === 1) millis *= 100;
    else if (len === 2) millis *= 10;
  }
  let offset = 0;
  const z = b[i];
  if (z === 90 || z === 122) {
    // Z or z
    if (i + 1 !== e) return null;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== e || b[i + 3] !== 58) return null;
    const oh = digits(b, i + 1, 2);
    const om = digits(b, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
    offset = (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
  } else return null;
  const key = year * 10_000 + month * 100 + day;
  if (key !== cachedDayKey) {
    const ms = Date.UTC(year, month - 1, day);
    const check = new Date(ms);
    if (
      check.getUTCFullYear() !== year ||
      check.getUTCMonth() !== month - 1 ||
      check.getUTCDate() !== day
    )
      return null;
    cachedDayKey = key;
    cachedDayMs = ms;
  }
  return cachedDayMs + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset;
}
