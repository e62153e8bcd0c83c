// Account health over HTTP: an expired token on a send, quality and account notices, template
// pauses → health events per connection and number (published as `account.health`), and the
// on-demand check that says what to fix.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey, createWorkspace } from '../src/app/admin.ts';
import { diagnose } from '../src/app/doctor.ts';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { postSigned, processAcknowledged } from './helpers/meta-webhooks.ts';
import { assertProblem, rawRequest } from './helpers/http-assert.ts';
import {
  EXPIRED_TOKEN,
  envelope,
  fakeMetaConnection,
  inboundBody,
  type FakeMeta,
} from './helpers/fake-provider-connections.ts';

const MINUTE = 60_000;
let serial = 0;

describe('account health', () => {
  let t: TestParley;
  let meta: FakeMeta;
  let published: DomainEvent[];
  before(async () => {
    t = await startTestParley();
    meta = await fakeMetaConnection(t, { phoneNumber: '+15550783881' });
    t.parley.deps.events.subscribe((e) => published.push(e));
  });
  beforeEach(() => {
    published = [];
  });
  afterEach(() => meta.fake.reset());
  after(async () => {
    await meta.fake.close();
    await t.close();
  });

  async function deliver(body: string): Promise<void> {
    const response = await postSigned(t, meta.connectionId, body, meta.appSecret);
    assert.equal(response.status, 200, response.text);
    await processAcknowledged(t);
  }

  async function health(path: string): Promise<any[]> {
    const response = await t.api('GET', path);
    assert.equal(response.status, 200, JSON.stringify(response.json));
    return response.json.items;
  }

  it('auth: an expired token (190) on a send becomes one critical event per quarter hour, with the fix, on the bus', async () => {
    const customer = '447700900601';
    await deliver(
      inboundBody(meta, {
        from: customer,
        id: `wamid.H${String(++serial)}`,
        at: t.clock.now(),
        type: 'text',
        text: { body: 'Hi' },
      }),
    );
    meta.fake.on('POST', /\/messages$/, EXPIRED_TOKEN);
    for (const body of ['first', 'second']) {
      const sent = await t.api('POST', '/v1/messages', {
        channelId: meta.channelId,
        to: customer,
        type: 'text',
        text: { body },
      });
      assert.equal(sent.status, 202);
      await t.parley.dispatcher.runOnce();
      await t.clock.advance(1_000); // LIM-1: the channel is paced smoothly
      const message = (await t.api('GET', `/v1/messages/${String(sent.json.id)}`)).json;
      assert.equal(message.status, 'failed');
      assert.equal(message.reason, 'auth');
    }
    await t.parley.accountHealth.idle();

    const events = await health(`/v1/connections/${meta.connectionId}/health`);
    const auth = events.filter((e) => e.kind === 'auth_failed');
    assert.equal(auth.length, 1, 'two failures within minutes are one event');
    assert.equal(auth[0].severity, 'critical');
    assert.equal(auth[0].code, '190');
    assert.equal(auth[0].channelId, meta.channelId);
    assert.match(auth[0].detail, /expired or revoked token/);
    assert.match(auth[0].fix, /PATCH \/v1\/connections/);
    const onBus = published.filter((e) => e.type === 'account.health');
    assert.equal(onBus.length, 1);
    assert.equal(onBus[0]!.data.kind, 'auth_failed');
    assert.equal(onBus[0]!.workspaceId, t.channel.workspaceId);

    await t.clock.advance(20 * MINUTE);
    const later = await t.api('POST', '/v1/messages', {
      channelId: meta.channelId,
      to: customer,
      type: 'text',
      text: { body: 'later' },
    });
    assert.equal(later.status, 202);
    await t.parley.dispatcher.runOnce();
    await t.parley.accountHealth.idle();
    const again = (await health(`/v1/connections/${meta.connectionId}/health`)).filter(
      (e) => e.kind === 'auth_failed',
    );
    assert.equal(again.length, 2, 'still failing a quarter hour later: a new event');
  });

  it('phone_number_quality_update: FLAGGED is a warning on the number it names; a re-delivery records nothing new', async () => {
    const body = envelope(
      meta.wabaId,
      'phone_number_quality_update',
      {
        display_phone_number: '15550783881',
        event: 'FLAGGED',
        current_limit: 'TIER_1K',
      },
      t.clock.now(),
    );
    await deliver(body);
    await deliver(body);
    const events = (await health(`/v1/channels/${meta.channelId}/health`)).filter(
      (e) => e.kind === 'phone_quality',
    );
    assert.equal(events.length, 1);
    assert.equal(events[0].severity, 'warning');
    assert.equal(events[0].code, 'FLAGGED');
    assert.match(events[0].detail, /\+15550783881: quality event FLAGGED; messaging limit TIER_1K/);
    assert.match(events[0].fix, /opted-in/);
    assert.equal(events[0].data.field, 'phone_number_quality_update');
    assert.equal(published.filter((e) => e.type === 'account.health').length, 1);
  });

  it('account_update: an account-wide event shows on the connection and on each of its numbers', async () => {
    await deliver(
      envelope(
        meta.wabaId,
        'account_update',
        {
          event: 'ACCOUNT_VIOLATION',
          violation_info: { violation_type: 'SCAM' },
        },
        t.clock.now(),
      ),
    );
    await deliver(
      envelope(
        meta.wabaId,
        'account_update',
        {
          event: 'VOLUME_BASED_PRICING_TIER_UPDATE',
          volume_tier_info: { tier: '1:2', pricing_category: 'UTILITY', region: 'India' },
        },
        t.clock.now() + 1_000,
      ),
    );
    const byConnection = await health(`/v1/connections/${meta.connectionId}/health`);
    const violation = byConnection.find((e) => e.code === 'ACCOUNT_VIOLATION');
    assert.ok(violation);
    assert.equal(violation.kind, 'account_restricted');
    assert.equal(violation.severity, 'critical');
    assert.equal(violation.channelId, null);
    assert.match(violation.fix, /Account quality/);
    const tier = byConnection.find((e) => e.code === 'VOLUME_BASED_PRICING_TIER_UPDATE');
    assert.equal(tier?.kind, 'account_update');
    assert.equal(tier?.severity, 'info');
    const byNumber = await health(`/v1/channels/${meta.channelId}/health`);
    assert.ok(byNumber.some((e) => e.code === 'ACCOUNT_VIOLATION'));
  });

  it('TPL-8: template quality RED and a PAUSED status are recorded against the number', async () => {
    await deliver(
      envelope(
        meta.wabaId,
        'message_template_quality_update',
        {
          previous_quality_score: 'GREEN',
          new_quality_score: 'RED',
          message_template_id: 1689556908129835,
          message_template_name: 'abandoned_cart',
          message_template_language: 'en',
        },
        t.clock.now(),
      ),
    );
    await deliver(
      envelope(
        meta.wabaId,
        'message_template_status_update',
        {
          event: 'PAUSED',
          message_template_id: 1689556908129835,
          message_template_name: 'abandoned_cart',
          message_template_language: 'en',
          reason: 'NONE',
        },
        t.clock.now() + 1_000,
      ),
    );
    const events = await health(`/v1/channels/${meta.channelId}/health`);
    const quality = events.find((e) => e.kind === 'template_quality');
    assert.equal(quality?.severity, 'warning');
    assert.match(quality?.detail ?? '', /abandoned_cart \(en\) quality GREEN → RED/);
    const paused = events.find((e) => e.kind === 'template_paused');
    assert.equal(paused?.code, 'PAUSED');
    assert.match(paused?.fix ?? '', /3 h/);
  });

  it('an approved template or a marketing preference is no health event', async () => {
    const before = (await health(`/v1/connections/${meta.connectionId}/health`)).length;
    await deliver(
      envelope(
        meta.wabaId,
        'message_template_status_update',
        {
          event: 'APPROVED',
          message_template_id: 1,
          message_template_name: 'welcome',
          message_template_language: 'en',
          reason: 'NONE',
        },
        t.clock.now(),
      ),
    );
    assert.equal((await health(`/v1/connections/${meta.connectionId}/health`)).length, before);
  });

  it('pages newest first with a cursor; bad paging input is a 400', async () => {
    const first = await t.api('GET', `/v1/connections/${meta.connectionId}/health?limit=2`);
    assert.equal(first.json.items.length, 2);
    assert.ok(first.json.nextCursor);
    const second = await t.api(
      'GET',
      `/v1/connections/${meta.connectionId}/health?limit=2&cursor=${String(first.json.nextCursor)}`,
    );
    const ids = [...first.json.items, ...second.json.items].map((e: any) => e.id);
    assert.equal(new Set(ids).size, ids.length);
    const times = [...first.json.items, ...second.json.items].map((e: any) => e.at);
    assert.deepEqual(times, [...times].sort().reverse());
    assertProblem(
      await rawRequest(t, {
        method: 'GET',
        url: `/v1/connections/${meta.connectionId}/health?limit=0`,
      }),
      400,
      'validation_failed',
    );
    assertProblem(
      await rawRequest(t, {
        method: 'GET',
        url: `/v1/connections/${meta.connectionId}/health?cursor=nope`,
      }),
      400,
      'invalid_request',
    );
  });

  it('tenancy: another workspace gets 404 for the health, check and registration of these', async () => {
    const other = await createWorkspace(t.parley.deps, 'Health Other');
    const { key } = await createApiKey(t.parley.deps, other.id, 'other');
    for (const [method, url] of [
      ['GET', `/v1/connections/${meta.connectionId}/health`],
      ['GET', `/v1/channels/${meta.channelId}/health`],
      ['GET', `/v1/connections/${meta.connectionId}/check`],
      ['POST', `/v1/connections/${meta.connectionId}/register-webhook`],
    ] as const)
      assertProblem(await rawRequest(t, { method, url, auth: key }), 404, 'not_found');
    assert.equal(meta.fake.requests.length, 0, 'nothing reached the provider');
  });

  it('GET /v1/connections/{id}/check says exactly what to fix when the token expired', async () => {
    meta.fake.on('GET', '/v23.0/debug_token', {
      status: 200,
      body: {
        data: {
          is_valid: false,
          error: { code: 190, message: 'Session has expired on Sunday, 01-Mar-26' },
        },
      },
    });
    const check = await t.api('GET', `/v1/connections/${meta.connectionId}/check`);
    assert.equal(check.status, 200);
    assert.equal(check.json.ok, false);
    const token = check.json.checks.find((c: any) => c.check === 'token');
    assert.equal(token.ok, false);
    assert.equal(token.channelId, meta.channelId);
    assert.match(token.detail, /Session has expired/);
    assert.match(token.fix, /system-user token/);
    assert.ok(!JSON.stringify(check.json).includes(meta.accessToken), 'never echoes the token');
  });

  it('GET /v1/connections/{id}/check on a sandbox connection has nothing remote to check', async () => {
    const check = await t.api('GET', `/v1/connections/${t.channel.connectionId}/check`);
    assert.equal(check.status, 200);
    assert.equal(check.json.ok, true);
    assert.equal(check.json.checks[0].check, 'provider');
  });

  it('parley doctor names the last day’s account-health problems with their fix; a replaced token clears the old one', async () => {
    const findings = await diagnose(t.parley.deps, t.parley.config);
    const mine = findings.filter(
      (f) => f.area.includes('Meta (fake)') && f.check.startsWith('account health'),
    );
    const auth = mine.find((f) => f.check === 'account health (auth_failed)');
    assert.ok(auth, JSON.stringify(mine));
    assert.equal(auth.ok, false);
    assert.match(auth.fix ?? '', /PATCH \/v1\/connections/);
    assert.ok(mine.some((f) => f.check === 'account health (phone_quality)'));
    assert.ok(!mine.some((f) => /VOLUME_BASED/.test(f.detail)), 'information is not a problem');

    await t.clock.advance(MINUTE);
    const patched = await t.api('PATCH', `/v1/connections/${meta.connectionId}`, {
      secrets: { accessToken: 'EAAG-fresh-token' },
    });
    assert.equal(patched.status, 200);
    meta.fake.on('GET', '/v23.0/debug_token', {
      status: 200,
      body: {
        data: {
          is_valid: true,
          type: 'SYSTEM_USER',
          expires_at: 0,
          scopes: ['whatsapp_business_messaging', 'whatsapp_business_management'],
        },
      },
    });
    const after = await diagnose(t.parley.deps, t.parley.config);
    assert.ok(
      !after.some(
        (f) => f.area.includes('Meta (fake)') && f.check === 'account health (auth_failed)',
      ),
      'the token was replaced after the failures',
    );

    await t.clock.advance(25 * 60 * MINUTE);
    const dayLater = await diagnose(t.parley.deps, t.parley.config);
    assert.ok(
      !dayLater.some((f) => f.area.includes('Meta (fake)') && f.check.startsWith('account health')),
    );
  });

  it('POST /v1/connections/{id}/register-webhook on a Meta connection explains where Meta takes it', async () => {
    assertProblem(
      await rawRequest(t, {
        method: 'POST',
        url: `/v1/connections/${meta.connectionId}/register-webhook`,
      }),
      409,
      'webhook_registration_unsupported',
      new RegExp(`/webhooks/meta/${meta.connectionId}`),
    );
  });
});
