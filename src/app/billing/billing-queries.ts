// What the billing API and CLI ask of the ledger: rate card import, usage by month, the usage
// log and the priced lines in `parley rate`'s own formats, reconciliation, WABA accounts.
import { DEFAULT_TIME_ZONE, isValidTimeZone } from '../../core/pricing/local-calendar.ts';
import { eraOn } from '../../core/pricing/eras.ts';
import { LedgerTotals } from '../../core/pricing/ledger-totals.ts';
import type { RateCardProblem } from '../../core/pricing/rate-card.ts';
import type { RatedMessage } from '../../core/pricing/rating-engine.ts';
import { isMarket } from '../../core/pricing/markets.ts';
import { formatMicros } from '../../core/pricing/money.ts';
import type {
  BillingAccount,
  LogPosition,
  RateCardRecord,
  UsageRecord,
} from '../../ports/billing-store.ts';
import type { DomainEvent } from '../../ports/event-bus.ts';
import type { JsonObject, Store } from '../../ports/store.ts';
import { grandTotalJsonLine, messageJsonLine, totalJsonLine } from '../pricing/rate-output.ts';
import { parseRateCardCsv, RATE_CARD_COLUMNS } from '../pricing/rate-card-csv.ts';
import { createCountryResolver } from '../pricing/recipient-country.ts';
import { checkBudget, rerateWaba, type ThresholdCrossing } from './ledger-apply.ts';
import {
  calendarFor,
  comparePositions,
  FREE_TIER_COUNTER,
  positionOf,
  replayStartIndex,
} from './ledger-rating.ts';
import { thresholdEvent, wabaOf } from './ledger.ts';
import { workspaceRateCard } from './rate-cards.ts';

/** What billing operations need: the store, the time, and where events go (none from the CLI). */
export interface BillingDeps {
  readonly store: Store;
  readonly clock: { now(): number };
  readonly events?: { publish(event: DomainEvent): void };
}

const PAGE = 1_000;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export function isMonth(text: string): boolean {
  return MONTH.test(text);
}

/** The current month in a zone (UTC by default). */
export function currentMonth(now: number, zone: string = DEFAULT_TIME_ZONE): string {
  return calendarFor(zone).dayOf(now).month;
}

function publish(deps: BillingDeps, crossings: readonly ThresholdCrossing[]): void {
  const now = deps.clock.now();
  for (const c of crossings) deps.events?.publish(thresholdEvent(c, now));
}

// ── rate cards ──────────────────────────────────────────────────────────────────────────────

export type ImportOutcome =
  | { readonly ok: true; readonly record: RateCardRecord; readonly repriced: number }
  | { readonly ok: false; readonly problems: readonly RateCardProblem[] };

/**
 * Imports a rate card CSV (PRODUCT.md format) into a workspace and re-prices its ledger under
 * the merged card: every problem names its line, and a card with any problem changes nothing.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#rates
 */
export async function importRateCard(
  deps: BillingDeps,
  workspaceId: string,
  input: { readonly name: string; readonly csv: string },
): Promise<ImportOutcome> {
  const parsed = parseRateCardCsv(input.csv);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const now = deps.clock.now();
  const record = await deps.store.billing.insertRateCard({
    workspaceId,
    name: input.name,
    csv: input.csv,
    rows: parsed.card.entries.length,
    importedAt: now,
  });
  let repriced = 0;
  for (const waba of await deps.store.billing.wabas(workspaceId)) {
    const crossings = await deps.store.transaction((tx) =>
      rerateWaba(tx, workspaceId, waba, {
        now,
        countryOf: createCountryResolver(),
        pairs: false,
        announce: deps.events !== undefined,
      }),
    );
    publish(deps, crossings);
    repriced++;
  }
  return { ok: true, record, repriced };
}

export interface RateCardsView {
  readonly illustrative: boolean;
  readonly imports: { id: string; name: string; rows: number; importedAt: number }[];
  /** Rows of the card in force (all imports merged, or the illustrative card). */
  readonly rows: number;
}

export async function rateCardsView(
  deps: BillingDeps,
  workspaceId: string,
): Promise<RateCardsView> {
  const current = await workspaceRateCard(deps.store, workspaceId);
  const imports = await deps.store.billing.rateCards(workspaceId);
  return {
    illustrative: current.illustrative,
    imports: imports.map((r) => ({
      id: r.id,
      name: r.name,
      rows: r.rows,
      importedAt: r.importedAt,
    })),
    rows: current.card.entries.length,
  };
}

/** The card in force as CSV, row for row as the ledger uses it (`parley rate --rates`). */
export async function rateCardCsv(deps: BillingDeps, workspaceId: string): Promise<string> {
  const { card } = await workspaceRateCard(deps.store, workspaceId);
  const lines = [RATE_CARD_COLUMNS.join(',')];
  for (const e of card.entries)
    lines.push(
      [
        e.effectiveFrom,
        csvField(e.market),
        e.category,
        e.currency,
        formatMicros(e.micros),
        e.volumeFrom === 0 ? '' : String(e.volumeFrom),
      ].join(','),
    );
  return `${lines.join('\n')}\n`;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

// ── WABA accounts ────────────────────────────────────────────────────────────────────────────

export interface AccountView {
  readonly waba: string;
  readonly timeZone: string;
  readonly monthlyBudget: { readonly amount: string; readonly currency: string } | null;
}

function accountView(waba: string, account: BillingAccount | null): AccountView {
  return {
    waba,
    timeZone: account?.timeZone ?? DEFAULT_TIME_ZONE,
    monthlyBudget:
      account?.budgetMicros != null && account.budgetCurrency !== null
        ? { amount: formatMicros(account.budgetMicros), currency: account.budgetCurrency }
        : null,
  };
}

/** The WABAs a workspace bills to: its channels' and any with usage. */
export async function workspaceWabas(store: Store, workspaceId: string): Promise<string[]> {
  const wabas = new Set<string>((await store.channels.list(workspaceId)).map(wabaOf));
  for (const w of await store.billing.wabas(workspaceId)) wabas.add(w);
  return [...wabas].sort();
}

export async function listAccounts(deps: BillingDeps, workspaceId: string): Promise<AccountView[]> {
  const stored = new Map((await deps.store.billing.accounts(workspaceId)).map((a) => [a.waba, a]));
  return (await workspaceWabas(deps.store, workspaceId)).map((w) =>
    accountView(w, stored.get(w) ?? null),
  );
}

export type AccountOutcome =
  | { readonly kind: 'ok'; readonly account: AccountView }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'invalid'; readonly detail: string };

/**
 * Sets a WABA's billing zone and monthly budget. A new zone moves every local date and month,
 * so the WABA's whole ledger is re-rated; a budget already exceeded this month is announced.
 */
export async function updateAccount(
  deps: BillingDeps,
  workspaceId: string,
  waba: string,
  patch: {
    readonly timeZone?: string | null;
    readonly monthlyBudget?: { readonly micros: number; readonly currency: string } | null;
  },
): Promise<AccountOutcome> {
  if (!(await workspaceWabas(deps.store, workspaceId)).includes(waba)) return { kind: 'not_found' };
  if (patch.timeZone != null && !isValidTimeZone(patch.timeZone))
    return { kind: 'invalid', detail: `"${patch.timeZone}" is not an IANA time zone` };
  const now = deps.clock.now();
  const before = await deps.store.billing.account(workspaceId, waba);
  const account: BillingAccount = {
    workspaceId,
    waba,
    timeZone: patch.timeZone === undefined ? (before?.timeZone ?? null) : patch.timeZone,
    budgetMicros:
      patch.monthlyBudget === undefined
        ? (before?.budgetMicros ?? null)
        : (patch.monthlyBudget?.micros ?? null),
    budgetCurrency:
      patch.monthlyBudget === undefined
        ? (before?.budgetCurrency ?? null)
        : (patch.monthlyBudget?.currency ?? null),
    updatedAt: now,
  };
  const crossings = await deps.store.transaction(async (tx) => {
    await tx.billing.lockAccount(workspaceId, waba, now);
    const saved = await tx.billing.putAccount(account);
    const zoneChanged = (before?.timeZone ?? null) !== saved.timeZone;
    const found = zoneChanged
      ? await rerateWaba(tx, workspaceId, waba, {
          now,
          countryOf: createCountryResolver(),
          pairs: true,
        })
      : [];
    const month = currentMonth(now, saved.timeZone ?? DEFAULT_TIME_ZONE);
    return [...found, ...(await checkBudget(tx, saved, month, now))];
  });
  publish(deps, crossings);
  return { kind: 'ok', account: accountView(waba, account) };
}

// ── usage ──────────────────────────────────────────────────────────────────────────────────

export interface UsageLine {
  readonly messages: number;
  readonly billable: number;
  readonly amount: string;
  readonly currency: string;
}

export interface UsageReport {
  readonly month: string;
  readonly rateCard: { readonly illustrative: boolean };
  readonly totals: UsageLine[];
  readonly byChannel: (UsageLine & { channelId: string; waba: string })[];
  readonly byCategory: (UsageLine & { category: string })[];
  readonly byMarket: (UsageLine & { market: string })[];
  readonly byPricingType: (UsageLine & { pricingType: string })[];
  readonly freeTier: { waba: string; used: number; allowance: number | null }[];
  readonly unpriced: { problem: string; messages: number }[];
  readonly budgets: {
    waba: string;
    budget: string;
    currency: string;
    spent: string;
    crossed: boolean;
  }[];
}

/** Sums usage groups under a key (plus currency: amounts in different currencies never add). */
class Grouping {
  readonly #groups = new Map<
    string,
    {
      key: Record<string, string>;
      currency: string;
      messages: number;
      billable: number;
      micros: number;
    }
  >();

  add(
    key: Record<string, string>,
    g: { currency: string; messages: number; billable: number; amountMicros: number },
  ): void {
    const id = JSON.stringify([key, g.currency]);
    const known = this.#groups.get(id);
    if (known) {
      known.messages += g.messages;
      known.billable += g.billable;
      known.micros += g.amountMicros;
    } else
      this.#groups.set(id, {
        key,
        currency: g.currency,
        messages: g.messages,
        billable: g.billable,
        micros: g.amountMicros,
      });
  }

  lines<K extends string>(): (UsageLine & Record<K, string>)[] {
    return [...this.#groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(
        ([, g]) =>
          ({
            ...g.key,
            messages: g.messages,
            billable: g.billable,
            amount: formatMicros(g.micros),
            currency: g.currency,
          }) as UsageLine & Record<K, string>,
      );
  }
}

/** Delivered messages of a month by channel, category, market and pricing type, with free-tier use. */
export async function usageReport(
  deps: BillingDeps,
  workspaceId: string,
  month: string,
): Promise<UsageReport> {
  const groups = await deps.store.billing.summarize(workspaceId, month);
  const totals = new Grouping();
  const byChannel = new Grouping();
  const byCategory = new Grouping();
  const byMarket = new Grouping();
  const byType = new Grouping();
  const unpriced = new Map<string, number>();
  for (const g of groups) {
    if (g.problem !== null || g.currency === null) {
      const problem = g.problem ?? 'unpriced';
      unpriced.set(problem, (unpriced.get(problem) ?? 0) + g.messages);
      continue;
    }
    const row = { ...g, currency: g.currency };
    totals.add({}, row);
    byChannel.add({ channelId: g.channelId, waba: g.waba }, row);
    byCategory.add({ category: g.category ?? '' }, row);
    byMarket.add({ market: g.market ?? '' }, row);
    byType.add({ pricingType: g.pricingType ?? '' }, row);
  }
  const wabas = new Set(groups.map((g) => g.waba));
  const accounts = await deps.store.billing.accounts(workspaceId);
  for (const a of accounts) if (a.budgetMicros !== null) wabas.add(a.waba);
  const freeTier: UsageReport['freeTier'] = [];
  const budgets: UsageReport['budgets'] = [];
  const notices = await deps.store.billing.thresholds(workspaceId);
  for (const waba of [...wabas].sort()) {
    const counters = await deps.store.billing.counters(workspaceId, waba, [month]);
    const used = counters.find((c) => c.counter === FREE_TIER_COUNTER)?.value ?? 0;
    const tier = eraOn(`${month}-01`).freeTier;
    if (tier !== null || used > 0)
      freeTier.push({ waba, used, allowance: tier?.allowance ?? null });
    const account = accounts.find((a) => a.waba === waba);
    if (account?.budgetMicros != null && account.budgetCurrency !== null) {
      const spent =
        counters.find((c) => c.counter === `amount:${account.budgetCurrency}`)?.value ?? 0;
      budgets.push({
        waba,
        budget: formatMicros(account.budgetMicros),
        currency: account.budgetCurrency,
        spent: formatMicros(spent),
        crossed: notices.some(
          (n) =>
            n.waba === waba &&
            n.month === month &&
            n.currency === account.budgetCurrency &&
            n.budgetMicros === account.budgetMicros,
        ),
      });
    }
  }
  return {
    month,
    rateCard: { illustrative: (await workspaceRateCard(deps.store, workspaceId)).illustrative },
    totals: totals.lines(),
    byChannel: byChannel.lines<'channelId' | 'waba'>(),
    byCategory: byCategory.lines<'category'>(),
    byMarket: byMarket.lines<'market'>(),
    byPricingType: byType.lines<'pricingType'>(),
    freeTier,
    unpriced: [...unpriced.entries()].map(([problem, messages]) => ({ problem, messages })),
    budgets,
  };
}

export const USAGE_CSV_COLUMNS = [
  'month',
  'waba',
  'channel_id',
  'category',
  'market',
  'pricing_type',
  'currency',
  'messages',
  'billable',
  'amount',
  'problem',
] as const;

/** The month's usage as CSV, one row per WABA, channel, category, market and pricing type. */
export async function usageCsv(
  deps: BillingDeps,
  workspaceId: string,
  month: string,
): Promise<string> {
  const groups = await deps.store.billing.summarize(workspaceId, month);
  const rows = groups
    .map((g) =>
      [
        month,
        g.waba,
        g.channelId,
        g.category ?? '',
        g.market ?? '',
        g.pricingType ?? '',
        g.currency ?? '',
        String(g.messages),
        String(g.billable),
        formatMicros(g.amountMicros),
        g.problem ?? '',
      ]
        .map(csvField)
        .join(','),
    )
    .sort();
  return `${[USAGE_CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

// ── the usage log and the priced lines, in parley rate's formats ──────────────────────────────

/** One usage log line (PRODUCT.md): what `parley rate --events` reads. */
export function usageLogLine(row: UsageRecord, zone: string | null): string {
  const line: Record<string, string> = {
    type: row.type,
    at: new Date(row.at).toISOString(),
    waba: row.waba,
    channel: row.channelId,
    contact: row.contact,
  };
  if (row.type === 'delivered') {
    line.message = row.messageId;
    if (row.templateCategory !== null) line.template_category = row.templateCategory;
  } else if (row.entryPoint !== null) line.entry_point = row.entryPoint;
  if (zone !== null) line.tz = zone;
  return `${JSON.stringify(line)}\n`;
}

async function zones(store: Store, workspaceId: string): Promise<Map<string, string | null>> {
  return new Map((await store.billing.accounts(workspaceId)).map((a) => [a.waba, a.timeZone]));
}

/** Every event of the workspace (or one month's, see below), in log order. */
async function* usageRows(
  store: Store,
  workspaceId: string,
  month: string | undefined,
): AsyncGenerator<UsageRecord> {
  if (month === undefined) {
    for (let after: LogPosition | undefined; ;) {
      const page = await store.billing.allUsage(workspaceId, {
        limit: PAGE,
        ...(after ? { after } : {}),
      });
      yield* page;
      const last = page[page.length - 1];
      if (page.length < PAGE || last === undefined) return;
      after = positionOf(last);
    }
  }
  // A month's log starts with the earlier events still in force at its start (windows, entry
  // points, conversations), so `parley rate` rates the month's messages exactly as the ledger.
  const context = await monthContext(store, workspaceId, month);
  let next = 0;
  for (let after: LogPosition | undefined; ;) {
    const page = await store.billing.monthUsage(workspaceId, month, {
      limit: PAGE,
      ...(after ? { after } : {}),
    });
    for (const row of page) {
      while (next < context.length && comparePositions(context[next] as UsageRecord, row) < 0)
        yield context[next++] as UsageRecord;
      yield row;
    }
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) break;
    after = positionOf(last);
  }
  while (next < context.length) yield context[next++] as UsageRecord;
}

const CONTEXT_SPAN = 14 * 86_400_000;

/** Earlier events of the pairs active in a month that still matter at the month's start. */
async function monthContext(
  store: Store,
  workspaceId: string,
  month: string,
): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  const zoneOf = await zones(store, workspaceId);
  for (const waba of await store.billing.wabas(workspaceId)) {
    const first = (await store.billing.monthUsage(workspaceId, month, { limit: 1, waba }))[0];
    if (first === undefined) continue;
    const earlier: UsageRecord[] = [];
    for (
      let range: { from?: LogPosition; after?: LogPosition } = {
        from: { at: first.at - CONTEXT_SPAN, id: '' },
      };
      ;
    ) {
      const page = await store.billing.wabaUsage(workspaceId, waba, { ...range, limit: PAGE });
      const before = page.filter((r) => comparePositions(r, first) < 0);
      earlier.push(...before);
      const last = page[page.length - 1];
      if (before.length < page.length || page.length < PAGE || last === undefined) break;
      range = { after: positionOf(last) };
    }
    const pairs = new Map<string, UsageRecord[]>();
    for (const row of earlier) {
      const key = `${row.channelId}\n${row.contact}`;
      const list = pairs.get(key) ?? [];
      list.push(row);
      pairs.set(key, list);
    }
    const calendar = calendarFor(zoneOf.get(waba) ?? DEFAULT_TIME_ZONE);
    for (const rows of pairs.values()) {
      // Where the month starts for this pair: a virtual event at the first row of the month.
      const probe = [...rows, { ...first, type: 'inbound' as const, entryPoint: null }];
      const start = replayStartIndex(probe, rows.length, false, calendar) ?? 0;
      out.push(...rows.slice(start));
    }
  }
  return out.sort(comparePositions);
}

/** The usage log (PRODUCT.md) of a workspace, or of one month with the events it depends on. */
export async function* usageLog(
  deps: BillingDeps,
  workspaceId: string,
  month?: string,
): AsyncGenerator<string> {
  const zoneOf = await zones(deps.store, workspaceId);
  for await (const row of usageRows(deps.store, workspaceId, month))
    yield usageLogLine(row, zoneOf.get(row.waba) ?? null);
}

function ratedMessage(row: UsageRecord): RatedMessage | null {
  const pair = row.rating?.pair;
  const figures = row.rating?.figures;
  if (!pair || !figures || !isMarket(pair.market)) return null;
  return {
    kind: 'rated',
    message: row.messageId,
    waba: row.waba,
    channel: row.channelId,
    contact: row.contact,
    at: row.at,
    date: pair.date,
    month: row.month,
    pricingModel: pair.pricingModel,
    era: pair.era,
    category: pair.category,
    pricingType: figures.pricingType,
    conversation: pair.conversation,
    market: pair.market,
    country: pair.country,
    billable: figures.billable,
    amountMicros: figures.amountMicros,
    currency: figures.currency,
  };
}

/**
 * The ledger's priced lines in `parley rate --format json`'s exact output: one line per priced
 * delivery, then month totals and grand totals. Unpriced deliveries are left out, as `parley
 * rate` reports them apart.
 */
export async function* ledgerLines(
  deps: BillingDeps,
  workspaceId: string,
  month?: string,
): AsyncGenerator<string> {
  const totals = new LedgerTotals();
  const rows =
    month === undefined
      ? usageRows(deps.store, workspaceId, undefined)
      : monthRows(deps.store, workspaceId, month);
  for await (const row of rows) {
    if (row.type !== 'delivered') continue;
    const rated = ratedMessage(row);
    if (rated === null) continue;
    totals.add(rated);
    yield messageJsonLine(rated, new Date(row.at).toISOString());
  }
  for (const t of totals.monthTotals()) yield totalJsonLine(t);
  for (const t of totals.currencyTotals()) yield grandTotalJsonLine(t);
}

async function* monthRows(
  store: Store,
  workspaceId: string,
  month: string,
): AsyncGenerator<UsageRecord> {
  for (let after: LogPosition | undefined; ;) {
    const page = await store.billing.monthUsage(workspaceId, month, {
      limit: PAGE,
      ...(after ? { after } : {}),
    });
    yield* page;
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) return;
    after = positionOf(last);
  }
}

// ── reconciliation ───────────────────────────────────────────────────────────────────────────

export const DISAGREEMENTS = [
  'pricing_model',
  'category',
  'pricing_type',
  'billable',
  'conversation',
  'unpriced',
] as const;
export type Disagreement = (typeof DISAGREEMENTS)[number];

export interface ReconciliationItem {
  readonly messageId: string;
  readonly waba: string;
  readonly channelId: string;
  readonly at: number;
  readonly disagreements: Disagreement[];
  readonly parley: {
    readonly pricingModel: string | null;
    readonly category: string | null;
    readonly pricingType: string | null;
    readonly billable: boolean | null;
    readonly amount: string | null;
    readonly currency: string | null;
    readonly conversation: string | null;
    readonly problem: string | null;
  };
  readonly provider: {
    readonly pricing: JsonObject | null;
    readonly conversation: JsonObject | null;
  };
}

export interface Reconciliation {
  readonly month: string;
  /** Deliveries the provider reported figures for. */
  readonly compared: number;
  readonly items: ReconciliationItem[];
  /** More disagreements than `limit` exist. */
  readonly truncated: boolean;
}

const FREE_ENTRY = ['free_entry_point', 'referral_conversion'];

/**
 * Every delivery of a month where the provider's own `pricing`/`conversation` disagree with
 * Parley's figures: pricing model, category, pricing type, billable, or how messages group
 * into conversations (a provider conversation split over two of Parley's, or the reverse).
 * @see https://developers.facebook.com/docs/whatsapp/pricing#pricing-in-webhooks
 */
export async function reconcile(
  deps: BillingDeps,
  workspaceId: string,
  month: string,
  limit: number,
): Promise<Reconciliation> {
  const items: ReconciliationItem[] = [];
  let compared = 0;
  let truncated = false;
  // Parley conversation → provider conversation id, and the reverse (per WABA).
  const ours = new Map<string, string>();
  const theirs = new Map<string, string>();
  for await (const row of monthRows(deps.store, workspaceId, month)) {
    if (
      row.type !== 'delivered' ||
      (row.providerPricing === null && row.providerConversation === null)
    )
      continue;
    compared++;
    const pair = row.rating?.pair ?? null;
    const figures = row.rating?.figures ?? null;
    const pricing = row.providerPricing ?? {};
    const found: Disagreement[] = [];
    if (figures === null) found.push('unpriced');
    const model = typeof pricing.pricing_model === 'string' ? pricing.pricing_model : null;
    if (pair && model !== null && model !== pair.pricingModel) found.push('pricing_model');
    const category = typeof pricing.category === 'string' ? pricing.category : null;
    const type = typeof pricing.type === 'string' ? pricing.type : null;
    const freeEntry =
      figures?.pricingType === 'free_entry_point' &&
      (FREE_ENTRY.includes(type ?? '') || FREE_ENTRY.includes(category ?? ''));
    if (pair && category !== null && !freeEntry && category !== pair.category)
      found.push('category');
    if (figures && type !== null && type !== figures.pricingType) found.push('pricing_type');
    if (figures && pair && typeof pricing.billable === 'boolean') {
      // PRC-1: the provider flags every message of a charged conversation billable; Parley
      // charges the one that opened it.
      const charged =
        pair.pricingModel === 'CBP' ? figures.pricingType === 'regular' : figures.billable;
      if (pricing.billable !== charged) found.push('billable');
    }
    const providerConversation =
      typeof row.providerConversation?.id === 'string' ? row.providerConversation.id : null;
    if (pair?.conversation && providerConversation !== null && pair.pricingModel === 'CBP') {
      const key = `${row.waba}\n${pair.conversation}`;
      const theirKey = `${row.waba}\n${providerConversation}`;
      const mapped = ours.get(key);
      const back = theirs.get(theirKey);
      if (
        (mapped !== undefined && mapped !== providerConversation) ||
        (back !== undefined && back !== pair.conversation)
      )
        found.push('conversation');
      if (mapped === undefined) ours.set(key, providerConversation);
      if (back === undefined) theirs.set(theirKey, pair.conversation);
    }
    if (found.length === 0) continue;
    if (items.length >= limit) {
      truncated = true;
      continue;
    }
    items.push({
      messageId: row.messageId,
      waba: row.waba,
      channelId: row.channelId,
      at: row.at,
      disagreements: found,
      parley: {
        pricingModel: pair?.pricingModel ?? null,
        category: pair?.category ?? null,
        pricingType: figures?.pricingType ?? null,
        billable: figures?.billable ?? null,
        amount: figures ? formatMicros(figures.amountMicros) : null,
        currency: figures?.currency ?? null,
        conversation: pair?.conversation ?? null,
        problem: row.rating?.problem ?? null,
      },
      provider: { pricing: row.providerPricing, conversation: row.providerConversation },
    });
  }
  return { month, compared, items, truncated };
}
