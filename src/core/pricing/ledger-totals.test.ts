// Month totals: one group per (waba, local month, category, currency), however lines interleave.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerTotals } from './ledger-totals.ts';
import type { RatedMessage } from './rating-engine.ts';

const line = (
  waba: string,
  month: string,
  category: RatedMessage['category'],
  currency: string,
  amountMicros: number,
): RatedMessage => ({
  kind: 'rated',
  message: 'm',
  waba,
  channel: 'C1',
  contact: '+447700900123',
  at: 0,
  date: `${month}-01`,
  month,
  pricingModel: 'PMP',
  era: 'pmp2025',
  category,
  pricingType: amountMicros > 0 ? 'regular' : 'free_customer_service',
  conversation: null,
  market: 'United Kingdom',
  country: 'GB',
  billable: amountMicros > 0,
  amountMicros,
  currency,
});

describe('LedgerTotals', () => {
  it('keeps interleaved WABAs, months, categories and currencies apart and sums each exactly', () => {
    const totals = new LedgerTotals();
    const lines = [
      line('W1', '2025-07', 'marketing', 'USD', 50_000),
      line('W2', '2025-07', 'marketing', 'USD', 25_000),
      line('W1', '2025-07', 'utility', 'USD', 0),
      line('W1', '2025-08', 'marketing', 'USD', 50_000),
      line('W1', '2025-07', 'marketing', 'EUR', 40_000),
      line('W1', '2025-07', 'marketing', 'USD', 50_000),
      line('W2', '2025-07', 'marketing', 'USD', 25_000),
    ];
    for (const l of lines) totals.add(l);
    assert.deepEqual(
      totals
        .monthTotals()
        .map((t) => [
          t.waba,
          t.month,
          t.category,
          t.currency,
          t.amountMicros,
          t.messages,
          t.billable,
        ]),
      [
        ['W1', '2025-07', 'marketing', 'EUR', 40_000, 1, 1],
        ['W1', '2025-07', 'marketing', 'USD', 100_000, 2, 2],
        ['W1', '2025-07', 'utility', 'USD', 0, 1, 0],
        ['W1', '2025-08', 'marketing', 'USD', 50_000, 1, 1],
        ['W2', '2025-07', 'marketing', 'USD', 50_000, 2, 2],
      ],
    );
    assert.deepEqual(totals.currencyTotals(), [
      { currency: 'EUR', amountMicros: 40_000 },
      { currency: 'USD', amountMicros: 200_000 },
    ]);
  });
});
