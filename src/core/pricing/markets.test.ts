// PRC-5: country → Meta pricing market, with dated moves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MARKETS, marketOf } from './markets.ts';

describe('markets', () => {
  it('PRC-5: maps countries to named markets, regional groups and Other', () => {
    assert.equal(marketOf('US', '2025-08-01'), 'North America');
    assert.equal(marketOf('CA', '2025-08-01'), 'North America');
    assert.equal(marketOf('GB', '2025-08-01'), 'United Kingdom');
    assert.equal(marketOf('IN', '2025-08-01'), 'India');
    assert.equal(marketOf('BR', '2025-08-01'), 'Brazil');
    assert.equal(marketOf('DE', '2025-08-01'), 'Germany');
    assert.equal(marketOf('AT', '2025-08-01'), 'Rest of Western Europe');
    assert.equal(marketOf('PR', '2025-08-01'), 'Rest of Latin America');
    assert.equal(marketOf('PL', '2025-08-01'), 'Rest of Central & Eastern Europe');
    assert.equal(marketOf('KE', '2025-08-01'), 'Rest of Africa');
    assert.equal(marketOf('JP', '2025-08-01'), 'Rest of Asia Pacific');
    assert.equal(marketOf('QA', '2025-08-01'), 'Rest of Middle East');
    assert.equal(marketOf('IS', '2025-08-01'), 'Other');
    assert.equal(marketOf('XX', '2025-08-01'), 'Other');
  });

  it('PRC-5: applies dated moves from their local date on', () => {
    assert.equal(marketOf('ZW', '2025-09-30'), 'Other');
    assert.equal(marketOf('ZW', '2025-10-01'), 'Rest of Africa');
    assert.equal(marketOf('UA', '2026-09-30'), 'Rest of Central & Eastern Europe');
    assert.equal(marketOf('UA', '2026-10-01'), 'Ukraine');
    assert.equal(marketOf('KW', '2026-10-01'), 'Kuwait');
    assert.equal(marketOf('LK', '2026-10-01'), 'Sri Lanka');
  });

  it('names every market a country can map to in MARKETS', () => {
    const named = new Set<string>(MARKETS);
    for (const c of ['US', 'GB', 'ZW', 'UA', 'BD', 'KZ', 'MA', 'OM', 'IQ', 'NP'])
      for (const d of ['2020-01-01', '2026-10-01']) assert.ok(named.has(marketOf(c, d)));
  });
});
