// A workspace's rate card: every imported CSV merged (the newest import of a market, category and
// effective date wins), or the bundled illustrative card until the first import.
import { formatMicros } from '../../core/pricing/money.ts';
import {
  RateCard,
  type RateCardProblem,
  type RateCardRowText,
  type RateEntry,
} from '../../core/pricing/rate-card.ts';
import type { RateCardRecord } from '../../ports/billing-store.ts';
import type { Store } from '../../ports/store.ts';
import {
  ILLUSTRATIVE_RATE_CARD_PATH,
  loadRateCardFile,
  parseRateCardCsv,
} from '../pricing/rate-card-csv.ts';

export interface WorkspaceRateCard {
  readonly card: RateCard;
  /** True while no card was imported: the bundled sample, not Meta's prices. */
  readonly illustrative: boolean;
  /** Id of the newest import it includes (null for the illustrative card). */
  readonly version: string | null;
}

let illustrative: Promise<RateCard> | null = null;

/** The bundled sample card (data/rate-cards/illustrative.csv), read once. */
export function illustrativeRateCard(): Promise<RateCard> {
  illustrative ??= loadRateCardFile(ILLUSTRATIVE_RATE_CARD_PATH).then((r) => {
    if (!r.ok)
      throw new Error(
        `the bundled illustrative rate card is invalid: ${r.problems[0]?.message ?? ''}`,
      );
    return r.card;
  });
  return illustrative;
}

const groupKey = (e: RateEntry): string => `${e.effectiveFrom}\u0000${e.market}\u0000${e.category}`;

/**
 * Merges imports, oldest first: an import replaces, as a whole, every (effective date, market,
 * category) group it carries, volume tiers included; groups it does not carry stay.
 */
export function mergeRateCards(imports: readonly RateCardRecord[]): RateCard | RateCardProblem[] {
  const groups = new Map<string, readonly RateEntry[]>();
  for (const record of imports) {
    const parsed = parseRateCardCsv(record.csv);
    if (!parsed.ok) return [...parsed.problems];
    const own = new Map<string, RateEntry[]>();
    for (const e of parsed.card.entries) {
      const key = groupKey(e);
      const list = own.get(key);
      if (list) list.push(e);
      else own.set(key, [e]);
    }
    for (const [key, entries] of own) groups.set(key, entries);
  }
  const rows: RateCardRowText[] = [];
  for (const entries of groups.values())
    for (const e of entries)
      rows.push({
        line: rows.length + 2,
        effectiveFrom: e.effectiveFrom,
        market: e.market,
        category: e.category,
        currency: e.currency,
        rate: formatMicros(e.micros),
        volumeFrom: String(e.volumeFrom),
      });
  const built = RateCard.fromRows(rows);
  return built.ok ? built.card : [...built.problems];
}

const cache = new Map<string, WorkspaceRateCard>();

/** The card in force for a workspace; cached until a newer import appears. */
export async function workspaceRateCard(
  store: Store,
  workspaceId: string,
): Promise<WorkspaceRateCard> {
  const version = await store.billing.latestRateCardId(workspaceId);
  if (version === null) return { card: await illustrativeRateCard(), illustrative: true, version };
  const hit = cache.get(workspaceId);
  if (hit?.version === version) return hit;
  const merged = mergeRateCards(await store.billing.rateCards(workspaceId));
  if (Array.isArray(merged))
    throw new Error(
      `stored rate cards of workspace ${workspaceId} do not merge: ${merged[0]?.message ?? ''}`,
    );
  const entry: WorkspaceRateCard = { card: merged, illustrative: false, version };
  if (cache.size >= 1_000) cache.clear();
  cache.set(workspaceId, entry);
  return entry;
}
