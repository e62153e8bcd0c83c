// Local dates in a WABA's IANA zone: eras, rate card dates and billing months change at local midnight.
import { DAY, MINUTE } from '../time.ts';

export const DEFAULT_TIME_ZONE = 'UTC';

/** Answers already found: the runtime's zone database is fixed for the life of the process. */
const knownZones = new Map<string, boolean>();

/** True when the runtime knows `zone` as an IANA time zone name. */
export function isValidTimeZone(zone: string): boolean {
  if (zone === '') return false;
  const known = knownZones.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    // Building a formatter is the only portable test, and it costs tens of microseconds.
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (knownZones.size >= 1_000) knownZones.clear();
  knownZones.set(zone, valid);
  return valid;
}

/** The local calendar day an instant falls on. */
export interface LocalDay {
  /** YYYY-MM-DD */
  readonly date: string;
  /** YYYY-MM, the billing month. */
  readonly month: string;
}

/**
 * Maps instants to local days in one zone. Intl is slow next to the rating itself, so the
 * calendar remembers the span of the last day it computed: a time-ordered stream asks Intl
 * a handful of times per local day instead of once per event.
 */
export class ZoneCalendar {
  readonly zone: string;
  readonly #format: Intl.DateTimeFormat;
  #from = 1;
  #until = 0;
  #day: LocalDay = { date: '', month: '' };

  constructor(zone: string = DEFAULT_TIME_ZONE) {
    this.zone = zone;
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** The local day of instant `at` (ms); the same object for every instant of that day. */
  dayOf(at: number): LocalDay {
    if (at >= this.#from && at < this.#until) return this.#day;
    return this.#miss(at);
  }

  #miss(at: number): LocalDay {
    const offset = this.#offsetAt(at);
    const local = new Date(at + offset);
    const y = local.getUTCFullYear();
    const m = local.getUTCMonth();
    const d = local.getUTCDate();
    const date = `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    const day: LocalDay = date === this.#day.date ? this.#day : { date, month: date.slice(0, 7) };
    // With the offset at `at`, the day runs from local midnight to the next one, unless the
    // offset changes within the day (a DST switch): then cache only the 15-minute slot around
    // `at`, within which no real zone's local date changes.
    const midnight = Date.UTC(y, m, d);
    const start = midnight - offset;
    const end = midnight + DAY - offset;
    if (this.#offsetAt(start) === offset && this.#offsetAt(end - 1) === offset) {
      this.#from = start;
      this.#until = end;
    } else {
      const slot = 15 * MINUTE;
      const slotStart = Math.floor(at / slot) * slot;
      const slotOffset = this.#offsetAt(slotStart);
      if (slotOffset === offset && this.#offsetAt(slotStart + slot - 1) === offset) {
        this.#from = slotStart;
        this.#until = slotStart + slot;
      } else {
        this.#from = at;
        this.#until = at + 1;
      }
    }
    this.#day = day;
    return day;
  }

  /** The zone's offset from UTC at instant `at` (ms, whole seconds). */
  #offsetAt(at: number): number {
    if (this.zone === 'UTC') return 0;
    // "MM/DD/YYYY, HH:MM:SS" from the en-US formatter with hourCycle h23
    const text = this.#format.format(at);
    const month = Number(text.slice(0, 2));
    const day = Number(text.slice(3, 5));
    const year = Number(text.slice(6, text.indexOf(',')));
    const time = text.slice(text.indexOf(',') + 2);
    const wall = Date.UTC(
      year,
      month - 1,
      day,
      Number(time.slice(0, 2)),
      Number(time.slice(3, 5)),
      Number(time.slice(6, 8)),
    );
    return wall - Math.floor(at / 1000) * 1000;
  }
}

const sharedCalendars = new Map<string, ZoneCalendar>();

/**
 * One calendar per zone for the whole process: building one asks Intl for a formatter, which
 * costs more than rating an event. A calendar only memoises the last day it computed, so
 * sharing it changes no answer.
 */
export function calendarFor(zone: string): ZoneCalendar {
  let calendar = sharedCalendars.get(zone);
  if (calendar === undefined) {
    if (sharedCalendars.size >= 1_000) sharedCalendars.clear();
    calendar = new ZoneCalendar(zone);
    sharedCalendars.set(zone, calendar);
  }
  return calendar;
}
