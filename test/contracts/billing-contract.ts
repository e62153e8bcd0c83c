// The billing repository contract (cost ledger tables): every store dialect must pass these.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NewUsage, UsageRating } from '../../src/ports/billing-store.ts';
import type { Channel, Contact, Store, Workspace } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;
/** Text that trips naive encodings (and NUL, which only JSON text can carry on PostgreSQL). */
const AWKWARD = 'Grüße — 你好 👋🏽 "quoted" \\ nul:\u0000';

interface Tenant {
  workspace: Workspace;
  channel: Channel;
  contact: Contact;
}

let sequence = 0;

async function tenant(store: Store, label: string): Promise<Tenant> {
  sequence++;
  const workspace = await store.workspaces.create({ name: `${label} ${sequence}` });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'meta',
    name: 'Meta',
    config: {},
    secretsEncrypted: 'v1:x',
  });
  const channel = await store.channels.create({
    workspaceId: workspace.id,
    connectionId: connection.id,
    providerKey: `pn-${sequence}`,
    phoneNumber: '15550001111',
    wabaId: 'W1',
    name: 'Support',
    throughputMps: 80,
    environment: 'production',
    allowList: [],
  });
  const contact = await store.contacts.upsert({
    workspaceId: workspace.id,
    waId: '447700900123',
    at: T0,
  });
  return { workspace, channel, contact };
}

function usage(t: Tenant, over: Partial<NewUsage> & { messageId: string; at: number }): NewUsage {
  return {
    workspaceId: t.workspace.id,
    waba: 'W1',
    channelId: t.channel.id,
    contactId: t.contact.id,
    contact: '+447700900123',
    type: 'delivered',
    month: '2026-03',
    entryPoint: null,
    templateCategory: null,
    providerPricing: null,
    providerConversation: null,
    now: T0,
    ...over,
  };
}

const RATED: UsageRating = {
  problem: null,
  problemDetail: null,
  pair: {
    era: 'pmp2025',
    pricingModel: 'PMP',
    category: 'marketing',
    pricingType: 'regular',
    conversation: null,
    market: 'United Kingdom',
    country: 'GB',
    date: '2026-03-02',
    chargeable: true,
  },
  figures: { pricingType: 'regular', billable: true, amountMicros: 52_900, currency: 'USD' },
};

export function runBillingContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Billing repository contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    const get = (): StoreUnderTest => {
      if (!subject) throw new Error('store not ready');
      return subject;
    };
    before(async () => {
      subject = await makeStore();
    });
    after(async () => subject?.cleanup());

    it('STA-2: a message is recorded once per workspace; recording it again answers the first record', async () => {
      const { store } = get();
      const a = await tenant(store, 'A');
      const b = await tenant(store, 'B');
      const first = await store.billing.insertUsage(
        usage(a, { messageId: 'm1', at: T0, templateCategory: 'marketing' }),
      );
      assert.equal(first.inserted, true);
      const again = await store.billing.insertUsage(usage(a, { messageId: 'm1', at: T0 + MINUTE }));
      assert.equal(again.inserted, false);
      assert.deepEqual(again.record, first.record);
      assert.equal(again.record.templateCategory, 'marketing');
      const other = await store.billing.insertUsage(usage(b, { messageId: 'm1', at: T0 }));
      assert.equal(other.inserted, true);
      assert.deepEqual(await store.billing.usageByMessage(a.workspace.id, 'm1'), first.record);
      assert.equal(await store.billing.usageByMessage(a.workspace.id, 'nope'), null);
    });

    it('keeps log order by time, then id within one millisecond, for pairs, WABAs and months', async () => {
      const { store } = get();
      const t = await tenant(store, 'Order');
      const rows = [];
      for (const [i, at] of [T0, T0 + MINUTE, T0 + MINUTE, T0 + 2 * MINUTE].entries())
        rows.push(
          (
            await store.billing.insertUsage(
              usage(t, {
                messageId: `o${i}`,
                at,
                type: i === 1 ? 'inbound' : 'delivered',
                ...(i === 3 ? { month: '2026-04', contact: '+919876543210' } : {}),
              }),
            )
          ).record,
        );
      const [r0, r1, r2, r3] = rows;
      assert.ok(r0 && r1 && r2 && r3);
      assert.ok(r1.id < r2.id, 'ids of one millisecond sort in insertion order');
      const pair = {
        workspaceId: t.workspace.id,
        waba: 'W1',
        channelId: t.channel.id,
        contact: '+447700900123',
      };
      assert.deepEqual(
        (await store.billing.pairBefore(pair, { at: r2.at, id: r2.id }, 10)).map(
          (r) => r.messageId,
        ),
        ['o1', 'o0'],
      );
      assert.deepEqual(
        (await store.billing.pairFrom(pair, { at: r1.at, id: r1.id })).map((r) => r.messageId),
        ['o1', 'o2'],
      );
      const ws = t.workspace.id;
      assert.deepEqual(
        (
          await store.billing.wabaUsage(ws, 'W1', { from: { at: r1.at, id: r1.id }, limit: 10 })
        ).map((r) => r.messageId),
        ['o1', 'o2', 'o3'],
      );
      assert.deepEqual(
        (
          await store.billing.wabaUsage(
            ws,
            'W1',
            { after: { at: r1.at, id: r1.id }, limit: 10 },
            'delivered',
          )
        ).map((r) => r.messageId),
        ['o2', 'o3'],
      );
      assert.deepEqual(
        (await store.billing.monthUsage(ws, '2026-03', { limit: 2 })).map((r) => r.messageId),
        ['o0', 'o1'],
      );
      assert.deepEqual(
        (await store.billing.allUsage(ws, { after: { at: r1.at, id: r1.id }, limit: 10 })).map(
          (r) => r.messageId,
        ),
        ['o2', 'o3'],
      );
      assert.deepEqual(await store.billing.wabas(ws), ['W1']);
    });

    it('stores ratings, moves and provider objects exactly (booleans, nulls, awkward JSON)', async () => {
      const { store } = get();
      const t = await tenant(store, 'Rated');
      const ws = t.workspace.id;
      const rated = (await store.billing.insertUsage(usage(t, { messageId: 'r1', at: T0 }))).record;
      const unpriced = (await store.billing.insertUsage(usage(t, { messageId: 'r2', at: T0 + 1 })))
        .record;
      const problem: UsageRating = {
        problem: 'unknown_market',
        problemDetail: 'no pricing market for contact "+999"',
        pair: null,
        figures: null,
      };
      const free: UsageRating = {
        ...RATED,
        pair: RATED.pair ? { ...RATED.pair, chargeable: false, conversation: 'conv:x' } : null,
        figures: { pricingType: 'free_tier', billable: false, amountMicros: 0, currency: 'USD' },
      };
      await store.billing.setRatings(
        [
          { id: rated.id, month: '2026-03', rating: RATED },
          { id: unpriced.id, month: '2026-03', rating: problem },
        ],
        T0 + 5,
      );
      assert.deepEqual((await store.billing.usageByMessage(ws, 'r1'))?.rating, RATED);
      assert.deepEqual((await store.billing.usageByMessage(ws, 'r2'))?.rating, problem);
      await store.billing.setRatings([{ id: rated.id, month: '2026-03', rating: free }], T0 + 6);
      assert.deepEqual((await store.billing.usageByMessage(ws, 'r1'))?.rating, free);

      await store.billing.moveUsage(rated.id, T0 - MINUTE, '2026-02', T0 + 7);
      const moved = await store.billing.usageByMessage(ws, 'r1');
      assert.equal(moved?.at, T0 - MINUTE);
      assert.equal(moved?.month, '2026-02');

      const pricing = { billable: true, category: 'marketing', note: AWKWARD };
      const conversation = { id: 'c1', origin: { type: 'marketing' } };
      await store.billing.setProvider(rated.id, pricing, conversation, T0 + 8);
      const withProvider = await store.billing.usageByMessage(ws, 'r1');
      assert.deepEqual(withProvider?.providerPricing, pricing);
      assert.deepEqual(withProvider?.providerConversation, conversation);
      assert.equal(withProvider?.updatedAt, T0 + 8);
    });

    it('sums a month by WABA, channel, category, market, pricing type, currency and problem', async () => {
      const { store } = get();
      const t = await tenant(store, 'Sum');
      const ids = [];
      for (let i = 0; i < 4; i++)
        ids.push(
          (await store.billing.insertUsage(usage(t, { messageId: `s${i}`, at: T0 + i }))).record.id,
        );
      await store.billing.insertUsage(usage(t, { messageId: 'in', at: T0, type: 'inbound' }));
      const [a, b, c, d] = ids;
      assert.ok(a && b && c && d);
      await store.billing.setRatings(
        [
          { id: a, month: '2026-03', rating: RATED },
          { id: b, month: '2026-03', rating: RATED },
          {
            id: c,
            month: '2026-03',
            rating: {
              ...RATED,
              figures: {
                pricingType: 'free_customer_service',
                billable: false,
                amountMicros: 0,
                currency: 'USD',
              },
            },
          },
          {
            id: d,
            month: '2026-03',
            rating: {
              problem: 'no_rate',
              problemDetail: 'no rate',
              pair: RATED.pair,
              figures: null,
            },
          },
        ],
        T0,
      );
      const groups = await store.billing.summarize(t.workspace.id, '2026-03');
      const key = (g: { pricingType: string | null; problem: string | null }) =>
        `${g.pricingType ?? '-'}/${g.problem ?? '-'}`;
      assert.deepEqual(
        groups
          .map((g) => ({
            key: key(g),
            messages: g.messages,
            billable: g.billable,
            amount: g.amountMicros,
          }))
          .sort((x, y) => x.key.localeCompare(y.key)),
        [
          { key: '-/no_rate', messages: 1, billable: 0, amount: 0 },
          { key: 'free_customer_service/-', messages: 1, billable: 0, amount: 0 },
          { key: 'regular/-', messages: 2, billable: 2, amount: 105_800 },
        ],
      );
      assert.ok(groups.every((g) => g.channelId === t.channel.id && g.market === 'United Kingdom'));
      assert.deepEqual(await store.billing.summarize(t.workspace.id, '2026-04'), []);
    });

    it('month counters add deltas from zero and clear per WABA', async () => {
      const { store } = get();
      const t = await tenant(store, 'Counters');
      const ws = t.workspace.id;
      await store.billing.addCounters(ws, 'W1', [
        { month: '2026-03', counter: 'free_tier', delta: 2 },
        { month: '2026-03', counter: 'amount:USD', delta: 52_900 },
        { month: '2026-04', counter: 'free_tier', delta: 1 },
      ]);
      await store.billing.addCounters(ws, 'W1', [
        { month: '2026-03', counter: 'free_tier', delta: -1 },
        { month: '2026-03', counter: 'amount:USD', delta: 10_000_000_000 },
      ]);
      const march = await store.billing.counters(ws, 'W1', ['2026-03']);
      assert.deepEqual(march.map((c) => [c.counter, c.value]).sort(), [
        ['amount:USD', 10_000_052_900],
        ['free_tier', 1],
      ]);
      assert.equal((await store.billing.counters(ws, 'W1', ['2026-03', '2026-04'])).length, 3);
      assert.deepEqual(await store.billing.counters(ws, 'W2', ['2026-03']), []);
      await store.billing.clearCounters(ws, 'W1');
      assert.deepEqual(await store.billing.counters(ws, 'W1', ['2026-03', '2026-04']), []);
    });

    it('accounts: lockAccount creates the default, putAccount upserts zone and budget', async () => {
      const { store } = get();
      const t = await tenant(store, 'Accounts');
      const ws = t.workspace.id;
      assert.equal(await store.billing.account(ws, 'W1'), null);
      const locked = await store.transaction((tx) => tx.billing.lockAccount(ws, 'W1', T0));
      assert.deepEqual(locked, {
        workspaceId: ws,
        waba: 'W1',
        timeZone: null,
        budgetMicros: null,
        budgetCurrency: null,
        updatedAt: T0,
      });
      const saved = await store.billing.putAccount({
        ...locked,
        timeZone: 'Europe/Berlin',
        budgetMicros: 100_000_000,
        budgetCurrency: 'EUR',
        updatedAt: T0 + 1,
      });
      assert.equal(saved.timeZone, 'Europe/Berlin');
      assert.deepEqual(await store.billing.account(ws, 'W1'), saved);
      await store.billing.putAccount({ ...saved, waba: 'W0', timeZone: null });
      assert.deepEqual(
        (await store.billing.accounts(ws)).map((a) => a.waba),
        ['W0', 'W1'],
      );
    });

    it('lockAccount serialises rating across connections: the second waits for the first to commit', async (ctx) => {
      const { store, openAnother } = get();
      if (!openAnother) {
        ctx.skip('no second connection for this store');
        return;
      }
      if (store.dialect === 'sqlite') {
        // One writer at a time is SQLite itself; and better-sqlite3 waits for another
        // connection's lock synchronously, blocking the very thread that would release it here.
        ctx.skip('SQLite serialises writers by itself (one process cannot hold both sides)');
        return;
      }
      const t = await tenant(store, 'Lock');
      const other = await openAnother();
      try {
        const order: string[] = [];
        let release = (): void => undefined;
        const held = new Promise<void>((r) => (release = r));
        let locked = (): void => undefined;
        const firstLocked = new Promise<void>((r) => (locked = r));
        const first = store.transaction(async (tx) => {
          await tx.billing.lockAccount(t.workspace.id, 'W1', T0);
          locked();
          await held;
          order.push('first commits');
        });
        await firstLocked;
        const second = other.transaction(async (tx) => {
          await tx.billing.lockAccount(t.workspace.id, 'W1', T0);
          order.push('second locked');
        });
        await new Promise((r) => setTimeout(r, 200));
        release();
        await Promise.all([first, second]);
        assert.deepEqual(order, ['first commits', 'second locked']);
      } finally {
        await other.close();
      }
    });

    it('rate cards: oldest first, the latest id names the newest import', async () => {
      const { store } = get();
      const t = await tenant(store, 'Cards');
      const ws = t.workspace.id;
      assert.equal(await store.billing.latestRateCardId(ws), null);
      // Valid cards never hold NUL (no field accepts it), so the CSV keeps the rest of the awkward text.
      const csv = `effective_from,market,category,currency,rate\n2025-07-01,United Kingdom,marketing,USD,0.05\n# ${AWKWARD.replace('\u0000', '')}`;
      const a = await store.billing.insertRateCard({
        workspaceId: ws,
        name: 'a.csv',
        csv,
        rows: 1,
        importedAt: T0,
      });
      const b = await store.billing.insertRateCard({
        workspaceId: ws,
        name: 'b.csv',
        csv: 'x',
        rows: 0,
        importedAt: T0 + 1,
      });
      assert.deepEqual(await store.billing.rateCards(ws), [a, b]);
      assert.equal(a.csv, csv);
      assert.equal(await store.billing.latestRateCardId(ws), b.id);
    });

    it('a budget crossing is recorded once per month, currency and budget', async () => {
      const { store } = get();
      const t = await tenant(store, 'Thresholds');
      const notice = {
        workspaceId: t.workspace.id,
        waba: 'W1',
        month: '2026-03',
        currency: 'USD',
        budgetMicros: 80_000,
        amountMicros: 90_000,
        crossedAt: T0,
      };
      assert.equal(await store.billing.recordThreshold(notice), true);
      assert.equal(
        await store.billing.recordThreshold({ ...notice, amountMicros: 120_000 }),
        false,
      );
      assert.equal(
        await store.billing.recordThreshold({ ...notice, month: '2026-04', crossedAt: T0 + 1 }),
        true,
      );
      assert.equal(
        await store.billing.recordThreshold({
          ...notice,
          budgetMicros: 100_000,
          crossedAt: T0 + 2,
        }),
        true,
      );
      assert.deepEqual(
        (await store.billing.thresholds(t.workspace.id)).map((n) => [
          n.month,
          n.budgetMicros,
          n.amountMicros,
        ]),
        [
          ['2026-03', 80_000, 90_000],
          ['2026-04', 80_000, 90_000],
          ['2026-03', 100_000, 90_000],
        ],
      );
    });

    it('finds delivered and window-opening messages the ledger never recorded (crash recovery)', async () => {
      const { store } = get();
      const t = await tenant(store, 'Unrecorded');
      const conversation = await store.conversations.create({
        workspaceId: t.workspace.id,
        channelId: t.channel.id,
        contactId: t.contact.id,
        at: T0,
      });
      const base = {
        workspaceId: t.workspace.id,
        channelId: t.channel.id,
        contactId: t.contact.id,
        conversationId: conversation.id,
        content: {},
        text: null,
        reason: null,
        reasonDetail: null,
        providerError: null,
        idempotencyKey: null,
        replyTo: null,
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        failedAt: null,
        needsReview: false,
      };
      const inbound = await store.messages.insert({
        ...base,
        direction: 'inbound',
        type: 'text',
        status: 'delivered',
        providerMessageId: 'wamid.in1',
        createdAt: T0 + 1_000,
        dispatchedAt: null,
      });
      await store.messages.insert({
        ...base,
        direction: 'inbound',
        type: 'system',
        status: 'delivered',
        providerMessageId: 'wamid.sys',
        createdAt: T0 + 1_500,
        dispatchedAt: null,
      });
      const out = await store.messages.insert({
        ...base,
        direction: 'outbound',
        type: 'text',
        status: 'read',
        providerMessageId: 'wamid.out1',
        createdAt: T0 + 2_000,
        dispatchedAt: T0 + 2_000,
      });
      await store.messages.insert({
        ...base,
        direction: 'outbound',
        type: 'text',
        status: 'sent',
        providerMessageId: 'wamid.out2',
        createdAt: T0 + 3_000,
        dispatchedAt: T0 + 3_000,
      });
      await store.conversations.touch(conversation.id, T0 + 3_000);
      const found = await store.billing.unrecorded(T0, 100, ['text']);
      const mine = found.filter((f) => f.workspaceId === t.workspace.id).map((f) => f.messageId);
      assert.deepEqual(mine, [inbound.record.id, out.record.id]);
      await store.billing.insertUsage(usage(t, { messageId: out.record.id, at: T0 + 2_500 }));
      const after = await store.billing.unrecorded(T0, 100, ['text']);
      assert.deepEqual(
        after.filter((f) => f.workspaceId === t.workspace.id).map((f) => f.messageId),
        [inbound.record.id],
      );
      assert.deepEqual(
        (await store.billing.unrecorded(T0 + 10_000, 100, ['text'])).filter(
          (f) => f.workspaceId === t.workspace.id,
        ),
        [],
      );
    });
  });
}
