// The loop every background worker runs: a pass, then a sleep until the pass says the next work
// is due, cut short by wake(). A wake that arrives during a pass is remembered, so work queued
// while the worker was busy does not wait out the next sleep.
import type { Logger } from '../ports/logger.ts';

export interface WorkerLoopOptions {
  /** Sleep after a pass that threw, before trying again. */
  readonly errorDelayMs: number;
  /** Called with what a pass threw; the loop goes on. */
  readonly onError: (error: unknown) => void;
}

/**
 * Runs `pass` until stopped. A pass returns how many milliseconds to sleep before the next one
 * (0: run again at once).
 */
export class WorkerLoop {
  readonly #pass: () => Promise<number>;
  readonly #options: WorkerLoopOptions;
  #running = false;
  #woken = false;
  #loop: Promise<void> | null = null;
  #endSleep: (() => void) | null = null;

  constructor(pass: () => Promise<number>, options: WorkerLoopOptions) {
    this.#pass = pass;
    this.#options = options;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Work is waiting: end the sleep now, or skip the next one if a pass is under way. */
  wake(): void {
    this.#woken = true;
    this.#endSleep?.();
  }

  /** No new passes; resolves when the pass under way has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    this.#loop = null;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#woken = false;
      try {
        const delay = await this.#pass();
        if (this.#running && delay > 0 && !this.#woken) await this.#sleep(delay);
        // Even with more work at once, let I/O in: an in-process database answers in microtasks.
        else await new Promise(setImmediate);
      } catch (error) {
        // After a failure, wait even if woken: a failing database must not be hammered.
        this.#options.onError(error);
        if (this.#running) await this.#sleep(this.#options.errorDelayMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#endSleep = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#endSleep = done;
    });
  }
}

/** A background worker run by a WorkerLoop: a subclass says what one pass does. */
export abstract class LoopWorker {
  readonly #loop: WorkerLoop;

  protected constructor(what: string, log: Logger, errorDelayMs: number) {
    this.#loop = new WorkerLoop(() => this.pass(), {
      errorDelayMs,
      onError: (error) => log.error({ err: error }, `${what} pass failed`),
    });
  }

  /** One pass of the loop; how many milliseconds to sleep after it. */
  protected abstract pass(): Promise<number>;

  start(): void {
    this.#loop.start();
  }

  /** Work is waiting (queued, started, resumed): stop sleeping. */
  wake(): void {
    this.#loop.wake();
  }

  /** No new passes; resolves when the pass under way has finished. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
