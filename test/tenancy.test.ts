// Tenancy, route by route: no API key (and no webhook) of one workspace can read or change
// another's data. Every cross-workspace id answers 404 exactly like an id that does not exist,
// lists never show the other's rows, and no response ever carries a connection secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey, createWorkspace } from '../src/app/admin.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import {
  createMetaChannel,
  metaStatusBody,
  metaTextBody,
  postSigned,
  processAcknowledged,
  type MetaSetup,
} from './helpers/meta-webhooks.ts';
import { assertProblem } from './helpers/http-assert.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';

/** The same person writes to both businesses: one contact in each workspace, never shared. */
const CUSTOMER = '447700900123';
const MISSING = '01a1fd76-0000-7000-8000-00000000dead';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface Tenant {
  readonly name: string;
  readonly apiKey: string;
  readonly apiKeyId: string;
  readonly connectionId: string;
  readonly channelId: string;
  readonly contactId: string;
  readonly conversationId: string;
  readonly inboundMessageId: string;
  readonly outboundMessageId: string;
}

describe('tenancy between two workspaces', () => {
  let t: TestParley;
  let a: Tenant;
  let b: Tenant;
  let bMeta: MetaSetup;
  /** Every response body seen in this suite, to prove no secret ever leaves. */
  const seen: string[] = [];

  async function call(tenant: Tenant, method: Method, url: string, body?: unknown) {
    const response = await t.api(method, url, body, { authorization: `Bearer ${tenant.apiKey}` });
    seen.push(JSON.stringify(response.json));
    return response;
  }

  /** A cross-workspace request: 404 not_found, worded as for a missing id, and nothing written. */
  async function notFoundForOther(
    actor: Tenant,
    method: Method,
    url: string,
    victimId: string,
    body?: unknown,
  ) {
    const before = snapshotStore(t);
    const response = await call(actor, method, url, body);
    assertProblem(response, 404, 'not_found');
    assert.deepEqual(snapshotStore(t), before, `${method} ${url} wrote something`);
    // The same request for an id that exists nowhere answers the same words: nothing leaks.
    const swap = (text: string) => text.split(victimId).join(MISSING);
    const missing = await call(
      actor,
      method,
      swap(url),
      body === undefined ? undefined : JSON.parse(swap(JSON.stringify(body))),
    );
    assert.equal(missing.status, 404);
    assert.equal(
      response.json.detail.split(victimId).join('<id>'),
      missing.json.detail.split(MISSING).join('<id>'),
      'another workspace’s id is indistinguishable from a missing one',
    );
  }

  before(async () => {
    t = await startTestParley();
    // Workspace A: the demo workspace with its sandbox channel.
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, name: 'Ada', text: 'Hi A' });
    await t.settle();
    const aKeys = await t.api('GET', '/v1/api-keys');
    const aConversation = (await t.api('GET', '/v1/conversations')).json.items[0];
    const aReply = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'text',
      text: { body: 'Hello from A' },
    });
    assert.equal(aReply.status, 202);
    await t.settle(15_000);
    const aTranscript = await t.api('GET', `/v1/conversations/${aConversation.id}/messages`);
    a = {
      name: 'A',
      apiKey: t.apiKey,
      apiKeyId: aKeys.json.items[0].id,
      connectionId: t.channel.connectionId,
      channelId: t.channel.id,
      contactId: aConversation.contactId,
      conversationId: aConversation.id,
      inboundMessageId: aTranscript.json.items[0].id,
      outboundMessageId: aReply.json.id,
    };

    // Workspace B: made through the app layer with its own key, then set up through the API.
    const workspace = await createWorkspace(t.parley.deps, 'Beta Ltd');
    const bKey = await createApiKey(t.parley.deps, workspace.id, 'Beta admin');
    bMeta = await createMetaChannel(t, {
      providerKey: '2220001',
      phoneNumber: '+15550002222',
      apiKey: bKey.key,
      name: 'Beta Meta',
    });
    const auth = { authorization: `Bearer ${bKey.key}` };
    // A test channel whose allow-list keeps B's sends local (refused, stored) instead of calling Meta.
    const patched = await t.api(
      'PATCH',
      `/v1/channels/${bMeta.channelId}`,
      { environment: 'test', allowList: ['+15550009999'] },
      auth,
    );
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    const inbound = await postSigned(
      t,
      bMeta.connectionId,
      metaTextBody({
        phoneNumberId: '2220001',
        from: CUSTOMER,
        id: 'wamid.beta-1',
        text: 'Hi B',
        at: t.clock.now(),
        name: 'Ada',
      }),
      bMeta.appSecret,
    );
    assert.equal(inbound.status, 200);
    await processAcknowledged(t);
    const bConversation = (await t.api('GET', '/v1/conversations', undefined, auth)).json.items[0];
    const bTranscript = await t.api(
      'GET',
      `/v1/conversations/${bConversation.id}/messages`,
      undefined,
      auth,
    );
    const bReply = await t.api(
      'POST',
      '/v1/messages',
      { channelId: bMeta.channelId, to: CUSTOMER, type: 'text', text: { body: 'Hello from B' } },
      auth,
    );
    assert.equal(bReply.json.code, 'recipient_not_allowed');
    b = {
      name: 'B',
      apiKey: bKey.key,
      apiKeyId: bKey.record.id,
      connectionId: bMeta.connectionId,
      channelId: bMeta.channelId,
      contactId: bConversation.contactId,
      conversationId: bConversation.id,
      inboundMessageId: bTranscript.json.items[0].id,
      outboundMessageId: bReply.json.messageId,
    };
    assert.notEqual(a.contactId, b.contactId, 'one contact per workspace for the same number');
  });
  after(async () => t.close());

  for (const [actorName, victimName] of [
    ['A', 'B'],
    ['B', 'A'],
  ] as const) {
    const pair = () => (actorName === 'A' ? { actor: a, victim: b } : { actor: b, victim: a });

    describe(`${actorName}'s key on ${victimName}'s data`, () => {
      it('connections: get and patch (name, secrets) answer 404; the list leaves them out', async () => {
        const { actor, victim } = pair();
        const id = victim.connectionId;
        await notFoundForOther(actor, 'GET', `/v1/connections/${id}`, id);
        await notFoundForOther(actor, 'PATCH', `/v1/connections/${id}`, id, { name: 'Mine now' });
        await notFoundForOther(actor, 'PATCH', `/v1/connections/${id}`, id, {
          secrets: { appSecret: 'attacker-chosen', accessToken: 'attacker-token' },
        });
        const list = await call(actor, 'GET', '/v1/connections');
        const ids = list.json.items.map((c: { id: string }) => c.id);
        assert.ok(ids.includes(actor.connectionId));
        assert.ok(!ids.includes(id));
      });

      it('channels: get and patch answer 404, a channel on their connection cannot be added, the list leaves them out', async () => {
        const { actor, victim } = pair();
        const id = victim.channelId;
        await notFoundForOther(actor, 'GET', `/v1/channels/${id}`, id);
        await notFoundForOther(actor, 'PATCH', `/v1/channels/${id}`, id, { throughputMps: 1 });
        await notFoundForOther(actor, 'POST', '/v1/channels', victim.connectionId, {
          connectionId: victim.connectionId,
          name: 'Hijack',
          providerKey: '9990001',
          phoneNumber: '+15550003333',
        });
        const list = await call(actor, 'GET', '/v1/channels');
        const ids = list.json.items.map((c: { id: string }) => c.id);
        assert.ok(ids.includes(actor.channelId));
        assert.ok(!ids.includes(id));
      });

      it('contacts: get answers 404; list and search show only their own contact for the same number', async () => {
        const { actor, victim } = pair();
        await notFoundForOther(actor, 'GET', `/v1/contacts/${victim.contactId}`, victim.contactId);
        const list = await call(actor, 'GET', '/v1/contacts');
        assert.deepEqual(
          list.json.items.map((c: { id: string }) => c.id),
          [actor.contactId],
        );
        const search = await call(actor, 'GET', `/v1/contacts?search=${CUSTOMER}`);
        assert.deepEqual(
          search.json.items.map((c: { id: string }) => c.id),
          [actor.contactId],
        );
      });

      it('eligibility: their contact, their channel, or a mix of both answers 404', async () => {
        const { actor, victim } = pair();
        const url = (contact: string, channel: string) =>
          `/v1/contacts/${contact}/eligibility?channel=${channel}`;
        await notFoundForOther(
          actor,
          'GET',
          url(victim.contactId, victim.channelId),
          victim.contactId,
        );
        await notFoundForOther(
          actor,
          'GET',
          url(victim.contactId, actor.channelId),
          victim.contactId,
        );
        await notFoundForOther(
          actor,
          'GET',
          url(actor.contactId, victim.channelId),
          victim.channelId,
        );
        const own = await call(actor, 'GET', url(actor.contactId, actor.channelId));
        assert.equal(own.status, 200);
      });

      it('conversations: get, patch and transcript answer 404; filters by their channel or contact find nothing', async () => {
        const { actor, victim } = pair();
        const id = victim.conversationId;
        await notFoundForOther(actor, 'GET', `/v1/conversations/${id}`, id);
        await notFoundForOther(actor, 'PATCH', `/v1/conversations/${id}`, id, {
          state: 'closed',
          assigneeId: 'agent-of-the-other-side',
        });
        await notFoundForOther(actor, 'GET', `/v1/conversations/${id}/messages`, id);
        const list = await call(actor, 'GET', '/v1/conversations');
        assert.deepEqual(
          list.json.items.map((c: { id: string }) => c.id),
          [actor.conversationId],
        );
        for (const filter of [`channel=${victim.channelId}`, `contact=${victim.contactId}`]) {
          const filtered = await call(actor, 'GET', `/v1/conversations?${filter}`);
          assert.equal(filtered.status, 200);
          assert.deepEqual(filtered.json.items, [], filter);
        }
        const victimView = await call(victim, 'GET', `/v1/conversations/${id}`);
        assert.equal(victimView.json.state, 'open', 'their conversation is untouched');
        assert.equal(victimView.json.assigneeId, null);
      });

      it('messages: get answers 404 for inbound and outbound; sending from their channel is 404 and writes nothing', async () => {
        const { actor, victim } = pair();
        for (const id of [victim.inboundMessageId, victim.outboundMessageId])
          await notFoundForOther(actor, 'GET', `/v1/messages/${id}`, id);
        await notFoundForOther(actor, 'POST', '/v1/messages', victim.channelId, {
          channelId: victim.channelId,
          to: CUSTOMER,
          type: 'text',
          text: { body: 'Sent through someone else’s number' },
        });
      });

      it('messages: quoting their message is refused exactly like quoting a missing one', async () => {
        const { actor, victim } = pair();
        const body = (replyTo: string) => ({
          channelId: actor.channelId,
          to: CUSTOMER,
          type: 'text',
          text: { body: 'Quoting' },
          replyTo,
        });
        const before = snapshotStore(t);
        const theirs = await call(actor, 'POST', '/v1/messages', body(victim.inboundMessageId));
        assertProblem(theirs, 400, 'invalid_request', /not a delivered message of this workspace/);
        assert.deepEqual(snapshotStore(t), before);
        const missing = await call(actor, 'POST', '/v1/messages', body(MISSING));
        assert.equal(
          theirs.json.detail.replace(victim.inboundMessageId, '<id>'),
          missing.json.detail.replace(MISSING, '<id>'),
        );
      });

      it('API keys: the list shows only their own; revoking theirs answers 404 and the key keeps working', async () => {
        const { actor, victim } = pair();
        const list = await call(actor, 'GET', '/v1/api-keys');
        const ids = list.json.items.map((k: { id: string }) => k.id);
        assert.ok(ids.includes(actor.apiKeyId));
        assert.ok(!ids.includes(victim.apiKeyId));
        await notFoundForOther(actor, 'DELETE', `/v1/api-keys/${victim.apiKeyId}`, victim.apiKeyId);
        const stillWorks = await call(victim, 'GET', '/v1/api-keys');
        assert.equal(stillWorks.status, 200);
      });
    });
  }

  it('LIM-7: an Idempotency-Key belongs to one workspace; the same key elsewhere is a new request', async () => {
    const sentA = await t.api(
      'POST',
      '/v1/messages',
      { channelId: a.channelId, to: CUSTOMER, type: 'text', text: { body: 'Keyed A' } },
      { 'idempotency-key': 'order-1042' },
    );
    assert.equal(sentA.status, 202);
    const sentB = await t.api(
      'POST',
      '/v1/messages',
      { channelId: b.channelId, to: CUSTOMER, type: 'text', text: { body: 'Keyed B' } },
      { authorization: `Bearer ${b.apiKey}`, 'idempotency-key': 'order-1042' },
    );
    assert.notEqual(sentB.status, 409, 'not a conflict with A’s use of the key');
    assert.equal(sentB.headers['idempotent-replayed'], undefined, 'not a replay of A’s message');
    assert.notEqual(sentB.json.messageId, sentA.json.id);
    const fetched = await call(b, 'GET', `/v1/messages/${sentB.json.messageId}`);
    assert.equal(fetched.json.channelId, b.channelId);
  });

  describe('webhooks of one workspace', () => {
    it("a webhook on B's connection naming A's number never reaches A's channel", async () => {
      await t.settle(15_000); // let earlier sends finish, so only this webhook can change things
      const aBefore = await t.api('GET', '/v1/conversations');
      const before = snapshotStore(t);
      const body = metaTextBody({
        phoneNumberId: t.channel.providerKey,
        from: '15550006666',
        id: 'wamid.crossover',
        text: 'Routed by a stranger',
        at: t.clock.now(),
      });
      const response = await postSigned(t, b.connectionId, body, bMeta.appSecret);
      assert.equal(response.status, 200);
      await processAcknowledged(t);
      const stored = await t.parley.deps.store.webhooks.get(response.json.id);
      assert.equal(stored?.state, 'unrouted');
      const after = snapshotStore(t);
      for (const [table, state] of Object.entries(after))
        if (table !== 'webhooks')
          assert.deepEqual(state, before[table], describeChanges(before, after));
      assert.deepEqual((await t.api('GET', '/v1/conversations')).json, aBefore.json);
    });

    it('the same phone number id in both workspaces: each connection feeds only its own workspace', async () => {
      // A registers the very number id B uses, on a Meta connection of its own.
      const aMeta = await createMetaChannel(t, {
        providerKey: '2220001',
        phoneNumber: '+15550002222',
      });
      const body = metaTextBody({
        phoneNumberId: '2220001',
        from: '4915112345678',
        id: 'wamid.beta-only',
        text: 'For Beta only',
        at: t.clock.now(),
      });
      assert.equal((await postSigned(t, b.connectionId, body, bMeta.appSecret)).status, 200);
      await processAcknowledged(t);
      const bList = await call(b, 'GET', `/v1/conversations?channel=${b.channelId}`);
      assert.equal(bList.json.items.length, 2);
      const aList = await call(a, 'GET', `/v1/conversations?channel=${aMeta.channelId}`);
      assert.deepEqual(aList.json.items, []);
      // And B's signature means nothing on A's connection.
      const forged = await postSigned(t, aMeta.connectionId, body, bMeta.appSecret);
      assertProblem(forged, 401, 'bad_signature');
    });

    it("a status on B's connection naming A's sent message (id and callback data) changes nothing of A's", async () => {
      const aMessage = await call(a, 'GET', `/v1/messages/${a.outboundMessageId}`);
      assert.match(aMessage.json.providerMessageId, /^wamid\./);
      const body = metaStatusBody({
        phoneNumberId: '2220001',
        id: aMessage.json.providerMessageId,
        status: 'failed',
        recipient: CUSTOMER,
        at: t.clock.now(),
        callbackData: a.outboundMessageId,
      });
      assert.equal((await postSigned(t, b.connectionId, body, bMeta.appSecret)).status, 200);
      await processAcknowledged(t);
      const after = await call(a, 'GET', `/v1/messages/${a.outboundMessageId}`);
      assert.deepEqual(after.json, aMessage.json);
    });
  });

  it('no response in this suite carried a connection secret, and connections show only which secrets are set', async () => {
    const own = await call(b, 'GET', `/v1/connections/${b.connectionId}`);
    assert.deepEqual(own.json.secretsSet, ['accessToken', 'appSecret', 'verifyToken']);
    const rotated = await call(b, 'PATCH', `/v1/connections/${b.connectionId}`, {
      secrets: { accessToken: 'EAAG-rotated-token-0001' },
    });
    assert.equal(rotated.status, 200);
    const refused = await call(b, 'POST', '/v1/connections', {
      provider: 'meta',
      name: 'Half configured',
      secrets: { appSecret: 'half-configured-app-secret' },
    });
    assertProblem(refused, 400, 'invalid_request', /needs secrets: accessToken, verifyToken/);
    const sandboxSecrets = t.parley.deps.secretBox.open(
      (await t.parley.deps.store.connections.get(a.connectionId))!.secretsEncrypted,
    );
    const secrets = [
      bMeta.accessToken,
      bMeta.appSecret,
      bMeta.verifyToken,
      'EAAG-rotated-token-0001',
      'half-configured-app-secret',
      'attacker-chosen',
      'attacker-token',
      ...Object.values(sandboxSecrets),
    ].filter((s) => s.length >= 8);
    assert.ok(secrets.length >= 7);
    for (const body of seen)
      for (const secret of secrets)
        assert.ok(!body.includes(secret), `a response carried a secret: ${body.slice(0, 200)}`);
    // The API keys of the other workspace never appear either (only their display prefix).
    for (const body of seen) {
      assert.ok(!body.includes(a.apiKey));
      assert.ok(!body.includes(b.apiKey));
    }
  });
});
