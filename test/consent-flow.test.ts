// Consent as a new user meets it through the API and the sandbox: a marketing template is
// refused without opt-in, sent after an opt-in with evidence, refused again after STOP (with one
// confirmation), and the export shows every event with its evidence.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CUSTOMER = '447700900123';

const welcomeOffer = (name = 'Sofia', discount = '15%') => ({
  type: 'template',
  template: {
    name: 'welcome_offer',
    language: { code: 'en' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: name },
          { type: 'text', text: discount },
        ],
      },
    ],
  },
});

const orderUpdate = (status = 'out for delivery') => ({
  type: 'template',
  template: {
    name: 'order_update',
    language: { code: 'en' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Ada' },
          { type: 'text', text: '1042' },
          { type: 'text', text: status },
        ],
      },
    ],
  },
});

const OPT_IN = {
  kind: 'opt_in',
  purpose: 'marketing',
  source: 'web_form',
  recordedBy: 'signup-service',
  evidence: {
    text: 'Yes, send me offers from Parley Demo Shop on WhatsApp. Reply STOP to unsubscribe.',
    textVersion: 'signup-v3',
    businessName: 'Parley Demo Shop',
    url: 'https://shop.example.com/signup',
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  },
};

async function contactId(t: TestParley, waId: string): Promise<string> {
  const contacts = await t.api('GET', `/v1/contacts?search=${waId}`);
  const found = contacts.json.items.find((c: { waId: string }) => c.waId === waId);
  assert.ok(found, `contact ${waId} exists`);
  return found.id;
}

async function transcriptTexts(t: TestParley, waId: string): Promise<string[]> {
  const list = await t.api('GET', `/v1/conversations?contact=${await contactId(t, waId)}`);
  const texts: string[] = [];
  for (const c of list.json.items) {
    const transcript = await t.api('GET', `/v1/conversations/${c.id}/messages`);
    texts.push(...transcript.json.items.map((m: { text: string }) => m.text));
  }
  return texts;
}

describe('consent through the API, as a new user meets it', () => {
  let t: TestParley;
  let id = '';
  before(async () => {
    t = await startTestParley();
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, name: 'Sofia', text: 'Hi!' });
    await t.settle();
    id = await contactId(t, CUSTOMER);
  });
  after(async () => t.close());

  const send = (content: Record<string, unknown>, to = CUSTOMER) =>
    t.api('POST', '/v1/messages', { channelId: t.channel.id, to, ...content });

  it('OPT-7: a marketing template to a contact without opt-in is refused with not_opted_in naming the scope', async () => {
    const refused = await send(welcomeOffer());
    assert.equal(refused.status, 422, JSON.stringify(refused.json));
    assert.equal(refused.json.code, 'not_opted_in');
    assert.match(refused.json.detail, new RegExp(`marketing on channel ${t.channel.id}`));
    assert.match(refused.json.detail, /marketing always needs an explicit opt-in/);
    const stored = await t.api('GET', `/v1/messages/${refused.json.messageId}`);
    assert.equal(stored.json.status, 'refused');
    assert.equal(stored.json.reason, 'not_opted_in');
    assert.equal(t.world.outbound(t.channel.providerKey).length, 0, 'nothing reached WhatsApp');
  });

  it('OPT-4: the same contact may get a utility template: writing in implied a utility opt-in at that number', async () => {
    const sent = await send(orderUpdate());
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    await t.settle(15_000);
  });

  it('OPT-2: an opt-in without the text shown or the business name is refused, and nothing is recorded', async () => {
    const bare = await t.api('POST', `/v1/contacts/${id}/consent`, {
      kind: 'opt_in',
      purpose: 'marketing',
    });
    assert.equal(bare.status, 400);
    assert.equal(bare.json.code, 'invalid_request');
    assert.match(bare.json.detail, /evidence\.text/);
    const noName = await t.api('POST', `/v1/contacts/${id}/consent`, {
      kind: 'opt_in',
      purpose: 'marketing',
      evidence: { text: OPT_IN.evidence.text },
    });
    assert.equal(noName.status, 400);
    assert.match(noName.json.detail, /businessName/);
    const ledger = await t.api('GET', `/v1/contacts/${id}/consent`);
    assert.deepEqual(
      ledger.json.events.map((e: { kind: string; implied: boolean }) => [e.kind, e.implied]),
      [['opt_in', true]],
    );
  });

  it('OPT-2/OPT-7: after recording an opt-in with evidence the marketing template is sent, rendered (TPL-12)', async () => {
    const recorded = await t.api('POST', `/v1/contacts/${id}/consent`, OPT_IN);
    assert.equal(recorded.status, 201, JSON.stringify(recorded.json));
    assert.equal(recorded.json.source, 'web_form');
    assert.equal(recorded.json.reach, 'workspace');
    assert.match(recorded.json.recordedBy, /^signup-service via api-key:/);
    assert.deepEqual(recorded.json.evidence, OPT_IN.evidence);

    const sent = await send(welcomeOffer());
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(
      sent.json.text,
      [
        'Welcome to Parley Demo Shop, Sofia! Enjoy 15% off your first order this week.',
        'Reply STOP to opt out',
        '[Shop now]',
        '[Stop promotions]',
      ].join('\n'),
    );
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.ok(['delivered', 'read'].includes(message.json.status), message.json.status);
  });

  it('OPT-5/OPT-6: after the contact writes STOP the template is refused again and one confirmation was sent', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: ' Stop! ' });
    await t.settle(15_000);
    const refused = await send(welcomeOffer());
    assert.equal(refused.status, 422);
    assert.equal(refused.json.code, 'opted_out');
    assert.match(refused.json.detail, /all purposes workspace-wide/);
    assert.match(refused.json.detail, /keyword "STOP"/);
    const utility = await send(orderUpdate('delayed'));
    assert.equal(utility.json.code, 'opted_out', 'STOP covers every purpose');

    const confirmations = t.world
      .outbound(t.channel.providerKey)
      .filter((o) => o.to === CUSTOMER && o.type === 'text');
    assert.equal(confirmations.length, 1);
    const texts = await transcriptTexts(t, CUSTOMER);
    assert.ok(
      texts.includes(
        'You will no longer receive messages from Parley Demo Shop on WhatsApp. Reply START to subscribe again.',
      ),
      texts.join(' | '),
    );
  });

  it('OPT-8: the export shows all three events with their evidence, as CSV and JSON', async () => {
    const json = await t.api('GET', `/v1/consent/export?format=json&contact=${CUSTOMER}`);
    assert.equal(json.status, 200);
    const events = json.json.events as Array<Record<string, string>>;
    assert.deepEqual(
      events.map((e) => [e.kind, e.purpose, e.reach, e.source, e.implied]),
      [
        ['opt_in', 'utility', 'channel', 'inbound_message', 'true'],
        ['opt_in', 'marketing', 'workspace', 'web_form', 'false'],
        ['opt_out', 'all', 'workspace', 'inbound_message', 'false'],
      ],
    );
    const [implied, optIn, stop] = events;
    assert.match(implied?.message_id ?? '', /^wamid\./);
    assert.equal(optIn?.text_shown, OPT_IN.evidence.text);
    assert.equal(optIn?.text_version, 'signup-v3');
    assert.equal(optIn?.business_name, 'Parley Demo Shop');
    assert.equal(optIn?.url, 'https://shop.example.com/signup');
    assert.equal(optIn?.ip, '203.0.113.7');
    assert.equal(optIn?.user_agent, 'Mozilla/5.0 (X11; Linux x86_64)');
    assert.match(optIn?.recorded_by ?? '', /signup-service/);
    assert.equal(stop?.keyword, 'STOP');
    assert.match(stop?.message_id ?? '', /^wamid\./);
    assert.equal(stop?.received_on, t.channel.id);

    const raw = await t.parley.http.inject({
      method: 'GET',
      url: `/v1/consent/export?format=csv&contact=%2B${CUSTOMER}`,
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
    assert.equal(raw.statusCode, 200);
    assert.match(String(raw.headers['content-type']), /^text\/csv/);
    const rows = raw.body.trim().split('\r\n');
    assert.equal(rows.length, 4, raw.body);
    assert.match(rows[0] ?? '', /^event_id,contact,at,kind,purpose,reach,channel_id,source/);
    assert.match(
      rows[2] ?? '',
      /"Yes, send me offers from Parley Demo Shop on WhatsApp\. Reply STOP/,
    );
  });

  it('OPT-6: writing STOP again records it but sends no second confirmation', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'STOP' });
    await t.settle(15_000);
    const confirmations = t.world
      .outbound(t.channel.providerKey)
      .filter((o) => o.to === CUSTOMER && o.type === 'text');
    assert.equal(confirmations.length, 1);
  });

  it('OPT-5: START restores what the stops removed, so the earlier marketing opt-in counts again', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'start' });
    await t.settle();
    const sent = await send(welcomeOffer('Sofia', '20%'));
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    const ledger = await t.api('GET', `/v1/contacts/${id}/consent`);
    const last = ledger.json.events.at(-1);
    assert.equal(last.kind, 'opt_in');
    assert.equal(last.restores.length, 2, 'both keyword stops are reversed');
  });

  it('OPT-7: the eligibility endpoint reports consent per purpose', async () => {
    const e = await t.api('GET', `/v1/contacts/${id}/eligibility?channel=${t.channel.id}`);
    assert.equal(e.status, 200);
    assert.equal(e.json.consent.marketing.state, 'opted_in');
    assert.equal(e.json.consent.marketing.basis, 'explicit');
    assert.equal(e.json.consent.marketing.allowed, true);
    assert.equal(e.json.consent.utility.allowed, true);
    assert.equal(e.json.consent.authentication.decidedBy, 'utility');

    const stranger = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: '4915112345678',
      ...orderUpdate(),
    });
    assert.equal(stranger.json.code, 'not_opted_in');
    const strangerId = await contactId(t, '4915112345678');
    const none = await t.api(
      'GET',
      `/v1/contacts/${strangerId}/eligibility?channel=${t.channel.id}`,
    );
    assert.equal(none.json.consent.utility.state, 'none');
    assert.equal(none.json.consent.utility.allowed, false);
    assert.equal(none.json.consent.utility.reason, 'not_opted_in');
    assert.match(none.json.consent.utility.detail, /neither opted in nor written/);
  });
});

describe('consent signals from providers and the queue', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  async function optedInContact(waId: string): Promise<string> {
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'Hello' });
    await t.settle();
    const id = await contactId(t, waId);
    const r = await t.api('POST', `/v1/contacts/${id}/consent`, OPT_IN);
    assert.equal(r.status, 201);
    return id;
  }

  const send = (to: string, content: Record<string, unknown>) =>
    t.api('POST', '/v1/messages', { channelId: t.channel.id, to, ...content });

  it('OPT-5: a user_preferences "stop" webhook opts the contact out of marketing only; "resume" restores it', async () => {
    const waId = '447700900201';
    await optedInContact(waId);
    await t.world.userStopsMarketing(t.channel.providerKey, waId);
    await t.settle();
    const marketing = await send(waId, welcomeOffer());
    assert.equal(marketing.json.code, 'opted_out');
    assert.match(marketing.json.detail, /marketing workspace-wide .*source user_preferences/);
    const utility = await send(waId, orderUpdate());
    assert.equal(utility.status, 202, 'utility follows its own scope');
    await t.settle(15_000);

    await t.world.userResumesMarketing(t.channel.providerKey, waId);
    await t.settle();
    const again = await send(waId, welcomeOffer());
    assert.equal(again.status, 202, JSON.stringify(again.json));
    await t.settle(15_000);
  });

  it('OPT-5: a send that fails with 131050 records a marketing opt-out, and the next marketing send is refused locally', async () => {
    const waId = '447700900202';
    await optedInContact(waId);
    t.world.chaos({ lateFailures: 1, lateFailureCode: 131050 });
    const first = await send(waId, welcomeOffer());
    assert.equal(first.status, 202);
    await t.settle(15_000);
    await t.parley.consentSignals.idle();
    const failed = await t.api('GET', `/v1/messages/${first.json.id}`);
    assert.equal(failed.json.status, 'failed');
    assert.equal(failed.json.providerError.code, 131050);
    const next = await send(waId, welcomeOffer());
    assert.equal(next.status, 422);
    assert.equal(next.json.code, 'opted_out');
    assert.match(next.json.detail, /source provider_error/);
    const ledger = await t.api('GET', `/v1/contacts/${await contactId(t, waId)}/consent`);
    const stops = ledger.json.events.filter((e: { kind: string }) => e.kind === 'opt_out');
    assert.equal(stops.length, 1);
    const [stop] = stops;
    assert.equal(stop.source, 'provider_error');
    assert.equal(stop.purpose, 'marketing');
    assert.equal(stop.evidence.messageId, failed.json.providerMessageId);
  });

  it('OPT-7: a template queued before a STOP arrives fails at dispatch with opted_out and never reaches WhatsApp', async () => {
    const waId = '447700900203';
    await optedInContact(waId);
    const queued = await send(waId, welcomeOffer());
    assert.equal(queued.status, 202);
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'UNSUBSCRIBE' });
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${queued.json.id}`);
    assert.equal(message.json.status, 'failed');
    assert.equal(message.json.reason, 'opted_out');
    assert.equal(
      t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === queued.json.id)
        .length,
      0,
    );
  });

  it('OPT-5: keywords match the whole message only, and a workspace can add its own words', async () => {
    const waId = '447700900204';
    await optedInContact(waId);
    await t.world.userWrites(t.channel.providerKey, {
      from: waId,
      text: 'please stop the delivery',
    });
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'Cancel' });
    await t.settle();
    assert.equal((await send(waId, welcomeOffer())).status, 202, 'neither is a default keyword');

    const policy = await t.api('PATCH', '/v1/consent/policy', {
      keywords: [{ language: 'en', stop: ['CANCEL'] }],
    });
    assert.equal(policy.status, 200);
    assert.deepEqual(policy.json.keywords, [{ language: 'en', stop: ['CANCEL'], start: [] }]);
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'cancel' });
    await t.settle();
    assert.equal((await send(waId, welcomeOffer())).json.code, 'opted_out');
    await t.api('PATCH', '/v1/consent/policy', { keywords: [] });
  });

  it('OPT-4: strict needs an explicit opt-in for every template; permissive sends with a warning', async () => {
    const waId = '447700900205';
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'Where is my parcel?' });
    await t.settle();
    const strict = await t.api('PATCH', '/v1/consent/policy', { policy: 'strict' });
    assert.equal(strict.json.policy, 'strict');
    const refused = await send(waId, orderUpdate());
    assert.equal(refused.json.code, 'not_opted_in');
    assert.match(refused.json.detail, /strict policy/);

    await t.api('PATCH', '/v1/consent/policy', { policy: 'permissive' });
    const warned = await send(waId, welcomeOffer());
    assert.equal(warned.status, 202);
    assert.match(warned.json.reasonDetail, /permissive consent policy/);

    await t.api('PATCH', '/v1/consent/policy', { policy: 'standard' });
    assert.equal((await send(waId, orderUpdate())).status, 202);
  });

  it('OPT-4: the implied utility opt-in lapses 30 days after the contact last wrote', async () => {
    const waId = '447700900206';
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'Thanks' });
    await t.settle();
    await t.clock.advance(30 * DAY - HOUR);
    assert.equal((await send(waId, orderUpdate())).status, 202);
    await t.clock.advance(2 * HOUR);
    const lapsed = await send(waId, orderUpdate());
    assert.equal(lapsed.json.code, 'not_opted_in');
    assert.match(lapsed.json.detail, /has lapsed/);
  });

  it('OPT-7: an unknown template (no local definition) is checked as utility under standard and as marketing under strict', async () => {
    const waId = '447700900207';
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'Hi' });
    await t.settle();
    const unknown = {
      type: 'template',
      template: { name: 'not_synced', language: { code: 'en' } },
    };
    assert.equal((await send(waId, unknown)).status, 202);
    await t.api('PATCH', '/v1/consent/policy', { policy: 'strict' });
    const strict = await send(waId, unknown);
    assert.equal(strict.json.code, 'not_opted_in');
    assert.match(
      strict.json.detail,
      /no local definition .* checked as marketing under the strict policy/,
    );
    await t.api('PATCH', '/v1/consent/policy', { policy: 'standard' });
  });
});
