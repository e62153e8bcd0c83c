// The emulator's time: the wall clock plus an offset that tests can push forward, and a scheduler
// whose timers fire early when time is advanced past them.
import type { Clock } from '../../../../ports/clock.ts';
import type { Schedule } from '../sandbox-world.ts';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => unknown;
  handle: ReturnType<typeof setTimeout> | null;
}

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits hop. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * Real time by default. `advance(ms)` moves the emulator's "now" forward (the care window closes,
 * a template review completes) and runs every timer that became due, in order, before returning.
 * Timers are unref'd so simulated traffic never keeps the process alive on its own.
 */
export class EmulatorClock implements Clock {
  #offset = 0;
  #seq = 0;
  readonly #pending = new Set<Timer>();
  /** Timer callbacks still running (a webhook delivery in flight, say). */
  readonly #running = new Set<Promise<void>>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => undefined) {
    this.#onError = onError;
  }

  now(): number {
    return Date.now() + this.#offset;
  }

  /** How far the emulator runs ahead of the wall clock (ms). */
  get offset(): number {
    return this.#offset;
  }

  get pending(): number {
    return this.#pending.size;
  }

  schedule: Schedule = (at, fn) => {
    const timer: Timer = { at, seq: this.#seq++, fn, handle: null };
    this.#pending.add(timer);
    this.#arm(timer);
  };

  /**
   * Moves time forward by `ms` and runs, awaiting each, every timer that falls due meanwhile.
   * It returns once those and any callbacks the wall clock had already started have finished, so
   * a caller sees every effect (each webhook delivered) of the time that passed.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('the clock only moves forward');
    const target = this.now() + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.#pending)
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)))
          next = t;
      if (next) {
        // time reaches each timer's instant as it runs, so what it schedules lands after it
        this.#moveTo(next.at);
        await this.#run(next);
      } else if (this.#running.size > 0) await Promise.all(this.#running);
      else break;
    }
    this.#moveTo(target);
  }

  #moveTo(at: number): void {
    this.#offset = Math.max(this.#offset, at - Date.now());
  }

  /** Cancels every pending timer (the emulator is closing). */
  stop(): void {
    for (const t of this.#pending) if (t.handle) clearTimeout(t.handle);
    this.#pending.clear();
  }

  #arm(timer: Timer): void {
    const wait = Math.max(0, timer.at - this.now());
    timer.handle = setTimeout(
      () => {
        if (wait > MAX_TIMEOUT - 1 && timer.at > this.now()) this.#arm(timer);
        else void this.#run(timer);
      },
      Math.min(wait, MAX_TIMEOUT),
    );
    timer.handle.unref();
  }

  async #run(timer: Timer): Promise<void> {
    if (!this.#pending.delete(timer)) return;
    if (timer.handle) clearTimeout(timer.handle);
    const running = (async () => {
      try {
        await timer.fn();
      } catch (error) {
        this.#onError(error);
      }
    })();
    this.#running.add(running);
    try {
      await running;
    } finally {
      this.#running.delete(running);
    }
  }
}
