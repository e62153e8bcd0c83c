// The consent ledger as a compliance person uses it: bulk import with evidence (all lines or
// none), records that would not stand up refused, erasure that keeps the proof under a keyed
// hash, and every route scoped to its workspace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createApiKey, createWorkspace } from '../src/app/admin.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';

const HEADER =
  'phone,kind,purpose,channel_id,source,at,text_shown,text_version,business_name,url,ip,user_agent,note';

const welcomeOffer = {
  type: 'template',
  template: {
    name: 'welcome_offer',
    language: { code: 'en' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Sofia' },
          { type: 'text', text: '15%' },
        ],
      },
    ],
  },
};

async function importCsv(t: TestParley, csv: string, key = t.apiKey) {
  const response = await t.parley.http.inject({
    method: 'POST',
    url: '/v1/consent/import',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
    payload: csv,
  });
  return { status: response.statusCode, json: JSON.parse(response.body) };
}

describe('consent import, erasure and tenancy', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('OPT-2: a CSV with a bad line imports nothing and names every bad line', async () => {
    const before = snapshotStore(t);
    const bad = await importCsv(
      t,
      [
        HEADER,
        '+447700900301,opt_in,marketing,,web_form,2026-02-01T10:00:00Z,"Yes, offers please",v1,Parley Demo Shop,https://shop.example.com,198.51.100.1,curl/8,',
        '+447700900302,opt_in,marketing,,web_form,2026-02-01T10:00:00Z,,v1,Parley Demo Shop,,,,',
        'not-a-phone,opt_out,all,,import,2026-02-01T10:00:00Z,,,,,,,',
        '+447700900303,opt_in,marketing,,web_form,2027-01-01T00:00:00Z,"Yes",v1,Parley Demo Shop,,,,',
      ].join('\n'),
    );
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.equal(bad.json.code, 'invalid_request');
    assert.deepEqual(
      bad.json.problems.map((p: { line: number }) => p.line),
      [3, 4, 5],
    );
    assert.match(bad.json.problems[0].problem, /text_shown/);
    assert.match(bad.json.problems[1].problem, /not an E\.164 phone number/);
    assert.match(bad.json.problems[2].problem, /in the future/);
    assert.deepEqual(snapshotStore(t), before, describeChanges(before, snapshotStore(t)));
  });

  it('OPT-2/OPT-7: imported opt-ins with evidence count for sends; importing the same file again changes nothing', async () => {
    const csv = [
      HEADER,
      `+447700900301,opt_in,marketing,,web_form,2026-02-01T10:00:00Z,"Yes, offers please",v1,Parley Demo Shop,https://shop.example.com,198.51.100.1,curl/8,`,
      `+447700900301,opt_in,utility,${t.channel.id},checkbox,2026-02-01T10:00:00Z,Order updates on WhatsApp,v1,Parley Demo Shop,,,,`,
      `+447700900304,opt_out,all,,import,2026-02-02T10:00:00Z,,,,,,,"from the old CRM"`,
    ].join('\r\n');
    const first = await importCsv(t, csv);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.deepEqual(first.json, { imported: 3, unchanged: 0, contacts: 2 });
    const again = await importCsv(t, csv);
    assert.deepEqual(again.json, { imported: 0, unchanged: 3, contacts: 2 });

    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: '447700900301',
      ...welcomeOffer,
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    const refused = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: '447700900304',
      ...welcomeOffer,
    });
    assert.equal(refused.json.code, 'opted_out');
    await t.settle(15_000);

    const exported = await t.api('GET', '/v1/consent/export?format=json&contact=447700900301');
    const rows = exported.json.events as Array<Record<string, string>>;
    assert.deepEqual(rows.map((r) => r.source).sort(), ['checkbox', 'web_form']);
    const form = rows.find((r) => r.source === 'web_form');
    assert.equal(form?.ip, '198.51.100.1');
    assert.equal(form?.text_shown, 'Yes, offers please');
    assert.match(form?.recorded_by ?? '', /^import by api-key:/);
    assert.equal(rows.find((r) => r.source === 'checkbox')?.channel_id, t.channel.id);
  });

  it('OPT-1: signals Parley records itself, and dates in the future, cannot be recorded through the API', async () => {
    const contact = (await t.api('GET', '/v1/contacts?search=447700900301')).json.items[0];
    const signal = await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_out',
      purpose: 'marketing',
      source: 'user_preferences',
    });
    assert.equal(signal.status, 400);
    assert.match(signal.json.detail, /recorded by Parley/);
    const future = await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_out',
      purpose: 'marketing',
      at: '2030-01-01T00:00:00Z',
    });
    assert.equal(future.status, 400);
    const unknownChannel = await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_out',
      purpose: 'marketing',
      channelId: 'no-such-channel',
    });
    assert.equal(unknownChannel.status, 404);
  });

  it('erasure: personal data and message content go, the ledger keeps its proof under a keyed hash, and a STOP still holds', async () => {
    const waId = '447700900305';
    await t.world.userWrites(t.channel.providerKey, {
      from: waId,
      name: 'Grace Hopper',
      text: 'My address is 1 Main Street, please update it',
    });
    await t.settle();
    await t.clock.advance(1_000);
    const contact = (await t.api('GET', `/v1/contacts?search=${waId}`)).json.items[0];
    await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_in',
      purpose: 'marketing',
      source: 'web_form',
      evidence: {
        text: 'Offers on WhatsApp',
        businessName: 'Parley Demo Shop',
        ip: '203.0.113.9',
        userAgent: 'Firefox',
      },
    });
    const reply = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: waId,
      type: 'text',
      text: { body: 'Thanks Grace, updated to 1 Main Street.' },
    });
    assert.equal(reply.status, 202);
    await t.settle(15_000);
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'STOP' });
    await t.settle(15_000);
    // A photo they sent, already copied to Parley's blob store.
    const { deps } = t.parley;
    const inbound = (await t.api('GET', `/v1/conversations?contact=${contact.id}`)).json.items[0];
    const first = (await t.api('GET', `/v1/conversations/${inbound.id}/messages`)).json.items[0];
    const photo = await deps.store.providerRecords.media.create({
      workspaceId: t.channel.workspaceId,
      messageId: first.id,
      channelId: t.channel.id,
      providerMediaId: 'media-of-grace',
      mimeType: 'image/jpeg',
      filename: 'passport.jpg',
      createdAt: t.clock.now(),
    });
    assert.equal(photo.inserted, true);
    const blobKey = `media/${photo.record.id}.jpg`;
    await deps.blobs.put(blobKey, Buffer.from(`photo of ${waId}`), 'image/jpeg');
    await deps.store.providerRecords.media.update(
      photo.record.id,
      { state: 'stored', blobKey, size: 24, storedAt: t.clock.now() },
      t.clock.now(),
    );
    const download = () =>
      t.parley.http.inject({
        method: 'GET',
        url: `/v1/media/${photo.record.id}`,
        headers: { authorization: `Bearer ${t.apiKey}` },
      });
    assert.equal((await download()).statusCode, 200);

    const erased = await t.api('POST', `/v1/contacts/${contact.id}/erase`);
    assert.equal(erased.status, 200, JSON.stringify(erased.json));
    assert.equal(erased.json.alreadyErased, false);
    assert.equal(erased.json.consentEvents, 3);
    assert.ok(erased.json.messages >= 4, JSON.stringify(erased.json));
    assert.ok(erased.json.webhooks >= 2, 'the raw webhooks that carried their messages');
    assert.equal(erased.json.media, 1);
    assert.ok(erased.json.usageEvents >= 2, `cost-ledger rows renamed: ${erased.json.usageEvents}`);
    assert.equal(erased.json.mediaFilesLeft, 0);

    assert.equal(await deps.blobs.get(blobKey), null, 'the file itself is gone');
    const media = await download();
    assert.equal(media.statusCode, 410, media.body);
    assert.equal(media.headers['content-type'], 'application/problem+json; charset=utf-8');
    const row = await deps.store.providerRecords.media.get(photo.record.id);
    assert.equal(row?.state, 'erased');
    assert.equal(row?.filename, null);
    assert.equal(
      await deps.store.providerRecords.media.update(
        photo.record.id,
        { state: 'stored', blobKey },
        t.clock.now(),
      ),
      null,
      'a download finishing late cannot bring the file back',
    );

    const after = await t.api('GET', `/v1/contacts/${contact.id}`);
    assert.match(after.json.waId, /^erased:[0-9a-f]{64}$/);
    assert.equal(after.json.name, null);
    const conversations = await t.api('GET', `/v1/conversations?contact=${contact.id}`);
    for (const c of conversations.json.items) {
      const transcript = await t.api('GET', `/v1/conversations/${c.id}/messages`);
      for (const m of transcript.json.items) {
        assert.equal(m.text, null);
        assert.deepEqual(m.content, { erased: true });
      }
    }
    const db = new Database(t.parley.config.sqliteFile, { readonly: true, fileMustExist: true });
    try {
      const tables = db
        .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
        .pluck()
        .all() as string[];
      assert.ok(tables.includes('billing_usage') && tables.includes('media'));
      for (const table of tables) {
        const rows = db.prepare(`select * from "${table}"`).all() as Record<string, unknown>[];
        const leaks = rows.filter((row) =>
          Object.values(row).some((v) =>
            Buffer.isBuffer(v) ? v.includes(waId) : String(v).includes(waId),
          ),
        );
        assert.equal(leaks.length, 0, `${table} still holds the number: ${JSON.stringify(leaks)}`);
      }
    } finally {
      db.close();
    }

    const proof = await t.api('GET', `/v1/consent/export?format=json&contact=%2B${waId}`);
    const events = proof.json.events as Array<Record<string, string>>;
    assert.deepEqual(
      events.map((e) => [e.kind, e.purpose, e.source]),
      [
        ['opt_in', 'utility', 'inbound_message'],
        ['opt_in', 'marketing', 'web_form'],
        ['opt_out', 'all', 'inbound_message'],
      ],
    );
    for (const e of events) {
      assert.match(e.contact ?? '', /^hash:[0-9a-f]{64}$/);
      assert.ok(!JSON.stringify(e).includes(waId), 'the number is gone from the ledger');
    }
    assert.equal(events[1]?.text_shown, 'Offers on WhatsApp', 'what was agreed to stays');
    assert.match(events[1]?.ip ?? '', /^hash:/);
    assert.match(events[1]?.user_agent ?? '', /^hash:/);
    assert.equal(events[2]?.keyword, 'STOP');

    const again = await t.api('POST', `/v1/contacts/${contact.id}/erase`);
    assert.equal(again.json.alreadyErased, true);

    // The person writes again: a new contact, but their opt-out still holds.
    await t.world.userWrites(t.channel.providerKey, { from: waId, text: 'Hello again' });
    await t.settle();
    const marketing = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: waId,
      ...welcomeOffer,
    });
    assert.equal(marketing.json.code, 'opted_out');
  });

  it('tenancy: another workspace’s key sees none of this workspace’s consent, templates or contacts', async () => {
    const workspace = await createWorkspace(t.parley.deps, 'Beta Ltd');
    const { key } = await createApiKey(t.parley.deps, workspace.id, 'Beta admin');
    const as = { authorization: `Bearer ${key}` };
    const contact = (await t.api('GET', '/v1/contacts?search=447700900301')).json.items[0];
    const template = (await t.api('GET', '/v1/templates?name=order_update&language=en')).json
      .items[0];
    for (const [method, url, body] of [
      ['GET', `/v1/contacts/${contact.id}/consent`, undefined],
      ['POST', `/v1/contacts/${contact.id}/consent`, { kind: 'opt_out', purpose: 'all' }],
      ['POST', `/v1/contacts/${contact.id}/erase`, undefined],
      ['GET', `/v1/templates/${template.id}`, undefined],
      ['PATCH', `/v1/templates/${template.id}`, { category: 'MARKETING' }],
      ['DELETE', `/v1/templates/${template.id}`, undefined],
      ['POST', `/v1/templates/${template.id}/preview`, {}],
      ['POST', `/v1/templates/${template.id}/submit`, {}],
      [
        'POST',
        '/v1/notifications',
        {
          to: '447700900301',
          channelId: t.channel.id,
          template: { name: 'order_update', language: { code: 'en' } },
        },
      ],
    ] as const) {
      const r = await t.api(method, url, body, as);
      assert.equal(r.status, 404, `${method} ${url}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.code, 'not_found');
    }
    const exported = await t.api('GET', '/v1/consent/export?format=json', undefined, as);
    assert.deepEqual(exported.json.events, []);
    const byPhone = await t.api(
      'GET',
      '/v1/consent/export?format=json&contact=447700900301',
      undefined,
      as,
    );
    assert.deepEqual(byPhone.json.events, []);
    assert.deepEqual((await t.api('GET', '/v1/templates', undefined, as)).json.items, []);
    const policy = await t.api('PATCH', '/v1/consent/policy', { policy: 'strict' }, as);
    assert.equal(policy.json.policy, 'strict');
    assert.equal((await t.api('GET', '/v1/consent/policy')).json.policy, 'standard');
  });
});
