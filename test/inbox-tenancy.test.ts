// Tenancy of the inbox: an agent session of workspace B can neither read nor change anything of
// workspace A, route by route, and B's live stream never carries A's events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { agentClient, type AgentClient } from './helpers/agent-session.ts';

describe('inbox tenancy', () => {
  let t: TestParley;
  let a: AgentClient;
  let aAdmin: AgentClient;
  let b: AgentClient;
  let bAdmin: AgentClient;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestParley();
    a = await agentClient(t);
    aAdmin = await agentClient(t, { role: 'admin' });
    const other = await t.parley.deps.store.workspaces.create({ name: 'Workspace B' });
    b = await agentClient(t, { workspaceId: other.id });
    bAdmin = await agentClient(t, { workspaceId: other.id, role: 'admin' });
    await t.world.userWrites(t.channel.providerKey, { from: '447700900031', text: 'Hi A' });
    await t.settle();
    const row = (await a.call('GET', '/v1/conversations')).json.items[0];
    ids.conversation = row.id;
    ids.contact = row.contactId;
    ids.department = (await aAdmin.call('POST', '/v1/departments', { name: 'A team' })).json.id;
    ids.canned = (
      await a.call('POST', '/v1/canned-responses', { shortcut: 'hi', text: 'Hello from A' })
    ).json.id;
    ids.parked = (
      await a.call('POST', `/v1/conversations/${ids.conversation}/park`, { text: 'Held in A' })
    ).json.id;
  });
  after(async () => t.close());

  it("B's session lists none of A's conversations, agents, departments or canned responses", async () => {
    assert.deepEqual((await b.call('GET', '/v1/conversations')).json.items, []);
    assert.deepEqual(
      (await b.call('GET', '/v1/agents')).json.items.map((x: { id: string }) => x.id).sort(),
      [b.agentId, bAdmin.agentId].sort(),
    );
    assert.deepEqual((await b.call('GET', '/v1/departments')).json.items, []);
    assert.deepEqual((await b.call('GET', '/v1/canned-responses')).json.items, []);
    const report = await b.call('GET', '/v1/reports/response-times?from=0&to=9999999999999');
    assert.deepEqual(report.json.agents, []);
  });

  it("every route on one of A's records answers 404 to B, and nothing of A changes", async () => {
    const c = ids.conversation;
    const routes: Array<
      [
        client: AgentClient,
        method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
        url: string,
        body?: unknown,
      ]
    > = [
      [b, 'GET', `/v1/conversations/${c}`],
      [b, 'GET', `/v1/conversations/${c}/messages`],
      [b, 'POST', `/v1/conversations/${c}/assign`, { agentId: b.agentId }],
      [b, 'POST', `/v1/conversations/${c}/close`],
      [b, 'POST', `/v1/conversations/${c}/reopen`],
      [b, 'POST', `/v1/conversations/${c}/snooze`, { until: t.clock.now() + 3_600_000 }],
      [b, 'PUT', `/v1/conversations/${c}/labels`, { labels: ['b'] }],
      [b, 'POST', `/v1/conversations/${c}/read`],
      [b, 'POST', `/v1/conversations/${c}/notes`, { text: 'from B' }],
      [b, 'POST', `/v1/conversations/${c}/park`, { text: 'from B' }],
      [b, 'DELETE', `/v1/parked-replies/${ids.parked}`],
      [b, 'PATCH', `/v1/canned-responses/${ids.canned}`, { text: 'B was here' }],
      [b, 'DELETE', `/v1/canned-responses/${ids.canned}`],
      [b, 'GET', `/v1/contacts/${ids.contact}`],
      [b, 'PATCH', `/v1/contacts/${ids.contact}`, { tags: ['b'] }],
      [b, 'GET', `/v1/agents/${a.agentId}`],
      [bAdmin, 'PATCH', `/v1/agents/${a.agentId}`, { name: 'B was here' }],
      [bAdmin, 'DELETE', `/v1/agents/${a.agentId}`],
      [b, 'GET', `/v1/departments/${ids.department}`],
      [bAdmin, 'PATCH', `/v1/departments/${ids.department}`, { name: 'B was here' }],
      [bAdmin, 'DELETE', `/v1/departments/${ids.department}`],
    ];
    for (const [client, method, url, body] of routes) {
      const r = await client.call(method, url, body);
      assert.equal(r.status, 404, `${method} ${url} → ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(r.json.code, 'not_found');
    }
    const row = (await a.call('GET', `/v1/conversations/${c}`)).json;
    assert.equal(row.status, 'open');
    assert.equal(row.assignee, null);
    assert.deepEqual(row.labels, []);
    assert.equal(row.parkedReplies.length, 1);
    const transcript = (await a.call('GET', `/v1/conversations/${c}/messages`)).json.items;
    assert.equal(transcript.length, 1, 'no note from B');
    assert.equal((await a.call('GET', '/v1/canned-responses')).json.items[0].text, 'Hello from A');
    assert.equal((await a.call('GET', `/v1/agents/${a.agentId}`)).status, 200);
    assert.equal((await a.call('GET', `/v1/departments/${ids.department}`)).json.name, 'A team');
  });

  it("A's conversation cannot be assigned to B's agent or department", async () => {
    const bDept = (await bAdmin.call('POST', '/v1/departments', { name: 'B team' })).json.id;
    const toAgent = await a.call('POST', `/v1/conversations/${ids.conversation}/assign`, {
      agentId: b.agentId,
    });
    assert.equal(toAgent.status, 400);
    const toDept = await a.call('POST', `/v1/conversations/${ids.conversation}/assign`, {
      departmentId: bDept,
    });
    assert.equal(toDept.status, 400);
    const invite = await aAdmin.call('POST', '/v1/agents/invites', {
      email: 'x@example.test',
      name: 'X',
      departmentIds: [bDept],
    });
    assert.equal(invite.status, 400);
  });

  it("an upload from A's session needs the CSRF token, and B can neither read it nor upload to A's channel", async () => {
    const upload = (client: AgentClient, csrf: boolean) =>
      t.parley.http.inject({
        method: 'POST',
        url: `/v1/media?channelId=${t.channel.id}`,
        headers: {
          cookie: client.cookie,
          'content-type': 'application/pdf',
          'x-filename': encodeURIComponent('menu A.pdf'),
          ...(csrf ? { 'x-csrf-token': client.csrfToken } : {}),
        },
        payload: Buffer.from('%PDF-1.4 A only'),
      });
    assert.equal((await upload(a, false)).statusCode, 403, 'no CSRF token, no upload');
    const uploaded = await upload(a, true);
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    const { id, type, filename } = JSON.parse(uploaded.body) as Record<string, string>;
    assert.deepEqual({ type, filename }, { type: 'document', filename: 'menu A.pdf' });
    const mine = await t.parley.http.inject({
      method: 'GET',
      url: `/v1/media/${id}`,
      headers: { cookie: a.cookie },
    });
    assert.equal(mine.statusCode, 200);
    assert.equal(mine.body, '%PDF-1.4 A only');
    const theirs = await b.call('GET', `/v1/media/${id}`);
    assert.equal(theirs.status, 404);
    assert.equal(theirs.json.code, 'not_found');
    const intoA = await upload(b, true);
    assert.equal(intoA.statusCode, 404, intoA.body);
  });
});
