// Time units: every instant in Parley is integer milliseconds since the epoch (UTC).
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Provider timestamps are unix seconds as strings; Parley keeps milliseconds. */
export function fromUnixSeconds(value: string | number): number | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : undefined;
}
