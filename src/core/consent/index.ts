// Consent ledger rules (WHATSAPP_RULES.md §4, OPT-1..8): events, reading, keywords, signals, export.
export * from './events.ts';
export * from './ledger.ts';
export * from './keywords.ts';
export * from './signals.ts';
export * from './export.ts';
