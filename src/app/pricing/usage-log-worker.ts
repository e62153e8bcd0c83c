// The reader thread of `parley rate`: reads a usage log file, turns its lines into binary records
// and hands them to the rating thread in transferred batches, at most a few ahead of it.
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { LineSplitter, type LineSink } from './line-splitter.ts';
import { RecordWriter } from './usage-records.ts';
import { UsageLineReader } from './usage-log-bytes.ts';

/** What the rating thread sends to start the reader. */
export interface ReaderWorkerData {
  readonly path: string;
}

/** Messages from the reader: a batch of records, the end, or a failure. */
export type ReaderMessage =
  | { readonly kind: 'batch'; readonly batch: Uint8Array }
  | { readonly kind: 'end'; readonly lines: number }
  | { readonly kind: 'error'; readonly message: string };

/** Batches sent but not yet rated: the reader waits beyond this, so memory stays bounded. */
const MAX_IN_FLIGHT = 4;
const READ_BYTES = 1 << 20;

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('usage-log-worker runs as a worker thread');
  const { path } = workerData as ReaderWorkerData;
  let inFlight = 0;
  let wake: (() => void) | null = null;
  port.on('message', () => {
    inFlight--;
    wake?.();
  });
  const batches: Buffer[] = [];
  const writer = new RecordWriter((batch) => batches.push(batch));
  const reader = new UsageLineReader();
  let lines = 0;
  const sink: LineSink = {
    line(buf, s, e) {
      lines++;
      const problem = reader.readLogLine(buf, s, e);
      if (problem === null) writer.event(lines, reader.line, buf);
      else if (problem !== '') writer.bad(lines, problem);
    },
    tooLong(max) {
      lines++;
      writer.bad(lines, `longer than ${max} bytes`);
    },
  };
  const splitter = new LineSplitter(sink);
  const send = async () => {
    for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      inFlight++;
      const message: ReaderMessage = { kind: 'batch', batch };
      port.postMessage(message, [batch.buffer as ArrayBuffer]);
    }
  };
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafeSlow(READ_BYTES);
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, READ_BYTES, null);
      if (bytesRead === 0) break;
      // Every record copies what it needs, so the chunk can be read into again.
      splitter.push(chunk.subarray(0, bytesRead));
      await send();
    }
    splitter.end();
    writer.flush();
    await send();
  } finally {
    await file.close();
  }
  const end: ReaderMessage = { kind: 'end', lines };
  port.postMessage(end);
}

main().catch((error: unknown) => {
  const message: ReaderMessage = {
    kind: 'error',
    message: error instanceof Error ? error.message : String(error),
  };
  parentPort?.postMessage(message);
});
