// Group commit for the webhook log: batching, per-row outcomes, and isolation of a bad row.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InsertBatcher } from './insert-batcher.ts';

function recorder(options: { failOn?: (row: number) => boolean; maxBatch?: number } = {}) {
  const batches: number[][] = [];
  const singles: number[] = [];
  const written: number[] = [];
  const check = (row: number) => {
    if (options.failOn?.(row)) throw new Error(`bad row ${row}`);
  };
  const batcher = new InsertBatcher<number>({
    maxBatch: options.maxBatch ?? 100,
    writeOne: (row) => {
      singles.push(row);
      check(row);
      written.push(row);
      return Promise.resolve();
    },
    writeMany: async (rows) => {
      batches.push([...rows]);
      await Promise.resolve();
      // All or nothing, like a transaction.
      rows.forEach(check);
      written.push(...rows);
    },
  });
  return { batcher, batches, singles, written };
}

describe('InsertBatcher', () => {
  it('writes rows handed in during one event-loop turn as one batch', async () => {
    const { batcher, batches, singles, written } = recorder();
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.insert(i)));
    assert.deepEqual(batches, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    assert.deepEqual(singles, []);
    assert.deepEqual(written, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('settles a caller only after its row is written', async () => {
    const { batcher, written } = recorder();
    const seen: number[][] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        batcher.insert(n).then(() => seen.push([n, written.includes(n) ? 1 : 0])),
      ),
    );
    assert.deepEqual(seen, [
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it('writes a lone row on its own (no batch overhead)', async () => {
    const { batcher, batches, singles } = recorder();
    await batcher.insert(7);
    await batcher.insert(8);
    assert.deepEqual(batches, []);
    assert.deepEqual(singles, [7, 8]);
  });

  it('splits large bursts at maxBatch', async () => {
    const { batcher, batches } = recorder({ maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.insert(i)));
    assert.deepEqual(
      batches.map((b) => b.length),
      [4, 4, 2],
    );
  });

  it('fails only the bad row of a batch; the others are written', async () => {
    const { batcher, written } = recorder({ failOn: (row) => row === 3 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => batcher.insert(i)),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual([...written].sort(), [0, 1, 2, 4, 5]);
  });

  it('flush() waits for every row handed in so far', async () => {
    const { batcher, written } = recorder();
    const pending = Array.from({ length: 5 }, (_, i) => batcher.insert(i));
    await batcher.flush();
    assert.equal(written.length, 5);
    await Promise.all(pending);
  });
});
