// What agents do with a conversation, through the real HTTP stack with a session: assign and
// transfer (events), close and reopen, snooze and its wake-up, labels, notes in the transcript,
// canned responses, parked replies released by the customer's answer, and the contact panel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { agentClient, type AgentClient } from './helpers/agent-session.ts';

const HOUR = 3_600_000;

describe('conversation actions', () => {
  let t: TestParley;
  let agent: AgentClient;
  let admin: AgentClient;
  const events: DomainEvent[] = [];

  const customerWrites = async (from: string, text: string, name?: string) => {
    await t.world.userWrites(t.channel.providerKey, { from, text, ...(name ? { name } : {}) });
    await t.settle();
    await t.parley.inbox.idle();
    await t.settle();
  };
  const conversationOf = async (waId: string) => {
    const list = await agent.call('GET', `/v1/conversations?q=${waId}`);
    return list.json.items[0] as { id: string; status: string; contactId: string };
  };

  before(async () => {
    t = await startTestParley();
    t.parley.deps.events.subscribe((e) => events.push(e));
    agent = await agentClient(t);
    admin = await agentClient(t, { role: 'admin' });
  });
  after(async () => t.close());

  it('assigns to an agent, then transfers to a department: each step emits conversation.assigned', async () => {
    await customerWrites('447700900011', 'I want to upgrade', 'Ada');
    const c = await conversationOf('447700900011');
    const sales = (await admin.call('POST', '/v1/departments', { name: 'Sales' })).json;
    events.length = 0;
    const mine = await agent.call('POST', `/v1/conversations/${c.id}/assign`, {
      agentId: agent.agentId,
    });
    assert.equal(mine.status, 200, JSON.stringify(mine.json));
    assert.equal(mine.json.assigneeId, agent.agentId);
    const transfer = await agent.call('POST', `/v1/conversations/${c.id}/assign`, {
      agentId: null,
      departmentId: sales.id,
    });
    assert.equal(transfer.json.assigneeId, null);
    assert.equal(transfer.json.departmentId, sales.id);
    const assigned = events.filter((e) => e.type === 'conversation.assigned');
    assert.equal(assigned.length, 2);
    assert.deepEqual(
      assigned.map((e) => [e.data.agentId, e.data.departmentId, e.data.byAgentId]),
      [
        [agent.agentId, null, agent.agentId],
        [null, sales.id, agent.agentId],
      ],
    );
    const unknown = await agent.call('POST', `/v1/conversations/${c.id}/assign`, {
      agentId: 'a-404',
    });
    assert.equal(unknown.status, 400);
    const empty = await agent.call('POST', `/v1/conversations/${c.id}/assign`, {});
    assert.equal(empty.status, 400);
  });

  it('closes (conversation.closed) and reopens; the customer writing after a close opens a new conversation', async () => {
    await customerWrites('447700900012', 'Thanks, all good');
    const c = await conversationOf('447700900012');
    events.length = 0;
    const closed = await agent.call('POST', `/v1/conversations/${c.id}/close`);
    assert.equal(closed.status, 200);
    assert.equal(closed.json.state, 'closed');
    assert.equal(events.filter((e) => e.type === 'conversation.closed').length, 1);
    const closedList = await agent.call('GET', '/v1/conversations?status=closed');
    assert.deepEqual(
      closedList.json.items.map((i: { id: string }) => i.id),
      [c.id],
    );
    const reopened = await agent.call('POST', `/v1/conversations/${c.id}/reopen`);
    assert.equal(reopened.json.state, 'open');
    await agent.call('POST', `/v1/conversations/${c.id}/close`);
    await customerWrites('447700900012', 'One more thing');
    const again = await agent.call('POST', `/v1/conversations/${c.id}/reopen`);
    assert.equal(again.status, 409, 'the customer has a newer open conversation');
    assert.equal(again.json.code, 'conflict');
  });

  it('snoozes until a time: hidden from the open queue, back when the time comes', async () => {
    await customerWrites('447700900013', 'Call me tomorrow');
    const c = await conversationOf('447700900013');
    const until = t.clock.now() + 2 * HOUR;
    const snoozed = await agent.call('POST', `/v1/conversations/${c.id}/snooze`, {
      until: new Date(until).toISOString(),
    });
    assert.equal(snoozed.status, 200, JSON.stringify(snoozed.json));
    assert.equal(snoozed.json.snoozedUntil, until);
    const ids = async (status: string) =>
      (await agent.call('GET', `/v1/conversations?status=${status}`)).json.items.map(
        (i: { id: string }) => i.id,
      );
    assert.equal((await ids('open')).includes(c.id), false);
    assert.deepEqual(await ids('snoozed'), [c.id]);
    await t.clock.advance(2 * HOUR);
    assert.equal((await ids('open')).includes(c.id), true, 'woken at the snooze time');
    assert.deepEqual(await ids('snoozed'), []);
    const past = await agent.call('POST', `/v1/conversations/${c.id}/snooze`, { until: 1000 });
    assert.equal(past.status, 400);
  });

  it('a snoozed conversation wakes as soon as the customer writes', async () => {
    await customerWrites('447700900014', 'Hi');
    const c = await conversationOf('447700900014');
    await agent.call('POST', `/v1/conversations/${c.id}/snooze`, {
      until: t.clock.now() + 24 * HOUR,
    });
    assert.equal((await conversationOf('447700900014')).status, 'snoozed');
    await customerWrites('447700900014', 'Actually, now please');
    assert.equal((await conversationOf('447700900014')).status, 'open');
  });

  it('labels are replaced as a set; notes appear in the transcript between messages and never reach WhatsApp', async () => {
    await customerWrites('447700900015', 'My parcel is damaged');
    const c = await conversationOf('447700900015');
    const labelled = await agent.call('PUT', `/v1/conversations/${c.id}/labels`, {
      labels: ['damaged', 'vip', 'damaged'],
    });
    assert.deepEqual(labelled.json.labels, ['damaged', 'vip']);
    const sentBefore = t.world.outbound(t.channel.providerKey).length;
    await t.clock.advance(1000);
    const note = await agent.call('POST', `/v1/conversations/${c.id}/notes`, {
      text: 'Asked the warehouse for photos',
    });
    assert.equal(note.status, 201);
    await t.clock.advance(1000);
    await customerWrites('447700900015', 'Here is a photo');
    const transcript = await agent.call('GET', `/v1/conversations/${c.id}/messages`);
    assert.deepEqual(
      transcript.json.items.map((i: { kind: string; text: string }) => [i.kind, i.text]),
      [
        ['message', 'My parcel is damaged'],
        ['note', 'Asked the warehouse for photos'],
        ['message', 'Here is a photo'],
      ],
    );
    assert.equal(transcript.json.items[1].agentId, agent.agentId);
    assert.equal(t.world.outbound(t.channel.providerKey).length, sentBefore);
  });

  it('canned responses: create, list, rename, a taken shortcut is 409, delete', async () => {
    const created = await agent.call('POST', '/v1/canned-responses', {
      shortcut: 'thanks',
      text: 'Thank you for your patience!',
    });
    assert.equal(created.status, 201);
    const dup = await agent.call('POST', '/v1/canned-responses', { shortcut: 'thanks', text: 'x' });
    assert.equal(dup.status, 409);
    const patched = await agent.call('PATCH', `/v1/canned-responses/${created.json.id}`, {
      text: 'Thanks a lot!',
    });
    assert.equal(patched.json.text, 'Thanks a lot!');
    const list = await agent.call('GET', '/v1/canned-responses');
    assert.deepEqual(
      list.json.items.map((c: { shortcut: string }) => c.shortcut),
      ['thanks'],
    );
    assert.equal(
      (await agent.call('DELETE', `/v1/canned-responses/${created.json.id}`)).status,
      204,
    );
    assert.deepEqual((await agent.call('GET', '/v1/canned-responses')).json.items, []);
  });

  it('CSW-2: a parked reply is held, a re-engagement template goes out, and the reply is sent when the customer answers', async () => {
    await customerWrites('447700900016', 'Is the blue one back in stock?', 'Ada');
    const c = await conversationOf('447700900016');
    await t.clock.advance(25 * HOUR);
    const refused = await agent.call('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: '+447700900016',
      type: 'text',
      text: { body: 'Yes, it is back!' },
    });
    assert.equal(refused.status, 422, 'the window is closed: free text is refused');
    const templates = await t.api('GET', '/v1/templates');
    const orderUpdate = templates.json.items.find(
      (x: { name: string; language: string }) => x.name === 'order_update' && x.language === 'en',
    );
    assert.ok(orderUpdate, 'the sandbox template is synced');
    const parked = await agent.call('POST', `/v1/conversations/${c.id}/park`, {
      text: 'Yes, it is back! Shall I reserve one?',
      reengagement: { templateId: orderUpdate.id, parameters: ['Ada', '1042', 'ready'] },
    });
    assert.equal(parked.status, 201, JSON.stringify(parked.json));
    assert.equal(parked.json.state, 'held');
    assert.equal(parked.json.reengagement.type, 'template');
    await t.settle(15_000);
    const template = await t.api('GET', `/v1/messages/${String(parked.json.reengagement.id)}`);
    assert.ok(['delivered', 'read'].includes(template.json.status), JSON.stringify(template.json));
    const held = (await agent.call('GET', `/v1/conversations/${c.id}`)).json.parkedReplies;
    assert.equal(held.length, 1);
    const before = t.world.outbound(t.channel.providerKey).length;

    await customerWrites('447700900016', 'Oh nice, what is it about?');
    await t.settle(15_000);
    const out = t.world.outbound(t.channel.providerKey).slice(before);
    assert.equal(out.length, 1, 'exactly the held reply went out');
    assert.equal(out[0]?.type, 'text');
    assert.deepEqual(out[0]?.content, { body: 'Yes, it is back! Shall I reserve one?' });
    const after = (await agent.call('GET', `/v1/conversations/${c.id}`)).json.parkedReplies;
    assert.deepEqual(after, [], 'nothing is held any more');
    await customerWrites('447700900016', 'Hello again');
    await t.settle(15_000);
    assert.equal(
      t.world.outbound(t.channel.providerKey).length,
      before + 1,
      'a held reply is sent once, not on every message',
    );
  });

  it('CSW-2, TPL-10: a parked reply re-engages with a template that has an image header and a tracking link; the reply follows the answer', async () => {
    t.world.addTemplate(t.channel.providerKey, {
      name: 'parcel_waiting',
      language: 'en',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvcG5n:demo'] } },
        {
          type: 'BODY',
          text: 'Hi {{1}}, your parcel is waiting.',
          example: { body_text: [['Ada']] },
        },
        {
          type: 'BUTTONS',
          buttons: [
            {
              type: 'URL',
              text: 'Track parcel',
              url: 'https://track.example.com/p/{{1}}',
              example: ['https://track.example.com/p/PX-1'],
            },
          ],
        },
      ],
    });
    assert.equal((await admin.call('POST', '/v1/templates/sync', {})).status, 200);
    const templates = await t.api('GET', '/v1/templates');
    const parcel = templates.json.items.find((x: { name: string }) => x.name === 'parcel_waiting');
    assert.ok(parcel, 'the header-image template is synced');
    await customerWrites('447700900019', 'Where is my parcel?', 'Ada');
    const c = await conversationOf('447700900019');
    await t.clock.advance(25 * HOUR);
    const components = [
      {
        type: 'header',
        parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/p.jpg' } }],
      },
      { type: 'body', parameters: [{ type: 'text', text: 'Ada' }] },
      { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'PX-9' }] },
    ];
    const path = `/v1/conversations/${c.id}/park`;
    const text = 'It is at the depot; collect it any day before Friday.';

    // Refused as a whole, nothing held or sent: a header image naming no upload of this
    // workspace, or parameters and components together.
    const before = t.world.outbound(t.channel.providerKey).length;
    const unknownUpload = await agent.call('POST', path, {
      text,
      reengagement: {
        templateId: parcel.id,
        components: [
          {
            type: 'header',
            parameters: [{ type: 'image', image: { id: '01a1fec9-0000-7000-8000-000000000000' } }],
          },
          ...components.slice(1),
        ],
      },
    });
    assert.equal(unknownUpload.status, 400, JSON.stringify(unknownUpload.json));
    assert.match(
      unknownUpload.json.detail,
      /^reengagement: template header image\['id'\] \S+ is not a valid media id of this workspace$/,
    );
    const both = await agent.call('POST', path, {
      text,
      reengagement: { templateId: parcel.id, parameters: ['Ada'], components },
    });
    assert.equal(both.status, 400, JSON.stringify(both.json));
    assert.match(both.json.detail, /either parameters .* or components/);
    assert.deepEqual((await agent.call('GET', `/v1/conversations/${c.id}`)).json.parkedReplies, []);
    await t.settle();
    assert.equal(t.world.outbound(t.channel.providerKey).length, before);

    const parked = await agent.call('POST', path, {
      text,
      reengagement: { templateId: parcel.id, components },
    });
    assert.equal(parked.status, 201, JSON.stringify(parked.json));
    assert.equal(parked.json.state, 'held');
    assert.equal(parked.json.reengagementMessageId, parked.json.reengagement.id);
    await t.settle(15_000);
    const sent = t.world.outbound(t.channel.providerKey).slice(before);
    assert.equal(sent.length, 1, 'only the re-engagement template, the reply is held');
    assert.equal(sent[0]?.type, 'template');
    assert.deepEqual((sent[0]?.content as { components: unknown }).components, components);
    const reengagement = await t.api('GET', `/v1/messages/${String(parked.json.reengagement.id)}`);
    assert.ok(['delivered', 'read'].includes(reengagement.json.status));

    await customerWrites('447700900019', 'Great, which depot?');
    await t.settle(15_000);
    const out = t.world.outbound(t.channel.providerKey).slice(before + 1);
    assert.equal(out.length, 1, 'the held reply went out once the customer answered');
    assert.deepEqual(out[0]?.content, { body: text });
    assert.deepEqual((await agent.call('GET', `/v1/conversations/${c.id}`)).json.parkedReplies, []);
  });

  it('a held reply can be cancelled before the customer answers', async () => {
    await customerWrites('447700900017', 'Ping');
    const c = await conversationOf('447700900017');
    const parked = await agent.call('POST', `/v1/conversations/${c.id}/park`, { text: 'Later' });
    assert.equal(parked.status, 201);
    assert.equal(parked.json.reengagement, null);
    assert.equal((await agent.call('DELETE', `/v1/parked-replies/${parked.json.id}`)).status, 204);
    const before = t.world.outbound(t.channel.providerKey).length;
    await customerWrites('447700900017', 'Pong');
    await t.settle(15_000);
    assert.equal(t.world.outbound(t.channel.providerKey).length, before);
    assert.equal((await agent.call('DELETE', `/v1/parked-replies/${parked.json.id}`)).status, 409);
  });

  it('the contact panel: attributes and tags are editable; entry point and cost are shown', async () => {
    await customerWrites('447700900018', 'Hello', 'Linus');
    const c = await conversationOf('447700900018');
    const patched = await agent.call('PATCH', `/v1/contacts/${c.contactId}`, {
      name: 'Linus T.',
      attributes: { plan: 'pro', seats: 5 },
      tags: ['lead', 'lead', 'emea'],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    const panel = await agent.call('GET', `/v1/contacts/${c.contactId}`);
    assert.equal(panel.json.name, 'Linus T.');
    assert.deepEqual(panel.json.attributes, { plan: 'pro', seats: 5 });
    assert.deepEqual(panel.json.tags, ['lead', 'emea']);
    assert.equal(panel.json.entryPoint, null);
    assert.equal(panel.json.cost, null);
    const bad = await agent.call('PATCH', `/v1/contacts/${c.contactId}`, { attributes: 'x' });
    assert.equal(bad.status, 400);
  });
});
