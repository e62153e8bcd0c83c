// Chatbot flows end to end: a sandbox customer writes, the flow answers through the policy core,
// asks and remembers, calls a business system, hands off, and gives way to an agent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiKey, createWorkspace } from '../src/app/admin.ts';
import type { SandboxOutboundMessage } from '../src/adapters/providers/sandbox/sandbox-world.ts';
import { agentClient } from './helpers/agent-session.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';

const HOUR = 3_600_000;

/** What the customer saw of a bot or agent message: its text, or the body of an interactive. */
function shown(m: SandboxOutboundMessage): string {
  const c = m.content as { body?: string | { text?: string }; name?: string };
  if (m.type === 'text' && typeof c.body === 'string') return c.body;
  if (m.type === 'interactive' && typeof c.body === 'object') return String(c.body.text);
  if (m.type === 'template') return `[template ${String(c.name)}]`;
  return `[${m.type}]`;
}

function sentTo(t: TestParley, customer: string): SandboxOutboundMessage[] {
  return t.world.outbound(t.channel.providerKey).filter((m) => m.to === customer);
}

async function createFlow(t: TestParley, definition: unknown): Promise<{ id: string }> {
  const created = await t.api('POST', '/v1/automations', definition);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return created.json as { id: string };
}

async function conversationOf(t: TestParley, customer: string): Promise<string> {
  const list = await t.api('GET', '/v1/conversations?limit=200');
  const found = (list.json.items as Array<{ id: string; contact: { waId: string } }>).find(
    (c) => c.contact.waId === customer,
  );
  assert.ok(found, `no conversation with ${customer}`);
  return found.id;
}

async function runsOf(t: TestParley, customer: string) {
  const runs = await t.api(
    'GET',
    `/v1/conversations/${await conversationOf(t, customer)}/automation-runs`,
  );
  assert.equal(runs.status, 200, JSON.stringify(runs.json));
  return runs.json.items as Array<{
    status: string;
    reason: string | null;
    automation: string;
    log: Array<Record<string, unknown>>;
  }>;
}

async function contactOf(t: TestParley, customer: string) {
  const contacts = await t.api('GET', `/v1/contacts?search=${customer}`);
  const contact = contacts.json.items[0] as { id: string };
  return (await t.api('GET', `/v1/contacts/${contact.id}`)).json as {
    id: string;
    attributes: Record<string, unknown>;
    tags: string[];
  };
}

describe('automation through the API and the sandbox', () => {
  let t: TestParley;
  let says: (customer: string, input?: Record<string, unknown>) => Promise<void>;
  before(async () => {
    t = await startTestParley();
    says = async (customer, input = {}) => {
      await t.world.userWrites(t.channel.providerKey, { from: customer, ...input });
      await t.settle(5_000);
    };
  });
  after(async () => t.close());

  it('a keyword flow (any case, accents ignored) answers the customer and hands off to a person', async () => {
    const customer = '447700900101';
    await createFlow(t, {
      name: 'Opening hours',
      trigger: { type: 'keyword', keywords: ['horario', 'opening hours'] },
      steps: [
        { type: 'reply', text: 'We are open 9:00–17:00, Monday to Friday.' },
        { type: 'handoff', text: 'An agent will be with you shortly.' },
      ],
    });
    await says(customer, { text: '¿Cuál es su HORARIO?' });
    assert.deepEqual(sentTo(t, customer).map(shown), [
      'We are open 9:00–17:00, Monday to Friday.',
      'An agent will be with you shortly.',
    ]);
    // Delivered like any message: the policy core queued them and the sandbox accepted them.
    assert.ok(sentTo(t, customer).every((m) => m.status !== 'failed'));
    const [run] = await runsOf(t, customer);
    assert.equal(run?.status, 'handed_off');
    assert.equal(run?.automation, 'Opening hours');

    // Handed to people: the bot stays quiet in this conversation, even on its keyword.
    await says(customer, { text: 'opening hours?' });
    assert.equal(sentTo(t, customer).length, 2);
  });

  it('a word inside another word is no keyword; exact match wants nothing else', async () => {
    const customer = '447700900102';
    await createFlow(t, {
      name: 'Exact hi',
      trigger: { type: 'keyword', keywords: ['hi'], match: 'exact' },
      steps: [{ type: 'reply', text: 'Hello there!' }],
    });
    await says(customer, { text: 'this is a question' });
    await says(customer, { text: 'hi, about my order' });
    assert.equal(sentTo(t, customer).length, 0);
    await says(customer, { text: 'Hi!' });
    assert.deepEqual(sentTo(t, customer).map(shown), ['Hello there!']);
  });

  it('a menu of reply buttons leads on by the tapped button payload', async () => {
    const customer = '447700900103';
    await createFlow(t, {
      name: 'Menu',
      trigger: { type: 'keyword', keywords: ['menu'] },
      steps: [
        {
          type: 'reply',
          text: 'How can we help, {{contact.name}}?',
          buttons: [
            { id: 'menu.track', title: 'Track an order' },
            { id: 'menu.human', title: 'Talk to us' },
          ],
        },
      ],
    });
    await createFlow(t, {
      name: 'Track',
      trigger: { type: 'payload', payloads: ['menu.track'] },
      steps: [{ type: 'reply', text: 'Track any order at https://shop.example/track' }],
    });
    await says(customer, { name: 'Ada', text: 'MENU' });
    const [menu] = sentTo(t, customer);
    assert.equal(menu?.type, 'interactive');
    assert.equal(shown(menu), 'How can we help, Ada?');
    const buttons = (menu.content as { action: { buttons: Array<{ reply: { id: string } }> } })
      .action.buttons;
    assert.deepEqual(
      buttons.map((b) => b.reply.id),
      ['menu.track', 'menu.human'],
    );
    await says(customer, {
      type: 'interactive',
      content: {
        type: 'button_reply',
        button_reply: { id: 'menu.track', title: 'Track an order' },
      },
      context: { id: menu.id },
    });
    assert.deepEqual(sentTo(t, customer).map(shown).slice(1), [
      'Track any order at https://shop.example/track',
    ]);
  });

  it('asks a question, asks again on an answer that does not fit, and stores the answer as a contact attribute', async () => {
    const customer = '447700900104';
    await createFlow(t, {
      name: 'Order number',
      trigger: { type: 'keyword', keywords: ['where is my order'] },
      steps: [
        {
          type: 'ask',
          text: 'What is your order number?',
          attribute: 'order_number',
          validate: '^#?\\d{4,}$',
          retry: 'An order number has at least 4 digits, like 1042.',
        },
        { type: 'tag', add: ['asked-order'] },
        { type: 'reply', text: 'Thanks! Looking up order {{attributes.order_number}}.' },
      ],
    });
    await says(customer, { text: 'Where is my order?' });
    assert.deepEqual(sentTo(t, customer).map(shown), ['What is your order number?']);
    assert.equal((await runsOf(t, customer))[0]?.status, 'waiting');

    await says(customer, { text: 'no idea' });
    assert.equal(
      sentTo(t, customer).map(shown).at(-1),
      'An order number has at least 4 digits, like 1042.',
    );
    await says(customer, { text: '1042' });
    assert.equal(sentTo(t, customer).map(shown).at(-1), 'Thanks! Looking up order 1042.');
    const contact = await contactOf(t, customer);
    assert.equal(contact.attributes.order_number, '1042');
    assert.deepEqual(contact.tags, ['asked-order']);
    assert.equal((await runsOf(t, customer))[0]?.status, 'completed');
  });

  it('an arrival from a Click-to-WhatsApp ad starts the ad flow; the same words without the ad do not', async () => {
    const fromAd = '447700900105';
    const plain = '447700900106';
    await createFlow(t, {
      name: 'Ad welcome',
      trigger: { type: 'ad_arrival' },
      steps: [{ type: 'reply', text: 'Thanks for answering our ad: 10% off with code WELCOME10.' }],
    });
    await says(fromAd, { text: 'Is the offer still on?', referral: true });
    await says(plain, { text: 'Is the offer still on?' });
    assert.deepEqual(sentTo(t, fromAd).map(shown), [
      'Thanks for answering our ad: 10% off with code WELCOME10.',
    ]);
    assert.equal(sentTo(t, plain).length, 0);
  });

  it('records an opt-out in the consent ledger from a flow', async () => {
    const customer = '447700900107';
    await createFlow(t, {
      name: 'No more offers',
      trigger: { type: 'keyword', keywords: ['no more offers'] },
      steps: [
        { type: 'consent', kind: 'opt_out', purpose: 'marketing' },
        { type: 'reply', text: 'Done: no more offers from us.' },
      ],
    });
    await says(customer, { text: 'No more offers please' });
    const contact = await contactOf(t, customer);
    const ledger = await t.api('GET', `/v1/contacts/${contact.id}/consent`);
    assert.equal(ledger.status, 200, JSON.stringify(ledger.json));
    const events = JSON.stringify(ledger.json);
    assert.match(events, /opt_out/);
    assert.match(events, /automation:/);
    assert.deepEqual(sentTo(t, customer).map(shown), ['Done: no more offers from us.']);
  });

  it('runs a flow once for a message even when its webhook arrives twice', async () => {
    const customer = '447700900108';
    await createFlow(t, {
      name: 'Once',
      trigger: { type: 'keyword', keywords: ['twice'] },
      steps: [{ type: 'reply', text: 'Said once.' }],
    });
    t.world.chaos({ duplicateWebhooks: 1 });
    try {
      await says(customer, { text: 'twice' });
    } finally {
      t.world.calm();
    }
    assert.deepEqual(sentTo(t, customer).map(shown), ['Said once.']);
    // And handling the same event again by hand changes nothing.
    const conversationId = await conversationOf(t, customer);
    const transcript = await t.api('GET', `/v1/conversations/${conversationId}/messages`);
    const inbound = (transcript.json.items as Array<{ id: string; direction: string }>).find(
      (m) => m.direction === 'inbound',
    );
    assert.ok(inbound);
    await t.parley.automation.handle({
      type: 'message.received',
      workspaceId: t.channel.workspaceId,
      at: t.clock.now(),
      data: { messageId: inbound.id, conversationId },
    });
    await t.settle();
    assert.equal(sentTo(t, customer).length, 1);
    assert.equal((await runsOf(t, customer)).length, 1);
  });

  it('stops when an agent takes over: an agent reply ends the waiting question', async () => {
    const customer = '447700900109';
    await createFlow(t, {
      name: 'Refund',
      trigger: { type: 'keyword', keywords: ['refund'] },
      steps: [
        { type: 'ask', text: 'Which order is it about?', attribute: 'refund_order' },
        { type: 'reply', text: 'Thanks, a refund form is on its way.' },
      ],
    });
    await says(customer, { text: 'I want a refund' });
    const agent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: customer,
      type: 'text',
      text: { body: 'Hi, Sam here. I will sort this out for you.' },
    });
    assert.equal(agent.status, 202, JSON.stringify(agent.json));
    await t.settle(5_000);
    await says(customer, { text: 'Order 1042' });
    assert.deepEqual(sentTo(t, customer).map(shown), [
      'Which order is it about?',
      'Hi, Sam here. I will sort this out for you.',
    ]);
    const [run] = await runsOf(t, customer);
    assert.equal(run?.status, 'stopped');
    assert.match(run?.reason ?? '', /agent/);
    assert.equal((await contactOf(t, customer)).attributes.refund_order, undefined);
  });

  it("a template notification does not take the conversation over: the customer's answer still starts a flow", async () => {
    const customer = '447700900116';
    await createFlow(t, {
      name: 'Reschedule',
      trigger: { type: 'keyword', keywords: ['reschedule'] },
      steps: [{ type: 'reply', text: 'Pick a new day at https://shop.example/reschedule' }],
    });
    await says(customer, { text: 'Hello' });
    const notification = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: customer,
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
              { type: 'text', text: 'delayed' },
            ],
          },
        ],
      },
    });
    assert.equal(notification.status, 202, JSON.stringify(notification.json));
    await t.settle(5_000);
    await says(customer, { text: 'Can I reschedule?' });
    assert.deepEqual(sentTo(t, customer).map(shown), [
      '[template order_update]',
      'Pick a new day at https://shop.example/reschedule',
    ]);
  });

  it('an agent assigned to the conversation stops the flow waiting for an answer', async () => {
    const customer = '447700900114';
    await createFlow(t, {
      name: 'Size',
      trigger: { type: 'keyword', keywords: ['exchange'] },
      steps: [
        { type: 'ask', text: 'Which size would you like instead?', attribute: 'size' },
        { type: 'reply', text: 'Noted: {{attributes.size}}.' },
      ],
    });
    await says(customer, { text: 'Can I exchange these shoes?' });
    const agent = await agentClient(t);
    const assigned = await agent.call(
      'POST',
      `/v1/conversations/${await conversationOf(t, customer)}/assign`,
      { agentId: agent.agentId },
    );
    assert.equal(assigned.status, 200, JSON.stringify(assigned.json));
    await t.settle();
    const [stopped] = await runsOf(t, customer);
    assert.equal(stopped?.status, 'stopped');
    assert.match(stopped?.reason ?? '', /agent took over/);
    await says(customer, { text: '42' });
    assert.deepEqual(sentTo(t, customer).map(shown), ['Which size would you like instead?']);
  });

  it("assigns a department by name and hands off to it: the conversation waits in that department's queue, labelled", async () => {
    const customer = '447700900115';
    const billing = await t.api('POST', '/v1/departments', { name: 'Billing' });
    assert.equal(billing.status, 201, JSON.stringify(billing.json));
    await createFlow(t, {
      name: 'Invoices',
      trigger: { type: 'keyword', keywords: ['invoice'] },
      steps: [
        { type: 'assign', department: 'billing' },
        { type: 'tag', add: ['billing'] },
        { type: 'handoff', text: 'Our billing team will answer you here.' },
      ],
    });
    await says(customer, { text: 'I need a copy of my invoice' });
    assert.deepEqual(sentTo(t, customer).map(shown), ['Our billing team will answer you here.']);
    const queue = await t.api('GET', `/v1/conversations?department=${billing.json.id}`);
    assert.equal(queue.status, 200, JSON.stringify(queue.json));
    const row = (
      queue.json.items as Array<{
        contact: { phone?: string; waId?: string };
        labels: string[];
        department: { name: string } | null;
      }>
    ).find((c) => JSON.stringify(c.contact).includes(customer));
    assert.ok(row, JSON.stringify(queue.json.items));
    assert.equal(row.department?.name, 'Billing');
    assert.deepEqual(row.labels, ['handed off']);
    assert.equal((await runsOf(t, customer))[0]?.status, 'handed_off');
  });

  it('a flow naming a department id of no one is refused', async () => {
    const response = await t.api('POST', '/v1/automations', {
      name: 'Nowhere',
      trigger: { type: 'keyword', keywords: ['nowhere'] },
      steps: [{ type: 'handoff', departmentId: 'no-such-department' }],
    });
    assert.equal(response.status, 400);
    assert.match(response.json.detail, /no department no-such-department/);
  });

  it('CSW-2: a bot reply outside the customer care window is refused by the policy core like an agent reply', async () => {
    const customer = '447700900110';
    await createFlow(t, {
      name: 'Late',
      trigger: { type: 'keyword', keywords: ['late news'] },
      steps: [
        { type: 'reply', text: 'Free-form reply from the bot.' },
        { type: 'reply', text: 'Never reached.' },
      ],
    });
    // The provider delivers, after an outage, a message the customer wrote 25 hours ago.
    await says(customer, { text: 'late news', at: t.clock.now() - 25 * HOUR });
    assert.equal(sentTo(t, customer).length, 0, 'nothing reached WhatsApp');
    const [run] = await runsOf(t, customer);
    assert.equal(run?.status, 'failed');
    assert.match(run?.reason ?? '', /window_closed/);
    const refusedId = String(run?.log[0]?.messageId);
    const refused = await t.api('GET', `/v1/messages/${refusedId}`);
    assert.equal(refused.json.status, 'refused');
    assert.equal(refused.json.reason, 'window_closed');
    // Exactly what an agent gets for the same send.
    const agent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: customer,
      type: 'text',
      text: { body: 'Free-form reply from an agent.' },
    });
    assert.equal(agent.status, 422);
    assert.equal(agent.json.code, 'window_closed');
  });

  describe('calling a business system over HTTP', () => {
    let server: Server;
    let base: string;
    const requests: Array<{ method: string; url: string; body: string; auth: string }> = [];
    let answer: (req: IncomingMessage) => { status: number; body: string } | null = () => null;

    before(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          requests.push({
            method: req.method ?? '',
            url: req.url ?? '',
            body,
            auth: String(req.headers.authorization),
          });
          const a = answer(req);
          if (a === null) return; // never answers: the step's timeout ends it
          res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("sets attributes from the system's JSON answer and uses them in the next reply", async () => {
      const customer = '447700900111';
      answer = () => ({
        status: 200,
        body: JSON.stringify({ order: { status: 'out for delivery', eta: 'Tuesday' } }),
      });
      await createFlow(t, {
        name: 'Order status',
        trigger: { type: 'keyword', keywords: ['status'] },
        steps: [
          {
            type: 'http',
            method: 'POST',
            url: `${base}/orders/lookup`,
            headers: { authorization: 'Bearer shop-secret' },
            body: { phone: '{{contact.phone}}' },
            set: { order_status: 'order.status', order_eta: 'order.eta' },
          },
          {
            type: 'reply',
            text: 'Your order is {{attributes.order_status}}, due {{attributes.order_eta}}.',
          },
        ],
      });
      await says(customer, { text: 'status?' });
      const call = requests.at(-1);
      assert.equal(call?.method, 'POST');
      assert.equal(call?.url, '/orders/lookup');
      assert.equal(call?.auth, 'Bearer shop-secret');
      assert.deepEqual(JSON.parse(call?.body ?? '{}'), { phone: `+${customer}` });
      assert.deepEqual(sentTo(t, customer).map(shown), [
        'Your order is out for delivery, due Tuesday.',
      ]);
      const contact = await contactOf(t, customer);
      assert.equal(contact.attributes.order_eta, 'Tuesday');
    });

    it('a failing call stops the flow when the step says stop, and the run says why', async () => {
      const customer = '447700900112';
      answer = () => ({ status: 503, body: '{"error":"down"}' });
      await createFlow(t, {
        name: 'Strict lookup',
        trigger: { type: 'keyword', keywords: ['strict'] },
        steps: [
          { type: 'http', url: `${base}/strict`, onError: 'stop' },
          { type: 'reply', text: 'Not sent.' },
        ],
      });
      await says(customer, { text: 'strict' });
      assert.equal(sentTo(t, customer).length, 0);
      const [run] = await runsOf(t, customer);
      assert.equal(run?.status, 'failed');
      assert.match(run?.reason ?? '', /HTTP 503/);
      assert.doesNotMatch(JSON.stringify(run), /shop-secret/);
    });

    it('a call with no answer in time is logged and the flow goes on by default', async () => {
      const customer = '447700900113';
      answer = () => null;
      await createFlow(t, {
        name: 'Lenient lookup',
        trigger: { type: 'keyword', keywords: ['lenient'] },
        steps: [
          { type: 'http', url: `${base}/slow?token=abc`, timeoutMs: 200 },
          { type: 'reply', text: 'We will check and come back to you.' },
        ],
      });
      await says(customer, { text: 'lenient' });
      assert.deepEqual(sentTo(t, customer).map(shown), ['We will check and come back to you.']);
      const [run] = await runsOf(t, customer);
      assert.equal(run?.status, 'completed');
      const call = run?.log[0] as { ok: boolean; detail: string; url: string };
      assert.equal(call.ok, false);
      assert.match(call.detail, /no answer within 200 ms/);
      assert.equal(call.url, `${base}/slow`, 'the query string (it may hold a token) is not kept');
    });
  });

  describe('bad definitions', () => {
    const bad: Array<[string, unknown, string]> = [
      [
        'a regular expression that does not compile',
        {
          name: 'B1',
          trigger: { type: 'pattern', pattern: '(unclosed' },
          steps: [{ type: 'reply', text: 'x' }],
        },
        'automation_invalid',
      ],
      [
        'an unknown step type',
        {
          name: 'B2',
          trigger: { type: 'keyword', keywords: ['x'] },
          steps: [{ type: 'teleport' }],
        },
        'validation_failed',
      ],
      [
        'a reply with neither text nor template',
        { name: 'B3', trigger: { type: 'keyword', keywords: ['x'] }, steps: [{ type: 'reply' }] },
        'automation_invalid',
      ],
      [
        'four reply buttons',
        {
          name: 'B4',
          trigger: { type: 'keyword', keywords: ['x'] },
          steps: [
            {
              type: 'reply',
              text: 'pick',
              buttons: ['a', 'b', 'c', 'd'].map((id) => ({ id, title: id })),
            },
          ],
        },
        'validation_failed',
      ],
      [
        'a hand-off that is not the last step',
        {
          name: 'B5',
          trigger: { type: 'keyword', keywords: ['x'] },
          steps: [{ type: 'handoff' }, { type: 'reply', text: 'x' }],
        },
        'automation_invalid',
      ],
      [
        'an opt-in without the words agreed to (OPT-2)',
        {
          name: 'B6',
          trigger: { type: 'keyword', keywords: ['x'] },
          steps: [{ type: 'consent', kind: 'opt_in', purpose: 'marketing' }],
        },
        'automation_invalid',
      ],
      [
        'a channel of no one',
        {
          name: 'B7',
          channels: ['no-such-channel'],
          trigger: { type: 'keyword', keywords: ['x'] },
          steps: [{ type: 'reply', text: 'x' }],
        },
        'automation_invalid',
      ],
      [
        'an HTTP step to a non-HTTP URL',
        {
          name: 'B8',
          trigger: { type: 'keyword', keywords: ['x'] },
          steps: [{ type: 'http', url: 'file:///etc/passwd' }],
        },
        'automation_invalid',
      ],
    ];
    for (const [what, definition, code] of bad)
      it(`refuses ${what} with problem+json ${code} and stores nothing`, async () => {
        const before = snapshotStore(t);
        const response = await t.api('POST', '/v1/automations', definition);
        assert.equal(response.status, 400, JSON.stringify(response.json));
        assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
        assert.equal(response.json.code, code);
        assert.ok(String(response.json.detail).length > 10, response.json.detail);
        const after = snapshotStore(t);
        assert.deepEqual(after, before, describeChanges(before, after));
      });

    it('refuses a second flow of the same name (409) and a bad change leaves the flow as it was', async () => {
      const flow = await createFlow(t, {
        name: 'Stable',
        trigger: { type: 'keyword', keywords: ['stable'] },
        steps: [{ type: 'reply', text: 'Stable.' }],
      });
      const again = await t.api('POST', '/v1/automations', {
        name: 'Stable',
        trigger: { type: 'keyword', keywords: ['other'] },
        steps: [{ type: 'reply', text: 'Other.' }],
      });
      assert.equal(again.status, 409);
      assert.equal(again.json.code, 'conflict');
      const before = snapshotStore(t);
      const change = await t.api('PATCH', `/v1/automations/${flow.id}`, {
        steps: [{ type: 'handoff' }, { type: 'reply', text: 'x' }],
      });
      assert.equal(change.status, 400);
      assert.equal(change.json.code, 'automation_invalid');
      assert.deepEqual(snapshotStore(t), before);
      const ok = await t.api('PATCH', `/v1/automations/${flow.id}`, { enabled: false });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.enabled, false);
      assert.equal(ok.json.steps[0].text, 'Stable.');
    });

    it("another workspace's key can neither see nor change nor delete a flow", async () => {
      const flow = await createFlow(t, {
        name: 'Private',
        trigger: { type: 'keyword', keywords: ['private'] },
        steps: [{ type: 'reply', text: 'Private.' }],
      });
      const other = await createWorkspace(t.parley.deps, 'Other Ltd');
      const key = await createApiKey(t.parley.deps, other.id, 'other');
      const auth = { authorization: `Bearer ${key.key}` };
      const list = await t.api('GET', '/v1/automations', undefined, auth);
      assert.deepEqual(list.json.items, []);
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { enabled: false }],
        ['DELETE', undefined],
      ] as const) {
        const response = await t.api(method, `/v1/automations/${flow.id}`, body, auth);
        assert.equal(response.status, 404, `${method} ${JSON.stringify(response.json)}`);
      }
      const hours = await t.api(
        'PUT',
        `/v1/channels/${t.channel.id}/business-hours`,
        { zone: 'UTC', weekly: { mon: [{ from: '09:00', to: '17:00' }] } },
        auth,
      );
      assert.equal(hours.status, 404);
      const mine = await t.api('GET', `/v1/automations/${flow.id}`);
      assert.equal(mine.json.enabled, true);
    });
  });
});
