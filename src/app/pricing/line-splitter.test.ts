// Lines from a byte stream, whatever the chunk boundaries; over-long lines reported, not held.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from './line-splitter.ts';

function split(chunks: readonly string[], max = 10): string[] {
  const seen: string[] = [];
  const splitter = new LineSplitter(
    {
      line: (buf, s, e) => seen.push(buf.toString('utf8', s, e)),
      tooLong: (limit) => seen.push(`<longer than ${limit}>`),
    },
    max,
  );
  for (const c of chunks) splitter.push(Buffer.from(c));
  splitter.end();
  return seen;
}

describe('LineSplitter', () => {
  it('gives the same lines for every way of cutting the input into two chunks', () => {
    const text = 'ab\n\ncdé\nfghij\nxyz';
    const expected = ['ab', '', 'cdé', 'fghij', 'xyz'];
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const seen: string[] = [];
      const splitter = new LineSplitter({
        line: (buf, s, e) => seen.push(buf.toString('utf8', s, e)),
        tooLong: () => seen.push('?'),
      });
      splitter.push(bytes.subarray(0, cut));
      splitter.push(bytes.subarray(cut));
      splitter.end();
      assert.deepEqual(seen, expected, `cut at ${cut}`);
    }
  });

  it('reports a line over the limit once, in its place, inside a chunk or across several', () => {
    assert.deepEqual(split(['ok\n0123456789\n01234567890\nend\n']), [
      'ok',
      '0123456789',
      '<longer than 10>',
      'end',
    ]);
    assert.deepEqual(split(['ok\n0123', '4567', '89abc', 'def\nend']), [
      'ok',
      '<longer than 10>',
      'end',
    ]);
    assert.deepEqual(split(['ok\n012345678', '9abcdef']), ['ok', '<longer than 10>']);
  });
});
