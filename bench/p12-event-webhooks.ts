// P12: event webhooks — recording events with their deliveries, claim passes while a failing
// subscriber has a large backlog waiting, and signed deliveries to a local HTTP subscriber.
// Store-level (SQLite file), no Parley server: these are the costs the worker and recorder add.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createKyselyStore } from '../src/adapters/store/kysely/index.ts';
import { createHttpWebhookSender } from '../src/adapters/events/http-webhook-sender.ts';
import { EventWebhooks } from '../src/app/event-webhooks.ts';
import { createSecretBox } from '../src/app/secrets.ts';
import type { AppDeps } from '../src/app/deps.ts';
import type { NewStoredEvent } from '../src/ports/event-webhook-store.ts';
import { silentLogger } from '../src/ports/logger.ts';
import type { Store } from '../src/ports/store.ts';
import { formatNumber } from './lib/format.ts';
import { numberOption, type BenchContext, type BenchReport } from './lib/types.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;

function events(workspaceId: string, from: number, count: number, conversations: number) {
  return Array.from({ length: count }, (_, i): NewStoredEvent => ({
    workspaceId,
    type: 'message.received',
    orderingKey: `conversation:c${(from + i) % conversations}`,
    at: T0,
    recordedAt: T0 + from + i,
    data: { messageId: `m${from + i}`, conversationId: `c${(from + i) % conversations}` },
  }));
}

async function endpoint(store: Store, url: string, sealed: string) {
  const ws = await store.workspaces.create({ name: 'bench' });
  const ep = await store.eventWebhooks.endpoints.create({
    workspaceId: ws.id,
    url,
    description: '',
    eventTypes: [],
    format: 'parley',
    secretSealed: sealed,
    enabled: true,
    at: T0,
  });
  return { workspaceId: ws.id, endpoint: ep };
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const backlog = numberOption(ctx.options, 'events', 100_000);
  const heads = numberOption(ctx.options, 'conversations', 1_000);
  const sends = numberOption(ctx.options, 'sends', 3_000);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-p12-'));
  const box = createSecretBox('bench-secret-key');
  const sealed = box.seal({ secret: 'whsec_bench' });
  const load = loadavg()[0] ?? 0;
  const store = await createKyselyStore({ sqliteFile: join(dir, 'p12.db') });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  try {
    await store.migrate();

    // 1. Recording: events and their deliveries, in the recorder's batch size.
    ctx.log(`p12: recording ${formatNumber(backlog)} events over ${heads} conversations`);
    const failing = await endpoint(store, 'http://127.0.0.1:9/unreachable', sealed);
    let start = performance.now();
    for (let i = 0; i < backlog; i += 500)
      await store.eventWebhooks.events.record(
        events(failing.workspaceId, i, Math.min(500, backlog - i), heads),
        DAY,
      );
    const recordPerSec = backlog / ((performance.now() - start) / 1000);

    // 2. Claims with the subscriber failing: every conversation's head in backoff, the rest waiting.
    const claimed = await store.eventWebhooks.deliveries.claim({
      now: T0 + backlog,
      limit: heads * 2,
      leaseMs: 60_000,
      worker: 'bench',
    });
    for (const d of claimed)
      await store.eventWebhooks.deliveries.failed(d.id, {
        worker: 'bench',
        at: T0 + backlog,
        status: 500,
        error: 'HTTP 500',
        nextAttemptAt: T0 + backlog + 3_600_000,
      });
    const passes: number[] = [];
    for (let i = 0; i < 20; i++) {
      start = performance.now();
      const got = await store.eventWebhooks.deliveries.claim({
        now: T0 + backlog + 1,
        limit: 100,
        leaseMs: 60_000,
        worker: 'bench',
      });
      await store.eventWebhooks.deliveries.nextDueAt(T0 + backlog + 1);
      passes.push(performance.now() - start);
      if (got.length > 0) throw new Error('a waiting delivery was claimed ahead of its head');
    }
    passes.sort((a, b) => a - b);
    start = performance.now();
    await store.eventWebhooks.deliveries.wakeWaiting(T0 + backlog + 1);
    const sweepMs = performance.now() - start;

    // 3. Signed deliveries to a subscriber on loopback answering 204 (the failing one set aside).
    await store.eventWebhooks.endpoints.update(
      failing.workspaceId,
      failing.endpoint.id,
      { enabled: false },
      T0,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ok = await endpoint(store, `http://127.0.0.1:${port}/hooks`, sealed);
    let now = T0 + 2 * DAY;
    const deps = {
      store,
      secretBox: box,
      clock: { now: () => now },
      log: silentLogger,
    } as unknown as AppDeps;
    const webhooks = new EventWebhooks(deps, createHttpWebhookSender());
    for (let i = 0; i < sends; i += 500)
      await store.eventWebhooks.events.record(
        events(ok.workspaceId, i, Math.min(500, sends - i), Math.max(1, sends / 10)).map((e) => ({
          ...e,
          recordedAt: now,
        })),
        DAY,
      );
    ctx.log(`p12: delivering ${formatNumber(sends)} events to a local subscriber`);
    start = performance.now();
    let delivered = 0;
    for (;;) {
      const tried = await webhooks.deliverDue('bench', 100);
      delivered += tried;
      now += 1;
      if (tried === 0) break;
    }
    const sendPerSec = delivered / ((performance.now() - start) / 1000);
    if (delivered !== sends) throw new Error(`expected ${sends} deliveries, made ${delivered}`);

    return {
      id: 'p12',
      title: 'event webhooks: recording, claims behind a failing subscriber, delivery',
      rows: [
        {
          label: 'events recorded with their delivery (batches of 500)',
          value: recordPerSec,
          unit: 'events/s',
        },
        {
          label: `claim pass + next-due lookup, ${formatNumber(backlog)} deliveries behind ${formatNumber(heads)} failing heads (median of 20)`,
          value: passes[10] ?? null,
          unit: 'ms',
        },
        { label: 'same, slowest of 20', value: passes[19] ?? null, unit: 'ms' },
        { label: 'repair sweep over that backlog (wakeWaiting)', value: sweepMs, unit: 'ms' },
        {
          label: 'signed deliveries to a loopback subscriber (100 per pass)',
          value: sendPerSec,
          unit: 'deliveries/s',
        },
      ],
      notes: [
        `Store-level on SQLite (a file in a temp dir), no Parley server; ${formatNumber(backlog)} events over ${formatNumber(heads)} conversations for one endpoint whose heads all failed with a retry an hour later; ${formatNumber(sends)} events over ${formatNumber(Math.max(1, sends / 10))} conversations for a node:http subscriber answering 204.`,
        `1-minute load average at start ${load.toFixed(1)}.`,
      ],
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
