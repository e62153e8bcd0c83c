// Several nodes, one of them killed, during a campaign: three real `parley start` processes on one
// PostgreSQL and one Redis run a 5,000-recipient campaign (contacts with marketing consent
// imported, a template approved in the Cloud API emulator, the campaign created and started
// through the API); one node is killed with SIGKILL mid-way through the sending and restarted.
// No recipient gets two messages, none is skipped (each ends sent, or unknown and flagged for
// review), and the flagged ones number no more than were in flight at the kill.
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
const NUMBER = {
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  wabaId: '102290129340398',
};
const MPS = 1_000;
const APP_SECRET = 'kill-test-app-secret';
const ACCESS_TOKEN = 'kill-test-access-token';
const trace = (...args: unknown[]) => {
  if (process.env.PARLEY_KILL_TEST_TRACE) console.error(new Date().toISOString(), ...args);
};
const recipient = (i: number) => `4477009${String(i).padStart(5, '0')}`;
const CONSENT_HEADER =
  'phone,kind,purpose,channel_id,source,at,text_shown,text_version,business_name,url,ip,user_agent,note';

interface Counts {
  pending: number;
  review: number;
  failed: number;
  accepted: number;
  total: number;
}

describe('three nodes, one killed mid-campaign', { skip }, () => {
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
        // A dead node's held sends and claimed campaign recipients are taken over after this long.
        PARLEY_DISPATCH_LEASE_MS: '10000',
        PARLEY_LOG_LEVEL: 'error',
      },
      // Generous: a start compiles the TypeScript sources, slow on a loaded machine.
      timeoutMs: 300_000,
    });
    nodes.push(node);
    return node;
  };

  /** A request through the balancer, retried on another node when one dies under it. */
  const api = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${proxy!.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${BENCH_API_KEY}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        if (res.status < 300) return text ? JSON.parse(text) : null;
        if (res.status < 500 || attempt >= 20)
          throw new Error(`${method} ${path}: ${res.status} ${text}`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith(`${method} ${path}:`)) throw error;
        if (attempt >= 20) throw error;
      }
      await sleep(200);
    }
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
      else if (row.status === 'failed' || row.status === 'refused') c.failed += n;
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
      name: 'Offers',
      providerKey: NUMBER.phoneNumberId,
      phoneNumber: NUMBER.displayPhoneNumber,
      wabaId: NUMBER.wabaId,
      throughputMps: MPS,
    });
    channelId = String(channel.id);
    // The campaign's template as WhatsApp approved it (the emulator's WABA), known to Parley.
    const synced = await first.api('POST', '/v1/templates/sync', { channelId });
    assert.equal(synced.items[0]?.error, null, JSON.stringify(synced));
    // The audience: contacts created by importing their marketing opt-ins (OPT-7).
    const imported = await fetch(`${first.url}/v1/consent/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'text/csv' },
      body: [
        CONSENT_HEADER,
        ...Array.from(
          { length: RECIPIENTS },
          (_, i) =>
            `+${recipient(i)},opt_in,marketing,,web_form,2026-02-01T10:00:00Z,Yes,v1,Shop,,,,`,
        ),
      ].join('\n'),
    });
    assert.ok(imported.status < 300, `consent import: ${imported.status} ${await imported.text()}`);
    trace('consent imported');
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

  it(`kill -9 of one node among three during a ${RECIPIENTS}-recipient campaign: no recipient gets two, none is skipped, unknowns are flagged (≤ in flight)`, async () => {
    assert.ok(proxy && emulator && db);
    const sent = () => emulator!.world.outbound(NUMBER.phoneNumberId);

    const created = await api('POST', '/v1/campaigns', {
      name: 'Spring offer',
      channelId,
      template: {
        name: 'welcome_offer',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'friend' },
              { type: 'text', text: '15%' },
            ],
          },
        ],
      },
      audience: {},
    });
    const campaignId = String(created.id);
    assert.equal(created.progress.total, RECIPIENTS);
    assert.equal(created.progress.pending, RECIPIENTS, JSON.stringify(created.progress));
    trace('campaign created');
    const started = await api('POST', `/v1/campaigns/${campaignId}/start`);
    assert.equal(started.state, 'running');

    // Kill node 1 once the sending is well under way.
    for (let i = 0; sent().length < RECIPIENTS * 0.3; i++) {
      if (i % 50 === 0) trace('sending:', sent().length, 'sent');
      await sleep(20);
    }
    const victim = nodes[1]!;
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    const sentAtKill = sent().length;
    trace('killed', victim.pid, 'after', sentAtKill, 'sends');
    const inFlight = Number(
      (
        await db.query<{ n: string }>(
          `select count(*) as n from messages where direction = 'outbound' and status = 'pending'
             and dispatched_at is not null and provider_message_id is null`,
        )
      ).rows[0]!.n,
    );
    const claimedAtKill = Number(
      (
        await db.query<{ n: string }>(
          `select count(*) as n from campaign_recipients where campaign_id = $1 and state = 'claimed'`,
          [campaignId],
        )
      ).rows[0]!.n,
    );
    proxy.targets = [nodes[0]!.url, nodes[2]!.url];
    await victim.stop(1_000);
    const restarted = await startNode(3);
    proxy.targets = [nodes[0]!.url, nodes[2]!.url, restarted.url];
    trace('restarted');

    // Wait until the campaign is complete and every message has an outcome (sent or flagged).
    let c = await counts();
    let campaign = await api('GET', `/v1/campaigns/${campaignId}`);
    for (const until = Date.now() + 180_000; Date.now() < until;) {
      c = await counts();
      if (c.total === RECIPIENTS && c.pending === 0) {
        campaign = await api('GET', `/v1/campaigns/${campaignId}`);
        // Done once the status webhooks have come in for everything that was not flagged.
        if (
          campaign.state === 'completed' &&
          campaign.progress.review === c.review &&
          campaign.progress.queued === 0
        )
          break;
      }
      trace('waiting', JSON.stringify(c), sent().length);
      await sleep(250);
    }
    await sleep(1_000); // late status webhooks may still clear a review flag
    c = await counts();
    campaign = await api('GET', `/v1/campaigns/${campaignId}`);

    const byRecipient = new Map<string, number>();
    for (const m of sent()) byRecipient.set(m.to, (byRecipient.get(m.to) ?? 0) + 1);
    const duplicates = [...byRecipient.values()].filter((n) => n > 1).length;
    const { rows: flagged } = await db.query<{ id: string; dispatched_at: string }>(
      `select id, dispatched_at from messages where direction = 'outbound' and needs_review`,
    );
    // Every recipient of the audience, with the message it was sent as (if any).
    const { rows: recipients } = await db.query<{
      wa_id: string;
      state: string;
      messages: string;
      needs_review: boolean | null;
    }>(
      `select r.wa_id, r.state, m.needs_review,
              (select count(*) from messages x join contacts k on k.id = x.contact_id
                where x.direction = 'outbound' and k.wa_id = r.wa_id) as messages
         from campaign_recipients r left join messages m on m.id = r.message_id
        where r.campaign_id = $1`,
      [campaignId],
    );
    const skipped = recipients.filter(
      (r) => r.needs_review !== true && !byRecipient.has(r.wa_id),
    ).length;
    const stored = recipients.filter((r) => Number(r.messages) > 1).length;
    const p = campaign.progress as Record<string, number>;
    const report = {
      recipients: RECIPIENTS,
      campaignState: campaign.state,
      messagesStored: c.total,
      sentByEmulator: sent().length,
      sentAtKill,
      duplicates,
      recipientsWithTwoMessages: stored,
      skipped,
      flaggedForReview: c.review,
      inFlightAtKill: inFlight,
      recipientsClaimedAtKill: claimedAtKill,
      failed: c.failed,
      stillPending: c.pending,
      progress: {
        sent: p.sent,
        delivered: p.delivered,
        read: p.read,
        queued: p.queued,
        review: p.review,
        skipped: p.skipped,
        failed: p.failed,
      },
      busiestSecond: busiestSecond(sent().map((m) => m.acceptedAt)),
    };
    console.log(`multi-node kill test: ${JSON.stringify(report)}`);
    assert.equal(campaign.state, 'completed');
    assert.equal(recipients.length, RECIPIENTS);
    assert.ok(
      recipients.every((r) => r.state === 'queued'),
      'every recipient was handed to the send path',
    );
    assert.equal(c.total, RECIPIENTS, 'one message per recipient (idempotency keys across nodes)');
    assert.equal(stored, 0, 'no recipient has two messages stored');
    assert.equal(duplicates, 0, 'no recipient got two messages');
    assert.equal(skipped, 0, 'no recipient was skipped');
    assert.equal(c.pending, 0, 'every message reached an outcome');
    assert.equal(c.failed, 0, 'nothing failed or was refused');
    assert.ok(c.review <= inFlight, `flagged ${c.review} ≤ in flight at the kill ${inFlight}`);
    for (const row of flagged) assert.ok(Number(row.dispatched_at) <= killedAt + 1_000);
    // The API tells the same story: delivered outcomes, and the flagged ones under review.
    assert.equal((p.sent ?? 0) + (p.delivered ?? 0) + (p.read ?? 0) + (p.review ?? 0), RECIPIENTS);
    assert.equal(p.review ?? 0, c.review);
    assert.equal(p.queued, 0);
    assert.equal(p.skipped, 0);
    assert.equal(p.failed, 0);
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
