// An injected clock for time-dependent tests: time moves only when the test says so, and
// callbacks scheduled for an instant run when time reaches it, in order.
import type { Clock } from '../../src/ports/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => unknown;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start: number | string = '2026-01-15T10:00:00Z') {
    this.#now = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at instant `at` (a scheduler for adapters that simulate delays). */
  schedule = (at: number, fn: () => unknown): void => {
    this.#timers.push({ at, seq: this.#seq++, fn });
  };

  /** Moves time forward by `ms`, running every callback that falls due, awaiting each. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      await next.fn();
    }
    this.#now = Math.max(this.#now, target);
  }

  /** Runs callbacks already due without moving time. */
  async flush(): Promise<void> {
    await this.advanceTo(this.#now);
  }

  get pending(): number {
    return this.#timers.length;
  }
}
