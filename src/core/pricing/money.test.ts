// Money: exact decimal parsing into micro-units and exact printing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatMicros, parseDecimalMicros } from './money.ts';

describe('money', () => {
  it('parses decimals exactly, with no floating point rounding', () => {
    assert.equal(parseDecimalMicros('0.0500'), 50_000);
    assert.equal(parseDecimalMicros('0.07'), 70_000);
    assert.equal(parseDecimalMicros('12'), 12_000_000);
    assert.equal(parseDecimalMicros('0.000001'), 1);
    assert.equal(parseDecimalMicros('0.1000000'), 100_000);
    // 0.1 + 0.2 in floats is 0.30000000000000004; in micros it is exact
    assert.equal(
      (parseDecimalMicros('0.1') as number) + (parseDecimalMicros('0.2') as number),
      300_000,
    );
  });

  it('refuses what is not a non-negative decimal with at most six decimals', () => {
    for (const bad of ['', '-0.1', '1e-3', '0,05', '.5', '0.0000005', 'abc'])
      assert.equal(typeof parseDecimalMicros(bad), 'string', bad);
  });

  it('prints micro-units with four to six decimals', () => {
    assert.equal(formatMicros(0), '0.0000');
    assert.equal(formatMicros(70_000), '0.0700');
    assert.equal(formatMicros(125), '0.000125');
    assert.equal(formatMicros(1_234_500_000), '1234.5000');
    assert.equal(formatMicros(-50_000), '-0.0500');
  });
});
