// The response-time report on a scripted day: first response and resolution per agent and per
// department (median and p90, nearest rank), for the conversations opened in the range.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { agentClient, type AgentClient } from './helpers/agent-session.ts';

const MINUTE = 60_000;

describe('response-time report', () => {
  let t: TestParley;
  let ann: AgentClient;
  let bob: AgentClient;
  let support: string;

  const at = async (hhmm: string) => {
    const target = Date.parse(`2026-03-02T${hhmm}:00Z`);
    await t.clock.advance(target - t.clock.now());
  };
  const writes = async (from: string, text: string) => {
    await t.world.userWrites(t.channel.providerKey, { from, text });
    await t.settle();
    const list = await ann.call('GET', `/v1/conversations?q=${from}`);
    return String(list.json.items[0].id);
  };
  const reply = async (who: AgentClient, to: string, body: string) => {
    const r = await who.call('POST', '/v1/messages', {
      channelId: t.channel.id,
      to,
      type: 'text',
      text: { body },
    });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    await t.settle();
  };

  before(async () => {
    t = await startTestParley({ start: '2026-03-02T08:00:00Z' });
    const admin = await agentClient(t, { role: 'admin' });
    ann = await agentClient(t);
    bob = await agentClient(t);
    support = (await admin.call('POST', '/v1/departments', { name: 'Support' })).json.id;

    await at('09:00');
    const one = await writes('447700900051', 'Order late');
    await ann.call('POST', `/v1/conversations/${one}/assign`, { agentId: ann.agentId });
    await at('09:05');
    await reply(ann, '447700900051', 'Checking');
    await at('09:10');
    const two = await writes('447700900052', 'Refund?');
    await ann.call('POST', `/v1/conversations/${two}/assign`, { agentId: ann.agentId });
    await at('09:20');
    const three = await writes('447700900053', 'Password help');
    await bob.call('POST', `/v1/conversations/${three}/assign`, {
      agentId: bob.agentId,
      departmentId: support,
    });
    await at('09:21');
    await reply(bob, '447700900053', 'Sent you a link');
    await at('09:30');
    await reply(ann, '447700900052', 'Refund approved');
    await at('10:00');
    await ann.call('POST', `/v1/conversations/${one}/close`);
    await at('11:10');
    await ann.call('POST', `/v1/conversations/${two}/close`);
    // Opened the next day: outside the report's range.
    await at('23:59');
    await t.clock.advance(2 * MINUTE);
    await writes('447700900054', 'Tomorrow');
  });
  after(async () => t.close());

  it('gives first-response and resolution times per agent and per department', async () => {
    const r = await ann.call(
      'GET',
      '/v1/reports/response-times?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z',
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const byAgent = new Map<string | null, any>(
      r.json.agents.map((g: { id: string | null }) => [g.id, g] as const),
    );
    assert.deepEqual(byAgent.get(ann.agentId).firstResponse, {
      count: 2,
      medianMs: 5 * MINUTE,
      p90Ms: 20 * MINUTE,
    });
    assert.deepEqual(byAgent.get(ann.agentId).resolution, {
      count: 2,
      medianMs: 60 * MINUTE,
      p90Ms: 120 * MINUTE,
    });
    assert.deepEqual(byAgent.get(bob.agentId).firstResponse, {
      count: 1,
      medianMs: MINUTE,
      p90Ms: MINUTE,
    });
    assert.deepEqual(byAgent.get(bob.agentId).resolution, {
      count: 0,
      medianMs: null,
      p90Ms: null,
    });
    assert.equal(byAgent.has(null), false, 'the next day’s unassigned conversation is outside');
    const support = r.json.departments.find((d: { name: string | null }) => d.name === 'Support');
    assert.equal(support.firstResponse.medianMs, MINUTE);
    const none = r.json.departments.find((d: { id: string | null }) => d.id === null);
    assert.equal(none.firstResponse.count, 2);
  });

  it('refuses a range that ends before it starts', async () => {
    const r = await ann.call('GET', '/v1/reports/response-times?from=2000&to=1000');
    assert.equal(r.status, 400);
    const garbage = await ann.call('GET', '/v1/reports/response-times?from=yesterday&to=1000');
    assert.equal(garbage.status, 400);
  });
});

describe('response-time report: credit goes to who did it', () => {
  let t: TestParley;
  let ann: AgentClient;
  let bob: AgentClient;
  let support: string;
  let sales: string;
  let report: { agents: any[]; departments: any[] };

  const at = async (hhmm: string) => {
    const target = Date.parse(`2026-03-02T${hhmm}:00Z`);
    await t.clock.advance(target - t.clock.now());
  };
  const writes = async (from: string, text: string) => {
    await t.world.userWrites(t.channel.providerKey, { from, text });
    await t.settle();
    const list = await ann.call('GET', `/v1/conversations?q=${from}`);
    return String(list.json.items[0].id);
  };
  const replyAs = async (
    who: { call: AgentClient['call'] } | 'api-key',
    to: string,
    body: string,
  ) => {
    const message = { channelId: t.channel.id, to, type: 'text', text: { body } };
    const r =
      who === 'api-key'
        ? await t.api('POST', '/v1/messages', message)
        : await who.call('POST', '/v1/messages', message);
    assert.equal(r.status, 202, JSON.stringify(r.json));
    await t.settle();
  };
  const ok = (r: { status: number; json: unknown }) =>
    assert.equal(r.status, 200, JSON.stringify(r.json));

  before(async () => {
    t = await startTestParley({ start: '2026-03-02T08:00:00Z' });
    const admin = await agentClient(t, { role: 'admin' });
    ann = await agentClient(t);
    bob = await agentClient(t);
    support = (await admin.call('POST', '/v1/departments', { name: 'Support' })).json.id;
    sales = (await admin.call('POST', '/v1/departments', { name: 'Sales' })).json.id;

    // Assigned to Ann in Support, but Bob covers and answers first; it moves to Sales, where
    // Ann closes it.
    await at('09:00');
    const covered = await writes('447700900061', 'Where is my parcel?');
    ok(
      await ann.call('POST', `/v1/conversations/${covered}/assign`, {
        agentId: ann.agentId,
        departmentId: support,
      }),
    );
    await at('09:04');
    await replyAs(bob, '447700900061', 'Covering for Ann: it left today.');
    await at('09:06');
    await replyAs(ann, '447700900061', 'Back now, thanks Bob.');
    ok(await ann.call('POST', `/v1/conversations/${covered}/assign`, { departmentId: sales }));
    await at('09:30');
    ok(await ann.call('POST', `/v1/conversations/${covered}/close`));

    // Answered by an integration with an API key, closed by Bob, reopened, closed again by Ann.
    await at('10:00');
    const integrated = await writes('447700900062', 'Invoice please');
    ok(await bob.call('POST', `/v1/conversations/${integrated}/assign`, { agentId: bob.agentId }));
    await at('10:02');
    await replyAs('api-key', '447700900062', 'Your invoice is attached.');
    await at('10:10');
    ok(await bob.call('POST', `/v1/conversations/${integrated}/close`));
    ok(await ann.call('POST', `/v1/conversations/${integrated}/reopen`));
    await at('10:40');
    ok(await ann.call('POST', `/v1/conversations/${integrated}/close`));

    const r = await ann.call(
      'GET',
      '/v1/reports/response-times?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z',
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    report = r.json;
  });
  after(async () => t.close());

  const agent = (id: string | null) => report.agents.find((g) => g.id === id);
  const department = (id: string | null) => report.departments.find((g) => g.id === id);

  it('first response goes to the agent who sent the first reply, not to the assignee', () => {
    assert.deepEqual(agent(bob.agentId).firstResponse, {
      count: 1,
      medianMs: 4 * MINUTE,
      p90Ms: 4 * MINUTE,
    });
    assert.equal(agent(ann.agentId).firstResponse.count, 0, 'Ann replied second');
  });

  it('a reply sent with an API key counts under no agent', () => {
    assert.deepEqual(agent(null).firstResponse, {
      count: 1,
      medianMs: 2 * MINUTE,
      p90Ms: 2 * MINUTE,
    });
  });

  it('resolution goes to whoever closed it last (a reopen forgets the earlier close)', () => {
    assert.deepEqual(agent(ann.agentId).resolution, {
      count: 2,
      medianMs: 30 * MINUTE,
      p90Ms: 40 * MINUTE,
    });
    assert.equal(agent(bob.agentId).resolution.count, 0, 'Bob closed one, but it was reopened');
    assert.equal(agent(null)?.resolution.count ?? 0, 0);
  });

  it('departments: first response in the department of the time, resolution in the department it was closed in', () => {
    assert.deepEqual(department(support).firstResponse, {
      count: 1,
      medianMs: 4 * MINUTE,
      p90Ms: 4 * MINUTE,
    });
    assert.equal(department(support).resolution.count, 0, 'it had moved to Sales by then');
    assert.deepEqual(department(sales).resolution, {
      count: 1,
      medianMs: 30 * MINUTE,
      p90Ms: 30 * MINUTE,
    });
    assert.equal(department(sales)?.firstResponse.count, 0);
    assert.equal(department(null).firstResponse.count, 1, 'the API-key reply, no department');
    assert.equal(department(null).resolution.count, 1);
  });
});
