// Wall-clock time for the sandbox outside tests: the system clock and a setTimeout scheduler.
import type { Clock } from '../../../ports/clock.ts';
import type { Schedule } from './sandbox-world.ts';

export const systemClock: Clock = { now: () => Date.now() };

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits hop. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * A `schedule` for SandboxWorld on real time. Timers are unref'd, so simulated traffic never keeps
 * the process alive on its own; a callback that throws or rejects goes to `onError` (ignored by
 * default: the world contains its own errors).
 */
export function realTimeScheduler(
  clock: Clock,
  onError: (error: unknown) => void = () => undefined,
): Schedule {
  const schedule: Schedule = (at, fn) => {
    const wait = at - clock.now();
    if (wait > MAX_TIMEOUT) {
      setTimeout(() => schedule(at, fn), MAX_TIMEOUT).unref();
      return;
    }
    setTimeout(
      () => {
        try {
          Promise.resolve(fn()).catch(onError);
        } catch (error) {
          onError(error);
        }
      },
      Math.max(0, wait),
    ).unref();
  };
  return schedule;
}
