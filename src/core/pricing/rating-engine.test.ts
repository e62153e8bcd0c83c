// Rule-by-rule tests of the rating engine (WHATSAPP_RULES.md §3 FEP and §9 pricing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Scenario, brief } from './pricing-test-kit.ts';
import { LedgerTotals } from './ledger-totals.ts';
import { formatMicros } from './money.ts';
import type { RatedMessage } from './rating-engine.ts';

const IN = '+919876543210';

describe('nbp: notification-based pricing (before 2022-02-01)', () => {
  it('NBP-1: charges a template delivered while the CSW is closed at the notification rate', () => {
    const s = new Scenario();
    const r = s.deliver('2021-03-01T10:00:00Z', 'marketing');
    assert.equal(r.pricingModel, 'NBP');
    assert.equal(brief(r), 'nbp notification regular billable 40000');
    assert.equal(r.conversation, null);
    assert.equal(r.currency, 'USD');
  });

  it('NBP-2: everything delivered while the CSW is open is free, templates included, until 24 h after the user wrote', () => {
    const s = new Scenario();
    s.inbound('2021-03-01T10:00:00Z');
    assert.equal(
      brief(s.deliver('2021-03-01T10:05:00Z')),
      'nbp service free_customer_service free 0',
    );
    assert.equal(
      brief(s.deliver('2021-03-02T09:59:59Z', 'utility')),
      'nbp notification free_customer_service free 0',
    );
    // half-open window: closed at exactly 24 h
    assert.equal(
      brief(s.deliver('2021-03-02T10:00:00Z', 'utility')),
      'nbp notification regular billable 40000',
    );
  });
});

describe('cbp2022: conversations by initiator', () => {
  it('CBP-1: a conversation lasts 24 h from the delivery that opened it and never extends', () => {
    const s = new Scenario();
    // use up the free tier so charges are visible
    const s2 = withFreeTierUsed(s, '2022-03-01T00:00:00Z', 1000);
    const first = s2.deliver('2022-03-10T10:00:00Z', 'utility');
    assert.equal(brief(first), 'cbp2022 business_initiated regular billable 50000');
    s2.inbound('2022-03-10T12:00:00Z'); // a user message does not extend it
    const inside = s2.deliver('2022-03-11T09:59:59Z');
    assert.equal(inside.conversation, first.conversation);
    assert.equal(inside.amountMicros, 0);
    const next = s2.deliver('2022-03-11T10:00:00Z');
    assert.notEqual(next.conversation, first.conversation);
    assert.equal(brief(next), 'cbp2022 user_initiated regular billable 30000');
  });

  it('CBP-2: user-initiated when the CSW was open at delivery, else business-initiated', () => {
    const s = withFreeTierUsed(new Scenario(), '2022-03-01T00:00:00Z', 1000);
    s.inbound('2022-03-10T09:00:00Z');
    assert.equal(s.deliver('2022-03-10T09:10:00Z').category, 'user_initiated');
    assert.equal(s.deliver('2022-03-12T10:00:00Z', 'marketing').category, 'business_initiated');
  });

  it('CBP-3: the first 1,000 conversations of each month per WABA are free, both kinds, in opening order', () => {
    const s = new Scenario();
    const opened: RatedMessage[] = [];
    for (let i = 0; i < 1000; i++) {
      const contact = `+4475${String(i).padStart(8, '0')}`;
      if (i % 2 === 0) s.inbound('2022-03-05T10:00:00Z', { contact });
      opened.push(s.deliver('2022-03-05T10:00:00Z', 'utility', { contact }));
    }
    assert.ok(opened.every((r) => r.pricingType === 'free_tier' && !r.billable));
    assert.equal(opened.filter((r) => r.category === 'user_initiated').length, 500);
    const charged = s.deliver('2022-03-05T10:02:00Z', 'utility');
    assert.equal(brief(charged), 'cbp2022 business_initiated regular billable 50000');
    // another WABA has its own 1,000
    assert.equal(
      s.deliver('2022-03-05T10:03:00Z', 'utility', { waba: 'W2' }).pricingType,
      'free_tier',
    );
    // and a new month starts again
    assert.equal(
      s.deliver('2022-04-01T00:00:00Z', 'utility', { contact: '+447700911111' }).pricingType,
      'free_tier',
    );
  });

  it('CBP-4: the conversation opened by the reply to an entry point is free and does not count toward the 1,000', () => {
    const s = withFreeTierUsed(new Scenario(), '2022-03-01T00:00:00Z', 999);
    s.inbound('2022-03-10T09:00:00Z', { entryPoint: 'ctwa' });
    const fep = s.deliver('2022-03-10T09:05:00Z');
    assert.equal(brief(fep), 'cbp2022 referral_conversion free_entry_point free 0');
    // the 1,000th conversation is still free
    const other = s.deliver('2022-03-10T09:06:00Z', 'utility', { contact: '+447700922222' });
    assert.equal(other.pricingType, 'free_tier');
    assert.equal(
      s.deliver('2022-03-10T09:07:00Z', 'utility', { contact: '+447700933333' }).pricingType,
      'regular',
    );
  });
});

describe('cbp2023: conversations by category', () => {
  it('CAT-1: templates open conversations of their category; free-form opens a service conversation', () => {
    const s = new Scenario();
    assert.equal(
      brief(s.deliver('2023-07-03T10:00:00Z', 'marketing')),
      'cbp2023 marketing regular billable 70000',
    );
    assert.equal(
      brief(s.deliver('2023-07-03T10:00:00Z', 'authentication', { contact: '+447700900124' })),
      'cbp2023 authentication regular billable 35000',
    );
    s.inbound('2023-07-03T11:00:00Z', { contact: '+447700900125' });
    const service = s.deliver('2023-07-03T11:05:00Z', undefined, { contact: '+447700900125' });
    assert.equal(service.category, 'service');
    assert.notEqual(service.conversation, null);
  });

  it('CAT-2: a template opens a conversation unless one of its category is open; several categories can be open', () => {
    const s = new Scenario();
    const marketing = s.deliver('2023-07-03T10:00:00Z', 'marketing');
    const utility = s.deliver('2023-07-03T11:00:00Z', 'utility');
    assert.equal(brief(utility), 'cbp2023 utility regular billable 30000');
    assert.notEqual(utility.conversation, marketing.conversation);
    const again = s.deliver('2023-07-03T12:00:00Z', 'marketing');
    assert.equal(again.conversation, marketing.conversation);
    assert.equal(again.amountMicros, 0);
  });

  it('CAT-3: a free-form message opens a service conversation only if no conversation of any category is open', () => {
    const s = new Scenario();
    s.inbound('2023-07-03T09:00:00Z');
    const marketing = s.deliver('2023-07-03T09:30:00Z', 'marketing');
    const reply = s.deliver('2023-07-03T10:00:00Z');
    assert.equal(reply.conversation, marketing.conversation);
    assert.equal(brief(reply), 'cbp2023 marketing regular free 0');
    s.inbound('2023-07-04T10:00:00Z');
    const later = s.deliver('2023-07-04T10:00:00Z');
    assert.equal(later.category, 'service');
    assert.notEqual(later.conversation, marketing.conversation);
  });

  it('CAT-4: each conversation lasts 24 h from its own opening', () => {
    const s = new Scenario();
    const marketing = s.deliver('2023-07-03T00:00:00Z', 'marketing');
    const utility = s.deliver('2023-07-03T12:00:00Z', 'utility');
    const marketing2 = s.deliver('2023-07-04T00:00:00Z', 'marketing');
    assert.notEqual(marketing2.conversation, marketing.conversation);
    assert.equal(marketing2.billable, true);
    assert.equal(s.deliver('2023-07-04T11:59:59Z', 'utility').conversation, utility.conversation);
    assert.notEqual(
      s.deliver('2023-07-04T12:00:00Z', 'utility').conversation,
      utility.conversation,
    );
  });

  it('CAT-5: the first 1,000 service conversations per month per WABA are free; other categories never are', () => {
    const s = new Scenario();
    for (let i = 0; i < 1000; i++) {
      const contact = `+4475${String(i).padStart(8, '0')}`;
      s.inbound('2023-07-03T10:00:00Z', { contact });
      const r = s.deliver('2023-07-03T10:00:00Z', undefined, { contact });
      assert.equal(r.pricingType, 'free_tier');
      if (i === 10)
        assert.equal(
          s.deliver('2023-07-03T10:00:00Z', 'marketing', { contact: '+447700988888' }).pricingType,
          'regular',
        );
    }
    s.inbound('2023-07-03T10:02:00Z');
    assert.equal(
      brief(s.deliver('2023-07-03T10:03:00Z')),
      'cbp2023 service regular billable 38000',
    );
  });

  it('CAT-6: the 72 h FEP window is a free conversation of its own', () => {
    const s = new Scenario();
    s.inbound('2023-07-03T10:00:00Z', { entryPoint: 'ctwa' });
    const reply = s.deliver('2023-07-03T10:05:00Z');
    assert.equal(brief(reply), 'cbp2023 referral_conversion free_entry_point free 0');
    const template = s.deliver('2023-07-06T10:04:59Z', 'marketing');
    assert.equal(template.conversation, reply.conversation);
    assert.equal(template.pricingType, 'free_entry_point');
    assert.equal(
      brief(s.deliver('2023-07-06T10:05:00Z', 'marketing')),
      'cbp2023 marketing regular billable 70000',
    );
  });
});

describe('cbp2024: free service conversations', () => {
  it('SVC-1: service conversations are free without limit and the 1,000 free tier is gone', () => {
    const s = new Scenario();
    for (let i = 0; i < 1001; i++) {
      const contact = `+4475${String(i).padStart(8, '0')}`;
      s.inbound('2024-12-03T10:00:00Z', { contact });
      const r = s.deliver('2024-12-03T10:00:00Z', undefined, { contact });
      assert.equal(brief(r), 'cbp2024 service free_customer_service free 0');
    }
    // no free tier for the first template conversation of the month either
    assert.equal(
      brief(s.deliver('2024-12-03T10:02:00Z', 'utility')),
      'cbp2024 utility regular billable 30000',
    );
  });
});

describe('pmp2025: per-message pricing', () => {
  it('PMP-1: each delivered template is charged by its category and the recipient market', () => {
    const s = new Scenario();
    assert.equal(
      brief(s.deliver('2025-08-04T10:00:00Z', 'marketing')),
      'pmp2025 marketing regular billable 50000',
    );
    const second = s.deliver('2025-08-04T10:01:00Z', 'marketing');
    assert.equal(brief(second), 'pmp2025 marketing regular billable 50000');
    assert.equal(second.conversation, null);
    assert.equal(second.pricingModel, 'PMP');
    const india = s.deliver('2025-08-04T10:02:00Z', 'marketing', { contact: IN });
    assert.equal(india.market, 'India');
    assert.equal(india.amountMicros, 11000);
  });

  it('PMP-2: a utility template delivered while the CSW is open is free; other templates are not', () => {
    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z');
    assert.equal(
      brief(s.deliver('2025-08-04T11:00:00Z', 'utility')),
      'pmp2025 utility free_customer_service free 0',
    );
    assert.equal(s.deliver('2025-08-04T11:01:00Z', 'authentication').pricingType, 'regular');
    assert.equal(s.deliver('2025-08-04T11:02:00Z', 'marketing').pricingType, 'regular');
    assert.equal(s.deliver('2025-08-05T10:00:00Z', 'utility').pricingType, 'regular');
  });

  it('PMP-3: free-form messages are free', () => {
    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z');
    assert.equal(
      brief(s.deliver('2025-08-04T10:05:00Z')),
      'pmp2025 service free_customer_service free 0',
    );
  });

  it('PMP-4: inside an open FEP window everything is free, even once the CSW has closed', () => {
    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z', { entryPoint: 'page_cta' });
    assert.equal(s.deliver('2025-08-04T10:05:00Z').pricingType, 'free_entry_point');
    assert.equal(
      brief(s.deliver('2025-08-06T10:00:00Z', 'marketing')),
      'pmp2025 marketing free_entry_point free 0',
    );
    assert.equal(s.deliver('2025-08-07T10:05:00Z', 'marketing').pricingType, 'regular');
  });

  it('PMP-5: utility rates fall with the month volume per market, counting only charged messages', () => {
    const s = new Scenario();
    const amounts: number[] = [];
    s.inbound('2025-08-01T09:00:00Z');
    s.deliver('2025-08-01T09:30:00Z', 'utility'); // free in the CSW: not counted
    for (let i = 0; i < 7; i++)
      amounts.push(s.deliver(`2025-08-03T10:0${i}:00Z`, 'utility').amountMicros);
    assert.deepEqual(amounts, [20000, 20000, 20000, 15000, 15000, 10000, 10000]);
    // India counts on its own
    assert.equal(s.deliver('2025-08-03T11:00:00Z', 'utility', { contact: IN }).amountMicros, 1400);
    // a new month starts at the first tier again
    assert.equal(s.deliver('2025-09-01T00:00:00Z', 'utility').amountMicros, 20000);
  });
});

describe('pmp2026: paid service messages', () => {
  it('S26-1: every delivered free-form message is charged at the market service rate', () => {
    const s = new Scenario();
    s.inbound('2026-10-05T10:00:00Z');
    const r = s.deliver('2026-10-05T10:05:00Z');
    assert.equal(brief(r), 'pmp2026 service regular billable 10000');
  });

  it('S26-2: utility templates are charged inside the CSW too', () => {
    const s = new Scenario();
    s.inbound('2026-10-05T10:00:00Z');
    assert.equal(
      brief(s.deliver('2026-10-05T10:05:00Z', 'utility')),
      'pmp2026 utility regular billable 20000',
    );
  });

  it('S26-3: the FEP window is unchanged: everything inside it is free', () => {
    const s = new Scenario();
    s.inbound('2026-10-05T10:00:00Z', { entryPoint: 'ctwa' });
    assert.equal(
      brief(s.deliver('2026-10-05T10:05:00Z')),
      'pmp2026 service free_entry_point free 0',
    );
    assert.equal(s.deliver('2026-10-07T10:00:00Z', 'utility').pricingType, 'free_entry_point');
    assert.equal(s.deliver('2026-10-08T10:05:00Z', 'utility').pricingType, 'regular');
  });
});

describe('PRC: pricing mechanics', () => {
  it('PRC-1: only the message that opens a conversation carries its charge; later ones name it at 0 with its pricing type', () => {
    const s = new Scenario();
    const opener = s.deliver('2023-07-03T10:00:00Z', 'marketing');
    const later = s.deliver('2023-07-03T15:00:00Z', 'marketing');
    assert.equal(opener.billable, true);
    assert.equal(opener.amountMicros, 70000);
    assert.equal(later.billable, false);
    assert.equal(later.amountMicros, 0);
    assert.equal(later.conversation, opener.conversation);
    assert.equal(later.pricingType, 'regular');
    assert.equal(later.category, 'marketing');
  });

  it('PRC-2: free_customer_service covers nbp and pmp2025 free-form, in-window utility in pmp2025, service in cbp2024, nothing in pmp2026', () => {
    const cases: Array<[string, 'utility' | undefined, string]> = [
      ['2021-05-03T10:05:00Z', undefined, 'free_customer_service'],
      ['2023-07-03T10:05:00Z', undefined, 'free_tier'],
      ['2024-12-03T10:05:00Z', undefined, 'free_customer_service'],
      ['2025-08-04T10:05:00Z', undefined, 'free_customer_service'],
      ['2025-08-04T10:05:00Z', 'utility', 'free_customer_service'],
      ['2026-10-05T10:05:00Z', undefined, 'regular'],
      ['2026-10-05T10:05:00Z', 'utility', 'regular'],
    ];
    for (const [at, category, expected] of cases) {
      const s = new Scenario();
      s.inbound(at.replace('10:05', '10:00'));
      assert.equal(
        s.deliver(at, category).pricingType,
        expected,
        `${at} ${category ?? 'free-form'}`,
      );
    }
  });

  it('PRC-3: at an era boundary open conversations end while the CSW and FEP clocks carry over', () => {
    const s = new Scenario();
    const before = s.deliver('2024-10-31T20:00:00Z', 'marketing');
    const after = s.deliver('2024-11-01T01:00:00Z', 'marketing');
    assert.equal(after.era, 'cbp2024');
    assert.notEqual(after.conversation, before.conversation);
    assert.equal(after.billable, true);

    const csw = new Scenario();
    csw.inbound('2025-06-30T20:00:00Z');
    assert.equal(
      csw.deliver('2025-07-01T02:00:00Z', 'utility').pricingType,
      'free_customer_service',
    );

    const fep = new Scenario();
    fep.inbound('2025-06-30T11:00:00Z', { entryPoint: 'ctwa' });
    const reply = fep.deliver('2025-06-30T12:00:00Z');
    assert.equal(reply.era, 'cbp2024');
    assert.equal(
      brief(fep.deliver('2025-07-02T12:00:00Z', 'marketing')),
      'pmp2025 marketing free_entry_point free 0',
    );

    // the FEP window carried into a new conversation era becomes a conversation of that era
    const carried = new Scenario();
    carried.inbound('2024-10-31T11:00:00Z', { entryPoint: 'ctwa' });
    const old = carried.deliver('2024-10-31T12:00:00Z');
    const next = carried.deliver('2024-11-01T12:00:00Z', 'marketing');
    assert.equal(brief(next), 'cbp2024 referral_conversion free_entry_point free 0');
    assert.notEqual(next.conversation, old.conversation);
  });

  it('PRC-4: volume tiers count per WABA, local month, market and category; authentication_international is its own category', () => {
    const s = new Scenario();
    for (let i = 0; i < 3; i++) s.deliver(`2025-08-03T10:0${i}:00Z`, 'authentication');
    assert.equal(s.deliver('2025-08-03T10:05:00Z', 'authentication').amountMicros, 25000);
    assert.equal(
      s.deliver('2025-08-03T10:06:00Z', 'authentication_international').amountMicros,
      60000,
    );
    assert.equal(
      s.deliver('2025-08-03T10:07:00Z', 'authentication', { waba: 'W2' }).amountMicros,
      30000,
    );
    assert.equal(s.deliver('2025-08-03T10:08:00Z', 'marketing_lite').amountMicros, 45000);
  });

  it('PRC-5: the market comes from the recipient country; a message with no rate is unpriced, never priced 0', () => {
    const s = new Scenario();
    const us = s.deliver('2025-08-04T10:00:00Z', 'marketing', { contact: '+12125550123' });
    const ca = s.deliver('2025-08-04T10:00:00Z', 'marketing', { contact: '+14165550123' });
    assert.equal(us.market, 'North America');
    assert.equal(ca.market, 'North America');
    assert.equal(ca.amountMicros, 25000);
    assert.equal(
      s.deliver('2025-08-04T10:00:00Z', 'marketing', { contact: '+989121234567' }).market,
      'Other',
    );
    const germany = s.try('2025-08-04T10:00:00Z', 'marketing', { contact: '+4915123456789' });
    assert.equal(germany.kind, 'problem');
    assert.equal(germany.kind === 'problem' && germany.problem, 'no_rate');
    const unknown = s.try('2025-08-04T10:00:00Z', 'marketing', { contact: '+80012345678' });
    assert.equal(unknown.kind === 'problem' && unknown.problem, 'unknown_market');
  });

  it('PRC-5: market moves are dated: Zimbabwe is Other before 2025-10-01 and Rest of Africa from then', () => {
    const s = new Scenario();
    assert.equal(
      s.deliver('2025-09-30T23:59:59Z', 'marketing', { contact: '+263771234567' }).market,
      'Other',
    );
    const after = s.try('2025-10-01T00:00:00Z', 'marketing', { contact: '+263771234567' });
    assert.equal(after.kind === 'problem' && after.problem, 'no_rate');
  });
});

describe('FEP: free entry point window', () => {
  it('FEP-1: a ctwa or page_cta message is an entry point; a plain user message is not', () => {
    for (const entryPoint of ['ctwa', 'page_cta'] as const) {
      const s = new Scenario();
      s.inbound('2025-08-04T10:00:00Z', { entryPoint });
      s.deliver('2025-08-04T10:05:00Z');
      assert.equal(s.deliver('2025-08-05T12:00:00Z', 'marketing').pricingType, 'free_entry_point');
    }
    const plain = new Scenario();
    plain.inbound('2025-08-04T10:00:00Z');
    plain.deliver('2025-08-04T10:05:00Z');
    assert.equal(plain.deliver('2025-08-05T12:00:00Z', 'marketing').pricingType, 'regular');
  });

  it('FEP-2: the window opens at the first reply only if it is delivered less than 24 h after the entry point', () => {
    const late = new Scenario();
    late.inbound('2025-08-04T10:00:00Z', { entryPoint: 'ctwa' });
    assert.equal(late.deliver('2025-08-05T10:00:00Z', 'marketing').pricingType, 'regular');
    assert.equal(late.deliver('2025-08-05T11:00:00Z', 'marketing').pricingType, 'regular');

    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z', { entryPoint: 'ctwa' });
    s.deliver('2025-08-05T09:59:59Z', 'marketing'); // opens the window until 08-08 09:59:59
    // a new referral while it is open changes nothing: the window is not moved
    s.inbound('2025-08-06T10:00:00Z', { entryPoint: 'ctwa' });
    s.deliver('2025-08-06T10:01:00Z');
    assert.equal(s.deliver('2025-08-08T09:59:58Z', 'marketing').pricingType, 'free_entry_point');
    assert.equal(s.deliver('2025-08-08T10:00:00Z', 'marketing').pricingType, 'regular');
    // after the window ends, a new referral is a new entry point
    s.inbound('2025-08-09T10:00:00Z', { entryPoint: 'ctwa' });
    s.deliver('2025-08-09T10:01:00Z');
    assert.equal(s.deliver('2025-08-11T10:00:00Z', 'marketing').pricingType, 'free_entry_point');
  });

  it('FEP-3: the window lasts 72 h from the reply from 2023-06-01, and 24 h in the 2022 model', () => {
    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z', { entryPoint: 'ctwa' });
    s.deliver('2025-08-04T12:00:00Z');
    assert.equal(s.deliver('2025-08-07T11:59:59Z', 'marketing').pricingType, 'free_entry_point');
    assert.equal(s.deliver('2025-08-07T12:00:00Z', 'marketing').pricingType, 'regular');

    const old = withFreeTierUsed(new Scenario(), '2023-05-01T00:00:00Z', 1000);
    old.inbound('2023-05-10T10:00:00Z', { entryPoint: 'ctwa' });
    const reply = old.deliver('2023-05-10T12:00:00Z');
    assert.equal(reply.pricingType, 'free_entry_point');
    assert.equal(old.deliver('2023-05-11T11:59:59Z', 'marketing').conversation, reply.conversation);
    assert.equal(old.deliver('2023-05-11T12:00:00Z', 'marketing').pricingType, 'regular');
  });

  it('FEP-4: while open every business message is free with free_entry_point first; in conversation eras it ends the other conversations', () => {
    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z', { entryPoint: 'ctwa' });
    s.deliver('2025-08-04T10:05:00Z');
    // the CSW is open too, but the entry point wins the precedence
    assert.equal(s.deliver('2025-08-04T11:00:00Z', 'utility').pricingType, 'free_entry_point');

    const c = new Scenario();
    const marketing = c.deliver('2023-07-03T08:00:00Z', 'marketing');
    c.inbound('2023-07-03T09:00:00Z', { entryPoint: 'ctwa' });
    const fep = c.deliver('2023-07-03T09:05:00Z', 'marketing');
    assert.equal(fep.pricingType, 'free_entry_point');
    assert.notEqual(fep.conversation, marketing.conversation);
    // the marketing conversation (open until 07-04 08:00) ended: a marketing template joins the FEP
    const during = c.deliver('2023-07-03T10:00:00Z', 'marketing');
    assert.equal(during.conversation, fep.conversation);
    assert.equal(during.pricingType, 'free_entry_point');
  });

  it('FEP-5: the FEP window never keeps the CSW open: once it ends a utility template outside the CSW is charged', () => {
    const s = new Scenario();
    s.inbound('2025-08-04T10:00:00Z', { entryPoint: 'ctwa' });
    s.deliver('2025-08-04T10:05:00Z');
    // CSW closed at 08-05 10:00; inside the FEP the template is free because of the FEP only
    assert.equal(s.deliver('2025-08-05T12:00:00Z', 'utility').pricingType, 'free_entry_point');
    assert.equal(s.deliver('2025-08-07T10:05:00Z', 'utility').pricingType, 'regular');
  });

  it('FEP-6: only the first conversation that starts from one entry point is free', () => {
    const s = new Scenario();
    s.inbound('2023-07-03T10:00:00Z', { entryPoint: 'ctwa' });
    const first = s.deliver('2023-07-03T10:05:00Z');
    // templates of other categories do not start further free conversations from that entry point
    assert.equal(s.deliver('2023-07-03T11:00:00Z', 'utility').conversation, first.conversation);
    assert.equal(s.deliver('2023-07-04T12:00:00Z', 'marketing').conversation, first.conversation);
    // the user writes again after the window without a new referral
    s.inbound('2023-07-07T10:00:00Z');
    const next = s.deliver('2023-07-07T10:05:00Z', 'marketing');
    assert.equal(next.pricingType, 'regular');
    assert.equal(next.billable, true);
  });
});

describe('worked examples (WHATSAPP_RULES.md §9)', () => {
  it('pmp2025: replies and an in-window utility are free; next day a utility and a marketing template cost 0.0700', () => {
    const s = new Scenario();
    const totals = new LedgerTotals();
    s.inbound('2025-07-03T10:00:00Z');
    const lines = [
      s.deliver('2025-07-03T10:05:00Z'),
      s.deliver('2025-07-03T11:00:00Z', 'utility'),
      s.deliver('2025-07-04T12:00:00Z', 'utility'),
      s.deliver('2025-07-04T12:00:00Z', 'marketing'),
    ];
    for (const l of lines) totals.add(l);
    assert.deepEqual(
      lines.map((l) => [l.pricingType, formatMicros(l.amountMicros)]),
      [
        ['free_customer_service', '0.0000'],
        ['free_customer_service', '0.0000'],
        ['regular', '0.0200'],
        ['regular', '0.0500'],
      ],
    );
    assert.deepEqual(totals.currencyTotals(), [{ currency: 'USD', amountMicros: 70000 }]);
  });

  it('cbp2022: a user-initiated then a business-initiated conversation, both free with at most 998 opened before', () => {
    const s = withFreeTierUsed(new Scenario(), '2022-06-01T00:00:00Z', 998);
    s.inbound('2022-06-15T09:00:00Z');
    const reply = s.deliver('2022-06-15T09:10:00Z');
    const evening = s.deliver('2022-06-15T20:00:00Z', 'utility');
    const nextDay = s.deliver('2022-06-16T10:00:00Z', 'utility');
    assert.equal(brief(reply), 'cbp2022 user_initiated free_tier free 0');
    assert.equal(evening.conversation, reply.conversation);
    assert.equal(evening.amountMicros, 0);
    assert.equal(brief(nextDay), 'cbp2022 business_initiated free_tier free 0');
    assert.notEqual(nextDay.conversation, reply.conversation);
    // a 1,001st conversation would be charged
    assert.equal(
      s.deliver('2022-06-16T10:00:00Z', 'utility', { contact: '+447700955555' }).pricingType,
      'regular',
    );
  });
});

describe('era and month boundaries', () => {
  const boundaries: Array<[string, string, string]> = [
    ['2022-02-01', 'nbp', 'cbp2022'],
    ['2023-06-01', 'cbp2022', 'cbp2023'],
    ['2024-11-01', 'cbp2023', 'cbp2024'],
    ['2025-07-01', 'cbp2024', 'pmp2025'],
    ['2026-10-01', 'pmp2025', 'pmp2026'],
  ];
  for (const [day, before, after] of boundaries)
    it(`switches from ${before} to ${after} at ${day} 00:00 UTC`, () => {
      const s = new Scenario();
      const prev = new Date(Date.parse(`${day}T00:00:00Z`) - 1).toISOString();
      assert.equal(s.deliver(prev, 'marketing').era, before);
      assert.equal(s.deliver(`${day}T00:00:00Z`, 'marketing').era, after);
    });

  it('uses the WABA time zone for the era: 2025-06-30 20:00 UTC is pmp2025 in Asia/Kolkata, cbp2024 in America/Sao_Paulo', () => {
    const s = new Scenario({
      zones: new Map([
        ['KOL', 'Asia/Kolkata'],
        ['SAO', 'America/Sao_Paulo'],
      ]),
    });
    assert.equal(s.deliver('2025-06-30T20:00:00Z', 'marketing', { waba: 'KOL' }).era, 'pmp2025');
    assert.equal(s.deliver('2025-06-30T20:00:00Z', 'marketing', { waba: 'SAO' }).era, 'cbp2024');
    assert.equal(s.deliver('2025-07-01T02:59:59Z', 'marketing', { waba: 'SAO' }).era, 'cbp2024');
    assert.equal(s.deliver('2025-07-01T03:00:00Z', 'marketing', { waba: 'SAO' }).era, 'pmp2025');
  });

  it('closes the month at local midnight: UTC by default, the WABA zone when the log names one', () => {
    const s = new Scenario();
    const utc = s.deliver('2025-07-31T23:59:59Z', 'marketing');
    assert.equal(utc.month, '2025-07');
    assert.equal(s.deliver('2025-08-01T00:00:00Z', 'marketing').month, '2025-08');
    const sp = s.deliver('2025-08-01T02:59:59Z', 'marketing', {
      waba: 'SP',
      tz: 'America/Sao_Paulo',
    });
    assert.equal(sp.month, '2025-07');
    assert.equal(sp.date, '2025-07-31');
    assert.equal(s.deliver('2025-08-01T03:00:00Z', 'marketing', { waba: 'SP' }).month, '2025-08');
  });

  it('restarts volume tiers at the local month boundary of the WABA zone', () => {
    const s = new Scenario({ zones: new Map([['KOL', 'Asia/Kolkata']]) });
    const who = { waba: 'KOL' };
    for (let i = 0; i < 3; i++) s.deliver(`2025-08-31T18:0${i}:00Z`, 'utility', who);
    // 18:29:59 UTC is 23:59:59 in Kolkata: still August, fourth charged message → second tier
    assert.equal(s.deliver('2025-08-31T18:29:59Z', 'utility', who).amountMicros, 15000);
    // 18:30 UTC is September 1st in Kolkata: first tier again
    const sept = s.deliver('2025-08-31T18:30:00Z', 'utility', who);
    assert.equal(sept.month, '2025-09');
    assert.equal(sept.amountMicros, 20000);
  });
});

describe('stream hygiene', () => {
  it('refuses an event earlier than the previous one instead of rating it', () => {
    const s = new Scenario();
    s.deliver('2025-08-04T10:00:00Z', 'marketing');
    const r = s.try('2025-08-04T09:00:00Z', 'marketing');
    assert.equal(r.kind === 'problem' && r.problem, 'out_of_order');
  });

  it('refuses a tz that contradicts the zone a WABA already uses, and an unknown zone', () => {
    const s = new Scenario();
    s.deliver('2025-08-04T10:00:00Z', 'marketing', { tz: 'Europe/London' });
    const r = s.try('2025-08-04T10:01:00Z', 'marketing', { tz: 'Asia/Kolkata' });
    assert.equal(r.kind === 'problem' && r.problem, 'zone_conflict');
    const bad = s.try('2025-08-04T10:02:00Z', 'marketing', { waba: 'W9', tz: 'Mars/Olympus' });
    assert.equal(bad.kind === 'problem' && bad.problem, 'invalid_zone');
  });

  it('keeps memory flat: state of contacts whose windows and conversations ended is dropped', () => {
    const s = new Scenario();
    const start = Date.parse('2023-07-01T00:00:00Z');
    let peak = 0;
    for (let day = 0; day < 30; day++)
      for (let i = 0; i < 200; i++) {
        const at = new Date(start + day * 86_400_000 + i * 60_000).toISOString();
        const contact = `+44770${String(day * 200 + i).padStart(7, '0')}`;
        s.inbound(at, { contact, entryPoint: i % 10 === 0 ? 'ctwa' : undefined });
        s.deliver(at, 'utility', { contact });
        peak = Math.max(peak, s.engine.activePairs);
      }
    // 6,000 distinct pairs went through; ended ones are swept whenever 1,024 are held
    assert.ok(peak <= 1024, `peak ${peak}`);
  });
});

/** Opens `count` conversations for other contacts at `at` so the month's free tier is (partly) used. */
function withFreeTierUsed(s: Scenario, at: string, count: number): Scenario {
  for (let i = 0; i < count; i++)
    s.deliver(at, 'utility', { contact: `+4478${String(i).padStart(8, '0')}` });
  return s;
}
