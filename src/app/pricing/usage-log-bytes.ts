// The hot path of `parley rate`: usage log lines read straight from the bytes of the file, with
// no string per line; lines this reader does not handle go through JSON.parse instead.
import {
  ENTRY_POINTS,
  TEMPLATE_CATEGORIES,
  type EntryPoint,
  type TemplateCategory,
} from '../../core/pricing/categories.ts';
import type { DeliveredUsage, InboundUsage, UsageEvent } from '../../core/pricing/rating-engine.ts';
import { isBlank } from './line-splitter.ts';
import { parseUsageLine, parseInstantBytes, type LoggedUsageEvent } from './usage-log.ts';

/** An object type with its `readonly` removed, for objects refilled in place. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Event objects refilled for every line (one shape each, so the engine's reads stay fast). */
export function newInboundEvent(): Mutable<InboundUsage> {
  return {
    type: 'inbound',
    at: 0,
    waba: '',
    channel: '',
    contact: '',
    entryPoint: undefined,
    tz: undefined,
  };
}

export function newDeliveredEvent(): Mutable<DeliveredUsage> {
  return {
    type: 'delivered',
    at: 0,
    waba: '',
    channel: '',
    contact: '',
    message: '',
    templateCategory: undefined,
    tz: undefined,
  };
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Constant words as Buffers, like the lines they are compared with (one shape: fast access). */
const bytesOf = (word: string): Buffer => Buffer.from(word, 'utf8');

/** Field names, matched by bytes. */
const KEY_MESSAGE = bytesOf('message');
const KEY_CHANNEL = bytesOf('channel');
const KEY_CONTACT = bytesOf('contact');
const KEY_ENTRY = bytesOf('entry_point');
const KEY_TEMPLATE = bytesOf('template_category');
const K_TYPE = 0;
const K_AT = 1;
const K_WABA = 2;
const K_CHANNEL = 3;
const K_CONTACT = 4;
const K_MESSAGE = 5;
const K_TEMPLATE = 6;
const K_ENTRY = 7;
const K_TZ = 8;

const INBOUND = bytesOf('inbound');
const DELIVERED = bytesOf('delivered');
const TEMPLATE_BYTES = TEMPLATE_CATEGORIES.map(bytesOf);
const ENTRY_BYTES = ENTRY_POINTS.map(bytesOf);

function equalsBytes(buf: Buffer, s: number, e: number, word: Buffer): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word[i]) return false;
  return true;
}

/** Which field a key names (-1 for any other), compared byte by byte without a call. */
function keyOf(b: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 2:
      if (b[s] === 97 && b[s + 1] === 116) return K_AT; // at
      if (b[s] === 116 && b[s + 1] === 122) return K_TZ; // tz
      return -1;
    case 4:
      if (b[s] === 116 && b[s + 1] === 121 && b[s + 2] === 112 && b[s + 3] === 101) return K_TYPE;
      if (b[s] === 119 && b[s + 1] === 97 && b[s + 2] === 98 && b[s + 3] === 97) return K_WABA;
      return -1;
    case 7:
      if (b[s] === 109) return equalsBytes(b, s, e, KEY_MESSAGE) ? K_MESSAGE : -1;
      if (b[s + 1] === 104) return equalsBytes(b, s, e, KEY_CHANNEL) ? K_CHANNEL : -1;
      return equalsBytes(b, s, e, KEY_CONTACT) ? K_CONTACT : -1;
    case 11:
      return equalsBytes(b, s, e, KEY_ENTRY) ? K_ENTRY : -1;
    case 17:
      return equalsBytes(b, s, e, KEY_TEMPLATE) ? K_TEMPLATE : -1;
    default:
      return -1;
  }
}

/** The word of `words` the bytes spell, checking length and first letter before comparing. */
function matchWord<W extends string>(
  buf: Buffer,
  s: number,
  e: number,
  words: readonly W[],
  bytes: readonly Buffer[],
): W | undefined {
  const first = buf[s];
  for (let k = 0; k < bytes.length; k++) {
    const w = bytes[k];
    if (w !== undefined && w.length === e - s && w[0] === first && equalsBytes(buf, s, e, w))
      return words[k];
  }
  return undefined;
}

interface InternEntry {
  readonly bytes: Buffer;
  readonly value: string;
}

const INTERN_SLOTS = 1 << 16;

/**
 * WABA, channel, contact and zone repeat on every line: one shared string per distinct value,
 * found by a hash of its bytes in a direct-mapped table (a colliding value just replaces the
 * slot), so no string is made for them per line and memory stays bounded. ASCII values (nearly
 * all ids) are compared with the string itself: one object per slot, fewer cache misses.
 */
class ByteInterner {
  readonly #ascii: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS);
  readonly #other: (InternEntry | undefined)[] = new Array<InternEntry | undefined>(INTERN_SLOTS);

  get(buf: Buffer, s: number, e: number, hash: number, ascii: boolean): string {
    const slot = (hash ^ (hash >>> 16)) & (INTERN_SLOTS - 1);
    const n = e - s;
    if (ascii) {
      const value = this.#ascii[slot];
      if (value !== undefined && value.length === n) {
        let i = 0;
        while (i < n && value.charCodeAt(i) === buf[s + i]) i++;
        if (i === n) return value;
      }
      // latin1 of ASCII bytes is the same text, made without a UTF-8 decoder.
      const made = buf.toString('latin1', s, e);
      this.#ascii[slot] = made;
      return made;
    }
    const entry = this.#other[slot];
    if (entry !== undefined && equalsBytes(buf, s, e, entry.bytes)) return entry.value;
    // A copy: a view (Buffer#slice) would keep the whole input chunk alive.
    const bytes = Buffer.allocUnsafeSlow(n);
    buf.copy(bytes, 0, s, e);
    const value = bytes.toString('utf8');
    this.#other[slot] = { bytes, value };
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
  /** The message bytes are plain ASCII (copied to the output as they are). */
  messageAscii: boolean;
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
  #buf: Buffer = Buffer.alloc(0);
  #slow: LoggedUsageEvent | null = null;
  // One event object of each kind, refilled for every line (the engine keeps none of them).
  readonly #inbound = newInboundEvent();
  readonly #delivered = newDeliveredEvent();
  /** The last line read; its event is valid until the next `read()`. */
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
      messageAscii: false,
      atText(): string {
        if (reader.#slow !== null) return reader.#slow.atText;
        return reader.#buf.toString('latin1', this.atStart, this.atEnd);
      },
    };
  }

  /**
   * A line of a log as split from the file (a trailing carriage return is dropped): null when
   * `this.line` holds its event, '' for a blank line (ignored), else why the line is bad.
   */
  readLogLine(buf: Buffer, s: number, e: number): string | null {
    if (e > s && buf[e - 1] === 13) e--;
    const problem = this.read(buf, s, e);
    return problem === null || !isBlank(buf, s, e) ? problem : '';
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
        // (Loops rather than Buffer#indexOf: the distances are too short for its call to pay.)
        let ke = ks;
        for (; ke < e; ke++) {
          const c = buf[ke] ?? 0;
          if (c === QUOTE) break;
          // Escapes and raw control characters: JSON.parse decides.
          if (c === BACKSLASH || c < 32) return undefined;
        }
        if (ke >= e) return undefined;
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
          ve = vs;
          while (ve < e && buf[ve] !== QUOTE) ve++;
          if (ve >= e || buf[ve - 1] === BACKSLASH) return undefined;
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
        entryPoint = matchWord(buf, entryS, entryE, ENTRY_POINTS, ENTRY_BYTES);
        if (entryPoint === undefined) return undefined;
      }
      l.messageStart = l.messageEnd = -1;
      const inbound = this.#inbound;
      inbound.at = at;
      inbound.waba = waba;
      inbound.channel = channel;
      inbound.contact = contact;
      inbound.entryPoint = entryPoint;
      inbound.tz = tz;
      l.event = inbound;
      return null;
    }
    if (msgS === -1 || msgE === msgS) return undefined;
    let templateCategory: TemplateCategory | undefined;
    if (templateS !== -1 && templateE > templateS) {
      templateCategory = matchWord(buf, templateS, templateE, TEMPLATE_CATEGORIES, TEMPLATE_BYTES);
      if (templateCategory === undefined) return undefined;
    }
    l.messageStart = msgS;
    l.messageEnd = msgE;
    l.messageAscii = msgAscii;
    const delivered = this.#delivered;
    delivered.at = at;
    delivered.waba = waba;
    delivered.channel = channel;
    delivered.contact = contact;
    delivered.message = buf.toString(msgAscii ? 'latin1' : 'utf8', msgS, msgE);
    delivered.templateCategory = templateCategory;
    delivered.tz = tz;
    l.event = delivered;
    return null;
  }
}
