// The live ledger against the rating engine: whatever order events arrive in, the stored ratings
// equal what the engine gives for the stored log in time order.
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { createKyselyStore } from '../../adapters/store/kysely/index.ts';
import { RateCard } from '../../core/pricing/rate-card.ts';
import { RatingEngine, type RatedMessage } from '../../core/pricing/rating-engine.ts';
import { DAY, HOUR, MINUTE } from '../../core/time.ts';
import type { TemplateCategory } from '../../core/pricing/categories.ts';
import type { UsageRecord } from '../../ports/billing-store.ts';
import type { Store } from '../../ports/store.ts';
import { createCountryResolver } from '../pricing/recipient-country.ts';
import { recordUsage, type UsageInput } from './ledger-apply.ts';
import { positionOf, toUsageEvent } from './ledger-rating.ts';
import { workspaceRateCard } from './rate-cards.ts';

const CARD_CSV = `effective_from,market,category,currency,rate,volume_from
2018-01-01,United Kingdom,notification,USD,0.0400,
2022-02-01,United Kingdom,user_initiated,USD,0.0300,
2022-02-01,United Kingdom,business_initiated,USD,0.0500,
2023-06-01,United Kingdom,marketing,USD,0.0700,
2023-06-01,United Kingdom,utility,USD,0.0300,
2023-06-01,United Kingdom,authentication,USD,0.0350,
2023-06-01,United Kingdom,service,USD,0.0380,
2025-07-01,United Kingdom,marketing,USD,0.0500,
2025-07-01,United Kingdom,utility,USD,0.0200,
2025-07-01,United Kingdom,utility,USD,0.0150,3
2025-07-01,United Kingdom,utility,USD,0.0100,5
2025-07-01,United Kingdom,authentication,USD,0.0300,
2025-07-01,United Kingdom,authentication,USD,0.0250,3
2026-10-01,United Kingdom,service,USD,0.0100,
2022-02-01,India,user_initiated,USD,0.0040,
2022-02-01,India,business_initiated,USD,0.0066,
2023-06-01,India,marketing,USD,0.0100,
2023-06-01,India,utility,USD,0.0020,
2025-07-01,India,marketing,USD,0.0110,
2025-07-01,India,utility,USD,0.0014,
2025-07-01,India,utility,USD,0.0010,2
2025-07-01,North America,marketing,USD,0.0250,
2026-10-01,North America,service,USD,0.0080,
`;

const CONTACTS = ['+447700900123', '+447700900456', '+919876543210', '+14155550123', '+999123'];
const CATEGORIES: (TemplateCategory | undefined)[] = [
  undefined,
  undefined,
  'marketing',
  'utility',
  'utility',
  'authentication',
];

/** Seeded PRNG (mulberry32): the same scenario on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  readonly inputs: UsageInput[];
}

/** Random traffic of one WABA around `start`: user messages (some from ads) and deliveries. */
function scenario(workspaceId: string, start: number, days: number, seed: number): Scenario {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const inputs: UsageInput[] = [];
  let at = start;
  let n = 0;
  while (at < start + days * DAY) {
    at += Math.floor(random() * 5 * HOUR) + 1;
    const contact = pick(CONTACTS);
    const channelId = random() < 0.8 ? 'C1' : 'C2';
    const common = {
      workspaceId,
      waba: 'W1',
      channelId,
      contactId: `contact-${contact}`,
      contact,
      providerPricing: null,
      providerConversation: null,
    };
    n++;
    if (random() < 0.35)
      inputs.push({
        ...common,
        type: 'inbound',
        at,
        messageId: `in-${seed}-${n}`,
        entryPoint: random() < 0.2 ? 'ctwa' : null,
        templateCategory: null,
      });
    else
      inputs.push({
        ...common,
        type: 'delivered',
        at,
        messageId: `out-${seed}-${n}`,
        entryPoint: null,
        templateCategory: pick(CATEGORIES) ?? null,
      });
  }
  return { inputs };
}

/** Arrival order: mostly in time, some events late by up to two days, in random batches. */
function arrivals(inputs: readonly UsageInput[], seed: number): UsageInput[][] {
  const random = prng(seed);
  const keyed = inputs.map((input) => ({
    input,
    arrives: input.at + (random() < 0.25 ? Math.floor(random() * 2 * DAY) : 0),
  }));
  keyed.sort((a, b) => a.arrives - b.arrives);
  const batches: UsageInput[][] = [];
  for (let i = 0; i < keyed.length;) {
    const size = 1 + Math.floor(random() * 4);
    batches.push(keyed.slice(i, i + size).map((k) => k.input));
    i += size;
  }
  return batches;
}

async function storedLog(store: Store, workspaceId: string): Promise<UsageRecord[]> {
  const rows: UsageRecord[] = [];
  for (;;) {
    const last = rows[rows.length - 1];
    const page = await store.billing.allUsage(workspaceId, {
      limit: 500,
      ...(last ? { after: positionOf(last) } : {}),
    });
    rows.push(...page);
    if (page.length < 500) return rows;
  }
}

/** The engine's verdict on the stored log, in log order: message → rated line or problem code. */
function engineVerdicts(
  rows: readonly UsageRecord[],
  card: RateCard,
): Map<string, RatedMessage | string> {
  const engine = new RatingEngine({ rates: card, countryOf: createCountryResolver() });
  const out = new Map<string, RatedMessage | string>();
  for (const row of rows) {
    const r = engine.rate(toUsageEvent(row));
    if (r === null) continue;
    out.set(row.messageId, r.kind === 'problem' ? r.problem : r);
  }
  return out;
}

function assertSameAsEngine(rows: readonly UsageRecord[], card: RateCard): number {
  const verdicts = engineVerdicts(rows, card);
  let compared = 0;
  for (const row of rows) {
    if (row.type !== 'delivered') continue;
    const expected = verdicts.get(row.messageId);
    const rating = row.rating;
    assert.ok(rating, `message ${row.messageId} was never rated`);
    compared++;
    if (typeof expected === 'string') {
      assert.equal(rating.problem, expected, `message ${row.messageId}`);
      continue;
    }
    assert.ok(expected);
    assert.equal(rating.problem, null, `message ${row.messageId}: ${rating.problemDetail ?? ''}`);
    assert.deepEqual(
      {
        era: rating.pair?.era,
        category: rating.pair?.category,
        pricingType: rating.figures?.pricingType,
        conversation: rating.pair?.conversation,
        market: rating.pair?.market,
        month: row.month,
        billable: rating.figures?.billable,
        amountMicros: rating.figures?.amountMicros,
        currency: rating.figures?.currency,
      },
      {
        era: expected.era,
        category: expected.category,
        pricingType: expected.pricingType,
        conversation: expected.conversation,
        market: expected.market,
        month: expected.month,
        billable: expected.billable,
        amountMicros: expected.amountMicros,
        currency: expected.currency,
      },
      `message ${row.messageId} at ${new Date(row.at).toISOString()}`,
    );
  }
  return compared;
}

async function feed(
  store: Store,
  batches: readonly UsageInput[][],
  countryOf: (c: string) => string | null,
) {
  let now = 0;
  for (const batch of batches)
    await store.transaction((tx) => recordUsage(tx, batch, { now: ++now, countryOf }));
}

describe('live ledger rating (store-backed) against the rating engine', () => {
  let store: Store;
  const countryOf = createCountryResolver();
  before(async () => {
    store = await createKyselyStore({ sqliteFile: ':memory:' });
    await store.migrate();
  });
  after(async () => store.close());

  async function workspaceWithCard(): Promise<{ id: string; card: RateCard }> {
    const w = await store.workspaces.create({ name: 'ledger' });
    await store.billing.insertRateCard({
      workspaceId: w.id,
      name: 'test.csv',
      csv: CARD_CSV,
      rows: 23,
      importedAt: 1,
    });
    return { id: w.id, card: (await workspaceRateCard(store, w.id)).card };
  }

  for (const [label, start] of [
    ['across cbp2022 → cbp2023 (PRC-3, FEP-3, CAT-2..4)', Date.parse('2023-05-27T00:00:00Z')],
    [
      'across cbp2024 → pmp2025 (PRC-3, PMP-1..5, PRC-4 volume tiers)',
      Date.parse('2025-06-27T00:00:00Z'),
    ],
    ['across pmp2025 → pmp2026 (S26-1..3) and a month end', Date.parse('2026-09-26T00:00:00Z')],
  ] as const) {
    it(`PRC-1..5: late and batched arrivals end in the engine's figures ${label}`, async () => {
      const { id, card } = await workspaceWithCard();
      const { inputs } = scenario(id, start, 12, start % 9973);
      await feed(store, arrivals(inputs, 7), countryOf);
      const rows = await storedLog(store, id);
      assert.equal(rows.length, inputs.length);
      const compared = assertSameAsEngine(rows, card);
      assert.ok(compared > 40, `only ${compared} deliveries compared`);
    });
  }

  it('STA-2: a delivery recorded again changes nothing and is charged once', async () => {
    const { id, card } = await workspaceWithCard();
    const { inputs } = scenario(id, Date.parse('2025-07-03T00:00:00Z'), 3, 11);
    await feed(store, [inputs], countryOf);
    const once = await storedLog(store, id);
    const counters = await store.billing.counters(id, 'W1', ['2025-07']);
    await feed(store, [inputs, inputs.slice(3, 9)], countryOf);
    assert.deepEqual(await storedLog(store, id), once);
    assert.deepEqual(await store.billing.counters(id, 'W1', ['2025-07']), counters);
    assertSameAsEngine(once, card);
  });

  it('STA-1: a delivery first known from its read is re-rated at its delivered time', async () => {
    const { id, card } = await workspaceWithCard();
    const t = Date.parse('2025-07-03T10:00:00Z');
    const base = {
      workspaceId: id,
      waba: 'W1',
      channelId: 'C1',
      contactId: 'c',
      contact: '+447700900123',
      entryPoint: null,
      providerPricing: null,
      providerConversation: null,
    };
    // The user wrote at 10:00; a utility template was delivered at 10:30 (free in the window,
    // PMP-2) but the delivered status is lost for a while and the read (next day) comes first.
    await feed(
      store,
      [
        [{ ...base, type: 'inbound', at: t, messageId: 'u1', templateCategory: null }],
        [
          {
            ...base,
            type: 'delivered',
            at: t + DAY + HOUR,
            messageId: 'm1',
            templateCategory: 'utility',
          },
        ],
      ],
      countryOf,
    );
    let row = await store.billing.usageByMessage(id, 'm1');
    assert.equal(row?.rating?.figures?.pricingType, 'regular');
    assert.equal(row?.rating?.figures?.amountMicros, 20_000);
    await feed(
      store,
      [
        [
          {
            ...base,
            type: 'delivered',
            at: t + 30 * MINUTE,
            messageId: 'm1',
            templateCategory: 'utility',
          },
        ],
      ],
      countryOf,
    );
    row = await store.billing.usageByMessage(id, 'm1');
    assert.equal(row?.at, t + 30 * MINUTE);
    assert.equal(row?.rating?.figures?.pricingType, 'free_customer_service');
    assert.equal(row?.rating?.figures?.amountMicros, 0);
    const counters = await store.billing.counters(id, 'W1', ['2025-07']);
    assert.equal(counters.find((c) => c.counter === 'amount:USD')?.value ?? 0, 0);
    assertSameAsEngine(await storedLog(store, id), card);
  });

  it('CAT-5: the first 1,000 service conversations of a month are free_tier, in delivery order, however late they arrive', async () => {
    const { id, card } = await workspaceWithCard();
    const t = Date.parse('2023-07-03T00:00:00Z');
    const inputs: UsageInput[] = [];
    for (let i = 0; i < 1_010; i++) {
      const contact = `+4477009${String(10_000 + i).padStart(5, '0')}`;
      const common = {
        workspaceId: id,
        waba: 'W1',
        channelId: 'C1',
        contactId: contact,
        contact,
        entryPoint: null,
        templateCategory: null,
        providerPricing: null,
        providerConversation: null,
      };
      inputs.push({ ...common, type: 'inbound', at: t + i * MINUTE, messageId: `u${i}` });
      inputs.push({ ...common, type: 'delivered', at: t + i * MINUTE + 1_000, messageId: `m${i}` });
    }
    // The deliveries of the first 20 conversations arrive last.
    const late = inputs.filter((x) => x.type === 'delivered').slice(0, 20);
    const rest = inputs.filter((x) => !late.includes(x));
    const batches: UsageInput[][] = [];
    for (let i = 0; i < rest.length; i += 50) batches.push(rest.slice(i, i + 50));
    batches.push(late);
    await feed(store, batches, countryOf);
    const rows = await storedLog(store, id);
    assertSameAsEngine(rows, card);
    const delivered = rows.filter((r) => r.type === 'delivered');
    assert.equal(
      delivered.filter((r) => r.rating?.figures?.pricingType === 'free_tier').length,
      1_000,
    );
    assert.equal(delivered.filter((r) => r.rating?.figures?.billable).length, 10);
    const counters = await store.billing.counters(id, 'W1', ['2023-07']);
    assert.equal(counters.find((c) => c.counter === 'free_tier')?.value, 1_000);
    assert.equal(counters.find((c) => c.counter === 'amount:USD')?.value, 10 * 38_000);
  });
  it('a restart or another node continues exactly: state lives in the store, not in a process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-ledger-'));
    const file = join(dir, 'ledger.db');
    const nodeA = await createKyselyStore({ sqliteFile: file });
    await nodeA.migrate();
    const nodeB = await createKyselyStore({ sqliteFile: file });
    try {
      const w = await nodeA.workspaces.create({ name: 'two nodes' });
      await nodeA.billing.insertRateCard({
        workspaceId: w.id,
        name: 'test.csv',
        csv: CARD_CSV,
        rows: 23,
        importedAt: 1,
      });
      const { inputs } = scenario(w.id, Date.parse('2025-06-28T00:00:00Z'), 8, 99);
      const batches = arrivals(inputs, 3);
      // Batches alternate between two processes sharing the database, each with its own caches.
      let now = 0;
      for (const [i, batch] of batches.entries()) {
        const node = i % 2 === 0 ? nodeA : nodeB;
        await node.transaction((tx) =>
          recordUsage(tx, batch, { now: ++now, countryOf: createCountryResolver() }),
        );
      }
      const rows = await storedLog(nodeB, w.id);
      assert.equal(rows.length, inputs.length);
      assertSameAsEngine(rows, (await workspaceRateCard(nodeA, w.id)).card);
    } finally {
      await nodeA.close();
      await nodeB.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
