// Rate card validation and lookup: effective dates, volume tiers, problems that name their line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateCard, type RateCardRowText } from './rate-card.ts';
import { cardFrom } from './pricing-test-kit.ts';

function row(line: number, text: string): RateCardRowText {
  const [
    effectiveFrom = '',
    market = '',
    category = '',
    currency = '',
    rate = '',
    volumeFrom = '',
  ] = text.split(',');
  return { line, effectiveFrom, market, category, currency, rate, volumeFrom };
}

describe('rate card lookup', () => {
  const card = cardFrom(`
effective_from,market,category,currency,rate,volume_from
2025-07-01,India,utility,INR,0.1150,
2025-07-01,India,utility,INR,0.0900,100
2025-07-01,India,utility,INR,0.0700,1000
2026-01-01,India,utility,INR,0.1000,
2026-01-01,India,utility,INR,0.0800,100
`);

  it('uses the latest effective_from on or before the local delivery date', () => {
    assert.equal(card.rateFor('India', 'utility', '2025-06-30'), null);
    assert.equal(card.rateFor('India', 'utility', '2025-07-01')?.micros, 115_000);
    assert.equal(card.rateFor('India', 'utility', '2025-12-31')?.micros, 115_000);
    assert.equal(card.rateFor('India', 'utility', '2026-01-01')?.micros, 100_000);
  });

  it('PRC-4: picks the tier with the largest volume_from not above the messages already charged', () => {
    // the 100th charged message has 99 before it: first tier; the 101st has 100 before it
    assert.equal(card.rateFor('India', 'utility', '2025-08-01', 99)?.micros, 115_000);
    assert.equal(card.rateFor('India', 'utility', '2025-08-01', 100)?.micros, 90_000);
    assert.equal(card.rateFor('India', 'utility', '2025-08-01', 999)?.micros, 90_000);
    assert.equal(card.rateFor('India', 'utility', '2025-08-01', 1000)?.micros, 70_000);
    // a newer version's tiers replace the older version's entirely
    assert.equal(card.rateFor('India', 'utility', '2026-02-01', 5000)?.micros, 80_000);
  });

  it('has no rate for a market or category the card does not price', () => {
    assert.equal(card.rateFor('India', 'marketing', '2025-08-01'), null);
    assert.equal(card.rateFor('Brazil', 'utility', '2025-08-01'), null);
  });

  it('reports the currency of a market, or the card currency for a market it does not list', () => {
    assert.equal(card.currencyFor('India'), 'INR');
    assert.equal(card.currencyFor('Brazil'), 'INR');
  });
});

describe('rate card validation', () => {
  it('names the line of every bad value', () => {
    const result = RateCard.fromRows([
      row(2, '2025-07-01,United Kingdom,marketing,USD,0.0500,'),
      row(3, '2025-02-30,United Kingdom,utility,USD,0.0200,'),
      row(4, '2025-07-01,Untied Kingdom,utility,USD,0.0200,'),
      row(5, '2025-07-01,United Kingdom,promotional,USD,0.0200,'),
      row(6, '2025-07-01,United Kingdom,authentication,usd,0.0200,'),
      row(7, '2025-07-01,United Kingdom,service,USD,-1,'),
      row(8, '2025-07-01,United Kingdom,service,USD,0.0000001,'),
      row(9, '2025-07-01,United Kingdom,marketing_lite,USD,0.01,ten'),
    ]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.problems.map((p) => p.line),
      [3, 4, 5, 6, 7, 8, 9],
    );
    assert.match(result.problems[1]?.message ?? '', /Untied Kingdom/);
  });

  it('refuses duplicate tiers, mixed currencies in one group and tiers without a 0 row', () => {
    const result = RateCard.fromRows([
      row(2, '2025-07-01,India,utility,USD,0.0014,'),
      row(3, '2025-07-01,India,utility,USD,0.0012,'),
      row(4, '2025-07-01,India,utility,INR,0.0010,100'),
      row(5, '2025-07-01,Brazil,utility,USD,0.0080,1000'),
    ]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.problems.map((p) => [p.line, p.message.split(' ')[0]]),
      [
        [3, 'duplicates'],
        [4, 'currency'],
        [5, 'volume'],
      ],
    );
  });

  it('refuses an empty card', () => {
    const result = RateCard.fromRows([]);
    assert.equal(result.ok, false);
  });

  it('keeps exact money: 0.000125 is 125 micro-units', () => {
    const result = RateCard.fromRows([row(2, '2025-07-01,India,utility,USD,0.000125,')]);
    assert.ok(result.ok);
    if (!result.ok) return;
    assert.equal(result.card.rateFor('India', 'utility', '2025-07-01')?.micros, 125);
    assert.ok(Object.isFrozen(result.card.entries));
  });
});
