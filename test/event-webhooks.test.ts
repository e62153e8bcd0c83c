// Signed event webhooks end to end: a real local HTTP subscriber (port 0), the sandbox and a
// manual clock. Outages, ordering per conversation, dead letters, replay, tenancy, bad input.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiKey, createWorkspace } from '../src/app/admin.ts';
import { verifySignature } from '../src/app/event-formats.ts';
import { EVENT_TYPES } from '../src/ports/event-bus.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { assertProblem } from './helpers/http-assert.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface Received {
  readonly at: number;
  readonly status: number;
  readonly body: string;
  readonly json: {
    id: string;
    type: string;
    created_at: string;
    workspace_id: string;
    data: Record<string, unknown>;
  };
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A subscriber on a real socket: answers what `answer` says and keeps every request. */
class Subscriber {
  readonly received: Received[] = [];
  answer: (json: Received['json']) => number = () => 200;
  #server: Server | null = null;
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const json = JSON.parse(body) as Received['json'];
        const status = this.answer(json);
        this.received.push({ at: this.#now(), status, body, json, headers: req.headers });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/hooks`;
  }

  accepted(): Received[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server?.closeAllConnections();
      this.#server?.close(() => resolve());
    });
  }
}

describe('event webhooks to a business system', () => {
  let t: TestParley;
  let subscriber: Subscriber;
  let url: string;

  before(async () => {
    t = await startTestParley();
    subscriber = new Subscriber(() => t.clock.now());
    url = await subscriber.start();
  });
  after(async () => {
    await t.close();
    await subscriber.close();
  });
  beforeEach(async () => {
    subscriber.received.length = 0;
    subscriber.answer = () => 200;
    for (const e of (await t.api('GET', '/v1/webhook-endpoints')).json.items as { id: string }[])
      await t.api('DELETE', `/v1/webhook-endpoints/${e.id}`);
  });

  async function subscribe(body: Record<string, unknown> = {}) {
    const created = await t.api('POST', '/v1/webhook-endpoints', { url, ...body });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    return created.json as { id: string; secret: string; events: string[] };
  }

  /** Events recorded, then every delivery due now attempted until none is left. */
  async function deliver(): Promise<void> {
    await t.settle();
    await t.parley.eventDeliverer.drain();
  }

  async function write(from: string, text: string): Promise<void> {
    await t.world.userWrites(t.channel.providerKey, { from, text });
    await deliver();
  }

  async function allDeliveries(endpointId: string) {
    const items: { state: string; eventId: string; attempts: number; replay: boolean }[] = [];
    let cursor: string | null = null;
    do {
      const page = await t.api(
        'GET',
        `/v1/webhook-endpoints/${endpointId}/deliveries?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.json));
      items.push(...(page.json.items as typeof items));
      cursor = page.json.nextCursor as string | null;
    } while (cursor);
    return items;
  }

  it('a subscriber failing for an hour then receives every event, in order per conversation, validly signed', async () => {
    const endpoint = await subscribe();
    const start = t.clock.now();
    subscriber.answer = () => (t.clock.now() < start + HOUR ? 500 : 200);
    const customers = ['447700900101', '447700900102', '447700900103'];
    // Twelve messages over the failing hour, the three customers taking turns.
    for (let i = 0; i < 12; i++) {
      const from = customers[i % 3] ?? '';
      await write(from, `${from.slice(-3)}-${Math.floor(i / 3)}`);
      if (i === 11) break; // 55 minutes in: still inside the outage
      await t.clock.advance(5 * MINUTE);
      await deliver();
    }
    assert.equal(subscriber.accepted().length, 0, 'nothing got through during the outage');
    assert.ok(subscriber.received.length >= 12, 'attempts were made during the outage');
    const failing = await allDeliveries(endpoint.id);
    assert.ok(failing.every((d) => d.state === 'pending'));

    // The subscriber is back: retries bring everything within the next couple of hours.
    for (let step = 0; step < 30; step++) {
      await t.clock.advance(5 * MINUTE);
      await deliver();
    }

    const deliveries = await allDeliveries(endpoint.id);
    assert.ok(deliveries.length >= 15, `${deliveries.length} deliveries`);
    assert.deepEqual(
      deliveries.filter((d) => d.state !== 'delivered'),
      [],
      'every delivery delivered',
    );
    const accepted = subscriber.accepted();
    const ids = accepted.map((r) => r.json.id);
    assert.equal(new Set(ids).size, ids.length, 'each event accepted once');
    assert.deepEqual(new Set(ids), new Set(deliveries.map((d) => d.eventId)));

    for (const r of accepted) {
      const header = String(r.headers['parley-signature']);
      assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.ok(verifySignature(endpoint.secret, r.body, header, r.at), 'signature verifies');
      assert.equal(r.headers['parley-event-id'], r.json.id);
      assert.equal(r.json.workspace_id, t.channel.workspaceId);
      assert.ok(!Number.isNaN(Date.parse(r.json.created_at)));
    }

    // Per conversation: created first, then the customer's messages in the order written.
    const byConversation = new Map<string, Received['json'][]>();
    for (const r of accepted) {
      const id = r.json.data.conversationId;
      if (typeof id !== 'string') continue;
      byConversation.set(id, [...(byConversation.get(id) ?? []), r.json]);
    }
    assert.equal(byConversation.size, 3);
    for (const events of byConversation.values()) {
      assert.equal(events[0]?.type, 'conversation.created');
      const texts = events
        .filter((e) => e.type === 'message.received')
        .map((e) => String(e.data.text));
      assert.equal(texts.length, 4);
      assert.deepEqual(
        texts,
        [...texts].sort((a, b) => a.localeCompare(b)),
      );
    }
    // Retries were spread out, not hammered: far fewer attempts than a try per pass.
    const attempts = deliveries.reduce((sum, d) => sum + d.attempts, 0);
    assert.ok(attempts < deliveries.length * 10, `${attempts} attempts`);
  });

  it('holds back later events of a failing conversation without blocking other conversations', async () => {
    await subscribe({ events: ['message.received'] });
    let blocked: string | null = null;
    subscriber.answer = (json) => (json.data.text === 'stuck-1' ? 500 : 200);
    await write('447700900201', 'stuck-1');
    blocked = String(subscriber.received[0]?.json.data.conversationId);
    await write('447700900201', 'stuck-2');
    await write('447700900202', 'free-1');
    await t.clock.advance(MINUTE / 2);
    await deliver();
    const accepted = () => subscriber.accepted().map((r) => String(r.json.data.text));
    assert.deepEqual(accepted(), ['free-1'], 'the other conversation went through');
    assert.ok(
      subscriber.received.every((r) => r.json.data.text !== 'stuck-2'),
      'the later event of the failing conversation was not sent ahead of the earlier one',
    );
    subscriber.answer = () => 200;
    await t.clock.advance(5 * MINUTE);
    await deliver();
    assert.deepEqual(accepted(), ['free-1', 'stuck-1', 'stuck-2']);
    assert.ok(blocked);
  });

  it('dead-letters a delivery after 24 h of failures, then lets the conversation move on', async () => {
    const endpoint = await subscribe({ events: ['message.received'] });
    subscriber.answer = (json) => (json.data.text === 'doomed' ? 503 : 200);
    await write('447700900301', 'doomed');
    await write('447700900301', 'after');
    for (let h = 0; h < 23; h++) {
      await t.clock.advance(HOUR);
      await deliver();
    }
    let deliveries = await allDeliveries(endpoint.id);
    assert.deepEqual(
      deliveries.map((d) => d.state),
      ['pending', 'pending'],
      'still retrying before 24 h',
    );
    await t.clock.advance(2 * HOUR);
    await deliver();
    deliveries = await allDeliveries(endpoint.id);
    const dead = await t.api('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries?state=dead`);
    assert.equal(dead.json.items.length, 1);
    assert.equal(dead.json.items[0].lastStatus, 503);
    assert.equal(dead.json.items[0].lastError, 'HTTP 503');
    assert.equal(dead.json.items[0].nextAttemptAt, null);
    assert.ok(dead.json.items[0].attempts > 20, `${dead.json.items[0].attempts} attempts`);
    assert.deepEqual(
      subscriber.accepted().map((r) => r.json.data.text),
      ['after'],
      'the next event of the conversation went once the first was dead-lettered',
    );

    // A dead letter can be sent again by id once the subscriber is fixed.
    subscriber.answer = () => 200;
    const replay = await t.api('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, {
      eventIds: [dead.json.items[0].eventId],
    });
    assert.equal(replay.status, 202, JSON.stringify(replay.json));
    assert.equal(replay.json.replayed, 1);
    await deliver();
    assert.deepEqual(
      subscriber.accepted().map((r) => r.json.data.text),
      ['after', 'doomed'],
    );
    assert.ok(DAY > 0);
  });

  it('replays the events recorded in a chosen time range, in recording order', async () => {
    const endpoint = await subscribe({ events: ['message.received'] });
    await write('447700900401', 'before-range');
    await t.clock.advance(10 * MINUTE);
    const from = t.clock.now();
    await write('447700900401', 'in-range-1');
    await write('447700900402', 'in-range-2');
    await t.clock.advance(10 * MINUTE);
    const to = t.clock.now();
    await write('447700900401', 'after-range');
    subscriber.received.length = 0;

    const replay = await t.api('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    assert.equal(replay.status, 202, JSON.stringify(replay.json));
    assert.equal(replay.json.replayed, 2);
    await deliver();
    assert.deepEqual(
      subscriber.accepted().map((r) => r.json.data.text),
      ['in-range-1', 'in-range-2'],
    );
    const log = await allDeliveries(endpoint.id);
    assert.equal(log.filter((d) => d.replay).length, 2);
    assert.ok(log.every((d) => d.state === 'delivered'));
  });

  it('sends only the event types an endpoint subscribed to, and nothing to a disabled one', async () => {
    const filtered = await subscribe({ events: ['conversation.created'] });
    await write('447700900501', 'hello');
    assert.deepEqual(
      subscriber.accepted().map((r) => r.json.type),
      ['conversation.created'],
    );
    const off = await t.api('PATCH', `/v1/webhook-endpoints/${filtered.id}`, {
      enabled: false,
      events: [],
    });
    assert.equal(off.status, 200);
    assert.deepEqual(off.json.events, []);
    await write('447700900502', 'hi');
    assert.equal(subscriber.accepted().length, 1, 'disabled: nothing sent');
  });

  it('shows the secret only on creation and rotation, and signs with the rotated one', async () => {
    const endpoint = await subscribe({ description: 'CRM' });
    assert.match(endpoint.secret, /^whsec_/);
    const shown = await t.api('GET', `/v1/webhook-endpoints/${endpoint.id}`);
    assert.equal(shown.json.description, 'CRM');
    assert.equal(JSON.stringify(shown.json).includes(endpoint.secret), false);
    const listed = await t.api('GET', '/v1/webhook-endpoints');
    assert.equal(JSON.stringify(listed.json).includes(endpoint.secret), false);

    const rotated = await t.api('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.json.secret, endpoint.secret);
    const ping = await t.api('POST', `/v1/webhook-endpoints/${endpoint.id}/ping`);
    assert.equal(ping.status, 200, JSON.stringify(ping.json));
    assert.equal(ping.json.ok, true);
    assert.equal(ping.json.status, 200);
    const request = subscriber.received.at(-1);
    assert.equal(request?.json.type, 'webhook.ping');
    const header = String(request?.headers['parley-signature']);
    assert.ok(
      verifySignature(rotated.json.secret as string, request?.body ?? '', header, t.clock.now()),
    );
    assert.equal(
      verifySignature(endpoint.secret, request?.body ?? '', header, t.clock.now()),
      false,
    );
  });

  it('a ping to an endpoint that answers 500 reports the failure', async () => {
    const endpoint = await subscribe();
    subscriber.answer = () => 500;
    const ping = await t.api('POST', `/v1/webhook-endpoints/${endpoint.id}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(ping.json.ok, false);
    assert.equal(ping.json.error, 'HTTP 500');
  });

  /** Window events of one conversation (earlier tests' windows end during these hours too). */
  function windowEventsOf(conversationId: string): Received['json'][] {
    return subscriber
      .accepted()
      .map((r) => r.json)
      .filter((e) => e.type.startsWith('window.') && e.data.conversationId === conversationId);
  }

  async function conversationOf(from: string): Promise<string> {
    const list = await t.api('GET', '/v1/conversations?limit=200');
    const found = (list.json.items as { id: string; contact: { waId: string } }[]).find(
      (c) => c.contact.waId === from,
    );
    assert.ok(found, `a conversation with ${from}`);
    return found.id;
  }

  it('CSW-1: window.closing an hour before the 24 h end and window.closed at the end, once each', async () => {
    await subscribe({ events: ['window.closing', 'window.closed'] });
    await t.parley.eventDeliverer.scanWindows(); // the scheduler's first run starts its cursors
    await write('447700900601', 'open the window');
    const conversationId = await conversationOf('447700900601');
    const opened = t.clock.now();
    await t.clock.advance(22 * HOUR);
    await t.parley.eventDeliverer.scanWindows();
    await deliver();
    assert.deepEqual(windowEventsOf(conversationId), []);
    await t.clock.advance(HOUR + MINUTE);
    await t.parley.eventDeliverer.scanWindows();
    await t.parley.eventDeliverer.scanWindows();
    await deliver();
    assert.deepEqual(
      windowEventsOf(conversationId).map((e) => e.type),
      ['window.closing'],
    );
    const closing = windowEventsOf(conversationId)[0];
    assert.equal(closing?.data.closesAt, new Date(opened + DAY).toISOString());
    await t.clock.advance(HOUR);
    await t.parley.eventDeliverer.scanWindows();
    await deliver();
    assert.deepEqual(
      windowEventsOf(conversationId).map((e) => e.type),
      ['window.closing', 'window.closed'],
    );
  });

  it('CSW-2: a window extended by a new message gets its closing event at the new end only', async () => {
    await subscribe({ events: ['window.closing'] });
    await t.parley.eventDeliverer.scanWindows();
    await write('447700900701', 'first');
    const conversationId = await conversationOf('447700900701');
    await t.clock.advance(20 * HOUR);
    await write('447700900701', 'again');
    await t.clock.advance(4 * HOUR);
    await t.parley.eventDeliverer.scanWindows();
    await deliver();
    assert.deepEqual(windowEventsOf(conversationId), [], 'the first 24 h never ended');
    await t.clock.advance(20 * HOUR);
    await t.parley.eventDeliverer.scanWindows();
    await deliver();
    assert.equal(windowEventsOf(conversationId).length, 1);
  });

  it('delivers every event type published on the bus, account health and campaign progress included, in the documented body', async () => {
    await subscribe();
    const workspaceId = t.channel.workspaceId;
    const at = t.clock.now() - 5_000;
    for (const type of EVENT_TYPES)
      t.parley.deps.events.publish({ type, workspaceId, at, data: { probe: type, n: 1 } });
    await deliver();
    const bodies = subscriber.accepted().map((r) => r.json);
    assert.deepEqual(
      bodies.map((b) => b.type),
      [...EVENT_TYPES],
    );
    for (const body of bodies) {
      assert.deepEqual(Object.keys(body).sort(), [
        'created_at',
        'data',
        'id',
        'type',
        'workspace_id',
      ]);
      assert.deepEqual(body.data, { probe: body.type, n: 1 });
      assert.equal(body.created_at, new Date(at).toISOString());
      assert.equal(body.workspace_id, workspaceId);
    }
  });

  it('removes events past the retention period once nothing is pending for them', async () => {
    const endpoint = await subscribe({ events: ['message.received'] });
    await write('447700900901', 'old news');
    const eventId = subscriber.accepted()[0]?.json.id ?? '';
    const stored = () =>
      t.parley.deps.store.eventWebhooks.events.get(t.channel.workspaceId, eventId);
    await t.clock.advance(29 * DAY);
    await t.parley.eventDeliverer.purgeExpired();
    assert.ok(await stored(), 'kept for 30 days');
    await t.clock.advance(2 * DAY);
    assert.ok((await t.parley.eventDeliverer.purgeExpired()) >= 1);
    assert.equal(await stored(), null);
    assertProblem(
      await t.api('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, { eventIds: [eventId] }),
      404,
      'not_found',
    );
    assert.deepEqual(await allDeliveries(endpoint.id), []);
  });

  it('keeps each workspace to its own endpoints, deliveries and events', async () => {
    const mine = await subscribe();
    await write('447700900801', 'mine');
    const eventId = subscriber.accepted()[0]?.json.id ?? '';
    const other = await createWorkspace(t.parley.deps, 'Other Ltd');
    const { key } = await createApiKey(t.parley.deps, other.id, 'other admin');
    const as = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) =>
      t.api(method, path, body, { authorization: `Bearer ${key}` });

    assert.deepEqual((await as('GET', '/v1/webhook-endpoints')).json.items, []);
    for (const [method, path, body] of [
      ['GET', `/v1/webhook-endpoints/${mine.id}`, undefined],
      ['PATCH', `/v1/webhook-endpoints/${mine.id}`, { enabled: false }],
      ['DELETE', `/v1/webhook-endpoints/${mine.id}`, undefined],
      ['POST', `/v1/webhook-endpoints/${mine.id}/rotate-secret`, undefined],
      ['POST', `/v1/webhook-endpoints/${mine.id}/ping`, undefined],
      ['GET', `/v1/webhook-endpoints/${mine.id}/deliveries`, undefined],
      ['POST', `/v1/webhook-endpoints/${mine.id}/replay`, { eventIds: [eventId] }],
    ] as const)
      assertProblem(await as(method, path, body), 404, 'not_found');

    // Their own endpoint cannot replay our events either.
    const theirs = await as('POST', '/v1/webhook-endpoints', { url });
    assert.equal(theirs.status, 201);
    assertProblem(
      await as('POST', `/v1/webhook-endpoints/${theirs.json.id}/replay`, { eventIds: [eventId] }),
      404,
      'not_found',
    );
    const range = await as('POST', `/v1/webhook-endpoints/${theirs.json.id}/replay`, {
      from: '2000-01-01T00:00:00Z',
      to: '2100-01-01T00:00:00Z',
    });
    assert.equal(range.json.replayed, 0);
    const still = await t.api('GET', `/v1/webhook-endpoints/${mine.id}`);
    assert.equal(still.json.enabled, true);
  });

  it('answers bad input with a precise problem and writes nothing', async () => {
    const bad: [string, string, unknown, number, string][] = [
      ['POST', '/v1/webhook-endpoints', { url: 'ftp://example.com/x' }, 400, 'invalid_request'],
      ['POST', '/v1/webhook-endpoints', { url: 'not a url' }, 400, 'invalid_request'],
      [
        'POST',
        '/v1/webhook-endpoints',
        { url: 'https://u:p@example.com/' },
        400,
        'invalid_request',
      ],
      [
        'POST',
        '/v1/webhook-endpoints',
        { url, events: ['message.sent'] },
        400,
        'validation_failed',
      ],
      ['POST', '/v1/webhook-endpoints', { url, format: 'xml' }, 400, 'validation_failed'],
      ['POST', '/v1/webhook-endpoints', { url, colour: 'red' }, 400, 'validation_failed'],
      ['POST', '/v1/webhook-endpoints', {}, 400, 'validation_failed'],
    ];
    for (const [method, path, body, status, code] of bad)
      assertProblem(await t.api(method as 'POST', path, body), status, code);
    assert.deepEqual((await t.api('GET', '/v1/webhook-endpoints')).json.items, []);

    const endpoint = await subscribe();
    const base = `/v1/webhook-endpoints/${endpoint.id}`;
    assertProblem(
      await t.api('PATCH', base, { url: 'javascript:alert(1)' }),
      400,
      'invalid_request',
    );
    assertProblem(
      await t.api('POST', `${base}/replay`, {
        from: '2026-03-02T10:00:00Z',
        to: '2026-03-02T09:00:00Z',
      }),
      400,
      'invalid_request',
    );
    assertProblem(
      await t.api('POST', `${base}/replay`, { from: 'yesterday', to: 'now' }),
      400,
      'validation_failed',
    );
    assertProblem(
      await t.api('POST', `${base}/replay`, { eventIds: [] }),
      400,
      'validation_failed',
    );
    assertProblem(
      await t.api('POST', `${base}/replay`, { eventIds: ['01a1fd76-0000-7000-8000-00000000dead'] }),
      404,
      'not_found',
    );
    assertProblem(await t.api('GET', `${base}/deliveries?cursor=nonsense`), 400, 'invalid_request');
    assertProblem(await t.api('GET', `${base}/deliveries?state=lost`), 400, 'validation_failed');
    assertProblem(await t.api('GET', '/v1/webhook-endpoints/nope'), 404, 'not_found');
    const unchanged = await t.api('GET', base);
    assert.equal(unchanged.json.url, url);
  });
});
