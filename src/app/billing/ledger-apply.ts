// Recording usage events in the store and re-rating exactly what they change: the pair's later
// deliveries (its own history) and the WABA's later deliveries of the same months (counts).
import type { EntryPoint, PricingType, TemplateCategory } from '../../core/pricing/categories.ts';
import { DEFAULT_TIME_ZONE } from '../../core/pricing/local-calendar.ts';
import type {
  BillingAccount,
  LogPosition,
  PairKey,
  RatingUpdate,
  UsageRecord,
  UsageType,
} from '../../ports/billing-store.ts';
import type { JsonObject, Store } from '../../ports/store.ts';
import {
  amountCounter,
  applyMonth,
  calendarFor,
  comparePositions,
  contributions,
  MonthCounters,
  PairReplay,
  pairReplayRows,
  positionOf,
  ratePairs,
  sameOutcome,
  sameRating,
  storedOutcome,
  type PairOutcome,
} from './ledger-rating.ts';
import { workspaceRateCard } from './rate-cards.ts';

/** One usage event as the ledger learns it from a stored message. */
export interface UsageInput {
  readonly workspaceId: string;
  readonly waba: string;
  readonly channelId: string;
  readonly contactId: string;
  readonly contact: string;
  readonly type: UsageType;
  readonly at: number;
  readonly messageId: string;
  readonly entryPoint: EntryPoint | null;
  readonly templateCategory: TemplateCategory | null;
  readonly providerPricing: JsonObject | null;
  readonly providerConversation: JsonObject | null;
}

/** A WABA's month total reached its budget (published as `billing.threshold` after commit). */
export interface ThresholdCrossing {
  readonly workspaceId: string;
  readonly waba: string;
  readonly month: string;
  readonly currency: string;
  readonly budgetMicros: number;
  readonly amountMicros: number;
}

export interface LedgerSetup {
  readonly now: number;
  readonly countryOf: (contact: string) => string | null;
}

const PAGE = 1_000;

const minPosition = (a: LogPosition | null, b: LogPosition): LogPosition =>
  a === null || comparePositions(b, a) < 0 ? b : a;

const pairKeyOf = (row: UsageRecord): PairKey => ({
  workspaceId: row.workspaceId,
  waba: row.waba,
  channelId: row.channelId,
  contact: row.contact,
});

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * True when `recordUsage` would change nothing for `input`: its message is recorded already, at
 * the same instant, with the same provider figures, and rated. That is every status after the
 * one that made a message delivered (a `read` after its `delivered`), so the ledger skips its
 * transaction and account lock. Mirrors the per-input checks in `recordUsage`; read without the
 * lock, a stale answer can only send an input through `recordUsage`, which is idempotent.
 */
export async function changesNothing(store: Store, input: UsageInput): Promise<boolean> {
  const row = await store.billing.usageByMessage(input.workspaceId, input.messageId);
  if (row === null) return false;
  if (input.providerPricing !== null && !sameJson(input.providerPricing, row.providerPricing))
    return false;
  if (
    input.providerConversation !== null &&
    !sameJson(input.providerConversation, row.providerConversation)
  )
    return false;
  return row.type !== 'delivered' || (input.at === row.at && row.rating !== null);
}

/**
 * Records usage events of one WABA (inside the caller's transaction) and re-rates what they
 * change. Idempotent: an event already recorded changes nothing, so a re-delivered status never
 * charges twice; a delivery instant revised by a late `delivered` (STA-1) moves the message and
 * re-rates it in place.
 */
export async function recordUsage(
  store: Store,
  inputs: readonly UsageInput[],
  setup: LedgerSetup,
): Promise<ThresholdCrossing[]> {
  const first = inputs[0];
  if (first === undefined) return [];
  const repo = store.billing;
  const { workspaceId, waba } = first;
  const account = await repo.lockAccount(workspaceId, waba, setup.now);
  const zone = account.timeZone ?? DEFAULT_TIME_ZONE;
  const calendar = calendarFor(zone);
  const { card } = await workspaceRateCard(store, workspaceId);

  const affected = new Map<string, { pair: PairKey; from: LogPosition }>();
  const mark = (row: UsageRecord, from: LogPosition): void => {
    const key = `${row.channelId}\n${row.contact}`;
    const known = affected.get(key);
    if (!known || comparePositions(from, known.from) < 0)
      affected.set(key, { pair: pairKeyOf(row), from });
  };
  /** Rows whose old figures were already taken out of the counters (moved in time). */
  const discarded = new Set<string>();
  const removed = new MonthCounters();
  let changedFrom: LogPosition | null = null;

  for (const input of inputs) {
    const month = calendar.dayOf(input.at).month;
    const result = await repo.insertUsage({ ...input, month, now: setup.now });
    const row = result.record;
    if (result.inserted) {
      mark(row, positionOf(row));
      continue;
    }
    if (
      (input.providerPricing !== null && !sameJson(input.providerPricing, row.providerPricing)) ||
      (input.providerConversation !== null &&
        !sameJson(input.providerConversation, row.providerConversation))
    )
      await repo.setProvider(
        row.id,
        input.providerPricing ?? row.providerPricing,
        input.providerConversation ?? row.providerConversation,
        setup.now,
      );
    if (row.type === 'delivered' && input.at !== row.at) {
      for (const c of contributions(row.rating)) removed.add(row.month, c.counter, -c.delta);
      discarded.add(row.id);
      await repo.moveUsage(row.id, input.at, month, setup.now);
      const from = minPosition(positionOf(row), { at: input.at, id: row.id });
      changedFrom = minPosition(changedFrom, from);
      mark(row, from);
    } else if (row.type === 'delivered' && row.rating === null) {
      mark(row, positionOf(row));
    }
  }

  // The pairs' own histories: each replayed from where nothing earlier matters, all through
  // one engine (pairs never share state) in log order.
  const replays: { rows: UsageRecord[]; from: LogPosition }[] = [];
  // Most events come in time order: a user message with no later delivery of its pair changes
  // nothing. One look at the WABA's deliveries since the earliest event finds the pairs that
  // have one (per pair queries only when that is too many to list).
  let earliest: LogPosition | null = null;
  for (const { from } of affected.values()) earliest = minPosition(earliest, from);
  const withLater = new Set<string>();
  let listed = false;
  if (earliest !== null) {
    const since = await repo.wabaUsage(
      workspaceId,
      waba,
      { from: earliest, limit: PAGE },
      'delivered',
    );
    listed = since.length < PAGE;
    for (const r of since) {
      const known = affected.get(`${r.channelId}\n${r.contact}`);
      if (known && comparePositions(positionOf(r), known.from) >= 0)
        withLater.add(`${r.channelId}\n${r.contact}`);
    }
  }
  for (const [key, { pair, from }] of affected) {
    if (listed && !withLater.has(key)) continue;
    const suffix = await repo.pairFrom(pair, from);
    if (!suffix.some((r) => r.type === 'delivered')) continue;
    replays.push({ rows: await pairReplayRows(repo, pair, from, calendar, suffix), from });
  }
  const merged = replays.flatMap((r) => r.rows).sort((a, b) => comparePositions(a, b));
  const outcomes = ratePairs(merged, { card, countryOf: setup.countryOf, zone });
  const fresh = new Map<string, PairOutcome>();
  const openersBefore = new Map<string, PricingType>();
  for (const { rows, from } of replays)
    for (const row of rows) {
      const conversation = row.rating?.pair?.conversation;
      if (conversation && !openersBefore.has(conversation))
        openersBefore.set(conversation, row.rating?.figures?.pricingType ?? 'regular');
      if (row.type !== 'delivered' || comparePositions(positionOf(row), from) < 0) continue;
      const outcome = outcomes.get(row.id);
      if (outcome === undefined) continue;
      if (discarded.has(row.id) || !sameOutcome(storedOutcome(row), outcome)) {
        fresh.set(row.id, outcome);
        changedFrom = minPosition(changedFrom, positionOf(row));
      }
    }
  if (changedFrom === null) return [];

  // The month: every delivery of the WABA from the first change on, in log order.
  const later: UsageRecord[] = [];
  for (let range: { from?: LogPosition; after?: LogPosition } = { from: changedFrom }; ;) {
    const page = await repo.wabaUsage(workspaceId, waba, { ...range, limit: PAGE }, 'delivered');
    later.push(...page);
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) break;
    range = { after: positionOf(last) };
  }
  const months = new Set<string>(later.map((r) => r.month));
  for (const e of removed.entries()) months.add(e.month);
  for (const o of fresh.values()) months.add(o.month);
  const stored = MonthCounters.from(await repo.counters(workspaceId, waba, [...months]));
  const counters = MonthCounters.from(stored.entries());
  for (const e of removed.entries()) counters.add(e.month, e.counter, e.value);
  for (const row of later)
    if (!discarded.has(row.id))
      for (const c of contributions(row.rating)) counters.add(row.month, c.counter, -c.delta);

  const updates: RatingUpdate[] = [];
  const openers = new Map<string, PricingType>();
  for (const row of later) {
    const outcome = fresh.get(row.id) ?? storedOutcome(row);
    if (outcome === null) continue;
    const rating = applyMonth(
      outcome,
      counters,
      card,
      (conversation) =>
        openers.get(conversation) ??
        openersBefore.get(conversation) ??
        (row.rating?.pair?.conversation === conversation
          ? row.rating.figures?.pricingType
          : undefined),
    );
    const conversation = rating.pair?.conversation;
    if (conversation && !openers.has(conversation))
      openers.set(conversation, rating.figures?.pricingType ?? 'regular');
    if (discarded.has(row.id) || row.month !== outcome.month || !sameRating(row.rating, rating))
      updates.push({ id: row.id, month: outcome.month, rating });
  }
  await repo.setRatings(updates, setup.now);
  await repo.addCounters(workspaceId, waba, counterDeltas(stored, counters));
  return crossings(store, account, stored, counters, setup.now);
}

function counterDeltas(
  before: MonthCounters,
  after: MonthCounters,
): { month: string; counter: string; delta: number }[] {
  const deltas: { month: string; counter: string; delta: number }[] = [];
  for (const e of after.entries()) {
    const delta = e.value - before.get(e.month, e.counter);
    if (delta !== 0) deltas.push({ month: e.month, counter: e.counter, delta });
  }
  return deltas;
}

/** Budget crossings: a month total in the budget's currency reached the budget (once each). */
async function crossings(
  store: Store,
  account: BillingAccount,
  before: MonthCounters,
  after: MonthCounters,
  now: number,
): Promise<ThresholdCrossing[]> {
  const budget = account.budgetMicros;
  const currency = account.budgetCurrency;
  if (budget === null || currency === null) return [];
  const counter = amountCounter(currency);
  const out: ThresholdCrossing[] = [];
  for (const e of after.entries()) {
    if (e.counter !== counter || e.value < budget || e.value <= before.get(e.month, counter))
      continue;
    const crossing: ThresholdCrossing = {
      workspaceId: account.workspaceId,
      waba: account.waba,
      month: e.month,
      currency,
      budgetMicros: budget,
      amountMicros: e.value,
    };
    if (await store.billing.recordThreshold({ ...crossing, crossedAt: now })) out.push(crossing);
  }
  return out;
}

/** A budget set below what a month already spent is crossed as soon as it is set. */
export async function checkBudget(
  store: Store,
  account: BillingAccount,
  month: string,
  now: number,
): Promise<ThresholdCrossing[]> {
  const counters = MonthCounters.from(
    await store.billing.counters(account.workspaceId, account.waba, [month]),
  );
  return crossings(store, account, new MonthCounters(), counters, now);
}

/**
 * Re-rates a WABA's whole log in one pass: after its zone changed (`pairs`: the pair ratings
 * are replayed too) or a rate card was imported (prices only). The counters are rebuilt.
 */
export async function rerateWaba(
  store: Store,
  workspaceId: string,
  waba: string,
  setup: LedgerSetup & {
    readonly pairs: boolean;
    /** False where no event can be published (the CLI): crossings are left for the server. */
    readonly announce?: boolean;
  },
): Promise<ThresholdCrossing[]> {
  const repo = store.billing;
  const account = await repo.lockAccount(workspaceId, waba, setup.now);
  const zone = account.timeZone ?? DEFAULT_TIME_ZONE;
  const { card } = await workspaceRateCard(store, workspaceId);
  const replay = setup.pairs
    ? new PairReplay(waba, { card, countryOf: setup.countryOf, zone })
    : null;
  const calendar = calendarFor(zone);
  const counters = new MonthCounters();
  const openers = new Map<string, { type: PricingType; at: number }>();
  const monthsBefore = new Set<string>();
  for (let after: LogPosition | undefined; ;) {
    const page = await repo.wabaUsage(
      workspaceId,
      waba,
      after ? { after, limit: PAGE } : { limit: PAGE },
      replay ? undefined : 'delivered',
    );
    const updates: RatingUpdate[] = [];
    for (const row of page) {
      monthsBefore.add(row.month);
      const outcome = replay ? replay.rate(row) : storedOutcome(row);
      if (row.type !== 'delivered') {
        const month = calendar.dayOf(row.at).month;
        if (month !== row.month) await repo.moveUsage(row.id, row.at, month, setup.now);
        continue;
      }
      if (outcome === null) continue;
      const rating = applyMonth(outcome, counters, card, (c) => openers.get(c)?.type);
      const conversation = rating.pair?.conversation;
      if (conversation && !openers.has(conversation))
        openers.set(conversation, {
          type: rating.figures?.pricingType ?? 'regular',
          at: row.at,
        });
      if (row.month !== outcome.month || !sameRating(row.rating, rating))
        updates.push({ id: row.id, month: outcome.month, rating });
    }
    await repo.setRatings(updates, setup.now);
    // Conversations last a day at most (CBP-1, CAT-4) and FEP windows three.
    if (openers.size > 100_000)
      for (const [id, o] of openers)
        if (o.at < (page[0]?.at ?? 0) - 4 * 86_400_000) openers.delete(id);
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) break;
    after = positionOf(last);
  }
  const before = MonthCounters.from(await repo.counters(workspaceId, waba, [...monthsBefore]));
  await repo.clearCounters(workspaceId, waba);
  await repo.addCounters(
    workspaceId,
    waba,
    counters.entries().map((e) => ({ month: e.month, counter: e.counter, delta: e.value })),
  );
  if (setup.announce === false) return [];
  return crossings(store, account, before, counters, setup.now);
}
