// Which pricing model the sandbox reports at an instant, and how it bills conversations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DAY, HOUR } from '../../../core/time.ts';
import { entryPointLength, eraAt, SandboxPricing } from './sandbox-pricing.ts';

describe('sandbox pricing eras', () => {
  it('§9: each era starts at midnight UTC of its first day', () => {
    const cases = [
      ['2022-01-31T23:59:59.999Z', 'nbp'],
      ['2022-02-01T00:00:00Z', 'cbp2022'],
      ['2023-05-31T23:59:59Z', 'cbp2022'],
      ['2023-06-01T00:00:00Z', 'cbp2023'],
      ['2024-11-01T00:00:00Z', 'cbp2024'],
      ['2025-06-30T23:59:59Z', 'cbp2024'],
      ['2025-07-01T00:00:00Z', 'pmp2025'],
      ['2026-09-30T23:59:59Z', 'pmp2025'],
      ['2026-10-01T00:00:00Z', 'pmp2026'],
    ] as const;
    for (const [at, era] of cases) assert.equal(eraAt(Date.parse(at)), era, at);
  });

  it('FEP-3: the entry point window is 24 h in 2022 and 72 h from June 2023', () => {
    assert.equal(entryPointLength('cbp2022'), DAY);
    assert.equal(entryPointLength('cbp2023'), 72 * HOUR);
    assert.equal(entryPointLength('pmp2025'), 72 * HOUR);
  });

  it('SVC-1: in cbp2024 a service conversation is not billable; CAT-4: a new one opens after 24 h', () => {
    let n = 0;
    const pricing = new SandboxPricing(() => `conv${++n}`);
    const t = Date.parse('2025-01-10T09:00:00Z');
    const free = { templateCategory: null, windowOpen: true, entryPoint: null } as const;
    const first = pricing.price('pair', { ...free, at: t });
    const same = pricing.price('pair', { ...free, at: t + 23 * HOUR });
    const next = pricing.price('pair', { ...free, at: t + DAY });
    assert.deepEqual(first.pricing, { billable: false, pricing_model: 'CBP', category: 'service' });
    assert.equal(same.conversation?.id, 'conv1');
    assert.equal(next.conversation?.id, 'conv2');
  });

  it('NBP-1/NBP-2: before 2022 only a template outside the window is billable', () => {
    const pricing = new SandboxPricing(() => 'c');
    const at = Date.parse('2021-06-01T12:00:00Z');
    const outside = pricing.price('p', {
      at,
      templateCategory: 'utility',
      windowOpen: false,
      entryPoint: null,
    });
    const inside = pricing.price('p', {
      at,
      templateCategory: 'utility',
      windowOpen: true,
      entryPoint: null,
    });
    assert.deepEqual(outside.pricing, { billable: true, pricing_model: 'NBP' });
    assert.deepEqual(inside.pricing, { billable: false, pricing_model: 'NBP' });
  });
});
