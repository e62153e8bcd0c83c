// The ledger as a subscriber: what it records from the bus, recovery after a crash, the delivery
// instant (STA-1), and tenancy of the billing routes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from '../../../test/helpers/parley.ts';
import { createApiKey, createWorkspace } from '../admin.ts';
import { changesNothing } from './ledger-apply.ts';
import { CostLedger, usageInputFor } from './ledger.ts';

const DAY = 86_400_000;
const UK = '447700900123';
const WABA = '102290129340398';

async function optIn(t: TestParley, waId: string): Promise<void> {
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

async function deliverAll(t: TestParley): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await t.settle(10_000);
    await t.parley.ledger.drain();
  }
}

describe('the ledger on the event bus', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley({ start: '2026-03-02T09:00:00Z' });
    await optIn(t, UK);
  });
  after(async () => t.close());

  it('STA-1: records a user message at its provider time and a delivery at its delivered time; sent alone is not a delivery', async () => {
    const hello = await t.world.userWrites(t.channel.providerKey, { from: UK, text: 'Hi' });
    await t.settle();
    await t.parley.ledger.drain();
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: UK,
      type: 'text',
      text: { body: 'Hello!' },
    });
    // Dispatched and `sent`, not yet delivered: nothing to price.
    await t.settle(600);
    await t.parley.ledger.drain();
    const store = t.parley.deps.store;
    const ws = t.channel.workspaceId;
    const message = await store.messages.get(sent.json.id as string);
    assert.equal(message?.status, 'sent');
    assert.equal(await store.billing.usageByMessage(ws, message?.id ?? ''), null);
    await deliverAll(t);
    const delivered = await store.messages.get(sent.json.id as string);
    const usage = await store.billing.usageByMessage(ws, delivered?.id ?? '');
    assert.equal(usage?.at, delivered?.deliveredAt);
    assert.equal(usage?.rating?.figures?.pricingType, 'free_customer_service');
    const lines = (
      await t.parley.http.inject({
        method: 'GET',
        url: '/v1/billing/usage/events',
        headers: { authorization: `Bearer ${t.apiKey}` },
      })
    ).body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; at: string });
    assert.deepEqual(lines[0], {
      type: 'inbound',
      at: new Date(hello.at).toISOString(),
      waba: WABA,
      channel: t.channel.id,
      contact: `+${UK}`,
    });
  });

  it('STA-1: a later status of a delivered message changes nothing; a revised delivery instant or new provider figures do', async () => {
    const store = t.parley.deps.store;
    const ws = t.channel.workspaceId;
    const [delivered] = (await store.billing.allUsage(ws, { limit: 100 })).filter(
      (u) => u.type === 'delivered',
    );
    assert.ok(delivered?.rating, 'the first test left a rated delivery');
    const input = await usageInputFor(store, ws, delivered.messageId);
    assert.ok(input);
    assert.equal(await changesNothing(store, input), true);
    assert.equal(await changesNothing(store, { ...input, at: input.at + 1 }), false);
    assert.equal(
      await changesNothing(store, { ...input, providerPricing: { category: 'utility' } }),
      false,
    );
    // Recording it again (as a `read` would) leaves the priced row as it was.
    t.parley.ledger.record(ws, delivered.messageId);
    await t.parley.ledger.drain();
    assert.deepEqual(await store.billing.usageByMessage(ws, delivered.messageId), delivered);
  });

  it('after a crash, the next start records and prices what was stored but never recorded', async () => {
    await t.parley.ledger.stop(); // as if the process died before the ledger heard of anything
    await t.clock.advance(2 * DAY);
    await t.api('POST', '/v1/messages', { channelId: t.channel.id, to: UK, ...marketing });
    await t.world.userWrites(t.channel.providerKey, { from: UK, text: 'Thanks' });
    for (let i = 0; i < 4; i++) await t.settle(10_000);
    const before = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.equal(before.json.byPricingType.length, 1); // only the free reply of the first test
    const restarted = new CostLedger(t.parley.deps);
    assert.equal(await restarted.catchUp(), 2);
    const after = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.deepEqual(after.json.totals, [
      { messages: 2, billable: 1, amount: '0.0529', currency: 'USD' },
    ]);
    assert.equal(await restarted.catchUp(), 0);
  });
});

describe('billing routes are scoped to the caller’s workspace', () => {
  let t: TestParley;
  let otherKey: string;
  before(async () => {
    t = await startTestParley({ start: '2026-03-02T09:00:00Z' });
    const other = await createWorkspace(t.parley.deps, 'Other');
    otherKey = (await createApiKey(t.parley.deps, other.id, 'other')).key;
    await optIn(t, UK);
    await t.api('POST', '/v1/messages', { channelId: t.channel.id, to: UK, ...marketing });
    await deliverAll(t);
  });
  after(async () => t.close());

  it('another workspace sees none of the usage, cannot touch the WABA and imports cards only for itself', async () => {
    const as = { authorization: `Bearer ${otherKey}` };
    const mine = await t.api('GET', '/v1/billing/usage?month=2026-03');
    assert.equal(mine.json.totals[0].amount, '0.0529');
    const theirs = await t.api('GET', '/v1/billing/usage?month=2026-03', undefined, as);
    assert.deepEqual(theirs.json.totals, []);
    const patch = await t.api(
      'PATCH',
      `/v1/billing/accounts/${WABA}`,
      { monthlyBudget: { amount: '1.00', currency: 'USD' } },
      as,
    );
    assert.equal(patch.status, 404);
    assert.deepEqual((await t.api('GET', '/v1/billing/accounts', undefined, as)).json.items, []);
    const log = await t.parley.http.inject({
      method: 'GET',
      url: '/v1/billing/usage/events',
      headers: as,
    });
    assert.equal(log.body, '');
    const imported = await t.parley.http.inject({
      method: 'POST',
      url: '/v1/billing/rate-cards',
      headers: { ...as, 'content-type': 'text/csv' },
      payload:
        'effective_from,market,category,currency,rate\n2025-07-01,United Kingdom,marketing,USD,0.01\n',
    });
    assert.equal(imported.statusCode, 201);
    assert.equal(
      (await t.api('GET', '/v1/billing/usage?month=2026-03')).json.totals[0].amount,
      '0.0529',
    );
    assert.equal((await t.api('GET', '/v1/billing/rate-cards')).json.illustrative, true);
  });
});
