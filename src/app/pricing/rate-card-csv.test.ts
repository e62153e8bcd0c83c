// Rate card CSV parsing, the bundled illustrative card, and problems that name their line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  ILLUSTRATIVE_RATE_CARD_PATH,
  loadRateCardFile,
  parseRateCardCsv,
} from './rate-card-csv.ts';

describe('rate card CSV', () => {
  it('parses the PRODUCT.md header, with or without volume_from, BOM and CRLF included', () => {
    const full = parseRateCardCsv(
      '\ufeffeffective_from,market,category,currency,rate,volume_from\r\n2025-07-01,India,utility,INR,0.1150,\r\n2025-07-01,India,utility,INR,0.0900,100\r\n',
    );
    assert.ok(full.ok);
    if (full.ok)
      assert.equal(full.card.rateFor('India', 'utility', '2025-07-02', 100)?.micros, 90_000);
    const short = parseRateCardCsv(
      'effective_from,market,category,currency,rate\n2025-07-01,"Rest of Central & Eastern Europe",marketing,EUR,0.0712\n',
    );
    assert.ok(short.ok);
    if (short.ok)
      assert.equal(
        short.card.rateFor('Rest of Central & Eastern Europe', 'marketing', '2025-07-01')?.currency,
        'EUR',
      );
  });

  it('names the line of each problem: header, field count, values', () => {
    const header = parseRateCardCsv('effective_from,market,category,price\n');
    assert.equal(header.ok, false);
    if (!header.ok) {
      assert.deepEqual(
        header.problems.map((p) => p.line),
        [1, 1, 1],
      );
      assert.match(header.problems[0]?.message ?? '', /unknown column "price"/);
    }
    const rows = parseRateCardCsv(
      [
        'effective_from,market,category,currency,rate,volume_from',
        '2025-07-01,India,utility,USD,0.0014,',
        '',
        '2025-07-01,India,marketing,USD',
        '2025-07-01,Narnia,marketing,USD,0.01,',
        '2025-13-01,India,service,USD,0.01,',
      ].join('\n'),
    );
    assert.equal(rows.ok, false);
    if (!rows.ok)
      assert.deepEqual(
        rows.problems.map((p) => p.line),
        [4, 5, 6],
      );
  });

  it('reports CSV syntax errors with a line', () => {
    const r = parseRateCardCsv(
      'effective_from,market,category,currency,rate\n2025-07-01,"India,utility,USD,0.1\n',
    );
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.problems[0]?.message ?? '', /not valid CSV/);
  });

  it('reports a file that cannot be read', async () => {
    const r = await loadRateCardFile('/nonexistent/card.csv');
    assert.equal(r.ok, false);
  });

  it("ships an illustrative card covering every era's categories for the listed markets", async () => {
    const loaded = await loadRateCardFile(ILLUSTRATIVE_RATE_CARD_PATH);
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
    if (!loaded.ok) return;
    const card = loaded.card;
    const needs: Array<[string, string[]]> = [
      ['2021-06-01', ['notification']],
      ['2022-06-01', ['user_initiated', 'business_initiated']],
      ['2023-06-01', ['marketing', 'utility', 'authentication', 'service']],
      ['2025-07-01', ['marketing', 'marketing_lite', 'utility', 'authentication']],
      ['2026-10-01', ['marketing', 'marketing_lite', 'utility', 'authentication', 'service']],
    ];
    for (const market of [
      'North America',
      'United Kingdom',
      'India',
      'Brazil',
      'Germany',
      'Rest of Western Europe',
      'Other',
    ])
      for (const [date, categories] of needs)
        for (const category of categories)
          assert.ok(card.rateFor(market, category, date), `${market} ${category} ${date}`);
    assert.ok(card.rateFor('India', 'authentication_international', '2025-07-01'));
    // volume tiers exist in the per-message eras
    assert.ok(
      (card.rateFor('India', 'utility', '2025-07-01', 1_000_000)?.micros ?? 0) <
        (card.rateFor('India', 'utility', '2025-07-01', 0)?.micros ?? 0),
    );
  });

  it('keeps the illustrative card a plain CSV with the contract header', async () => {
    const text = await readFile(ILLUSTRATIVE_RATE_CARD_PATH, 'utf8');
    assert.equal(text.split('\n')[0], 'effective_from,market,category,currency,rate,volume_from');
  });
});
