// Business hours of one channel: weekly opening hours in an IANA zone plus holidays, read on the
// local wall clock of the instant asked about, so a DST change moves the hours with the clocks.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One opening span of a day, local wall-clock `HH:MM` (`to` may be `24:00`), `from` < `to`. */
export interface OpeningSpan {
  readonly from: string;
  readonly to: string;
}

export interface BusinessCalendar {
  /** IANA zone the hours are written in (`Europe/London`). */
  readonly zone: string;
  /** Opening spans per weekday; a missing or empty day is closed all day. */
  readonly weekly: Readonly<Partial<Record<Weekday, readonly OpeningSpan[]>>>;
  /** Local dates (`YYYY-MM-DD`) closed all day whatever the weekly hours say. */
  readonly holidays?: readonly string[];
}

/** The local wall clock at an instant in a zone. */
export interface LocalTime {
  /** YYYY-MM-DD */
  readonly date: string;
  readonly weekday: Weekday;
  /** Minutes since local midnight. */
  readonly minutes: number;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(zone, format);
  }
  return format;
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** The wall clock in `zone` at instant `at` (ms); Intl applies the zone's rules, DST included. */
export function localTime(zone: string, at: number): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatFor(zone).formatToParts(at)) parts[p.type] = p.value;
  const weekday = (parts.weekday ?? 'Mon').toLowerCase().slice(0, 3) as Weekday;
  return {
    date: `${parts.year ?? ''}-${parts.month ?? ''}-${parts.day ?? ''}`,
    weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/**
 * True when the channel is open at instant `at`: not a local holiday, and the local time falls in
 * one of the day's spans (start included, end excluded).
 */
export function isOpen(calendar: BusinessCalendar, at: number): boolean {
  const local = localTime(calendar.zone, at);
  if (calendar.holidays?.includes(local.date)) return false;
  const spans = calendar.weekly[local.weekday] ?? [];
  return spans.some((s) => local.minutes >= minutesOf(s.from) && local.minutes < minutesOf(s.to));
}

/** What is wrong with a calendar, one line per problem (empty when it is usable). */
export function calendarProblems(calendar: BusinessCalendar): string[] {
  const problems: string[] = [];
  try {
    formatFor(calendar.zone);
  } catch {
    problems.push(`zone "${calendar.zone}" is not an IANA time zone`);
  }
  for (const day of Object.keys(calendar.weekly)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      problems.push(`weekly.${day} is not a weekday (use ${WEEKDAYS.join(', ')})`);
      continue;
    }
    for (const [n, span] of (calendar.weekly[day as Weekday] ?? []).entries()) {
      const where = `weekly.${day}[${n}]`;
      if (!TIME.test(span.from) || span.from === '24:00')
        problems.push(`${where}.from "${span.from}" is not a time HH:MM`);
      else if (!TIME.test(span.to)) problems.push(`${where}.to "${span.to}" is not a time HH:MM`);
      else if (minutesOf(span.from) >= minutesOf(span.to))
        problems.push(
          `${where}: "${span.from}" is not before "${span.to}" (split hours past midnight over two days)`,
        );
    }
  }
  for (const [n, date] of (calendar.holidays ?? []).entries())
    if (!DATE.test(date)) problems.push(`holidays[${n}] "${date}" is not a date YYYY-MM-DD`);
  return problems;
}
