import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerLoop } from './worker-loop.ts';

const IDLE_MS = 60_000;

/** Resolves with `value`, or rejects after `ms` saying what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('worker loop', () => {
  it('a wake during a pass is not lost: the next pass runs without waiting out the idle sleep', async () => {
    const firstPassRunning = deferred();
    const releaseFirstPass = deferred();
    const secondPass = deferred();
    let passes = 0;
    const loop = new WorkerLoop(
      async () => {
        passes += 1;
        if (passes === 1) {
          firstPassRunning.resolve();
          await releaseFirstPass.promise;
        } else secondPass.resolve();
        return IDLE_MS;
      },
      { errorDelayMs: IDLE_MS, onError: () => undefined },
    );
    loop.start();
    try {
      await firstPassRunning.promise;
      loop.wake(); // work queued while the worker is busy
      releaseFirstPass.resolve();
      await within(secondPass.promise, 2_000, 'the pass after a wake');
    } finally {
      await loop.stop();
    }
    assert.equal(passes, 2);
  });

  it('a wake ends the sleep; stop ends it too and waits for the pass under way', async () => {
    const passStarted: Array<() => void> = [];
    let passes = 0;
    const loop = new WorkerLoop(
      () => {
        passes += 1;
        passStarted.shift()?.();
        return Promise.resolve(IDLE_MS);
      },
      { errorDelayMs: IDLE_MS, onError: () => undefined },
    );
    const first = new Promise<void>((r) => passStarted.push(r));
    loop.start();
    try {
      await first;
      const second = new Promise<void>((r) => passStarted.push(r));
      loop.wake();
      await within(second, 2_000, 'the pass after waking a sleeping loop');
    } finally {
      await within(loop.stop(), 2_000, 'stop of a sleeping loop');
    }
    assert.equal(passes, 2);
    assert.equal(loop.running, false);
  });

  it('a failing pass is reported and retried after the error delay', async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const retried = deferred();
    const loop = new WorkerLoop(
      () => {
        passes += 1;
        if (passes === 2) retried.resolve();
        return Promise.reject(new Error('database unavailable'));
      },
      { errorDelayMs: 30, onError: (error) => errors.push(error) },
    );
    loop.start();
    try {
      await within(retried.promise, 2_000, 'the retry after the error delay');
    } finally {
      await loop.stop();
    }
    assert.ok(errors.length >= 1);
    assert.match(String(errors[0]), /database unavailable/);
  });
});
