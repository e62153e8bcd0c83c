// Local dates in a WABA's IANA zone: eras, rate card dates and billing months change at local midnight.
import { DAY, MINUTE } from '../time.ts';

export const DEFAULT_TIME_ZONE = 'UTC';

/** True when the runtime knows `zone` as an IANA time zone name. */
export function isValidTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
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
    const parts = this.#parts(at);
    const date = parts.date;
    const day: LocalDay = date === this.#day.date ? this.#day : { date, month: date.slice(0, 7) };
    // The zone's offset at `at` gives the day's bounds unless the offset changes within the
    // day (a DST switch); check both bounds and otherwise cache only a 15-minute slot, within
    // which no real zone's local date can change.
    const offset = parts.wallClock - Math.floor(at / 1000) * 1000;
    const midnight = Date.UTC(parts.year, parts.month - 1, parts.day);
    const start = midnight - offset;
    const end = midnight + DAY - offset;
    if (
      start <= at &&
      at < end &&
      this.#dateAt(start) === date &&
      this.#dateAt(start - 1) !== date &&
      this.#dateAt(end - 1) === date &&
      this.#dateAt(end) !== date
    ) {
      this.#from = start;
      this.#until = end;
    } else {
      const slot = 15 * MINUTE;
      const slotStart = Math.floor(at / slot) * slot;
      if (this.#dateAt(slotStart) === date && this.#dateAt(slotStart + slot - 1) === date) {
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

  #dateAt(at: number): string {
    return this.#parts(at).date;
  }

  #parts(at: number): {
    date: string;
    year: number;
    month: number;
    day: number;
    wallClock: number;
  } {
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.#format.formatToParts(at)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        default:
          break;
      }
    }
    const date = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    return {
      date,
      year,
      month,
      day,
      wallClock: Date.UTC(year, month - 1, day, hour, minute, second),
    };
  }
}
