// Limits that apply when pushing templates to a provider (TPL-7).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HOUR, MINUTE } from '../time.ts';
import { checkTemplatePushPlan, type PushCreation } from './push-plan.ts';

const now = Date.parse('2026-03-01T12:00:00Z');
const creations = (waba: string, n: number): PushCreation[] =>
  Array.from({ length: n }, (_, i) => ({ waba, name: `t_${i}`, language: 'en' }));

describe('template push plan', () => {
  it('TPL-7: past the per-WABA cap (default 250) is an error naming 2388019', () => {
    const fits = checkTemplatePushPlan(
      creations('W1', 10),
      { W1: { existing: 240, createdAt: [] } },
      now,
    );
    assert.deepEqual(fits.findings, []);
    assert.equal(fits.wabas[0]?.createNow, 10);
    const over = checkTemplatePushPlan(
      creations('W1', 11),
      { W1: { existing: 240, createdAt: [] } },
      now,
    );
    assert.equal(over.findings.length, 1);
    assert.equal(over.findings[0]?.rule, 'TPL-7');
    assert.equal(over.findings[0]?.severity, 'error');
    assert.match(
      over.findings[0]?.message ?? '',
      /WABA W1: 240 templates exist and this push creates 11; .* at most 250 \(Meta error 2388019\): 10 can be created/,
    );
    assert.equal(over.wabas[0]?.createNow, 10);
  });

  it('TPL-7: the cap is configurable', () => {
    const plan = creations('W1', 300);
    assert.equal(
      checkTemplatePushPlan(plan, {}, now).findings.some((f) => f.severity === 'error'),
      true,
    );
    const big = checkTemplatePushPlan(plan, {}, now, { perHour: 1000, perWaba: 6000 });
    assert.deepEqual(big.findings, []);
  });

  it('TPL-7: at most 100 created per WABA in the last hour: the rest are held back until a slot opens', () => {
    const createdAt = [
      now - HOUR, // left the window exactly now (half-open)
      ...Array.from({ length: 90 }, (_, i) => now - 50 * MINUTE + i * 1000),
    ];
    const check = checkTemplatePushPlan(
      creations('W1', 15),
      { W1: { existing: 100, createdAt } },
      now,
    );
    assert.deepEqual(check.wabas, [
      {
        waba: 'W1',
        toCreate: 15,
        existing: 100,
        createdLastHour: 90,
        createNow: 10,
        nextSlotAt: now + 10 * MINUTE,
      },
    ]);
    assert.equal(check.findings.length, 1);
    assert.equal(check.findings[0]?.severity, 'warning');
    assert.match(
      check.findings[0]?.message ?? '',
      /90 templates were created in the last hour .* 10 now, the next from 2026-03-01T12:10:00\.000Z/,
    );
  });

  it('TPL-7: each WABA is counted on its own', () => {
    const check = checkTemplatePushPlan(
      [...creations('W1', 2), ...creations('W2', 3)],
      { W1: { existing: 249, createdAt: [] }, W2: { existing: 0, createdAt: [] } },
      now,
    );
    assert.deepEqual(
      check.wabas.map((w) => [w.waba, w.createNow]),
      [
        ['W1', 1],
        ['W2', 3],
      ],
    );
    assert.equal(check.findings.length, 1);
    assert.match(check.findings[0]?.message ?? '', /^WABA W1/);
  });
});
