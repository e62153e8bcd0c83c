// The inbox list as an agent sees it: row fields (window, unread, last message, assignee,
// department, cost), filters (mine, unassigned, department, channel, status) and search.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { agentClient, type AgentClient } from './helpers/agent-session.ts';

const HOUR = 3_600_000;

describe('the inbox list', () => {
  let t: TestParley;
  let admin: AgentClient;
  let agent: AgentClient;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestParley();
    admin = await agentClient(t, { role: 'admin' });
    agent = await agentClient(t);
    for (const [from, name, text] of [
      ['447700900001', 'Ada Lovelace', 'Where is my order?'],
      ['447700900002', 'Grace Hopper', 'I need an invoice'],
      ['447700900003', 'Alan Turing', 'Cancel please'],
    ] as const) {
      await t.world.userWrites(t.channel.providerKey, { from, name, text });
      await t.settle();
      await t.clock.advance(60_000);
    }
    const list = await admin.call('GET', '/v1/conversations');
    for (const item of list.json.items) ids[item.contact.name] = item.id;
  });
  after(async () => t.close());

  it('CSW-1: each row shows the contact, the last message, unread count and the window closing time', async () => {
    const list = await agent.call('GET', '/v1/conversations');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.items.map((i: { contact: { name: string } }) => i.contact.name),
      ['Alan Turing', 'Grace Hopper', 'Ada Lovelace'],
    );
    const ada = list.json.items[2];
    assert.equal(ada.contact.phone, '+447700900001');
    assert.equal(ada.status, 'open');
    assert.equal(ada.unread, 1);
    assert.deepEqual(
      { text: ada.lastMessage.text, direction: ada.lastMessage.direction },
      { text: 'Where is my order?', direction: 'inbound' },
    );
    assert.equal(ada.window.open, true);
    assert.equal(typeof ada.window.closesAt, 'number');
    assert.equal(ada.window.closesAt, Number(ada.lastMessage.at) + 24 * HOUR);
    assert.equal(ada.assignee, null);
    assert.equal(ada.department, null);
    assert.deepEqual(ada.labels, []);
    assert.equal(ada.cost, null);
  });

  it('a second customer message raises unread; opening the conversation resets it and marks it read on WhatsApp', async () => {
    await t.world.userWrites(t.channel.providerKey, {
      from: '447700900001',
      text: 'Hello? Anyone?',
    });
    await t.settle();
    let ada = (await agent.call('GET', `/v1/conversations/${ids['Ada Lovelace']}`)).json;
    assert.equal(ada.unread, 2);
    const read = await agent.call('POST', `/v1/conversations/${ids['Ada Lovelace']}/read`);
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.equal(read.json.markedOnWhatsApp, true);
    const inbound = t.world.lastUserMessage(t.channel.providerKey, '447700900001');
    assert.ok(inbound);
    assert.equal(t.world.readByBusiness(inbound.id), true, 'blue ticks on the customer side');
    ada = (await agent.call('GET', `/v1/conversations/${ids['Ada Lovelace']}`)).json;
    assert.equal(ada.unread, 0);
  });

  it('filters: mine, unassigned, department, channel, status; and search by name or number', async () => {
    const sales = await admin.call('POST', '/v1/departments', { name: 'Sales' });
    assert.equal(sales.status, 201);
    const assign = await agent.call('POST', `/v1/conversations/${ids['Grace Hopper']}/assign`, {
      agentId: agent.agentId,
      departmentId: sales.json.id,
    });
    assert.equal(assign.status, 200, JSON.stringify(assign.json));
    const names = async (query: string, who: AgentClient = agent) =>
      (await who.call('GET', `/v1/conversations?${query}`)).json.items.map(
        (i: { contact: { name: string } }) => i.contact.name,
      );
    assert.deepEqual(await names('assignee=me'), ['Grace Hopper']);
    assert.deepEqual(await names('assignee=me', admin), []);
    assert.deepEqual(await names('assignee=none'), ['Ada Lovelace', 'Alan Turing']);
    assert.deepEqual(await names(`department=${sales.json.id}`), ['Grace Hopper']);
    assert.deepEqual(await names(`channel=${t.channel.id}&status=open`), [
      'Ada Lovelace',
      'Alan Turing',
      'Grace Hopper',
    ]);
    assert.deepEqual(await names('q=turing'), ['Alan Turing']);
    assert.deepEqual(await names('q=%2B447700900002'), ['Grace Hopper']);
    assert.deepEqual(await names('q=nobody'), []);
    const row = (await agent.call('GET', `/v1/conversations/${ids['Grace Hopper']}`)).json;
    assert.deepEqual(row.assignee, { id: agent.agentId, name: row.assignee.name });
    assert.deepEqual(row.department, { id: sales.json.id, name: 'Sales' });
    const withKey = await t.api('GET', '/v1/conversations?assignee=me');
    assert.equal(withKey.status, 400, 'an API key is nobody: "me" needs a session');
  });

  it('pages with a cursor without repeating rows', async () => {
    const first = await agent.call('GET', '/v1/conversations?limit=2');
    assert.equal(first.json.items.length, 2);
    const second = await agent.call(
      'GET',
      `/v1/conversations?limit=2&cursor=${first.json.nextCursor}`,
    );
    assert.equal(second.json.items.length, 1);
    assert.equal(second.json.nextCursor, null);
  });

  it('CSW-2: after 24 h the row says the window is closed', async () => {
    await t.clock.advance(25 * HOUR);
    const list = await agent.call('GET', '/v1/conversations');
    for (const item of list.json.items) assert.equal(item.window.open, false);
  });
});
