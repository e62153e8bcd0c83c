// Pricing core: eras, markets, rate cards, money and the rating engine (WHATSAPP_RULES.md §3, §9).
export * from './categories.ts';
export * from './eras.ts';
export * from './ledger-totals.ts';
export * from './local-calendar.ts';
export * from './markets.ts';
export * from './money.ts';
export * from './rate-card.ts';
export * from './rating-engine.ts';
