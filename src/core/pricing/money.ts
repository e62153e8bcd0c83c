// Money as integer micro-units (1 unit = 1,000,000 micros): parsed from and printed as exact decimals.

export const MICROS_PER_UNIT = 1_000_000;
const FRACTION_DIGITS = 6;
/** Printed amounts keep at least this many decimals, the precision of Meta's rate cards. */
const MIN_PRINTED_DECIMALS = 4;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a non-negative decimal string ("0.0500", "12", "0.000125") into micro-units without
 * going through floating point. Returns an error message when the text is not such a decimal
 * or needs more than six decimals.
 */
export function parseDecimalMicros(text: string): number | string {
  const m = DECIMAL.exec(text);
  if (m === null) return `"${text}" is not a non-negative decimal number`;
  const whole = m[1] ?? '0';
  let fraction = m[2] ?? '';
  if (fraction.length > FRACTION_DIGITS) {
    if (/[1-9]/.test(fraction.slice(FRACTION_DIGITS)))
      return `"${text}" has more than ${FRACTION_DIGITS} decimals`;
    fraction = fraction.slice(0, FRACTION_DIGITS);
  }
  const micros = Number(whole) * MICROS_PER_UNIT + Number(fraction.padEnd(FRACTION_DIGITS, '0'));
  if (!Number.isSafeInteger(micros)) return `"${text}" is too large`;
  return micros;
}

/** Prints micro-units as an exact decimal string with 4 to 6 decimals: 70000 → "0.0700". */
export function formatMicros(micros: number): string {
  const negative = micros < 0;
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_UNIT);
  let fraction = String(abs % MICROS_PER_UNIT).padStart(FRACTION_DIGITS, '0');
  let end = fraction.length;
  while (end > MIN_PRINTED_DECIMALS && fraction.charCodeAt(end - 1) === 48) end--;
  fraction = fraction.slice(0, end);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}
