// A whole Parley for integration tests: a fresh SQLite file (or PostgreSQL), the sandbox driven
// by a manual clock, a demo workspace with one sandbox channel and its API key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/config.ts';
import { createParley, type Parley } from '../../src/app/container.ts';
import { ensureDemo } from '../../src/app/bootstrap.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Channel } from '../../src/ports/store.ts';
import type { SandboxWorld } from '../../src/adapters/providers/sandbox/sandbox-world.ts';
import type { PolicySettings } from '../../src/app/deps.ts';
import { ManualClock } from './manual-clock.ts';

export interface TestParley {
  readonly parley: Parley;
  readonly clock: ManualClock;
  readonly apiKey: string;
  readonly channel: Channel;
  readonly world: SandboxWorld;
  /** An authenticated request through the real HTTP stack (no socket). */
  api(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
  /** Lets queued work happen: webhook processing and dispatch, then sandbox timers up to `ms` later. */
  settle(ms?: number): Promise<void>;
  close(): Promise<void>;
}

const fastifyLogger = Object.assign(Object.create(null) as object, silentLogger, {
  fatal() {},
  trace() {},
  level: 'silent',
  child() {
    return fastifyLogger;
  },
}) as never;

export async function startTestParley(
  options: {
    start?: string;
    policy?: Partial<PolicySettings>;
    databaseUrl?: string;
    /** More PARLEY_* settings (e.g. PARLEY_PUBLIC_URL). */
    env?: Readonly<Record<string, string>>;
    /** Seed of the sandbox's ids; a restart on the same data dir needs another one. */
    seed?: number;
  } = {},
): Promise<TestParley> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const clock = new ManualClock(options.start ?? '2026-03-02T09:00:00Z');
  const config = loadConfig({
    PARLEY_DATA_DIR: dir,
    PARLEY_LOG_LEVEL: 'silent',
    ...(options.databaseUrl ? { PARLEY_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  let seed = options.seed ?? 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const parley = await createParley(config, {
    clock,
    schedule: clock.schedule,
    logger: fastifyLogger,
    random,
    ...(options.policy ? { policy: options.policy } : {}),
  });
  const demo = await ensureDemo(parley.deps, config);
  const world = await parley.sandboxWorld(demo.channel);
  await parley.start({ listen: false });
  await parley.relay?.stop(); // with Redis: tests relay to the shared queue with runOnce()
  await parley.dispatcher.stop(); // tests drive dispatch explicitly with runOnce()
  await parley.campaigns.stop(); // and campaign batches with campaigns.runOnce()
  await parley.media.stop(); // and media downloads with media.runOnce()
  await parley.eventDeliverer.stop(); // and event webhooks with eventDeliverer.drain()
  const settle = async (ms = 0) => {
    for (let i = 0; i < 5; i++) {
      await parley.processor.drain();
      await parley.automation.idle();
      await parley.relay?.runOnce();
      await parley.dispatcher.runOnce();
      await clock.flush();
    }
    await parley.eventRecorder.idle();
    if (ms > 0) {
      await clock.advance(ms);
      for (let i = 0; i < 5; i++) {
        await parley.processor.drain();
        await parley.automation.idle();
        await parley.relay?.runOnce();
        await parley.dispatcher.runOnce();
        await clock.flush();
      }
      await parley.eventRecorder.idle();
    }
  };
  return {
    parley,
    clock,
    apiKey: demo.apiKey,
    channel: demo.channel,
    world,
    async api(method, url, body, headers = {}) {
      const response = await parley.http.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${demo.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      const text = response.body;
      return {
        status: response.statusCode,
        json: text ? (JSON.parse(text) as unknown) : null,
        headers: response.headers,
      };
    },
    settle,
    async close() {
      await parley.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
