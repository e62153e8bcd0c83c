// Campaigns through the API with the sandbox and a manual clock: CSV audience with bad lines,
// consent skip report (OPT-7), LIM-5, estimate, start/pause/resume/cancel, schedule, auto-pause on
// 131048 and on a paused template, LIM-3 deferral and continuation after 24 h, LIM-4 cap.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IN_FLIGHT_GRACE_MS } from '../src/app/deliver-outbound.ts';
import { campaignMessageKey, runCampaigns } from '../src/app/run-campaign.ts';
import { sendMessage } from '../src/app/send-message.ts';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';

const HOUR = 3_600_000;
const CONSENT_HEADER =
  'phone,kind,purpose,channel_id,source,at,text_shown,text_version,business_name,url,ip,user_agent,note';
const US_NUMBER = '12025550123';

const uk = (n: number) => `4477009${String(n).padStart(5, '0')}`;

async function consent(t: TestParley, phones: readonly string[], kind = 'opt_in') {
  const lines = phones.map(
    (p) =>
      `+${p},${kind},marketing,,web_form,2026-02-01T10:00:00Z,"Yes, offers please",v1,Parley Demo Shop,,,,`,
  );
  const response = await t.parley.http.inject({
    method: 'POST',
    url: '/v1/consent/import',
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'text/csv' },
    payload: [CONSENT_HEADER, ...lines].join('\n'),
  });
  assert.equal(response.statusCode < 300, true, response.body);
}

const welcome = { name: 'welcome_offer', language: { code: 'en' } };
const csvOf = (rows: readonly string[]) => ['phone,body.1,body.2', ...rows].join('\n');

/** Consented recipients, a CSV campaign to them started, and every recipient queued by one runner pass. */
async function startConsentedCampaign(t: TestParley, phones: readonly string[]): Promise<string> {
  await consent(t, phones);
  const created = await createCsvCampaign(
    t,
    phones.map((p, i) => `+${p},N${i},5%`),
  );
  const id = created.json.id as string;
  await t.api('POST', `/v1/campaigns/${id}/start`);
  assert.equal(await runCampaigns(t.parley.deps, { owner: 'test' }), phones.length);
  return id;
}

async function createCsvCampaign(
  t: TestParley,
  rows: readonly string[],
  extra: Record<string, unknown> = {},
) {
  return t.api('POST', '/v1/campaigns', {
    name: 'Spring welcome',
    template: welcome,
    audience: { csv: csvOf(rows) },
    ...extra,
  });
}

/** Dispatches everything queued: LIM-1 pacing lets one message per channel out per tick. */
async function dispatchAll(t: TestParley) {
  for (let i = 0; i < 1_000; i++) {
    if ((await t.parley.deps.store.jobs.size('outbound')) === 0) break;
    await t.settle(20);
  }
  await t.settle();
}

/** One runner pass with a small batch, then everything the sends caused. */
async function feed(t: TestParley, batchSize = 200) {
  const n = await runCampaigns(t.parley.deps, { owner: 'test', batchSize });
  await dispatchAll(t);
  await t.parley.campaignSignals.idle();
  return n;
}

describe('campaigns: audience, consent skip report, estimate, run to completion', () => {
  let t: TestParley;
  const events: DomainEvent[] = [];
  before(async () => {
    t = await startTestParley();
    t.parley.deps.events.subscribe((e) => {
      if (e.type === 'campaign.progress') events.push(e);
    });
    await consent(t, [uk(301), uk(302), uk(303), uk(304), uk(305), uk(306), US_NUMBER]);
    await consent(t, [uk(306)], 'opt_out');
    // The consent events are recorded for subscribers on the next turn of the event loop.
    await t.settle();
  });
  after(async () => t.close());

  it('refuses a CSV with bad lines as a whole, naming each line, and writes nothing', async () => {
    const before = snapshotStore(t);
    const bad = await createCsvCampaign(t, [
      `+${uk(301)},Ada,10%`,
      'not-a-phone,Bob,10%',
      `+${uk(302)},Cy`,
      `+${uk(303)},"two\nlines",10%`,
    ]);
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.equal(bad.json.code, 'invalid_request');
    assert.deepEqual(
      bad.json.problems.map((p: { line: number; reason: string }) => [p.line, p.reason]),
      [
        [3, 'invalid_phone'],
        [4, 'invalid_params'],
        [5, 'invalid_params'],
      ],
    );
    assert.deepEqual(snapshotStore(t), before, describeChanges(before, snapshotStore(t)));
  });

  it('with invalidLines "skip" keeps the bad lines as skipped recipients with their reason', async () => {
    const created = await t.api('POST', '/v1/campaigns', {
      name: 'Lenient',
      template: welcome,
      audience: {
        csv: csvOf([`+${uk(301)},Ada,10%`, 'not-a-phone,Bob,10%', `+${uk(302)},Cy`]),
        invalidLines: 'skip',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(created.json.progress.skippedByReason, {
      invalid_phone: 1,
      invalid_params: 1,
    });
    const skipped = await t.api(
      'GET',
      `/v1/campaigns/${created.json.id}/recipients?outcome=skipped`,
    );
    assert.deepEqual(
      skipped.json.items.map((r: { phoneNumber: string | null; detail: string }) => [
        r.phoneNumber,
        r.detail.slice(0, 7),
      ]),
      [
        [null, 'line 3:'],
        [`+${uk(302)}`, 'line 4:'],
      ],
    );
    await t.api('POST', `/v1/campaigns/${created.json.id}/cancel`);
  });

  it('answers malformed campaign requests with precise problems, never a 500', async () => {
    const noPhone = await t.api('POST', '/v1/campaigns', {
      name: 'x',
      template: welcome,
      audience: { csv: 'name,body.1\nAda,1' },
    });
    assert.equal(noPhone.status, 400);
    assert.match(noPhone.json.detail, /phone column/);
    const unknownTemplate = await createCsvCampaign(t, [`+${uk(301)},Ada,10%`], {
      template: { name: 'no_such_template', language: { code: 'en' } },
    });
    assert.equal(unknownTemplate.status, 404);
    const wrongType = await t.api('POST', '/v1/campaigns', { name: 3, template: welcome });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.json.code, 'validation_failed');
    const missing = await t.api('GET', '/v1/campaigns/nope');
    assert.equal(missing.status, 404);
  });

  let id = '';
  it('OPT-7/LIM-5: skips (and reports) opted-out, not opted-in, duplicate and US recipients', async () => {
    const created = await createCsvCampaign(t, [
      `+${uk(301)},Ada,10%`,
      `+${uk(302)},Bea,15%`,
      `+${uk(303)},Cy,20%`,
      `+${uk(304)},Di,10%`,
      `+${uk(305)},Ed,10%`,
      `+${uk(306)},Flo,10%`,
      `+${uk(307)},Gus,10%`,
      `${uk(301)},Ada again,10%`,
      `+${US_NUMBER},Hal,10%`,
    ]);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    id = created.json.id;
    assert.equal(created.json.state, 'draft');
    assert.equal(created.json.template.category, 'marketing');
    assert.equal(created.json.progress.total, 9);
    assert.equal(created.json.progress.pending, 5);
    assert.equal(created.json.progress.skipped, 4);
    assert.deepEqual(created.json.progress.skippedByReason, {
      opted_out: 1,
      not_opted_in: 1,
      duplicate: 1,
      market_blocked: 1,
    });
    const skipped = await t.api('GET', `/v1/campaigns/${id}/recipients?outcome=skipped`);
    assert.deepEqual(
      skipped.json.items.map((r: { phoneNumber: string; reason: string }) => [
        r.phoneNumber,
        r.reason,
      ]),
      [
        [`+${uk(306)}`, 'opted_out'],
        [`+${uk(307)}`, 'not_opted_in'],
        [`+${uk(301)}`, 'duplicate'],
        [`+${US_NUMBER}`, 'market_blocked'],
      ],
    );
  });

  it('estimates the cost of the recipients to send per market and category with the rate card', async () => {
    const estimate = await t.api('GET', `/v1/campaigns/${id}/estimate`);
    assert.equal(estimate.status, 200, JSON.stringify(estimate.json));
    assert.equal(estimate.json.recipients, 5);
    assert.equal(estimate.json.era, 'pmp2025');
    assert.equal(estimate.json.lines.length, 1);
    const [line] = estimate.json.lines;
    assert.equal(line.market, 'United Kingdom');
    assert.equal(line.category, 'marketing');
    assert.equal(line.billable, 5);
    assert.equal(line.free, 0);
    assert.ok(Number(line.amount) > 0, line.amount);
    assert.deepEqual(estimate.json.totals, [{ currency: line.currency, amount: line.amount }]);
    assert.equal(estimate.json.illustrativeRates, true);
  });

  it('sends one message per recipient with its own parameters, reports delivery, completes, and never sends twice', async () => {
    const started = await t.api('POST', `/v1/campaigns/${id}/start`);
    assert.equal(started.status, 200);
    assert.equal(started.json.state, 'running');
    assert.equal(await feed(t), 5);
    await t.settle(10_000);
    const outbound = t.world.outbound(t.channel.providerKey);
    assert.equal(outbound.length, 5);
    const bea = outbound.find((o) => o.to === uk(302));
    assert.match(JSON.stringify(bea?.content), /"Bea".*"15%"/);
    assert.equal(await feed(t), 0); // completes
    const status = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(status.json.state, 'completed');
    assert.equal(status.json.progress.pending, 0);
    const p = status.json.progress as Record<string, number>;
    assert.equal((p.sent ?? 0) + (p.delivered ?? 0) + (p.read ?? 0), 5);
    const delivered = await t.api('GET', `/v1/campaigns/${id}/recipients?outcome=read`);
    for (const r of delivered.json.items) assert.ok(r.messageId);
    // Another pass, and a second start, change nothing.
    assert.equal(await feed(t), 0);
    const again = await t.api('POST', `/v1/campaigns/${id}/start`);
    assert.equal(again.status, 409);
    assert.equal(t.world.outbound(t.channel.providerKey).length, 5);
    const mine = events.filter((e) => e.data.campaignId === id);
    assert.ok(mine.some((e) => e.data.state === 'running'));
    assert.ok(mine.some((e) => e.data.state === 'completed'));
  });
});

describe('campaigns: schedule, pause, resume, cancel', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await consent(
      t,
      [1, 2, 3, 4, 5, 6].map((i) => uk(400 + i)),
    );
  });
  after(async () => t.close());

  it('a scheduled campaign waits for its start time, then runs; pause stops it between batches and resume finishes it', async () => {
    const startAt = new Date(t.clock.now() + HOUR).toISOString();
    const created = await createCsvCampaign(
      t,
      [1, 2, 3, 4, 5].map((i) => `+${uk(400 + i)},N${i},5%`),
      { startAt },
    );
    const id = created.json.id;
    const started = await t.api('POST', `/v1/campaigns/${id}/start`);
    assert.equal(started.json.state, 'scheduled');
    assert.equal(await feed(t, 2), 0);
    assert.equal(t.world.outbound(t.channel.providerKey).length, 0);
    await t.clock.advance(HOUR);
    assert.equal(await feed(t, 2), 2);
    const paused = await t.api('POST', `/v1/campaigns/${id}/pause`);
    assert.equal(paused.json.state, 'paused');
    assert.equal(paused.json.pauseReason, 'manual');
    assert.equal(await feed(t, 2), 0);
    assert.equal(t.world.outbound(t.channel.providerKey).length, 2);
    const resumed = await t.api('POST', `/v1/campaigns/${id}/resume`);
    assert.equal(resumed.json.state, 'running');
    assert.equal(await feed(t, 2), 2);
    assert.equal(await feed(t, 2), 1);
    assert.equal(await feed(t, 2), 0);
    const done = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(done.json.state, 'completed');
    assert.equal(t.world.outbound(t.channel.providerKey).length, 5);
  });

  it('cancel skips everyone not yet sent, and a cancelled campaign cannot resume', async () => {
    const created = await createCsvCampaign(t, [`+${uk(406)},Z,5%`]);
    const id = created.json.id;
    await t.api('POST', `/v1/campaigns/${id}/start`);
    await t.api('POST', `/v1/campaigns/${id}/pause`);
    const cancelled = await t.api('POST', `/v1/campaigns/${id}/cancel`);
    assert.equal(cancelled.json.state, 'cancelled');
    assert.deepEqual(cancelled.json.progress.skippedByReason, { cancelled: 1 });
    assert.equal((await t.api('POST', `/v1/campaigns/${id}/resume`)).status, 409);
    assert.equal(await feed(t), 0);
    assert.equal(t.world.outbound(t.channel.providerKey).filter((o) => o.to === uk(406)).length, 0);
  });

  it('cancel mid-run withdraws the queued messages no dispatcher has claimed: sent + withdrawn = recipients, and only the sent ones reach WhatsApp', async () => {
    const phones = Array.from({ length: 40 }, (_, i) => uk(4_100 + i));
    const id = await startConsentedCampaign(t, phones);
    // A few go out (LIM-1 paces the channel), the rest wait in the queue.
    for (let i = 0; i < 3; i++) {
      await t.parley.dispatcher.runOnce();
      await t.clock.advance(50);
    }
    const sentBefore = t.world.outbound(t.channel.providerKey).filter((o) => phones.includes(o.to));
    assert.ok(sentBefore.length > 0 && sentBefore.length < 40, `${sentBefore.length} sent`);
    const failedEvents: DomainEvent[] = [];
    const unsubscribe = t.parley.deps.events.subscribe((e) => {
      if (e.type === 'message.failed') failedEvents.push(e);
    });
    const cancelled = await t.api('POST', `/v1/campaigns/${id}/cancel`);
    unsubscribe();
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.json));
    const withdrawn = cancelled.json.progress.skippedByReason.withdrawn as number;
    assert.equal(sentBefore.length + withdrawn, 40);
    await dispatchAll(t);
    await t.settle(5_000);
    const sent = t.world.outbound(t.channel.providerKey).filter((o) => phones.includes(o.to));
    assert.equal(sent.length, sentBefore.length, 'nothing withdrawn went out');
    assert.equal(await t.parley.deps.store.jobs.size('outbound'), 0, 'no job left behind');
    const after = await t.api('GET', `/v1/campaigns/${id}`);
    const p = after.json.progress as Record<string, number>;
    assert.equal((p.sent ?? 0) + (p.delivered ?? 0) + (p.read ?? 0), sent.length);
    assert.equal(p.skipped, withdrawn);
    const listed = await t.api('GET', `/v1/campaigns/${id}/recipients?outcome=skipped&limit=100`);
    assert.equal(listed.json.items.length, withdrawn);
    // Each withdrawn message announced itself once, as a failure at dispatch does, so an open
    // inbox refreshes it and event webhooks hear that it will not go out.
    assert.deepEqual(
      failedEvents.map((e) => e.data.messageId).sort(),
      listed.json.items.map((r: { messageId: string }) => r.messageId).sort(),
    );
    for (const e of failedEvents) {
      assert.equal(e.data.channelId, t.channel.id);
      assert.match(String(e.data.detail), /^Withdrawn: campaign "Spring welcome" was cancelled/);
    }
    for (const r of listed.json.items) {
      assert.equal(r.reason, 'withdrawn');
      assert.ok(r.messageId);
      const message = await t.api('GET', `/v1/messages/${r.messageId}`);
      assert.equal(message.json.status, 'refused');
      assert.match(
        message.json.reasonDetail,
        /^Withdrawn: campaign "Spring welcome" was cancelled/,
      );
    }
  });

  it('cancel racing the dispatcher (its message loaded, not yet claimed) ends each message either sent or withdrawn, never both or neither', async () => {
    const phones = Array.from({ length: 30 }, (_, i) => uk(4_200 + i));
    const id = await startConsentedCampaign(t, phones);
    // The cancel lands after a dispatcher has loaded a message as pending and before it claims
    // it (messages.claimDispatch, the compare-and-set, runs after its checks): the claim fails.
    const messages = t.parley.deps.store.messages;
    const get = messages.get.bind(messages);
    let loads = 0;
    const race: { messageId: string | null } = { messageId: null };
    let cancelled: { status: number } | undefined;
    messages.get = async (messageId) => {
      const message = await get(messageId);
      const fromDispatch = new Error().stack?.includes('deliverOutbound') ?? false;
      if (fromDispatch && message?.status === 'pending' && ++loads === 3) {
        race.messageId = messageId;
        cancelled = await t.api('POST', `/v1/campaigns/${id}/cancel`);
      }
      return message;
    };
    try {
      // (The dispatcher may still hold the jobs the previous test withdrew: no-ops first.)
      for (let i = 0; i < 500 && cancelled === undefined; i++) {
        await t.parley.dispatcher.runOnce();
        await t.clock.advance(50);
      }
    } finally {
      messages.get = get;
    }
    assert.equal(cancelled?.status, 200);
    const raced = race.messageId;
    assert.ok(raced !== null);
    await dispatchAll(t);
    await t.settle(5_000);
    const sent = t.world.outbound(t.channel.providerKey).filter((o) => phones.includes(o.to));
    assert.ok(sent.length <= 2, `only messages loaded before the cancel could go: ${sent.length}`);
    assert.equal(new Set(sent.map((o) => o.to)).size, sent.length, 'no recipient got two');
    const lost = await t.api('GET', `/v1/messages/${raced}`);
    assert.equal(lost.json.status, 'refused', 'the message loaded before the cancel was withdrawn');
    assert.ok(!sent.some((o) => o.callbackData === raced), 'and never reached WhatsApp');
    const recipients = await t.api('GET', `/v1/campaigns/${id}/recipients?limit=100`);
    const items = recipients.json.items as Array<{ outcome: string; reason: string | null }>;
    const delivered = items.filter((r) => ['sent', 'delivered', 'read'].includes(r.outcome));
    const withdrawn = items.filter((r) => r.reason === 'withdrawn');
    assert.equal(delivered.length, sent.length, 'every send reached WhatsApp once');
    assert.equal(delivered.length + withdrawn.length, 30);
    assert.equal(await t.parley.deps.store.jobs.size('outbound'), 0, 'no job left behind');
  });

  it('one workspace cannot see or act on another workspace’s campaign', async () => {
    const created = await createCsvCampaign(t, [`+${uk(401)},A,5%`]);
    const other = await t.parley.deps.store.workspaces.create({ name: 'Other' });
    const { createApiKey } = await import('../src/app/admin.ts');
    const key = await createApiKey(t.parley.deps, other.id, 'other');
    for (const [method, url] of [
      ['GET', `/v1/campaigns/${created.json.id}`],
      ['GET', `/v1/campaigns/${created.json.id}/recipients`],
      ['GET', `/v1/campaigns/${created.json.id}/estimate`],
      ['POST', `/v1/campaigns/${created.json.id}/start`],
    ] as const) {
      const r = await t.api(method, url, undefined, { authorization: `Bearer ${key.key}` });
      assert.equal(r.status, 404, `${method} ${url}`);
    }
    const list = await t.api('GET', '/v1/campaigns', undefined, {
      authorization: `Bearer ${key.key}`,
    });
    assert.deepEqual(list.json.items, []);
  });
});

describe('campaigns: cancel and the dispatcher', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('LIM-1: the jobs a dispatcher holds for withdrawn messages spend no channel token, so the next campaign goes out at the next tokens', async () => {
    const cancelledPhones = Array.from({ length: 40 }, (_, i) => uk(4_300 + i));
    const nextPhones = [1, 2, 3].map((i) => uk(4_400 + i));
    await consent(t, [...cancelledPhones, ...nextPhones]);
    const first = await createCsvCampaign(
      t,
      cancelledPhones.map((p, i) => `+${p},N${i},5%`),
    );
    const firstId = first.json.id as string;
    await t.api('POST', `/v1/campaigns/${firstId}/start`);
    assert.equal(await runCampaigns(t.parley.deps, { owner: 'test' }), 40);
    // One pass claims every job into the channel's lane; the bucket lets about one out.
    await t.parley.dispatcher.runOnce();
    const held = t.parley.dispatcher.held;
    assert.ok(held >= 30, `${held} held`);
    const cancelled = await t.api('POST', `/v1/campaigns/${firstId}/cancel`);
    assert.equal(cancelled.json.progress.skippedByReason.withdrawn, held);

    const next = await createCsvCampaign(
      t,
      nextPhones.map((p, i) => `+${p},M${i},5%`),
    );
    await t.api('POST', `/v1/campaigns/${next.json.id}/start`);
    assert.equal(await runCampaigns(t.parley.deps, { owner: 'test' }), 3);
    // One token every 1000/tier ms: three tokens (and one to spare) are enough for three sends.
    const tokenMs = Math.ceil(1_000 / t.channel.throughputMps);
    for (let i = 0; i < 4; i++) {
      await t.clock.advance(tokenMs);
      await t.parley.dispatcher.runOnce();
    }
    const sent = t.world.outbound(t.channel.providerKey);
    assert.deepEqual(
      sent.filter((o) => nextPhones.includes(o.to)).map((o) => o.to),
      nextPhones,
      'the next campaign did not wait behind the withdrawn jobs',
    );
    assert.equal(t.parley.dispatcher.held, 0, 'the withdrawn jobs were dropped');
    assert.equal(sent.filter((o) => cancelledPhones.includes(o.to)).length, 40 - held);
    assert.equal(await t.parley.deps.store.jobs.size('outbound'), 0, 'no job left behind');
  });
});

describe('campaigns: crash safety', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await consent(
      t,
      [1, 2, 3].map((i) => uk(700 + i)),
    );
  });
  after(async () => t.close());

  it('a runner that died holding recipients loses them to another after the lease, and no recipient gets two messages', async () => {
    const created = await createCsvCampaign(
      t,
      [1, 2, 3].map((i) => `+${uk(700 + i)},N${i},5%`),
    );
    const id = created.json.id as string;
    await t.api('POST', `/v1/campaigns/${id}/start`);
    const store = t.parley.deps.store;
    // The dead runner claimed all three and had queued recipient 1's message (by its key) when
    // it stopped, before it could record it on the recipient.
    const held = await store.outreach.recipients.claim(id, {
      owner: 'dead',
      now: t.clock.now(),
      leaseMs: 60_000,
      limit: 10,
    });
    assert.equal(held.length, 3);
    const first = await sendMessage(t.parley.deps, {
      workspaceId: t.channel.workspaceId,
      channelId: t.channel.id,
      to: uk(701),
      content: {
        type: 'template',
        template: {
          ...welcome,
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'N1' },
                { type: 'text', text: '5%' },
              ],
            },
          ],
        },
      },
      idempotencyKey: campaignMessageKey(id, 1),
    });
    assert.equal(first.kind, 'queued');
    // While the lease holds, nobody else touches them.
    assert.equal(await runCampaigns(t.parley.deps, { owner: 'alive' }), 0);
    await t.clock.advance(60_000);
    assert.equal(await feed(t), 3);
    const recipients = await t.api('GET', `/v1/campaigns/${id}/recipients`);
    assert.equal(
      first.kind === 'queued' ? first.message.id : '',
      recipients.json.items[0].messageId,
    );
    const sent = t.world.outbound(t.channel.providerKey);
    for (const i of [1, 2, 3])
      assert.equal(sent.filter((o) => o.to === uk(700 + i)).length, 1, `recipient ${i}`);
    assert.equal(await feed(t), 0);
    assert.equal((await t.api('GET', `/v1/campaigns/${id}`)).json.state, 'completed');
  });
});

describe('campaigns: messages under review', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('a message whose fate is unknown after a crash counts under review, not queued, and the campaign still completes', async () => {
    const phones = [1, 2, 3].map((i) => uk(750 + i));
    const id = await startConsentedCampaign(t, phones);
    // The node handing recipient 2's message to WhatsApp died after marking it dispatched.
    const listed = await t.api('GET', `/v1/campaigns/${id}/recipients`);
    const lost = listed.json.items[1].messageId as string;
    const store = t.parley.deps.store;
    await store.messages.update(lost, { dispatchedAt: t.clock.now() }, t.clock.now());
    await t.clock.advance(IN_FLIGHT_GRACE_MS);
    await feed(t);
    assert.equal((await t.api('GET', `/v1/messages/${lost}`)).json.needsReview, true);
    await feed(t);
    await t.settle(5_000); // the sandbox's status webhooks for the two that went out
    const done = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(done.json.state, 'completed');
    const p = done.json.progress as Record<string, number>;
    assert.equal(p.review, 1);
    assert.equal(p.queued, 0);
    assert.equal((p.sent ?? 0) + (p.delivered ?? 0) + (p.read ?? 0), 2);
    const review = await t.api('GET', `/v1/campaigns/${id}/recipients?outcome=review`);
    assert.deepEqual(
      review.json.items.map((r: { seq: number; outcome: string }) => [r.seq, r.outcome]),
      [[2, 'review']],
    );
    assert.match(review.json.items[0].detail, /not resent/);
    assert.equal(
      t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === lost).length,
      0,
      'never resent blindly',
    );
  });
});

describe('campaigns: batches', () => {
  let t: TestParley;
  const phones = Array.from({ length: 12 }, (_, i) => uk(7_100 + i));
  before(async () => {
    t = await startTestParley();
    await consent(t, phones);
  });
  after(async () => t.close());

  it('OPT-7 per recipient inside a batch: a STOP after creation skips that recipient only', async () => {
    const created = await createCsvCampaign(
      t,
      phones.slice(0, 6).map((p, i) => `+${p},N${i},5%`),
    );
    const id = created.json.id as string;
    await consent(t, [phones[2]!], 'opt_out');
    await t.api('POST', `/v1/campaigns/${id}/start`);
    assert.equal(
      await runCampaigns(t.parley.deps, { owner: 'test', enqueueBatch: 6 }),
      6,
      'the refused one is handed to the send path too (stored as refused)',
    );
    await dispatchAll(t);
    const status = await t.api('GET', `/v1/campaigns/${id}`);
    assert.deepEqual(status.json.progress.skippedByReason, { opted_out: 1 });
    const sent = t.world.outbound(t.channel.providerKey).map((o) => o.to);
    assert.deepEqual(
      sent.sort(),
      phones.slice(0, 6).filter((_, i) => i !== 2),
    );
  });

  it('a batch whose transaction fails writes nothing; its recipients are then enqueued one by one, each once', async () => {
    const list = phones.slice(6);
    const created = await createCsvCampaign(
      t,
      list.map((p, i) => `+${p},N${i},5%`),
    );
    const id = created.json.id as string;
    await t.api('POST', `/v1/campaigns/${id}/start`);
    const { store } = t.parley.deps;
    const jobsBefore = await store.jobs.size('outbound');
    // The batch's transaction fails at its end (a deadlock, a dropped connection) after all of
    // its writes: everything it wrote must be rolled back.
    let depth = 0;
    let failures = 0;
    const flaky = {
      ...store,
      transaction: <T>(work: (tx: typeof store) => Promise<T>) =>
        store.transaction(async (tx) => {
          depth++;
          try {
            const result = await work(tx);
            if (depth === 1 && failures++ === 0) throw new Error('deadlock detected');
            return result;
          } finally {
            depth--;
          }
        }),
    };
    const handed = await runCampaigns(
      { ...t.parley.deps, store: flaky },
      { owner: 'test', enqueueBatch: 6 },
    );
    assert.equal(failures, 7, 'one failed batch, then six single transactions');
    assert.equal(handed, 6);
    assert.equal(await store.jobs.size('outbound'), jobsBefore + 6, 'one job per recipient');
    await dispatchAll(t);
    const sent = t.world.outbound(t.channel.providerKey).filter((o) => list.includes(o.to));
    assert.equal(sent.length, 6);
    assert.equal(new Set(sent.map((o) => o.to)).size, 6, 'no recipient got two');
    const status = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(status.json.progress.pending, 0);
  });
});

describe('campaigns: automatic pauses', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await consent(
      t,
      [1, 2, 3, 4, 5, 6, 7, 8].map((i) => uk(500 + i)),
    );
  });
  after(async () => t.close());

  it('131048 (spam_rate) pauses the number’s campaigns; the rest is not sent', async () => {
    const created = await createCsvCampaign(
      t,
      [1, 2, 3, 4].map((i) => `+${uk(500 + i)},N${i},5%`),
    );
    const id = created.json.id;
    await t.api('POST', `/v1/campaigns/${id}/start`);
    t.world.chaos({ lateFailures: 1, lateFailureCode: 131048 });
    assert.equal(await feed(t, 2), 2);
    await t.settle(5_000);
    await t.parley.campaignSignals.idle();
    const status = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(status.json.state, 'paused');
    assert.equal(status.json.pauseReason, 'spam_rate');
    assert.deepEqual(status.json.progress.failedByReason, { spam_rate: 1 });
    assert.equal(await feed(t, 2), 0);
    assert.equal(t.world.outbound(t.channel.providerKey).length, 2);
  });

  it('a template paused by WhatsApp pauses the campaigns sending it (template.status webhook)', async () => {
    const created = await createCsvCampaign(
      t,
      [5, 6, 7, 8].map((i) => `+${uk(500 + i)},N${i},5%`),
    );
    const id = created.json.id;
    await t.api('POST', `/v1/campaigns/${id}/start`);
    assert.equal(await feed(t, 2), 2);
    await t.world.setTemplateStatus(t.channel.providerKey, 'welcome_offer', 'en', 'PAUSED');
    await t.settle(1_000);
    await t.parley.campaignSignals.idle();
    const status = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(status.json.state, 'paused');
    assert.equal(status.json.pauseReason, 'template_paused');
    // Resuming while the template is still paused pauses it again instead of failing everyone.
    await t.api('POST', `/v1/campaigns/${id}/resume`);
    assert.equal(await feed(t, 2), 0);
    const again = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(again.json.state, 'paused');
    assert.equal(again.json.pauseReason, 'template_paused');
    assert.equal(again.json.progress.pending, 2);
  });
});

describe('campaigns and the outbound limits', () => {
  let t: TestParley;
  const audience = Array.from({ length: 252 }, (_, i) => uk(10_000 + i));
  before(async () => {
    t = await startTestParley();
    await consent(t, [...audience, uk(20_000), uk(20_001), US_NUMBER]);
  });
  after(async () => t.close());

  it('LIM-3: at the messaging limit a campaign defers, single sends are refused, and the rest goes once the rolling 24 h allow', async () => {
    const limits = await t.api('PATCH', '/v1/limits', { defaultMessagingTier: 250 });
    assert.equal(limits.status, 200, JSON.stringify(limits.json));
    assert.equal(limits.json.defaultMessagingTier, 250);
    const created = await createCsvCampaign(
      t,
      audience.map((p, i) => `+${p},N${i},5%`),
    );
    const id = created.json.id;
    await t.api('POST', `/v1/campaigns/${id}/start`);
    const queued = await runCampaigns(t.parley.deps, { owner: 'test', batchSize: 500 });
    assert.equal(queued, 250);
    const status = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(status.json.state, 'running');
    assert.equal(status.json.deferredUntil, new Date(t.clock.now() + 24 * HOUR).toISOString());
    assert.equal(status.json.progress.pending, 2);

    const single = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: `+${uk(20_000)}`,
      type: 'template',
      template: {
        ...welcome,
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'A' },
              { type: 'text', text: 'B' },
            ],
          },
        ],
      },
    });
    assert.equal(single.status, 422, JSON.stringify(single.json));
    assert.equal(single.json.code, 'messaging_limit');

    await t.clock.advance(23 * HOUR);
    assert.equal(await runCampaigns(t.parley.deps, { owner: 'test' }), 0);
    await t.clock.advance(HOUR);
    assert.equal(await runCampaigns(t.parley.deps, { owner: 'test' }), 2);
    assert.equal(await runCampaigns(t.parley.deps, { owner: 'test' }), 0);
    const done = await t.api('GET', `/v1/campaigns/${id}`);
    assert.equal(done.json.state, 'completed');
    assert.equal(done.json.progress.pending, 0);
  });

  it('LIM-4: with a cap of 1 marketing template per 24 h the second one to a contact is refused', async () => {
    await t.api('PATCH', '/v1/limits', {
      defaultMessagingTier: null,
      marketingCap: { max: 1, windowHours: 24 },
    });
    const send = () =>
      t.api('POST', '/v1/messages', {
        channelId: t.channel.id,
        to: `+${uk(20_001)}`,
        type: 'template',
        template: {
          ...welcome,
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'A' },
                { type: 'text', text: 'B' },
              ],
            },
          ],
        },
      });
    assert.equal((await send()).status, 202);
    const second = await send();
    assert.equal(second.status, 422);
    assert.equal(second.json.code, 'marketing_user_cap');
  });

  it('LIM-5: a single marketing send to a US number is refused with market_blocked', async () => {
    const r = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: `+${US_NUMBER}`,
      type: 'template',
      template: {
        ...welcome,
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'A' },
              { type: 'text', text: 'B' },
            ],
          },
        ],
      },
    });
    assert.equal(r.status, 422, JSON.stringify(r.json));
    assert.equal(r.json.code, 'market_blocked');
  });
});

describe('campaigns to contacts by tag and attribute', () => {
  let t: TestParley;
  const orderUpdate = (name: string) => ({
    name: 'order_update',
    language: { code: 'en' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: name },
          { type: 'text', text: '1042' },
          { type: 'text', text: 'ready' },
        ],
      },
    ],
  });
  before(async () => {
    t = await startTestParley();
    // Writing in opens the care window and records an implied utility opt-in (OPT-4).
    for (const i of [1, 2, 3, 4])
      await t.world.userWrites(t.channel.providerKey, { from: uk(800 + i), text: 'Hi' });
    await t.settle();
    const contacts = await t.api('GET', '/v1/contacts?limit=50');
    for (const c of contacts.json.items as Array<{ id: string; waId: string }>) {
      const i = Number(c.waId.slice(-1));
      const patch = {
        tags: i <= 3 ? ['vip'] : ['regular'],
        attributes: { city: i === 3 ? 'York' : 'Leeds' },
      };
      const r = await t.api('PATCH', `/v1/contacts/${c.id}`, patch);
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
  });
  after(async () => t.close());

  it('selects contacts having every tag and attribute; utility inside the open window is estimated free (PMP-2)', async () => {
    const created = await t.api('POST', '/v1/campaigns', {
      name: 'Leeds VIPs',
      template: orderUpdate('there'),
      audience: { tags: ['vip'], attributes: { city: 'Leeds' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.progress.total, 2);
    assert.equal(created.json.progress.pending, 2);
    const estimate = await t.api('GET', `/v1/campaigns/${created.json.id}/estimate`);
    assert.equal(estimate.json.lines[0].category, 'utility');
    assert.equal(estimate.json.lines[0].free, 2);
    assert.equal(estimate.json.lines[0].billable, 0);
    await t.clock.advance(25 * HOUR); // the windows close: now they would be charged
    const later = await t.api('GET', `/v1/campaigns/${created.json.id}/estimate`);
    assert.equal(later.json.lines[0].free, 0);
    assert.equal(later.json.lines[0].billable, 2);
    await t.api('POST', `/v1/campaigns/${created.json.id}/start`);
    assert.equal(await feed(t), 2);
    const sent = t.world.outbound(t.channel.providerKey).map((o) => o.to);
    assert.deepEqual(sent.sort(), [uk(801), uk(802)]);
  });

  it('LIM-4: a 131049 for a contact holds off their marketing for 24 h', async () => {
    await consent(t, [uk(804)]);
    const marketing = {
      channelId: t.channel.id,
      to: `+${uk(804)}`,
      type: 'template',
      template: {
        ...welcome,
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'A' },
              { type: 'text', text: 'B' },
            ],
          },
        ],
      },
    };
    t.world.chaos({ lateFailures: 1, lateFailureCode: 131049 });
    const first = await t.api('POST', '/v1/messages', marketing);
    assert.equal(first.status, 202, JSON.stringify(first.json));
    await dispatchAll(t);
    await t.settle(5_000);
    await t.parley.campaignSignals.idle();
    const failed = await t.api('GET', `/v1/messages/${first.json.id}`);
    assert.equal(failed.json.status, 'failed', JSON.stringify(failed.json));
    assert.equal(failed.json.reason, 'marketing_user_cap');
    const held = await t.api('POST', '/v1/messages', marketing);
    assert.equal(held.status, 422, JSON.stringify(held.json));
    assert.equal(held.json.code, 'marketing_user_cap');
    await t.clock.advance(24 * HOUR);
    const again = await t.api('POST', '/v1/messages', marketing);
    assert.equal(again.status, 202, JSON.stringify(again.json));
  });
});
