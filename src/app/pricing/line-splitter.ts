// Splits a byte stream into lines without copying them, whatever the chunk boundaries.

/** Longer lines are reported and skipped instead of being held in memory. */
export const MAX_LINE_BYTES = 1 << 20;

/** True for a line of spaces, tabs and carriage returns only (ignored, not bad). */
export function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Told about every line in order: its bytes (without the newline), or that it was too long. */
export interface LineSink {
  line(buf: Buffer, start: number, end: number): void;
  tooLong(maxBytes: number): void;
}

/**
 * Feeds lines to a sink. Complete lines are handed over as ranges of the chunk itself; only a
 * line cut by a chunk boundary is copied (joined with the rest of it from the next chunk).
 */
export class LineSplitter {
  readonly #sink: LineSink;
  readonly #max: number;
  /** The unfinished last line of the previous chunk (a copy: the chunk itself can go). */
  #carry: Buffer | null = null;
  /** A line longer than the limit is being skipped up to its newline. */
  #skipping = false;

  constructor(sink: LineSink, maxLineBytes = MAX_LINE_BYTES) {
    this.#sink = sink;
    this.#max = maxLineBytes;
  }

  push(buf: Buffer): void {
    let start = 0;
    if (this.#carry !== null || this.#skipping) {
      const nl = buf.indexOf(10);
      if (nl === -1) {
        if (this.#skipping) return;
        const carry = this.#carry ?? Buffer.alloc(0);
        if (carry.length + buf.length > this.#max) {
          this.#skipping = true;
          this.#carry = null;
        } else this.#carry = Buffer.concat([carry, buf]);
        return;
      }
      if (this.#skipping) {
        this.#skipping = false;
        this.#sink.tooLong(this.#max);
      } else if (this.#carry !== null) {
        if (this.#carry.length + nl > this.#max) this.#sink.tooLong(this.#max);
        else {
          const joined = Buffer.concat([this.#carry, buf.subarray(0, nl)]);
          this.#sink.line(joined, 0, joined.length);
        }
      }
      this.#carry = null;
      start = nl + 1;
    }
    const sink = this.#sink;
    const max = this.#max;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (nl - start > max) sink.tooLong(max);
      else sink.line(buf, start, nl);
      start = nl + 1;
    }
    if (start < buf.length) {
      if (buf.length - start > this.#max) this.#skipping = true;
      else this.#carry = Buffer.from(buf.subarray(start));
    }
  }

  /** The last line, when the input does not end with a newline. */
  end(): void {
    if (this.#skipping) this.#sink.tooLong(this.#max);
    else if (this.#carry !== null) this.#sink.line(this.#carry, 0, this.#carry.length);
    this.#carry = null;
    this.#skipping = false;
  }
}
