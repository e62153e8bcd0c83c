// Meta webhooks through the real HTTP ingress: verified over the exact bytes, stored before they
// are acknowledged, processed into contacts, conversations and messages; bad ones leave no trace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import {
  NEEDS_FIXTURES,
  SHARED_FIXTURES,
  createMetaChannel,
  metaStatusBody,
  metaTextBody,
  postSigned,
  postWebhook,
  processAcknowledged,
  signMeta,
  type MetaSetup,
} from './helpers/meta-webhooks.ts';
import { assertProblem, rawRequest } from './helpers/http-assert.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';

const META_DIR = join(SHARED_FIXTURES, 'meta');
const fixtureFiles = NEEDS_FIXTURES
  ? []
  : readdirSync(META_DIR)
      .filter((f) => f.startsWith('pywa__') && f.endsWith('.json'))
      .sort();

type Json = Record<string, any>;

/** The first change of a Cloud API webhook envelope. */
function firstChange(doc: Json): { entryId: string; field: string; value: Json } {
  const entry = doc.entry[0];
  const change = entry.changes[0];
  return { entryId: String(entry.id), field: change.field, value: change.value };
}

/** What a transcript shows for an inbound message, read from the payload as PROVIDERS.md B.4 describes it. */
function expectedText(m: Json): string {
  const body = m[m.type] ?? {};
  switch (m.type) {
    case 'text':
      return body.body;
    case 'button':
      return body.text;
    case 'interactive':
      return (body.button_reply ?? body.list_reply).title;
    case 'reaction':
      return body.emoji;
    case 'location':
      return body.name ?? `📍 ${body.latitude}, ${body.longitude}`;
    default:
      return body.caption ?? `[${m.type}]`;
  }
}

/** What each fixture proves, in its test's name. */
function fixtureTestName(file: string): string {
  if (NEEDS_FIXTURES) return 'every pywa fixture ends as the right records';
  const { field, value } = firstChange(
    JSON.parse(readFileSync(join(META_DIR, file), 'utf8')) as Json,
  );
  if (value.messages)
    return `CSW-1: ${file} is stored before the 200 and becomes contact, conversation and message`;
  if (value.statuses)
    return `STA-2: ${file} (a message Parley never sent) is acknowledged and harmless`;
  return `${file} (${field}) is acknowledged and reaches the channel it names`;
}

describe('Meta webhook ingress over HTTP', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  /** A request that must be refused without a single row stored. */
  async function refusedWithoutWrites(
    request: () => Promise<{ status: number; json: any; headers: Record<string, unknown> }>,
    status: number,
    code: string,
    detail?: RegExp,
  ) {
    const before = snapshotStore(t);
    const response = await request();
    assertProblem(response, status, code, detail);
    await processAcknowledged(t);
    const after = snapshotStore(t);
    assert.deepEqual(after, before, `a refused webhook wrote: ${describeChanges(before, after)}`);
  }

  describe('every pywa fixture, signed with the app secret', () => {
    for (const file of fixtureFiles.length ? fixtureFiles : ['(fixtures absent)']) {
      it(fixtureTestName(file), { skip: NEEDS_FIXTURES }, async () => {
        const raw = readFileSync(join(META_DIR, file));
        const doc = JSON.parse(raw.toString('utf8')) as Json;
        const { entryId, field, value } = firstChange(doc);
        const phoneNumberId: string = value.metadata?.phone_number_id ?? `pn-${file}`;
        // One connection per fixture: several fixtures reuse the same wamid on the same number.
        const meta = await createMetaChannel(t, { providerKey: phoneNumberId, wabaId: entryId });
        let template: { name: string; language: string } | null = null;
        if (field === 'message_template_status_update') {
          template = {
            name: value.message_template_name,
            language: value.message_template_language,
          };
          await t.parley.deps.store.templates.upsert({
            workspaceId: t.channel.workspaceId,
            channelId: meta.channelId,
            name: template.name,
            language: template.language,
            category: 'UTILITY',
            status: 'PENDING',
            parameterFormat: 'positional',
            components: [],
            providerTemplateId: String(value.message_template_id),
            at: t.clock.now(),
          });
        }
        const before = snapshotStore(t);

        const response = await postSigned(t, meta.connectionId, raw, meta.appSecret);
        assert.equal(response.status, 200, response.text);
        assert.equal(response.json.received, true);
        // Acknowledged only once stored: the exact bytes are already in the store.
        const stored = await t.parley.deps.store.webhooks.get(response.json.id);
        assert.ok(stored, 'stored before the acknowledgement');
        assert.ok(stored.body.equals(raw), 'the raw bytes are kept as received');
        await processAcknowledged(t);
        const processed = await t.parley.deps.store.webhooks.get(response.json.id);
        assert.equal(processed?.state, 'processed', processed?.error ?? '');

        const conversations = await t.api('GET', `/v1/conversations?channel=${meta.channelId}`);
        const messages: Json[] = value.messages ?? [];
        if (messages.length > 0) {
          const m = messages[0]!;
          assert.equal(conversations.json.items.length, 1, 'threaded into one conversation');
          const conversation = conversations.json.items[0];
          assert.equal(conversation.state, 'open');
          assert.equal(conversation.contact.waId, m.from);
          assert.equal(conversation.contact.name, value.contacts?.[0]?.profile?.name ?? null);
          const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
          assert.equal(transcript.json.items.length, 1);
          const message = transcript.json.items[0];
          assert.equal(message.direction, 'inbound');
          assert.equal(message.type, m.type);
          assert.equal(message.providerMessageId, m.id);
          assert.equal(message.text, expectedText(m));
          assert.equal(message.createdAt, new Date(Number(m.timestamp) * 1000).toISOString());
          if (m.context) assert.deepEqual(message.content.context, m.context);
          if (m.referral) assert.deepEqual(message.content.referral, m.referral);
          if (m.type === 'text') {
            // CSW-1: the window restarts at the message's own time, not at arrival.
            const eligibility = await t.api(
              'GET',
              `/v1/contacts/${conversation.contact.id}/eligibility?channel=${meta.channelId}`,
            );
            assert.equal(eligibility.json.lastInboundAt, message.createdAt);
          }
        } else {
          // Statuses for messages Parley never sent, template and preference notices: no
          // contact, conversation or message appears; only the webhook log grows (and a
          // template's new status, with its template.status event for subscribers).
          assert.equal(conversations.json.items.length, 0);
          const after = snapshotStore(t);
          const changed = describeChanges(before, after);
          const touched = [
            'webhooks',
            ...(template ? ['templates', 'template_lifecycle', 'outbound_events'] : []),
          ];
          for (const [table, state] of Object.entries(after))
            if (!touched.includes(table))
              assert.deepEqual(state, before[table], `${table} changed: ${changed}`);
        }
        if (template) {
          const updated = await t.parley.deps.store.templates.find(
            t.channel.workspaceId,
            template.name,
            template.language,
            meta.channelId,
          );
          assert.equal(updated?.status, value.event, 'the template status follows the notice');
        }
      });
    }
  });

  describe('signatures (X-Hub-Signature-256 over the exact bytes)', () => {
    let vectors: {
      app_secret: string;
      vectors: Array<{ raw_body: string; x_hub_signature_256: string }>;
    };
    let meta: MetaSetup;
    before(async () => {
      if (NEEDS_FIXTURES) return;
      vectors = JSON.parse(
        readFileSync(join(META_DIR, 'synthetic__x_hub_signature_256_vectors.json'), 'utf8'),
      );
      meta = await createMetaChannel(t, {
        providerKey: '1122334455667',
        appSecret: vectors.app_secret,
      });
      const second = await t.api('POST', '/v1/channels', {
        connectionId: meta.connectionId,
        name: 'Second number',
        providerKey: '123456123',
        phoneNumber: '+16505551111',
      });
      assert.equal(second.status, 201);
    });

    it(
      'the signature test vectors pass through the endpoint with app secret test_app_secret',
      { skip: NEEDS_FIXTURES },
      async () => {
        for (const vector of vectors.vectors) {
          const response = await postWebhook(
            t,
            `/webhooks/meta/${meta.connectionId}`,
            vector.raw_body,
            {
              'x-hub-signature-256': vector.x_hub_signature_256,
            },
          );
          assert.equal(response.status, 200, response.text);
        }
        await processAcknowledged(t);
        const list = await t.api('GET', '/v1/conversations?limit=200');
        const texts: string[] = [];
        for (const c of list.json.items) {
          const transcript = await t.api('GET', `/v1/conversations/${c.id}/messages`);
          texts.push(...transcript.json.items.map((m: { text: string }) => m.text));
        }
        assert.ok(texts.includes('Body Text'));
        assert.ok(
          texts.includes("J'ai mangé 😀"),
          'the \\u escapes arrive as the text the user wrote',
        );
      },
    );

    it(
      'a tampered body with the original signature is 401 bad_signature and stores nothing',
      { skip: NEEDS_FIXTURES },
      async () => {
        const vector = vectors.vectors[0]!;
        await refusedWithoutWrites(
          () =>
            postWebhook(
              t,
              `/webhooks/meta/${meta.connectionId}`,
              vector.raw_body.replace('Body Text', 'Body Texx'),
              {
                'x-hub-signature-256': vector.x_hub_signature_256,
              },
            ),
          401,
          'bad_signature',
          /does not match the body/,
        );
      },
    );

    it(
      'the same JSON re-serialised (unescaped UTF-8) no longer matches: bytes, not values, are signed',
      { skip: NEEDS_FIXTURES },
      async () => {
        const vector = vectors.vectors[1]!;
        const reserialised = JSON.stringify(JSON.parse(vector.raw_body));
        assert.notEqual(reserialised, vector.raw_body);
        await refusedWithoutWrites(
          () =>
            postWebhook(t, `/webhooks/meta/${meta.connectionId}`, reserialised, {
              'x-hub-signature-256': vector.x_hub_signature_256,
            }),
          401,
          'bad_signature',
        );
      },
    );

    it('a body signed with another secret is 401 and stores nothing', async () => {
      const setup = await createMetaChannel(t, { providerKey: '5550001' });
      const body = metaTextBody({
        phoneNumberId: '5550001',
        from: '447700900001',
        id: 'wamid.forged',
        text: 'Forged',
        at: t.clock.now(),
      });
      await refusedWithoutWrites(
        () => postSigned(t, setup.connectionId, body, 'not-the-app-secret'),
        401,
        'bad_signature',
        /does not match the body/,
      );
    });

    it('no signature header is 401 and stores nothing', async () => {
      const setup = await createMetaChannel(t, { providerKey: '5550002' });
      const body = metaTextBody({
        phoneNumberId: '5550002',
        from: '447700900002',
        id: 'wamid.unsigned',
        text: 'Unsigned',
        at: t.clock.now(),
      });
      await refusedWithoutWrites(
        () => postWebhook(t, `/webhooks/meta/${setup.connectionId}`, body),
        401,
        'bad_signature',
        /missing X-Hub-Signature-256/,
      );
    });

    it('a malformed signature header is 401 and says what shape is expected', async () => {
      const setup = await createMetaChannel(t, { providerKey: '5550003' });
      const body = metaTextBody({
        phoneNumberId: '5550003',
        from: '447700900003',
        id: 'wamid.sha1',
        text: 'Old style',
        at: t.clock.now(),
      });
      const sha1 = signMeta(body, setup.appSecret).replace('sha256=', 'sha1=');
      await refusedWithoutWrites(
        () =>
          postWebhook(t, `/webhooks/meta/${setup.connectionId}`, body, {
            'x-hub-signature-256': sha1,
          }),
        401,
        'bad_signature',
        /expected "sha256=" and 64 hex digits/,
      );
    });
  });

  describe('routing and framing', () => {
    let meta: MetaSetup;
    const NUMBER = '106540352242922';
    before(async () => {
      meta = await createMetaChannel(t, { providerKey: NUMBER });
    });
    const text = (id: string, body: string, from = '447700900123') =>
      metaTextBody({ phoneNumberId: NUMBER, from, id, text: body, at: t.clock.now(), name: 'Ada' });

    it('an unknown connection id is 404 unknown_connection and stores nothing', async () => {
      const body = text('wamid.lost', 'Lost');
      await refusedWithoutWrites(
        () => postSigned(t, '01a1fd76-0000-7000-8000-000000000000', body, meta.appSecret),
        404,
        'unknown_connection',
        /No meta connection 01a1fd76-0000-7000-8000-000000000000/,
      );
      // A connection that exists but is not a 360dialog one is unknown on the 360dialog path.
      await refusedWithoutWrites(
        () =>
          postWebhook(t, `/webhooks/360dialog/${meta.connectionId}`, body, {
            'x-hub-signature-256': signMeta(body, meta.appSecret),
          }),
        404,
        'unknown_connection',
      );
    });

    it('a signed body for a number with no channel is 200 and kept as unrouted', async () => {
      const unroutedBefore = await t.parley.deps.store.webhooks.countByState('unrouted');
      const contactsBefore = await t.parley.deps.store.contacts.count(t.channel.workspaceId);
      const body = metaTextBody({
        phoneNumberId: '999000999',
        from: '447700900555',
        id: 'wamid.nowhere',
        text: 'Hello?',
        at: t.clock.now(),
      });
      const response = await postSigned(t, meta.connectionId, body, meta.appSecret);
      assert.equal(response.status, 200);
      await processAcknowledged(t);
      assert.equal(await t.parley.deps.store.webhooks.countByState('unrouted'), unroutedBefore + 1);
      const stored = await t.parley.deps.store.webhooks.get(response.json.id);
      assert.equal(stored?.state, 'unrouted');
      assert.match(stored?.error ?? '', /1 event\(s\) for unknown numbers/);
      assert.equal(await t.parley.deps.store.contacts.count(t.channel.workspaceId), contactsBefore);
    });

    it('a signed body that is not JSON is 400 malformed_webhook and stores nothing', async () => {
      for (const body of ['this is not json', '', '{"object":"page","entry":[]}']) {
        await refusedWithoutWrites(
          () => postSigned(t, meta.connectionId, body, meta.appSecret),
          400,
          'malformed_webhook',
          /JSON|empty|whatsapp_business_account/,
        );
      }
    });

    it('a body over the limit is 413 payload_too_large and stores nothing', async () => {
      const limit = t.parley.config.bodyLimit;
      const padded = text('wamid.huge', 'x'.repeat(limit));
      assert.ok(padded.length > limit);
      await refusedWithoutWrites(
        () => postSigned(t, meta.connectionId, padded, meta.appSecret),
        413,
        'payload_too_large',
        new RegExp(`${limit} bytes`),
      );
    });

    it('STA-2: the same webhook delivered twice is acknowledged twice and stored as one message', async () => {
      const body = text('wamid.twice', 'Is my parcel lost?');
      const first = await postSigned(t, meta.connectionId, body, meta.appSecret);
      const second = await postSigned(t, meta.connectionId, body, meta.appSecret);
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      await processAcknowledged(t);
      const list = await t.api('GET', `/v1/conversations?channel=${meta.channelId}`);
      assert.equal(list.json.items.length, 1);
      const transcript = await t.api('GET', `/v1/conversations/${list.json.items[0].id}/messages`);
      assert.deepEqual(
        transcript.json.items.map((m: { providerMessageId: string }) => m.providerMessageId),
        ['wamid.twice'],
      );
      // A third copy, after processing, changes nothing but the webhook log.
      const before = snapshotStore(t);
      assert.equal((await postSigned(t, meta.connectionId, body, meta.appSecret)).status, 200);
      await processAcknowledged(t);
      const after = snapshotStore(t);
      for (const [table, state] of Object.entries(after))
        if (table !== 'webhooks')
          assert.deepEqual(state, before[table], describeChanges(before, after));
    });

    it('STA-2: a status for a message Parley never sent is harmless, even twice', async () => {
      const body = metaStatusBody({
        phoneNumberId: NUMBER,
        id: 'wamid.sent-elsewhere',
        status: 'delivered',
        recipient: '447700900123',
        at: t.clock.now(),
      });
      const before = snapshotStore(t);
      for (let i = 0; i < 2; i++)
        assert.equal((await postSigned(t, meta.connectionId, body, meta.appSecret)).status, 200);
      await processAcknowledged(t);
      const after = snapshotStore(t);
      for (const [table, state] of Object.entries(after))
        if (table !== 'webhooks')
          assert.deepEqual(state, before[table], describeChanges(before, after));
      assert.equal(await t.parley.deps.store.webhooks.countByState('failed'), 0);
    });

    it('CSW-1: a message timestamp beyond any date counts as its arrival time, and every list still answers', async () => {
      const arrival = t.clock.now();
      const body = metaTextBody({
        phoneNumberId: NUMBER,
        from: '447700900777',
        id: 'wamid.far-future',
        text: 'Time traveller',
        at: arrival,
      }).replace(/"timestamp":"\d+"/, '"timestamp":"99999999999999999999"');
      assert.match(body, /99999999999999999999/);
      const response = await postSigned(t, meta.connectionId, body, meta.appSecret);
      assert.equal(response.status, 200);
      await processAcknowledged(t);
      assert.equal((await t.parley.deps.store.webhooks.get(response.json.id))?.state, 'processed');
      for (const url of ['/v1/contacts', '/v1/conversations'])
        assert.equal((await t.api('GET', url)).status, 200, url);
      const list = await t.api('GET', `/v1/conversations?channel=${meta.channelId}`);
      const conversation = list.json.items.find(
        (c: { contact: { waId: string } }) => c.contact.waId === '447700900777',
      );
      const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
      assert.equal(transcript.status, 200);
      assert.equal(transcript.json.items[0].createdAt, new Date(arrival).toISOString());
      assert.equal(conversation.window.closesAt, arrival + 24 * 3_600_000);
    });

    it('a body sent chunked, without Content-Length, is accepted (Meta SDK style)', async () => {
      const address = await t.parley.http.listen({ port: 0, host: '127.0.0.1' });
      const body = Buffer.from(text('wamid.chunked', 'Sent in pieces'));
      const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          `${address}/webhooks/meta/${meta.connectionId}`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-hub-signature-256': signMeta(body, meta.appSecret),
            },
          },
          (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (data += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
          },
        );
        req.on('error', reject);
        // Three writes without a Content-Length: Node sends Transfer-Encoding: chunked.
        req.write(body.subarray(0, 50));
        req.write(body.subarray(50, 120));
        req.end(body.subarray(120));
      });
      assert.equal(response.status, 200, response.text);
      const stored = await t.parley.deps.store.webhooks.get(
        (JSON.parse(response.text) as { id: string }).id,
      );
      assert.equal(stored?.headers['transfer-encoding'], 'chunked');
      assert.equal(stored?.headers['content-length'], undefined);
      assert.ok(stored?.body.equals(body));
      await processAcknowledged(t);
      const list = await t.api('GET', `/v1/conversations?channel=${meta.channelId}`);
      const conversation = list.json.items.find(
        (c: { contact: { waId: string } }) => c.contact.waId === '447700900123',
      );
      const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
      assert.ok(transcript.json.items.some((m: { text: string }) => m.text === 'Sent in pieces'));
    });
  });

  describe('hub.challenge verification (GET, no signature)', () => {
    let meta: MetaSetup;
    let path: string;
    before(async () => {
      // The token and challenge of Meta's own example (fixture synthetic__get_verification).
      meta = await createMetaChannel(t, { providerKey: '7770001', verifyToken: 'meatyhamhock' });
      const connection = await t.api('GET', `/v1/connections/${meta.connectionId}`);
      path = new URL(connection.json.webhookUrl as string).pathname; // the URL Parley shows
    });
    const get = (query: string, url = path) =>
      rawRequest(t, { method: 'GET', url: `${url}?${query}`, auth: null });

    it('answers the challenge with the right token, as plain text', async () => {
      const response = await get(
        'hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock',
      );
      assert.equal(response.status, 200);
      assert.equal(response.text, '1158201444');
      assert.match(String(response.headers['content-type']), /^text\/plain/);
    });

    it('matches the recorded Meta example request', { skip: NEEDS_FIXTURES }, async () => {
      const example = JSON.parse(
        readFileSync(join(META_DIR, 'synthetic__get_verification.json'), 'utf8'),
      );
      const query = new URL((example.request as string).replace(/^GET /, '')).search.slice(1);
      const response = await get(query);
      assert.equal(response.status, example.expected_response.status);
      assert.equal(response.text, example.expected_response.body);
    });

    it('answers 403 verify_token_mismatch for a wrong token, another mode, or missing parts', async () => {
      for (const query of [
        'hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong',
        'hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock',
        'hub.mode=subscribe&hub.verify_token=meatyhamhock',
        'hub.mode=subscribe&hub.challenge=1158201444',
        '',
        // Repeated parameters are ambiguous, never a crash.
        'hub.mode=subscribe&hub.challenge=1&hub.challenge=2&hub.verify_token=meatyhamhock',
        'hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhock&hub.verify_token=meatyhamhock',
      ]) {
        const response = await get(query);
        assertProblem(response, 403, 'verify_token_mismatch', /hub\.verify_token must match/);
        assert.ok(!response.text.includes('meatyhamhock'), 'the token is never echoed');
      }
    });

    it('answers 404 for an unknown connection', async () => {
      assertProblem(
        await get(
          'hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhock',
          '/webhooks/meta/no-such-connection',
        ),
        404,
        'unknown_connection',
      );
    });
  });
});
