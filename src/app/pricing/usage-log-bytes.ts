// The hot path of `parley rate`: usage log lines read straight from the bytes of the file, with
// no string per line; lines this reader does not handle go through JSON.parse instead.
import {
  ENTRY_POINTS,
  TEMPLATE_CATEGORIES,
  type EntryPoint,
  type TemplateCategory,
} from '../../core/pricing/categories.ts';
import type { UsageEvent } from '../../core/pricing/rating-engine.ts';
import { parseUsageLine, parseInstantBytes, type LoggedUsageEvent } from './usage-log.ts';

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

const encoder = new TextEncoder();

/** Field names, matched by bytes. */
const KEYS = [
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
const KEY_BYTES = KEYS.map((k) => encoder.encode(k));
const K_TYPE = 0;
const K_AT = 1;
const K_WABA = 2;
const K_CHANNEL = 3;
const K_CONTACT = 4;
const K_MESSAGE = 5;
const K_TEMPLATE = 6;
const K_ENTRY = 7;
const K_TZ = 8;

const INBOUND = encoder.encode('inbound');
const DELIVERED = encoder.encode('delivered');
const TEMPLATE_BYTES = TEMPLATE_CATEGORIES.map((c) => encoder.encode(c));
const ENTRY_BYTES = ENTRY_POINTS.map((c) => encoder.encode(c));

function equalsBytes(buf: Uint8Array, s: number, e: number, word: Uint8Array): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word[i]) return false;
  return true;
}

/** Which field a key names (-1 for any other): picked by length and a letter, then checked. */
function keyOf(buf: Uint8Array, s: number, e: number): number {
  let k: number;
  switch (e - s) {
    case 2:
      k = buf[s] === 97 ? K_AT : K_TZ; // a | t
      break;
    case 4:
      k = buf[s] === 116 ? K_TYPE : K_WABA; // t | w
      break;
    case 7:
      k = buf[s] === 109 ? K_MESSAGE : buf[s + 3] === 110 ? K_CHANNEL : K_CONTACT; // m | chaNnel | conTact
      break;
    case 11:
      k = K_ENTRY;
      break;
    case 17:
      k = K_TEMPLATE;
      break;
    default:
      return -1;
  }
  return equalsBytes(buf, s, e, KEY_BYTES[k] ?? INBOUND) ? k : -1;
}

interface InternEntry {
  readonly bytes: Uint8Array;
  readonly value: string;
}

const INTERN_SLOTS = 1 << 16;

/**
 * WABA, channel, contact and zone repeat on every line: one shared string per distinct value,
 * found by a hash of its bytes in a direct-mapped table (a colliding value just replaces the
 * slot), so no string is made for them per line and memory stays bounded.
 */
class ByteInterner {
  readonly #slots: (InternEntry | undefined)[] = new Array<InternEntry | undefined>(INTERN_SLOTS);

  get(buf: Uint8Array, s: number, e: number, hash: number, ascii: boolean): string {
    const slot = (hash ^ (hash >>> 16)) & (INTERN_SLOTS - 1);
    const entry = this.#slots[slot];
    if (entry !== undefined && equalsBytes(buf, s, e, entry.bytes)) return entry.value;
    const bytes = buf.slice(s, e);
    const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString(
      ascii ? 'latin1' : 'utf8',
    );
    this.#slots[slot] = { bytes, value };
    return value;
  }
}

/** Where the fields of the last line are; reused for every line. */
export interface ScannedLine {
  /** The event, ready for the rating engine. */
  event: UsageEvent;
  /** Byte range of `at` and of `message` in the line's buffer, or -1 when read by JSON.parse. */
  atStart: number;
  atEnd: number;
  messageStart: number;
  messageEnd: number;
  /** `at` as the log wrote it, for outputs that want a string (the table). */
  atText(): string;
}

/**
 * Reads usage log lines from bytes. Lines that are flat objects of string values without
 * escapes are read in place; anything else is decoded and handed to JSON.parse, so both kinds
 * are accepted or refused exactly alike (see usage-log.ts).
 */
export class UsageLineReader {
  readonly #interner = new ByteInterner();
  #buf: Uint8Array = new Uint8Array(0);
  #slow: LoggedUsageEvent | null = null;
  readonly line: ScannedLine;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const reader = this;
    this.line = {
      event: { type: 'inbound', at: 0, waba: '', channel: '', contact: '' },
      atStart: -1,
      atEnd: -1,
      messageStart: -1,
      messageEnd: -1,
      atText(): string {
        if (reader.#slow !== null) return reader.#slow.atText;
        return Buffer.from(reader.#buf.buffer, reader.#buf.byteOffset, reader.#buf.length).toString(
          'latin1',
          this.atStart,
          this.atEnd,
        );
      },
    };
  }

  /** Reads bytes [s, e) of `buf` into `this.line`; returns null, or why the line is bad. */
  read(buf: Buffer, s: number, e: number): string | null {
    this.#buf = buf;
    this.#slow = null;
    const fast = this.#scan(buf, s, e);
    if (fast !== undefined) return fast;
    // Not for the fast path: decode and parse as JSON.
    const parsed = parseUsageLine(buf.toString('utf8', s, e));
    if (typeof parsed === 'string') return parsed;
    this.#slow = parsed;
    const l = this.line;
    l.event = parsed;
    l.atStart = l.atEnd = l.messageStart = l.messageEnd = -1;
    return null;
  }

  /** null: read; a string: the line is bad; undefined: use JSON.parse. */
  #scan(buf: Buffer, s: number, e: number): string | null | undefined {
    let i = s;
    while (i < e && isSpace(buf[i])) i++;
    if (buf[i] !== OPEN) return undefined;
    i++;
    while (i < e && isSpace(buf[i])) i++;
    let type = -1; // 0 inbound, 1 delivered, 2 other
    let atS = -1;
    let atE = -1;
    let msgS = -1;
    let msgE = -1;
    let msgAscii = true;
    let waba: string | undefined;
    let channel: string | undefined;
    let contact: string | undefined;
    let tz: string | undefined;
    let templateS = -1;
    let templateE = -1;
    let entryS = -1;
    let entryE = -1;
    if (buf[i] === CLOSE) i++;
    else
      for (;;) {
        if (buf[i] !== QUOTE) return undefined;
        const ks = i + 1;
        // Keys are compared byte for byte with the known names, so a native search for the
        // closing quote is enough; an escaped quote just fails to match and goes to JSON.parse.
        const ke = buf.indexOf(QUOTE, ks);
        if (ke === -1 || ke >= e || buf[ke - 1] === BACKSLASH) return undefined;
        i = ke + 1;
        while (i < e && isSpace(buf[i])) i++;
        if (buf[i] !== COLON) return undefined;
        i++;
        while (i < e && isSpace(buf[i])) i++;
        if (buf[i] !== QUOTE) return undefined; // numbers, null, objects: JSON.parse decides
        const vs = i + 1;
        const key = keyOf(buf, ks, ke);
        let ve: number;
        if (key === K_AT || key === K_TYPE || key === K_TEMPLATE || key === K_ENTRY) {
          // Matched exactly against fixed words or parsed strictly: any escape makes them fail.
          ve = buf.indexOf(QUOTE, vs);
          if (ve === -1 || ve >= e || buf[ve - 1] === BACKSLASH) return undefined;
        } else {
          // Ids are kept as read: no escapes, no control characters; hashed for interning.
          let hash = 0x811c9dc5;
          let ascii = true;
          let j = vs;
          for (; ; j++) {
            if (j >= e) return undefined;
            const c = buf[j] ?? 0;
            if (c === QUOTE) break;
            if (c === BACKSLASH || c < 32) return undefined;
            if (c >= 128) ascii = false;
            hash = Math.imul(hash ^ c, 16777619);
          }
          ve = j;
          if (key === K_WABA) waba = vs === ve ? '' : this.#interner.get(buf, vs, ve, hash, ascii);
          else if (key === K_CHANNEL)
            channel = vs === ve ? '' : this.#interner.get(buf, vs, ve, hash, ascii);
          else if (key === K_CONTACT)
            contact = vs === ve ? '' : this.#interner.get(buf, vs, ve, hash, ascii);
          else if (key === K_TZ)
            tz = vs === ve ? undefined : this.#interner.get(buf, vs, ve, hash, ascii);
          else if (key === K_MESSAGE) {
            msgS = vs;
            msgE = ve;
            msgAscii = ascii;
          }
        }
        if (key === K_TYPE) {
          type = equalsBytes(buf, vs, ve, INBOUND)
            ? 0
            : equalsBytes(buf, vs, ve, DELIVERED)
              ? 1
              : 2;
          if (type === 2) return undefined;
        } else if (key === K_AT) {
          atS = vs;
          atE = ve;
        } else if (key === K_TEMPLATE) {
          templateS = vs;
          templateE = ve;
        } else if (key === K_ENTRY) {
          entryS = vs;
          entryE = ve;
        }
        i = ve + 1;
        while (i < e && isSpace(buf[i])) i++;
        const c = buf[i++];
        if (c === CLOSE) break;
        if (c !== COMMA) return undefined;
        while (i < e && isSpace(buf[i])) i++;
      }
    while (i < e && isSpace(buf[i])) i++;
    if (i !== e) return undefined;

    // Anything unusual gets JSON.parse's exact verdict and message.
    if (type === -1 || atS === -1 || waba === undefined || channel === undefined) return undefined;
    if (contact === undefined || waba === '' || channel === '' || contact === '') return undefined;
    const at = parseInstantBytes(buf, atS, atE);
    if (at === null) return undefined;
    const l = this.line;
    l.atStart = atS;
    l.atEnd = atE;
    if (type === 0) {
      let entryPoint: EntryPoint | undefined;
      if (entryS !== -1 && entryE > entryS) {
        const k = ENTRY_BYTES.findIndex((w) => equalsBytes(buf, entryS, entryE, w));
        if (k === -1) return undefined;
        entryPoint = ENTRY_POINTS[k];
      }
      l.messageStart = l.messageEnd = -1;
      l.event = { type: 'inbound', at, waba, channel, contact, entryPoint, tz };
      return null;
    }
    if (msgS === -1 || msgE === msgS) return undefined;
    let templateCategory: TemplateCategory | undefined;
    if (templateS !== -1 && templateE > templateS) {
      const k = TEMPLATE_BYTES.findIndex((w) => equalsBytes(buf, templateS, templateE, w));
      if (k === -1) return undefined;
      templateCategory = TEMPLATE_CATEGORIES[k];
    }
    l.messageStart = msgS;
    l.messageEnd = msgE;
    const message = buf.toString(msgAscii ? 'latin1' : 'utf8', msgS, msgE);
    l.event = { type: 'delivered', at, waba, channel, contact, message, templateCategory, tz };
    return null;
  }
}
