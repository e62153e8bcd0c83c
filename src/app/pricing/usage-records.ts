// Usage events as compact binary records, for handing read lines from the reader thread to the
// rating thread in transferred buffers (no structured clone, no string per field).
import { ENTRY_POINTS, TEMPLATE_CATEGORIES } from '../../core/pricing/categories.ts';
import type { DeliveredUsage, InboundUsage } from '../../core/pricing/rating-engine.ts';
import { newDeliveredEvent, newInboundEvent, type ScannedLine } from './usage-log-bytes.ts';

/** Record kinds. */
const INBOUND = 1;
const DELIVERED = 2;
const BAD = 3;
/** Defines id → string; ids are reused after a RESET, so the table stays bounded. */
const DEFINE = 4;
const RESET = 5;
const NONE = 255;

/** Ids handed out before the table starts over (memory stays bounded on unbounded ids). */
const MAX_IDS = 1 << 16;
/** A batch is sent when it holds about this many bytes. */
export const BATCH_BYTES = 1 << 20;
/** Room always kept free in a batch for one more record with short ids. */
const RECORD_MARGIN = 512;

/** Writes records into batches; `send` gets each full batch (its buffer may be transferred). */
export class RecordWriter {
  #buf: Buffer;
  #pos = 0;
  readonly #ids = new Map<string, number>();
  readonly #send: (batch: Buffer) => void;

  constructor(send: (batch: Buffer) => void) {
    this.#send = send;
    this.#buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  /** Sends what is written, if anything. */
  flush(): void {
    if (this.#pos === 0) return;
    const batch = this.#buf.subarray(0, this.#pos);
    this.#buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.#pos = 0;
    this.#send(batch);
  }

  #room(bytes: number): void {
    if (this.#pos + bytes + RECORD_MARGIN <= this.#buf.length) return;
    this.flush();
    if (bytes + RECORD_MARGIN > this.#buf.length)
      this.#buf = Buffer.allocUnsafeSlow(bytes + RECORD_MARGIN);
  }

  #u8(v: number): void {
    this.#buf[this.#pos++] = v;
  }

  #u32(v: number): void {
    this.#pos = this.#buf.writeUInt32LE(v, this.#pos);
  }

  #i32(v: number): void {
    this.#pos = this.#buf.writeInt32LE(v, this.#pos);
  }

  #bytes(src: Uint8Array, s: number, e: number): void {
    this.#u32(e - s);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = s; i < e; i++) buf[pos++] = src[i] ?? 0;
    this.#pos = pos;
  }

  /** Length-prefixed UTF-8 (the caller has made room for it). */
  #text(text: string): void {
    const at = this.#pos;
    this.#pos += 4;
    const len = this.#buf.write(text, this.#pos, 'utf8');
    this.#buf.writeUInt32LE(len, at);
    this.#pos += len;
  }

  /** The id of a string, defining it first if the reading thread does not know it yet. */
  #id(value: string): number {
    const known = this.#ids.get(value);
    if (known !== undefined) return known;
    const id = this.#ids.size;
    this.#ids.set(value, id);
    this.#room(Buffer.byteLength(value) + 16);
    this.#u8(DEFINE);
    this.#u32(id);
    this.#text(value);
    return id;
  }

  bad(lineNo: number, reason: string): void {
    this.#room(Buffer.byteLength(reason) + 16);
    this.#u8(BAD);
    this.#u32(lineNo);
    this.#text(reason);
  }

  /** The event of a line just read (`line` from UsageLineReader, its bytes in `src`). */
  event(lineNo: number, line: ScannedLine, src: Uint8Array): void {
    const e = line.event;
    // Start the table over before, not in the middle of, a record's ids.
    if (this.#ids.size > MAX_IDS - 4) {
      this.#room(1);
      this.#u8(RESET);
      this.#ids.clear();
    }
    const waba = this.#id(e.waba);
    const channel = this.#id(e.channel);
    const contact = this.#id(e.contact);
    const tz = e.tz === undefined ? -1 : this.#id(e.tz);
    if (e.type === 'inbound') {
      this.#room(32);
      this.#u8(INBOUND);
      this.#u32(lineNo);
      this.#pos = this.#buf.writeDoubleLE(e.at, this.#pos);
      this.#u32(waba);
      this.#u32(channel);
      this.#u32(contact);
      this.#i32(tz);
      this.#u8(e.entryPoint === undefined ? NONE : ENTRY_POINTS.indexOf(e.entryPoint));
      return;
    }
    const raw = line.messageStart >= 0 && line.messageAscii;
    const messageBytes = raw ? line.messageEnd - line.messageStart : Buffer.byteLength(e.message);
    const atText = line.atStart >= 0 ? null : line.atText();
    const atBytes = atText === null ? line.atEnd - line.atStart : Buffer.byteLength(atText);
    this.#room(64 + messageBytes + atBytes);
    this.#u8(DELIVERED);
    this.#u32(lineNo);
    this.#pos = this.#buf.writeDoubleLE(e.at, this.#pos);
    this.#u32(waba);
    this.#u32(channel);
    this.#u32(contact);
    this.#i32(tz);
    this.#u8(
      e.templateCategory === undefined ? NONE : TEMPLATE_CATEGORIES.indexOf(e.templateCategory),
    );
    this.#u8(raw ? 1 : 0);
    if (atText === null) this.#bytes(src, line.atStart, line.atEnd);
    else this.#text(atText);
    if (raw) this.#bytes(src, line.messageStart, line.messageEnd);
    else this.#text(e.message);
  }
}

/** What the rating thread is told about each record. */
export interface RecordSink {
  /** An event; `line` locates its `at` and message in `batch` for the output. */
  event(
    lineNo: number,
    event: InboundUsage | DeliveredUsage,
    batch: Buffer,
    line: ScannedLine,
  ): void;
  bad(lineNo: number, reason: string): void;
}

/** Reads batches written by RecordWriter, keeping the id table in step with the writer's. */
export class RecordReader {
  #ids: string[] = [];
  readonly #inbound = newInboundEvent();
  readonly #delivered = newDeliveredEvent();
  /** The batch being read (the line's ranges point into it). */
  #batch: Buffer = Buffer.alloc(0);
  readonly #line: ScannedLine = {
    event: this.#inbound,
    atStart: -1,
    atEnd: -1,
    messageStart: -1,
    messageEnd: -1,
    messageAscii: false,
    atText: () => this.#batch.toString('latin1', this.#line.atStart, this.#line.atEnd),
  };

  #id(i: number): string {
    const value = this.#ids[i];
    if (value === undefined) throw new Error(`usage record refers to undefined id ${i}`);
    return value;
  }

  read(batch: Buffer, sink: RecordSink): void {
    this.#batch = batch;
    let pos = 0;
    const end = batch.length;
    const line = this.#line;
    while (pos < end) {
      const kind = batch[pos++];
      if (kind === DEFINE) {
        const id = batch.readUInt32LE(pos);
        const len = batch.readUInt32LE(pos + 4);
        this.#ids[id] = batch.toString('utf8', pos + 8, pos + 8 + len);
        pos += 8 + len;
      } else if (kind === RESET) {
        this.#ids = [];
      } else if (kind === BAD) {
        const lineNo = batch.readUInt32LE(pos);
        const len = batch.readUInt32LE(pos + 4);
        sink.bad(lineNo, batch.toString('utf8', pos + 8, pos + 8 + len));
        pos += 8 + len;
      } else if (kind === INBOUND || kind === DELIVERED) {
        const lineNo = batch.readUInt32LE(pos);
        const at = batch.readDoubleLE(pos + 4);
        const waba = this.#id(batch.readUInt32LE(pos + 12));
        const channel = this.#id(batch.readUInt32LE(pos + 16));
        const contact = this.#id(batch.readUInt32LE(pos + 20));
        const tzId = batch.readInt32LE(pos + 24);
        const tz = tzId < 0 ? undefined : this.#id(tzId);
        const code = batch[pos + 28] ?? NONE;
        if (kind === INBOUND) {
          pos += 29;
          const e = this.#inbound;
          e.at = at;
          e.waba = waba;
          e.channel = channel;
          e.contact = contact;
          e.tz = tz;
          e.entryPoint = code === NONE ? undefined : ENTRY_POINTS[code];
          line.event = e;
          line.atStart = line.messageStart = -1;
          sink.event(lineNo, e, batch, line);
          continue;
        }
        const raw = batch[pos + 29] === 1;
        const atLen = batch.readUInt32LE(pos + 30);
        line.atStart = pos + 34;
        line.atEnd = line.atStart + atLen;
        pos = line.atEnd;
        const messageLen = batch.readUInt32LE(pos);
        line.messageStart = pos + 4;
        line.messageEnd = line.messageStart + messageLen;
        line.messageAscii = raw;
        pos = line.messageEnd;
        const e = this.#delivered;
        e.at = at;
        e.waba = waba;
        e.channel = channel;
        e.contact = contact;
        e.tz = tz;
        e.templateCategory = code === NONE ? undefined : TEMPLATE_CATEGORIES[code];
        e.message = batch.toString(raw ? 'latin1' : 'utf8', line.messageStart, line.messageEnd);
        line.event = e;
        sink.event(lineNo, e, batch, line);
      } else throw new Error(`usage record of unknown kind ${String(kind)}`);
    }
  }
}
