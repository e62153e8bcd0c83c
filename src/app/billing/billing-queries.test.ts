// Billing queries on a real store: month exports that parley rate prices like the ledger, a new
// billing zone, reconciliation of conversations, and recovery of what a crash left unrecorded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createKyselyStore } from '../../adapters/store/kysely/index.ts';
import type { JsonObject, Store } from '../../ports/store.ts';
import { rateUsageLog } from '../pricing/rate-usage-log.ts';
import { createCountryResolver } from '../pricing/recipient-country.ts';
import {
  ledgerLines,
  reconcile,
  updateAccount,
  usageLog,
  usageReport,
  type BillingDeps,
} from './billing-queries.ts';
import { recordUsage, type UsageInput } from './ledger-apply.ts';
import { workspaceRateCard } from './rate-cards.ts';

const UK = '+447700900123';
const IN = '+919876543210';

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

/** `parley rate`'s streaming function over a log, with a workspace's card. */
async function rate(
  store: Store,
  workspaceId: string,
  log: string,
): Promise<{ out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const { card } = await workspaceRateCard(store, workspaceId);
  const input = (async function* () {
    await Promise.resolve();
    yield Buffer.from(log);
  })();
  await rateUsageLog(input, { stdout, stderr }, { rates: card });
  return { out, err };
}

describe('billing queries', () => {
  let store: Store;
  let deps: BillingDeps;
  const countryOf = createCountryResolver();
  let now = Date.parse('2026-05-01T00:00:00Z');
  before(async () => {
    store = await createKyselyStore({ sqliteFile: ':memory:' });
    await store.migrate();
    deps = { store, clock: { now: () => now } };
  });
  after(async () => store.close());

  async function workspace(): Promise<string> {
    const w = await store.workspaces.create({ name: 'billing' });
    return w.id;
  }

  function event(
    workspaceId: string,
    type: 'inbound' | 'delivered',
    at: string,
    messageId: string,
    extra: Partial<UsageInput> = {},
  ): UsageInput {
    return {
      workspaceId,
      waba: 'W1',
      channelId: 'C1',
      contactId: 'c',
      contact: UK,
      type,
      at: Date.parse(at),
      messageId,
      entryPoint: null,
      templateCategory: null,
      providerPricing: null,
      providerConversation: null,
      ...extra,
    };
  }

  async function record(inputs: UsageInput[]): Promise<void> {
    for (const input of inputs)
      await store.transaction((tx) => recordUsage(tx, [input], { now: ++now, countryOf }));
  }

  it('CSW-1, FEP-2: a month’s log carries the earlier events still in force, so parley rate prices the month as the ledger', async () => {
    const ws = await workspace();
    await record([
      // The UK user writes late on 31 March: the window is still open on 1 April.
      event(ws, 'inbound', '2026-03-31T20:00:00Z', 'u1'),
      // An ad click answered on 30 March opens a 72-hour FEP window (FEP-3).
      event(ws, 'inbound', '2026-03-30T10:00:00Z', 'u2', { contact: IN, entryPoint: 'ctwa' }),
      event(ws, 'delivered', '2026-03-30T10:05:00Z', 'm1', { contact: IN }),
      // A February event long over changes nothing and is left out.
      event(ws, 'inbound', '2026-02-10T10:00:00Z', 'u0'),
      event(ws, 'delivered', '2026-04-01T09:00:00Z', 'm2', { templateCategory: 'utility' }),
      event(ws, 'delivered', '2026-04-01T09:30:00Z', 'm3', {
        contact: IN,
        templateCategory: 'marketing',
      }),
      event(ws, 'delivered', '2026-04-03T09:00:00Z', 'm4', { templateCategory: 'utility' }),
    ]);
    const log = await collect(usageLog(deps, ws, '2026-04'));
    assert.deepEqual(
      log
        .trim()
        .split('\n')
        .map(
          (l) =>
            (JSON.parse(l) as { message?: string; at: string }).message ??
            `in@${(JSON.parse(l) as { at: string }).at}`,
        ),
      ['in@2026-03-30T10:00:00.000Z', 'm1', 'in@2026-03-31T20:00:00.000Z', 'm2', 'm3', 'm4'],
    );
    const rated = await rate(store, ws, log);
    assert.equal(rated.err, '');
    const april = (text: string) =>
      text
        .trim()
        .split('\n')
        .filter((l) => /"2026-04/.test(l) || /"month":"2026-04"/.test(l));
    const ledger = await collect(ledgerLines(deps, ws, '2026-04'));
    assert.deepEqual(april(rated.out), april(ledger));
    assert.match(ledger, /"message":"m2".*"pricing_type":"free_customer_service"/);
    assert.match(ledger, /"message":"m3".*"pricing_type":"free_entry_point"/);
    assert.match(ledger, /"message":"m4".*"pricing_type":"regular".*"amount":"0.0220"/);
  });

  it('a new billing zone moves local dates and months and re-rates the WABA; the log carries tz', async () => {
    const ws = await workspace();
    await store.channels.create({
      workspaceId: ws,
      connectionId: (
        await store.connections.create({
          workspaceId: ws,
          provider: 'meta',
          name: 'm',
          config: {},
          secretsEncrypted: 'x',
        })
      ).id,
      providerKey: `pn-${ws}`,
      phoneNumber: '15550001111',
      wabaId: 'W1',
      name: 'Support',
      throughputMps: 80,
      environment: 'production',
      allowList: [],
    });
    // 23:30 UTC on 31 March is 01:30 on 1 April in Berlin (summer time).
    await record([
      event(ws, 'delivered', '2026-03-31T23:30:00Z', 'z1', { templateCategory: 'marketing' }),
    ]);
    assert.equal((await usageReport(deps, ws, '2026-03')).totals[0]?.amount, '0.0529');
    const outcome = await updateAccount(deps, ws, 'W1', { timeZone: 'Europe/Berlin' });
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual((await usageReport(deps, ws, '2026-03')).totals, []);
    assert.equal((await usageReport(deps, ws, '2026-04')).totals[0]?.amount, '0.0529');
    const log = await collect(usageLog(deps, ws));
    assert.match(log, /"tz":"Europe\/Berlin"/);
    const rated = await rate(store, ws, log);
    assert.equal(rated.out, await collect(ledgerLines(deps, ws)));
    assert.match(rated.out, /"month":"2026-04"/);
  });

  it('reconciliation lists a provider conversation split over two of Parley’s, and the reverse (PRC-1)', async () => {
    const ws = await workspace();
    const pricing = (category: string): JsonObject => ({
      billable: true,
      pricing_model: 'CBP',
      category,
    });
    const conv = (id: string): JsonObject => ({ id, origin: { type: 'marketing' } });
    await record([
      event(ws, 'delivered', '2023-09-04T10:00:00Z', 'k1', {
        templateCategory: 'marketing',
        providerPricing: pricing('marketing'),
        providerConversation: conv('P1'),
      }),
      // Parley: joins k1's conversation (open 24 h); the provider says a new one, P2.
      event(ws, 'delivered', '2023-09-04T11:00:00Z', 'k2', {
        templateCategory: 'marketing',
        providerPricing: pricing('marketing'),
        providerConversation: conv('P2'),
      }),
      // Parley: a new conversation next day; the provider keeps it in P2.
      event(ws, 'delivered', '2023-09-05T12:00:00Z', 'k3', {
        templateCategory: 'marketing',
        providerPricing: pricing('marketing'),
        providerConversation: conv('P2'),
      }),
      // Agreeing: a utility conversation of its own on both sides.
      event(ws, 'delivered', '2023-09-05T12:10:00Z', 'k4', {
        templateCategory: 'utility',
        providerPricing: pricing('utility'),
        providerConversation: conv('P3'),
      }),
      // The provider says service; Parley says utility (a category disagreement).
      event(ws, 'delivered', '2023-09-05T12:20:00Z', 'k5', {
        templateCategory: 'utility',
        providerPricing: pricing('service'),
        providerConversation: conv('P3'),
      }),
    ]);
    const r = await reconcile(deps, ws, '2023-09', 100);
    assert.equal(r.compared, 5);
    assert.deepEqual(
      r.items.map((i) => [i.messageId, i.disagreements]),
      [
        ['k2', ['conversation']],
        ['k3', ['conversation']],
        ['k5', ['category']],
      ],
    );
    assert.equal((await reconcile(deps, ws, '2023-09', 1)).truncated, true);
  });

  it('PRC-5: a delivery the card has no rate for is unpriced, never priced 0', async () => {
    const ws = await workspace();
    await record([
      event(ws, 'delivered', '2026-04-02T10:00:00Z', 'n1', {
        contact: '+5511987654321',
        templateCategory: 'authentication_international',
      }),
    ]);
    const report = await usageReport(deps, ws, '2026-04');
    assert.deepEqual(report.unpriced, [{ problem: 'no_rate', messages: 1 }]);
    assert.deepEqual(report.totals, []);
    assert.equal(await collect(ledgerLines(deps, ws, '2026-04')), '');
  });
});
