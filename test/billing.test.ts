// The cost ledger as a user meets it: sandbox conversations through the API, then usage, the
// exported log priced by `parley rate` (same charges both ways), reconciliation, rate card
// imports, budgets and the price of a template on the eligibility endpoint.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { rateCommand } from '../src/cli/rate-command.ts';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UK = '447700900123';
const INDIA = '919876543210';
const US = '14155550123';
/**
 * Marketing to North America goes to a Canadian number: WhatsApp blocks marketing templates to
 * US numbers since 2025-04-01 (LIM-5, refused locally with market_blocked). Same market, same rate.
 */
const CANADA = '14165550123';
const WABA = '102290129340398';

async function settled(t: TestParley, ms = 0): Promise<void> {
  await t.settle(ms);
  await t.parley.ledger.drain();
}

/** Until every queued send went out and was delivered (LIM-2 paces sends to one contact). */
async function delivered(t: TestParley): Promise<void> {
  for (let i = 0; i < 4; i++) await settled(t, 10_000);
}

const utility = {
  type: 'template',
  template: {
    name: 'order_update',
    language: { code: 'en' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Ada' },
          { type: 'text', text: '1042' },
          { type: 'text', text: 'on its way' },
        ],
      },
    ],
  },
};
const marketing = {
  type: 'template',
  template: {
    name: 'welcome_offer',
    language: { code: 'en' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Ada' },
          { type: 'text', text: '15%' },
        ],
      },
    ],
  },
};
const text = (body: string) => ({ type: 'text', text: { body } });

async function send(t: TestParley, to: string, content: object): Promise<string> {
  const r = await t.api('POST', '/v1/messages', { channelId: t.channel.id, to, ...content });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  return r.json.id as string;
}

/** OPT-7: the customers opted in to every purpose (as from a web form), before any send. */
async function optIn(t: TestParley, ...waIds: string[]): Promise<void> {
  for (const waId of waIds) {
    const contact = await t.parley.deps.store.contacts.upsert({
      workspaceId: t.channel.workspaceId,
      waId,
      at: t.clock.now(),
    });
    const r = await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_in',
      purpose: 'all',
      source: 'web_form',
      evidence: {
        url: 'https://shop.example.com/signup',
        text: 'Send me offers on WhatsApp',
        businessName: 'Parley Demo Shop',
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
}

/** Templates Parley knows (as after a template sync), so categories come from Parley's store. */
async function knowTemplates(t: TestParley): Promise<void> {
  for (const [name, category] of [
    ['order_update', 'UTILITY'],
    ['welcome_offer', 'MARKETING'],
  ] as const)
    await t.parley.deps.store.templates.upsert({
      workspaceId: t.channel.workspaceId,
      channelId: null,
      name,
      language: 'en',
      category,
      status: 'APPROVED',
      parameterFormat: 'POSITIONAL',
      components: [],
      providerTemplateId: null,
      at: t.clock.now(),
    });
}

async function raw(
  t: TestParley,
  url: string,
): Promise<{ status: number; body: string; type: string }> {
  const r = await t.parley.http.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${t.apiKey}` },
  });
  return { status: r.statusCode, body: r.body, type: String(r.headers['content-type']) };
}

async function postCsv(t: TestParley, csv: string, contentType = 'text/csv') {
  const r = await t.parley.http.inject({
    method: 'POST',
    url: '/v1/billing/rate-cards?name=meta-2025-07.csv',
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': contentType },
    payload: csv,
  });
  const json: any = JSON.parse(r.body);
  return { status: r.statusCode, json };
}

/** `parley rate --events LOG --rates CARD` as the CLI runs it: stdout, stderr, exit code. */
async function parleyRate(log: string, card: string) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-rate-'));
  try {
    writeFileSync(join(dir, 'usage.jsonl'), log);
    writeFileSync(join(dir, 'card.csv'), card);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const { exitCode } = await rateCommand(
      { events: join(dir, 'usage.jsonl'), rates: join(dir, 'card.csv') },
      { stdout, stderr },
    );
    return { exitCode, out, err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A week of sandbox traffic: answers inside and outside the window, an ad click, reads. */
async function driveWeek(t: TestParley): Promise<void> {
  const id = t.channel.providerKey;
  await t.world.userWrites(id, { from: UK, name: 'Ada', text: 'Where is my order?' });
  await settled(t);
  await send(t, UK, text('It ships today.'));
  await send(t, UK, utility);
  await delivered(t);
  await t.world.userWrites(id, { from: INDIA, text: 'Saw your ad', referral: true });
  await settled(t);
  await send(t, INDIA, text('Welcome! 10% off today.'));
  await delivered(t);
  await send(t, INDIA, marketing);
  await send(t, CANADA, marketing);
  await delivered(t);
  await t.clock.advance(DAY + HOUR);
  await send(t, UK, utility);
  await send(t, UK, marketing);
  await send(t, INDIA, marketing);
  await delivered(t);
  await t.clock.advance(3 * DAY);
  await t.world.userWrites(id, { from: US, text: 'Stop? no, tell me more' });
  await settled(t);
  await send(t, US, text('Here is more.'));
  await send(t, US, utility);
  await send(t, INDIA, utility);
  await delivered(t);
}

describe('cost ledger through the API (pmp2025, sandbox)', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley({ start: '2026-03-02T09:00:00Z' });
    await knowTemplates(t);
    await optIn(t, UK, INDIA, US, CANADA);
    await driveWeek(t);
  });
  after(async () => t.close());

  it('PMP-1..4: each delivered message is priced when its delivery arrives, under the model in force', async () => {
    const usage = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.equal(usage.status, 200, JSON.stringify(usage.json));
    assert.equal(usage.json.rateCard.illustrative, true);
    const byType = Object.fromEntries(
      usage.json.byPricingType.map((g: { pricingType: string; messages: number }) => [
        g.pricingType,
        g.messages,
      ]),
    );
    // Free-form replies (PMP-3) and the utility template in the UK window (PMP-2); the Indian
    // ad click's reply and marketing template inside the FEP window (PMP-4).
    assert.equal(byType.free_customer_service, 4);
    assert.equal(byType.free_entry_point, 3);
    // Outside any window: UK utility + marketing, Canadian marketing, US and India utility (US
    // utility is inside the US window: free) …
    assert.equal(byType.regular, 4);
    const total = usage.json.totals[0];
    // 0.0529 (Canadian marketing, North America 0.0250) …: UK utility 0.0220 + UK marketing
    // 0.0529 + Canadian marketing 0.0250 + India utility 0.0014.
    assert.deepEqual(
      { amount: total.amount, currency: total.currency, billable: total.billable },
      { amount: '0.1013', currency: 'USD', billable: 4 },
    );
    const markets = usage.json.byMarket.map((g: { market: string }) => g.market).sort();
    assert.deepEqual(markets, ['India', 'North America', 'United Kingdom']);
    assert.equal(usage.json.byChannel[0].channelId, t.channel.id);
  });

  it('same charges both ways: the exported usage log priced by parley rate equals the live ledger, line for line', async () => {
    const log = await raw(t, '/v1/billing/usage/events');
    assert.equal(log.status, 200);
    assert.match(log.type, /ndjson/);
    const lines = log.body.trim().split('\n');
    assert.equal(lines.length, 14, log.body); // 3 user messages, 11 deliveries
    const card = await raw(t, '/v1/billing/rate-cards?format=csv');
    const rated = await parleyRate(log.body, card.body);
    assert.equal(rated.err, '');
    assert.equal(rated.exitCode, 0);
    const ledger = await raw(t, '/v1/billing/ledger');
    assert.equal(ledger.status, 200);
    assert.deepEqual(ledger.body.split('\n'), rated.out.split('\n'));
    assert.match(ledger.body, /"type":"grand_total","currency":"USD","amount":"0.1013"/);
  });

  it("an ordinary week: the provider's own pricing agrees with Parley's on every delivery", async () => {
    const r = await t.api('GET', '/v1/billing/reconciliation?month=2026-03');
    assert.equal(r.status, 200);
    assert.equal(r.json.compared, 11);
    assert.deepEqual(r.json.items, []);
  });

  it('STA-2: a re-delivered delivery status never charges twice', async () => {
    const before = await t.api('GET', '/v1/billing/usage?month=2026-03');
    t.world.chaos({ duplicateWebhooks: 1 });
    const id = await send(t, CANADA, marketing);
    await delivered(t);
    t.world.calm();
    const after = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.equal(after.json.totals[0].billable, Number(before.json.totals[0].billable) + 1);
    assert.equal(after.json.totals[0].amount, '0.1263');
    const message = await t.api('GET', `/v1/messages/${id}`);
    assert.ok(['delivered', 'read'].includes(message.json.status));
  });

  it('usage exports as CSV, one row per channel, category, market and pricing type', async () => {
    const csv = await raw(t, '/v1/billing/usage?month=2026-03&format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    const [header, ...rows] = csv.body.trim().split('\n');
    assert.equal(
      header,
      'month,waba,channel_id,category,market,pricing_type,currency,messages,billable,amount,problem',
    );
    assert.ok(
      rows.includes(
        `2026-03,${WABA},${t.channel.id},marketing,North America,regular,USD,2,2,0.0500,`,
      ),
      csv.body,
    );
  });

  it('FEP-4: the eligibility endpoint prices a template of each category sent now', async () => {
    const contact = (await t.api('GET', `/v1/contacts?search=${UK}`)).json.items[0];
    const e = await t.api('GET', `/v1/contacts/${contact.id}/eligibility?channel=${t.channel.id}`);
    assert.equal(e.status, 200, JSON.stringify(e.json));
    // The UK window closed days ago: every template is charged at the UK rate.
    assert.deepEqual(e.json.prices, {
      marketing: { amount: '0.0529', currency: 'USD', pricingType: 'regular' },
      utility: { amount: '0.0220', currency: 'USD', pricingType: 'regular' },
      authentication: { amount: '0.0358', currency: 'USD', pricingType: 'regular' },
    });
    await t.world.userWrites(t.channel.providerKey, { from: UK, text: 'One more thing' });
    await settled(t);
    const open = await t.api(
      'GET',
      `/v1/contacts/${contact.id}/eligibility?channel=${t.channel.id}`,
    );
    // PMP-2: a utility template inside the window is free.
    assert.deepEqual(open.json.prices.utility, {
      amount: '0.0000',
      currency: 'USD',
      pricingType: 'free_customer_service',
    });
    assert.equal(open.json.prices.marketing.amount, '0.0529');
  });
});

describe('reconciliation against the provider’s own pricing', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley({ start: '2026-03-02T09:00:00Z' });
    await knowTemplates(t);
    await optIn(t, UK, INDIA, US, CANADA);
  });
  after(async () => t.close());

  it('lists a utility template the provider priced free at acceptance but Parley charges at delivery, after the window closed (PMP-2, STA-1)', async () => {
    const hello = await t.world.userWrites(t.channel.providerKey, { from: UK, text: 'Hello' });
    await settled(t);
    await send(t, UK, utility); // well inside the window: both agree it is free
    await delivered(t);
    // Sent 400 ms before the window closes, delivered a second or two after it closed.
    await t.clock.advanceTo(hello.at + DAY - 400);
    const late = await send(t, UK, utility);
    await delivered(t);
    const r = await t.api('GET', '/v1/billing/reconciliation?month=2026-03');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.compared, 2);
    assert.equal(r.json.items.length, 1, JSON.stringify(r.json.items));
    const item = r.json.items[0];
    assert.equal(item.messageId, late);
    assert.deepEqual(item.disagreements, ['pricing_type', 'billable']);
    assert.equal(item.parley.pricingType, 'regular');
    assert.equal(item.parley.amount, '0.0220');
    assert.equal(item.provider.pricing.type, 'free_customer_service');
    assert.equal(item.provider.pricing.billable, false);
  });
});

describe('rate card import and budgets', () => {
  let t: TestParley;
  const events: DomainEvent[] = [];
  before(async () => {
    t = await startTestParley({ start: '2026-03-02T09:00:00Z' });
    await knowTemplates(t);
    await optIn(t, UK, INDIA, US, CANADA);
    t.parley.deps.events.subscribe((e) => {
      if (e.type === 'billing.threshold') events.push(e);
    });
  });
  after(async () => t.close());

  it('refuses a card with errors with every problem by line, and changes nothing', async () => {
    const bad = await postCsv(
      t,
      'effective_from,market,category,currency,rate,volume_from\n2025-07-01,Atlantis,marketing,USD,0.05,\n2025-07-01,United Kingdom,marketing,usd,abc,\n',
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'invalid_rate_card');
    assert.deepEqual(
      bad.json.problems.map((p: { line: number }) => p.line),
      [2, 3, 3],
    );
    const cards = await t.api('GET', '/v1/billing/rate-cards');
    assert.deepEqual(cards.json.items, []);
    assert.equal(cards.json.illustrative, true);
    const json = await postCsv(t, '{"csv":"x"}', 'application/json');
    assert.equal(json.status, 415);
  });

  it('PRC-4: an imported card with effective dates and volume tiers re-prices the month in delivery order', async () => {
    for (let i = 0; i < 3; i++) await send(t, UK, marketing);
    await delivered(t);
    let usage = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.equal(usage.json.totals[0].amount, '0.1587'); // 3 × 0.0529 (illustrative)
    const imported = await postCsv(
      t,
      [
        'effective_from,market,category,currency,rate,volume_from',
        '2025-07-01,United Kingdom,marketing,USD,0.0500,',
        '2025-07-01,United Kingdom,marketing,USD,0.0400,2',
        '2026-04-01,United Kingdom,marketing,USD,0.0300,',
      ].join('\n'),
    );
    assert.equal(imported.status, 201, JSON.stringify(imported.json));
    assert.equal(imported.json.rows, 3);
    usage = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.equal(usage.json.rateCard.illustrative, false);
    assert.equal(usage.json.totals[0].amount, '0.1400'); // 0.05 + 0.05 + 0.04
    const cards = await t.api('GET', '/v1/billing/rate-cards');
    assert.equal(cards.json.items.length, 1);
    assert.equal(cards.json.items[0].name, 'meta-2025-07.csv');
    // The card in force from 2026-04-01 (effective date) prices April's first message at 0.03.
    await t.clock.advanceTo(Date.parse('2026-04-01T10:00:00Z'));
    await send(t, UK, marketing);
    await delivered(t);
    usage = await t.api('GET', '/v1/billing/usage?month=2026-04');
    assert.equal(usage.json.totals[0].amount, '0.0300');
  });

  it('billing.threshold fires once when the month crosses its budget, and again next month', async () => {
    const put = await t.api('PATCH', `/v1/billing/accounts/${WABA}`, {
      monthlyBudget: { amount: '0.0800', currency: 'USD' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual(put.json.monthlyBudget, { amount: '0.0800', currency: 'USD' });
    await send(t, UK, marketing); // April: 0.03 + 0.03 = 0.06
    await delivered(t);
    assert.equal(events.length, 0);
    await send(t, UK, marketing); // 0.09: crossed
    await delivered(t);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.data, {
      waba: WABA,
      month: '2026-04',
      currency: 'USD',
      budget: '0.0800',
      amount: '0.0900',
    });
    await send(t, UK, marketing);
    await delivered(t);
    assert.equal(events.length, 1, 'once per month');
    const usage = await t.api('GET', '/v1/billing/usage?month=2026-04');
    assert.deepEqual(usage.json.budgets, [
      { waba: WABA, budget: '0.0800', currency: 'USD', spent: '0.1200', crossed: true },
    ]);
    await t.clock.advanceTo(Date.parse('2026-05-04T10:00:00Z'));
    for (let i = 0; i < 3; i++) await send(t, UK, marketing);
    await delivered(t);
    assert.equal(events.length, 2);
    assert.equal(events[1]?.data.month, '2026-05');
  });

  it('refuses an unknown WABA, a bad zone and a bad amount with precise problems', async () => {
    const unknown = await t.api('PATCH', '/v1/billing/accounts/999', { timeZone: 'UTC' });
    assert.equal(unknown.status, 404);
    const zone = await t.api('PATCH', `/v1/billing/accounts/${WABA}`, { timeZone: 'Mars/Base' });
    assert.equal(zone.status, 400);
    assert.equal(zone.json.code, 'validation_failed');
    const amount = await t.api('PATCH', `/v1/billing/accounts/${WABA}`, {
      monthlyBudget: { amount: '-1', currency: 'USD' },
    });
    assert.equal(amount.status, 400);
    const month = await t.api('GET', '/v1/billing/usage?month=2026-13');
    assert.equal(month.status, 400);
    const accounts = await t.api('GET', '/v1/billing/accounts');
    assert.deepEqual(accounts.json.items, [
      { waba: WABA, timeZone: 'UTC', monthlyBudget: { amount: '0.0800', currency: 'USD' } },
    ]);
  });
});

describe('the conversation eras through the sandbox (cbp2023)', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley({ start: '2023-09-04T09:00:00Z' });
    await knowTemplates(t);
    await optIn(t, UK, INDIA, US, CANADA);
    await driveWeek(t);
  });
  after(async () => t.close());

  it('CAT-1..6, CAT-5: conversations and the month’s free tier, same charges through parley rate', async () => {
    const usage = await t.api('GET', '/v1/billing/usage?month=2023-09');
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.json.freeTier, [{ waba: WABA, used: 2, allowance: 1000 }]);
    const log = await raw(t, '/v1/billing/usage/events?month=2023-09');
    const card = await raw(t, '/v1/billing/rate-cards?format=csv');
    const rated = await parleyRate(log.body, card.body);
    assert.equal(rated.exitCode, 0, rated.err);
    const ledger = await raw(t, '/v1/billing/ledger?month=2023-09');
    assert.deepEqual(ledger.body.split('\n'), rated.out.split('\n'));
    assert.match(
      ledger.body,
      /"pricing_model":"CBP","era":"cbp2023","category":"referral_conversion"/,
    );
  });

  it('CAT-5: the provider flagging free-tier service conversations billable shows in the reconciliation', async () => {
    const r = await t.api('GET', '/v1/billing/reconciliation?month=2023-09');
    assert.equal(r.status, 200);
    assert.ok(r.json.compared >= 10);
    // The sandbox has no free tier: the two free_tier service conversations disagree on billable.
    const billable = r.json.items.filter((i: { disagreements: string[] }) =>
      i.disagreements.includes('billable'),
    );
    assert.ok(
      billable.every(
        (i: { parley: { pricingType: string } }) => i.parley.pricingType === 'free_tier',
      ),
    );
    assert.equal(billable.length, 2);
  });
});

describe('billing routes under bad input', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley({ start: '2026-03-02T09:00:00Z' });
  });
  after(async () => t.close());

  it('answers junk with a precise 4xx problem, never a 500 or a partial write', async () => {
    const paths = [
      '/v1/billing/usage',
      '/v1/billing/usage/events',
      '/v1/billing/ledger',
      '/v1/billing/reconciliation',
      '/v1/billing/rate-cards',
      '/v1/billing/accounts',
      `/v1/billing/accounts/${WABA}`,
      '/v1/billing/accounts/%00',
    ];
    const queries = [
      '',
      '?month=2026-3',
      '?month=9999-99',
      '?month[]=2026-03',
      '?format=xml',
      '?limit=-1',
      '?limit=1e309',
      '?name=' + 'n'.repeat(500),
      '?__proto__[x]=1',
    ];
    const bodies: { type: string; body: string }[] = [
      { type: 'application/json', body: '{"timeZone":"Nowhere/Here"}' },
      { type: 'application/json', body: '{"monthlyBudget":{"amount":"1e3","currency":"USD"}}' },
      { type: 'application/json', body: '{"monthlyBudget":{"amount":"1","currency":"usd"}}' },
      { type: 'application/json', body: '{"extra":1}' },
      { type: 'application/json', body: '[]' },
      { type: 'application/json', body: '{' },
      { type: 'text/csv', body: '' },
      { type: 'text/csv', body: '"unterminated' },
      { type: 'text/csv', body: 'effective_from,market\n\u0000,\u202e' },
      {
        type: 'text/csv',
        body: 'effective_from,market,category,currency,rate\n2025-07-01,United Kingdom,marketing,USD,99999999999999999999\n',
      },
      { type: 'text/plain', body: 'hello' },
    ];
    for (const path of paths)
      for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const)
        for (const query of queries)
          for (const b of method === 'GET' || method === 'DELETE' ? [undefined] : bodies) {
            const r = await t.parley.http.inject({
              method,
              url: path + query,
              headers: {
                authorization: `Bearer ${t.apiKey}`,
                ...(b ? { 'content-type': b.type } : {}),
              },
              ...(b ? { payload: b.body } : {}),
            });
            assert.ok(
              r.statusCode < 500,
              `${method} ${path}${query} ${b?.body ?? ''}: ${r.statusCode} ${r.body}`,
            );
            if (r.statusCode >= 400)
              assert.match(String(r.headers['content-type']), /application\/problem\+json/);
          }
    const cards = await t.api('GET', '/v1/billing/rate-cards');
    assert.deepEqual(cards.json.items, []);
    const accounts = await t.api('GET', '/v1/billing/accounts');
    assert.deepEqual(accounts.json.items, [{ waba: WABA, timeZone: 'UTC', monthlyBudget: null }]);
  });
});
