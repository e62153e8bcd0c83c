// PRC-5: recipient country (ISO 3166-1 alpha-2) → Meta pricing market, as dated data.

/**
 * Meta's pricing markets. The nine markets at the end became standalone on 2026-10-01;
 * before that their countries were priced in a regional group.
 */
export const MARKETS = [
  'Argentina',
  'Brazil',
  'Chile',
  'Colombia',
  'Egypt',
  'France',
  'Germany',
  'India',
  'Indonesia',
  'Israel',
  'Italy',
  'Malaysia',
  'Mexico',
  'Netherlands',
  'Nigeria',
  'Pakistan',
  'Peru',
  'Russia',
  'Saudi Arabia',
  'South Africa',
  'Spain',
  'Turkey',
  'United Arab Emirates',
  'United Kingdom',
  'North America',
  'Rest of Africa',
  'Rest of Asia Pacific',
  'Rest of Central & Eastern Europe',
  'Rest of Latin America',
  'Rest of Middle East',
  'Rest of Western Europe',
  'Other',
  'Bangladesh',
  'Iraq',
  'Kazakhstan',
  'Kuwait',
  'Morocco',
  'Nepal',
  'Oman',
  'Sri Lanka',
  'Ukraine',
] as const;
export type Market = (typeof MARKETS)[number];

export function isMarket(value: string): value is Market {
  return (MARKETS as readonly string[]).includes(value);
}

/** Every country not listed in a market below is priced as `Other`. */
export const OTHER_MARKET: Market = 'Other';

/**
 * Meta's country lists as published with conversation-based pricing (2022) and kept since.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#rates
 */
// prettier-ignore
const BASE_MARKETS: ReadonlyArray<readonly [Market, readonly string[]]> = [
  ['Argentina', ['AR']],
  ['Brazil', ['BR']],
  ['Chile', ['CL']],
  ['Colombia', ['CO']],
  ['Egypt', ['EG']],
  ['France', ['FR']],
  ['Germany', ['DE']],
  ['India', ['IN']],
  ['Indonesia', ['ID']],
  ['Israel', ['IL']],
  ['Italy', ['IT']],
  ['Malaysia', ['MY']],
  ['Mexico', ['MX']],
  ['Netherlands', ['NL']],
  ['Nigeria', ['NG']],
  ['Pakistan', ['PK']],
  ['Peru', ['PE']],
  ['Russia', ['RU']],
  ['Saudi Arabia', ['SA']],
  ['South Africa', ['ZA']],
  ['Spain', ['ES']],
  ['Turkey', ['TR']],
  ['United Arab Emirates', ['AE']],
  ['United Kingdom', ['GB']],
  ['North America', ['US', 'CA']],
  [
    'Rest of Africa',
    [
      'DZ', 'AO', 'BJ', 'BW', 'BF', 'BI', 'CM', 'TD', 'CG', 'ER', 'ET', 'GA', 'GM', 'GH', 'GW',
      'CI', 'KE', 'LS', 'LR', 'LY', 'MG', 'MW', 'ML', 'MR', 'MA', 'MZ', 'NA', 'NE', 'RW', 'SN',
      'SL', 'SO', 'SS', 'SD', 'SZ', 'TZ', 'TG', 'TN', 'UG', 'ZM',
    ],
  ],
  [
    'Rest of Asia Pacific',
    [
      'AF', 'AU', 'BD', 'KH', 'CN', 'HK', 'JP', 'LA', 'MN', 'NP', 'NZ', 'PG', 'PH', 'SG', 'LK',
      'TW', 'TJ', 'TH', 'TM', 'UZ', 'VN',
    ],
  ],
  [
    'Rest of Central & Eastern Europe',
    [
      'AL', 'AM', 'AZ', 'BY', 'BG', 'HR', 'CZ', 'GE', 'GR', 'HU', 'LV', 'LT', 'MK', 'MD', 'PL',
      'RO', 'RS', 'SK', 'SI', 'UA',
    ],
  ],
  [
    'Rest of Latin America',
    ['BO', 'CR', 'DO', 'EC', 'SV', 'GT', 'HT', 'HN', 'JM', 'NI', 'PA', 'PY', 'PR', 'UY', 'VE'],
  ],
  ['Rest of Middle East', ['BH', 'IQ', 'JO', 'KW', 'LB', 'OM', 'QA', 'YE']],
  ['Rest of Western Europe', ['AT', 'BE', 'DK', 'FI', 'IE', 'NO', 'PT', 'SE', 'CH']],
];

/** A dated change of Meta's market list: from `from` (local date) on, `countries` are priced in `market`. */
export interface MarketMove {
  readonly from: string;
  readonly market: Market;
  readonly countries: readonly string[];
}

/**
 * Changes since 2022, in date order. Meta also split further countries out of the regional
 * groups during 2026 (see docs/pricing.md); they join this list once their date is confirmed.
 */
export const MARKET_MOVES: readonly MarketMove[] = [
  // Zimbabwe (+263) moved from Other to Rest of Africa on 2025-10-01.
  { from: '2025-10-01', market: 'Rest of Africa', countries: ['ZW'] },
  // Nine markets leave their regional groups on 2026-10-01 (announced 2026-06).
  { from: '2026-10-01', market: 'Bangladesh', countries: ['BD'] },
  { from: '2026-10-01', market: 'Iraq', countries: ['IQ'] },
  { from: '2026-10-01', market: 'Kazakhstan', countries: ['KZ'] },
  { from: '2026-10-01', market: 'Kuwait', countries: ['KW'] },
  { from: '2026-10-01', market: 'Morocco', countries: ['MA'] },
  { from: '2026-10-01', market: 'Nepal', countries: ['NP'] },
  { from: '2026-10-01', market: 'Oman', countries: ['OM'] },
  { from: '2026-10-01', market: 'Sri Lanka', countries: ['LK'] },
  { from: '2026-10-01', market: 'Ukraine', countries: ['UA'] },
];

/** Per country: its base market, then its dated moves (ascending). */
type CountryMarkets = ReadonlyArray<readonly [string, Market]>;

const TABLE: ReadonlyMap<string, CountryMarkets> = (() => {
  const table = new Map<string, Array<readonly [string, Market]>>();
  for (const [market, countries] of BASE_MARKETS)
    for (const country of countries) table.set(country, [['0000-01-01', market]]);
  for (const move of MARKET_MOVES)
    for (const country of move.countries) {
      const list = table.get(country) ?? [['0000-01-01', OTHER_MARKET] as const];
      list.push([move.from, move.market]);
      list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      table.set(country, list);
    }
  return table;
})();

/**
 * PRC-5: the pricing market of a recipient country on a local date (YYYY-MM-DD).
 * @see https://developers.facebook.com/docs/whatsapp/pricing#rates
 */
export function marketOf(country: string, localDate: string): Market {
  const entries = TABLE.get(country);
  if (entries === undefined) return OTHER_MARKET;
  let market: Market = OTHER_MARKET;
  for (const [from, m] of entries) {
    if (from <= localDate) market = m;
    else break;
  }
  return market;
}
