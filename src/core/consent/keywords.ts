// OPT-5 stop and start keywords: matched on the whole trimmed message, case- and
// accent-insensitive, from per-language sets a workspace can extend.

export interface KeywordSet {
  /** A language tag (`en`, `fr` …) or `default`; only for reporting which set matched. */
  readonly language: string;
  readonly stop: readonly string[];
  readonly start: readonly string[];
}

/**
 * OPT-5 default set. Words customers also use about orders (CANCEL, END, QUIT) are left out on
 * purpose: a workspace adds them if it wants them.
 */
export const DEFAULT_KEYWORD_SET: KeywordSet = {
  language: 'default',
  stop: [
    'STOP',
    'STOP ALL',
    'UNSUBSCRIBE',
    'OPT OUT',
    'OPTOUT',
    'ARRET',
    'ALTO',
    'BAJA',
    'PARAR',
    'SAIR',
    'STOPP',
    'ABMELDEN',
  ],
  start: ['START', 'RESUME', 'UNSTOP', 'SUBSCRIBE', 'OPT IN', 'OPTIN'],
};

export const DEFAULT_KEYWORD_SETS: readonly KeywordSet[] = [DEFAULT_KEYWORD_SET];

/** What a keyword changes in the ledger. */
export type KeywordEffect =
  /** Stop: every purpose, the whole workspace. */
  | { readonly kind: 'opt_out'; readonly purpose: 'all'; readonly reach: 'workspace' }
  /** Start: reverses the keyword stops still in force, and nothing more. */
  | { readonly kind: 'restore'; readonly restores: 'keyword_stops' };

export interface KeywordMatch {
  readonly action: 'stop' | 'start';
  /** The keyword as written in the set that matched. */
  readonly keyword: string;
  readonly language: string;
  readonly effect: KeywordEffect;
}

/**
 * Uppercase, accents removed, inner whitespace collapsed, surrounding whitespace and trailing
 * `.`/`!` dropped ("Arrêt !" → "ARRET"): punctuation at the end never turns a sentence into a
 * keyword, so it is safe to ignore.
 */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s.!]+$/u, '')
    .trim();
}

/**
 * OPT-5: whether an inbound text is a stop or start keyword, and what it changes. Only the whole
 * message counts ("please stop the delivery" is not a keyword). When a word is in a stop list of
 * one set and a start list of another, stop wins.
 * @see https://developers.facebook.com/docs/whatsapp/overview/getting-opt-in
 */
export function matchKeyword(
  text: string,
  keywordSets: readonly KeywordSet[] = DEFAULT_KEYWORD_SETS,
): KeywordMatch | null {
  const normalized = normalizeKeyword(text);
  if (normalized === '') return null;
  for (const set of keywordSets) {
    const keyword = set.stop.find((k) => normalizeKeyword(k) === normalized);
    if (keyword !== undefined)
      return {
        action: 'stop',
        keyword,
        language: set.language,
        effect: { kind: 'opt_out', purpose: 'all', reach: 'workspace' },
      };
  }
  for (const set of keywordSets) {
    const keyword = set.start.find((k) => normalizeKeyword(k) === normalized);
    if (keyword !== undefined)
      return {
        action: 'start',
        keyword,
        language: set.language,
        effect: { kind: 'restore', restores: 'keyword_stops' },
      };
  }
  return null;
}

/** A workspace's sets: the defaults plus its own words (e.g. CANCEL, END, QUIT) per language. */
export function withKeywords(
  extra: readonly KeywordSet[],
  base: readonly KeywordSet[] = DEFAULT_KEYWORD_SETS,
): KeywordSet[] {
  return [...base, ...extra];
}
