// Display helpers: durations the way agents read them, times, money and status ticks.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** "3 h 12 m", "45 m", "under a minute". */
export function duration(ms: number): string {
  if (ms < MINUTE) return 'under a minute';
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  if (hours >= 48) return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  return hours > 0 ? `${hours} h ${minutes} m` : `${minutes} m`;
}

/** The customer-service window as a row shows it. */
export function windowLabel(
  window: { open: boolean; closesAt: number | null },
  now: number,
): string {
  if (!window.open || window.closesAt === null) return 'closed';
  const left = window.closesAt - now;
  return left > 0 ? `closes in ${duration(left)}` : 'closing';
}

export function time(ms: number, now: number = Date.now()): string {
  if (!ms) return '';
  const d = new Date(ms);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function dateTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined || ms === '') return '—';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString();
}

/** Micro-units (integer) or a decimal string, with its currency. */
export function money(amount: string | number, currency: string): string {
  const value = typeof amount === 'number' ? amount / 1_000_000 : Number(amount);
  if (!Number.isFinite(value)) return `${String(amount)} ${currency}`;
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency,
      maximumFractionDigits: 4,
    }).format(value);
  } catch {
    return `${value.toFixed(4)} ${currency}`;
  }
}

/** ✓ sent, ✓✓ delivered, ✓✓ (blue) read; a hollow dot while queued (no emoji: fonts vary). */
export function ticks(status: string): { symbol: string; label: string; className: string } {
  switch (status) {
    case 'sent':
      return { symbol: '✓', label: 'Sent', className: 'tick' };
    case 'delivered':
      return { symbol: '✓✓', label: 'Delivered', className: 'tick' };
    case 'read':
      return { symbol: '✓✓', label: 'Read', className: 'tick tick-read' };
    case 'failed':
      return { symbol: '!', label: 'Failed', className: 'tick tick-failed' };
    case 'refused':
      return { symbol: '!', label: 'Not sent', className: 'tick tick-failed' };
    case 'held':
      return { symbol: '‖', label: 'Held until the customer answers', className: 'tick' };
    default:
      return { symbol: '○', label: 'Queued', className: 'tick tick-queued' };
  }
}

export function initials(name: string | null | undefined, fallback = '?'): string {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return fallback;
  return parts
    .slice(0, 2)
    .map((p) => p[0]?.toUpperCase() ?? '')
    .join('');
}
