// Several nodes, one of them killed: three real `parley start` processes on one PostgreSQL and
// one Redis send 5,000 messages to the Cloud API emulator (which sees every send); one node is
// killed with SIGKILL mid-way and restarted. No recipient gets two messages, none is skipped, and
// the messages whose fate is unknown are flagged for review — no more than were in flight.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  startEmulator,
  type RunningEmulator,
} from '../src/adapters/providers/sandbox/emulator/index.ts';
import {
  BENCH_API_KEY,
  startParleyProcess,
  type ParleyProcess,
} from '../bench/lib/parley-process.ts';
import { freshPostgresUrl, postgresAvailable, requireServerOrSkip } from './helpers/databases.ts';
import { dropPrefix, redisAvailable, testRedisUrl, uniquePrefix } from './helpers/redis.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from './helpers/round-robin-proxy.ts';
import { busiestSecond } from './contracts/rate-limiter-contract.ts';

const skip =
  requireServerOrSkip(await postgresAvailable(), 'PostgreSQL') ??
  requireServerOrSkip(await redisAvailable(), 'Redis');

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const RECIPIENTS = Number(process.env.PARLEY_KILL_TEST_RECIPIENTS ?? 5_000);
const NUMBER = { phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881' };
const MPS = 1_000;
const APP_SECRET = 'kill-test-app-secret';
const ACCESS_TOKEN = 'kill-test-access-token';
const trace = (...args: unknown[]) => {
  if (process.env.PARLEY_KILL_TEST_TRACE) console.error(new Date().toISOString(), ...args);
};
const recipient = (i: number) => `4477009${String(i).padStart(5, '0')}`;

interface Counts {
  pending: number;
  review: number;
  failed: number;
  accepted: number;
  total: number;
}

describe('three nodes, one killed mid-send', { skip }, () => {
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let db: pg.Client | undefined;
  let emulator: RunningEmulator | undefined;
  let proxy: RoundRobinProxy | undefined;
  const nodes: ParleyProcess[] = [];
  let channelId = '';
  const prefix = uniquePrefix('kill');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-kill-'));

  const startNode = async (n: number) => {
    const node = await startParleyProcess({
      repoRoot,
      dataDir: join(dataDir, `node-${n}`),
      ...(database ? { databaseUrl: database.url } : {}),
      env: {
        PARLEY_REDIS_URL: testRedisUrl(),
        PARLEY_REDIS_PREFIX: prefix,
        PARLEY_SECRET_KEY: 'kill-test-secret-key-0123456789abcdef',
        // A dead node's held sends are taken over after this long.
        PARLEY_DISPATCH_LEASE_MS: '10000',
        PARLEY_LOG_LEVEL: 'error',
      },
      // Generous: a start compiles the TypeScript sources, slow on a loaded machine.
      timeoutMs: 300_000,
    });
    nodes.push(node);
    return node;
  };

  const counts = async (): Promise<Counts> => {
    const { rows } = await db!.query<{ status: string; needs_review: boolean; n: string }>(
      `select status, needs_review, count(*) as n from messages where direction = 'outbound' group by 1, 2`,
    );
    const c: Counts = { pending: 0, review: 0, failed: 0, accepted: 0, total: 0 };
    for (const row of rows) {
      const n = Number(row.n);
      c.total += n;
      if (row.needs_review) c.review += n;
      else if (row.status === 'pending') c.pending += n;
      else if (row.status === 'failed') c.failed += n;
      else c.accepted += n;
    }
    return c;
  };

  before(async () => {
    database = await freshPostgresUrl();
    db = new pg.Client({ connectionString: database.url });
    proxy = await startRoundRobinProxy();
    let seed = 11;
    emulator = await startEmulator({
      port: 0,
      webhookUrl: `${proxy.url}/webhooks/meta/pending`,
      appSecret: APP_SECRET,
      accessToken: ACCESS_TOKEN,
      numbers: [{ ...NUMBER, throughputMps: MPS }],
      readProbability: 0,
      random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
      onError: () => undefined,
    });
    trace('emulator at', emulator.url);
    const first = await startNode(0);
    trace('first node healthy');
    await db.connect();
    const connection = await first.api('POST', '/v1/connections', {
      provider: 'meta',
      name: 'Emulated Meta',
      config: { baseUrl: emulator.url },
      secrets: { accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: 'kill-verify' },
    });
    const channel = await first.api('POST', '/v1/channels', {
      connectionId: connection.id,
      name: 'Notifications',
      providerKey: NUMBER.phoneNumberId,
      phoneNumber: NUMBER.displayPhoneNumber,
      throughputMps: MPS,
    });
    channelId = String(channel.id);
    // Transactional notifications to customers who agreed elsewhere (the permissive policy):
    // this test is about delivery, not consent.
    await first.api('PATCH', '/v1/consent/policy', { policy: 'permissive' });
    proxy.rewrite = (path) =>
      path.replace('/webhooks/meta/pending', `/webhooks/meta/${connection.id}`);
    await Promise.all([startNode(1), startNode(2)]);
    trace('three nodes healthy');
    proxy.targets = nodes.map((n) => n.url);
  });

  after(async () => {
    for (const node of nodes) await node.stop(5_000).catch(() => undefined);
    await proxy?.close();
    await emulator?.close();
    await db?.end().catch(() => undefined);
    await database?.drop();
    await dropPrefix(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`kill -9 of one node among three during ${RECIPIENTS} sends: no recipient gets two, none is skipped, unknowns are flagged (≤ in flight)`, async () => {
    assert.ok(proxy && emulator && db);
    const sent = () => emulator!.world.outbound(NUMBER.phoneNumberId);

    // Every send goes through the balancer; a request lost with the killed node is retried with
    // the same Idempotency-Key on another node (LIM-7), as a client would.
    const send = async (i: number): Promise<void> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          const res = await fetch(`${proxy!.url}/v1/messages`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${BENCH_API_KEY}`,
              'content-type': 'application/json',
              'idempotency-key': `kill-test-${i}`,
            },
            body: JSON.stringify({
              channelId,
              to: recipient(i),
              type: 'template',
              template: { name: 'hello_world', language: { code: 'en_US' } },
            }),
          });
          const text = await res.text();
          if (res.status === 202 || res.status === 200) return;
          if (res.status < 500) throw new Error(`send ${i}: ${res.status} ${text}`);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith(`send ${i}:`)) throw error;
        }
        await sleep(200);
      }
      throw new Error(`send ${i} never accepted`);
    };
    let nextIndex = 0;
    const failed: { error: Error | null } = { error: null };
    const senders = Promise.all(
      Array.from({ length: 24 }, async () => {
        while (nextIndex < RECIPIENTS && failed.error === null) await send(nextIndex++);
      }),
    ).catch((error: unknown) => {
      failed.error = error instanceof Error ? error : new Error(String(error));
    });

    // Kill node 1 once sends are well under way.
    for (let i = 0; sent().length < RECIPIENTS * 0.3 && failed.error === null; i++) {
      if (i % 50 === 0) trace('sending', nextIndex, 'accepted,', sent().length, 'sent');
      await sleep(20);
    }
    assert.ifError(failed.error);
    const victim = nodes[1]!;
    process.kill(victim.pid, 'SIGKILL');
    trace('killed', victim.pid, 'after', sent().length, 'sends');
    const killedAt = Date.now();
    const inFlight = Number(
      (
        await db.query<{ n: string }>(
          `select count(*) as n from messages where direction = 'outbound' and status = 'pending'
             and dispatched_at is not null and provider_message_id is null`,
        )
      ).rows[0]!.n,
    );
    proxy.targets = [nodes[0]!.url, nodes[2]!.url];
    await victim.stop(1_000);
    const restarted = await startNode(3);
    proxy.targets = [nodes[0]!.url, nodes[2]!.url, restarted.url];
    trace('restarted');
    await senders;
    assert.ifError(failed.error);
    trace('all sends accepted');

    // Wait until every message has an outcome (sent, failed or flagged).
    let c = await counts();
    for (const until = Date.now() + 120_000; Date.now() < until;) {
      c = await counts();
      if (c.total === RECIPIENTS && c.pending === 0) break;
      trace('waiting', JSON.stringify(c), sent().length);
      await sleep(250);
    }
    await sleep(1_000); // late status webhooks may still clear a review flag
    c = await counts();

    const byRecipient = new Map<string, number>();
    for (const m of sent()) byRecipient.set(m.to, (byRecipient.get(m.to) ?? 0) + 1);
    const duplicates = [...byRecipient.values()].filter((n) => n > 1).length;
    const { rows: flagged } = await db.query<{ id: string; dispatched_at: string }>(
      `select id, dispatched_at from messages where direction = 'outbound' and needs_review`,
    );
    const { rows: unsent } = await db.query<{ wa_id: string; needs_review: boolean }>(
      `select c.wa_id, m.needs_review from messages m join contacts c on c.id = m.contact_id
         where m.direction = 'outbound'`,
    );
    const skipped = unsent.filter((r) => !r.needs_review && !byRecipient.has(r.wa_id)).length;
    const report = {
      recipients: RECIPIENTS,
      stored: c.total,
      sentByEmulator: sent().length,
      duplicates,
      skipped,
      flaggedForReview: c.review,
      inFlightAtKill: inFlight,
      failed: c.failed,
      stillPending: c.pending,
      busiestSecond: busiestSecond(sent().map((m) => m.acceptedAt)),
      killAfterMs: killedAt,
    };
    console.log(`multi-node kill test: ${JSON.stringify(report)}`);
    assert.equal(c.total, RECIPIENTS, 'every send stored once (idempotency keys across nodes)');
    assert.equal(duplicates, 0, 'no recipient got two messages');
    assert.equal(skipped, 0, 'no recipient was skipped');
    assert.equal(c.pending, 0, 'every message reached an outcome');
    assert.equal(c.failed, 0, 'nothing failed');
    assert.ok(c.review <= inFlight, `flagged ${c.review} ≤ in flight at the kill ${inFlight}`);
    for (const row of flagged) assert.ok(Number(row.dispatched_at) <= killedAt + 1_000);
    assert.ok(report.busiestSecond <= MPS, `LIM-1 across nodes: ${report.busiestSecond}`);
    assert.equal(sent().length + c.review - flaggedButSent(flagged, sent()), RECIPIENTS);
  });
});

/** Flagged messages the emulator did receive (their answer was lost with the node). */
function flaggedButSent(
  flagged: readonly { id: string }[],
  sent: readonly { callbackData: string | null }[],
): number {
  const ids = new Set(sent.map((m) => m.callbackData));
  return flagged.filter((f) => ids.has(f.id)).length;
}
