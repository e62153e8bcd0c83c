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

const QUOTE = 34;
const BACKSLASH = '\\';

/**
 * Parses one line. The fast path reads flat objects of string values without escapes (what
 * Parley and most tools write) straight off the line; anything else goes through JSON.parse,
 * so both accept exactly the same logs.
 */
export function parseUsageLine(line: string): LoggedUsageEvent | string {
  const raw = line.indexOf(BACKSLASH) === -1 ? scanFlat(line) : null;
  return validate(raw ?? slowFields(line));
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Reads `{"k":"v",…}` with string values and no escapes; null means "use JSON.parse". */
function scanFlat(line: string): RawFields | null {
  const f: RawFields = {
    type: undefined,
    at: undefined,
    waba: undefined,
    channel: undefined,
    contact: undefined,
    message: undefined,
    template_category: undefined,
    entry_point: undefined,
    tz: undefined,
  };
  const n = line.length;
  let i = 0;
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 123) return null; // {
  i++;
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) === 125)
    i++; // {}
  else
    for (;;) {
      if (line.charCodeAt(i) !== QUOTE) return null;
      const ks = i + 1;
      const ke = line.indexOf('"', ks);
      if (ke === -1) return null;
      i = ke + 1;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      if (line.charCodeAt(i) !== 58) return null; // :
      i++;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      if (line.charCodeAt(i) !== QUOTE) return null; // not a string value
      const vs = i + 1;
      const ve = line.indexOf('"', vs);
      if (ve === -1) return null;
      assign(f, line, ks, ke, vs, ve);
      i = ve + 1;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      const c = line.charCodeAt(i);
      i++;
      if (c === 125) break; // }
      if (c !== 44) return null; // ,
      while (i < n && isSpace(line.charCodeAt(i))) i++;
    }
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  return i === n ? f : null;
}

function assign(f: RawFields, line: string, ks: number, ke: number, vs: number, ve: number): void {
  const value = line.slice(vs, ve);
  switch (ke - ks) {
    case 2:
      if (line.startsWith('at', ks)) f.at = value;
      else if (line.startsWith('tz', ks)) f.tz = value;
      return;
    case 4:
      if (line.startsWith('type', ks)) f.type = value;
      else if (line.startsWith('waba', ks)) f.waba = value;
      return;
    case 7:
      if (line.startsWith('contact', ks)) f.contact = value;
      else if (line.startsWith('channel', ks)) f.channel = value;
      else if (line.startsWith('message', ks)) f.message = value;
      return;
    case 11:
      if (line.startsWith('entry_point', ks)) f.entry_point = value;
      return;
    case 17:
      if (line.startsWith('template_category', ks)) f.template_category = value;
      return;
    default:
      return; // unknown fields are kept by the log, ignored by rating
  }
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
  const { type, at: atText, waba, channel, contact } = f;
  if (type === undefined) return 'missing field "type"';
  if (type !== 'inbound' && type !== 'delivered')
    return `unknown type "${type}" (expected inbound or delivered)`;
  if (atText === undefined) return 'missing field "at"';
  if (waba === undefined || waba === '') return 'missing field "waba"';
  if (channel === undefined || channel === '') return 'missing field "channel"';
  if (contact === undefined || contact === '') return 'missing field "contact"';
  const at = parseInstant(atText);
  if (at === null) return `"at" is not an ISO 8601 instant with a zone: "${atText}"`;
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

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` → epoch milliseconds, or null. Written out by hand
 * because it runs once per line; consecutive lines mostly share a day, which is remembered.
 */
export function parseInstant(s: string): number | null {
  const n = s.length;
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116) return null; // T or t
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  let i = 19;
  let millis = 0;
  if (s.charCodeAt(i) === 46) {
    // fraction: keep milliseconds, ignore finer digits
    i++;
    const start = i;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      if (i - start < 3) millis = millis * 10 + (s.charCodeAt(i) - 48);
      i++;
    }
    const len = i - start;
    if (len === 0) return null;
    if (len === 1) millis *= 100;
    else if (len === 2) millis *= 10;
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    // Z or z
    if (i + 1 !== n) return null;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return null;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
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
