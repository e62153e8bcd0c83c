// Store contract cases for outbound event webhooks: the event log, endpoints, deliveries with
// ordered leased claims, and the window scheduler's cursors. Run on every dialect from
// test/store.contract.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventType } from '../../src/ports/event-bus.ts';
import type { NewStoredEvent, WebhookEndpoint } from '../../src/ports/event-webhook-store.ts';
import type { Store } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let serial = 0;
const unique = (label: string): string => `${label}-${Date.now().toString(36)}-${++serial}`;

function event(
  workspaceId: string,
  type: EventType,
  conversation: string | null,
  recordedAt: number,
  data: Record<string, string> = {},
): NewStoredEvent {
  return {
    workspaceId,
    type,
    orderingKey: conversation === null ? null : `conversation:${conversation}`,
    at: recordedAt - 1_000,
    recordedAt,
    data: { ...data, ...(conversation ? { conversationId: conversation } : {}) },
  };
}

export function runEventWebhooksContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`Event webhooks contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    const store = (): Store => {
      if (!subject) throw new Error('store not ready');
      return subject.store;
    };
    before(async () => {
      subject = await makeStore();
    });
    after(async () => {
      await subject?.cleanup();
    });

    /** A workspace with an endpoint; every case gets its own so claims never see another's rows. */
    async function tenant(
      eventTypes: EventType[] = [],
    ): Promise<{ workspaceId: string; endpoint: WebhookEndpoint }> {
      const workspace = await store().workspaces.create({ name: unique('ws') });
      const endpoint = await store().eventWebhooks.endpoints.create({
        workspaceId: workspace.id,
        url: 'https://crm.example/hooks',
        description: 'CRM',
        eventTypes,
        format: 'parley',
        secretSealed: 'v1:sealed',
        enabled: true,
        at: T0,
      });
      return { workspaceId: workspace.id, endpoint };
    }

    /** Claims everything due at `now` for this endpoint, completing nothing. */
    async function claimFor(endpointId: string, now: number, worker = 'w1', leaseMs = HOUR) {
      const claimed = await store().eventWebhooks.deliveries.claim({
        now,
        limit: 1000,
        leaseMs,
        worker,
      });
      return claimed.filter((d) => d.endpointId === endpointId);
    }

    it('records events with one pending delivery per enabled endpoint of the workspace whose filter takes the type', async () => {
      const a = await tenant();
      const filtered = await store().eventWebhooks.endpoints.create({
        ...a.endpoint,
        eventTypes: ['message.status'],
        at: T0,
      });
      const disabled = await store().eventWebhooks.endpoints.create({
        ...a.endpoint,
        enabled: false,
        at: T0,
      });
      const b = await tenant();
      const stored = await store().eventWebhooks.events.record(
        [
          event(a.workspaceId, 'message.received', 'c1', T0, { text: 'Grüße 👋🏽' }),
          event(a.workspaceId, 'message.status', 'c1', T0),
        ],
        DAY,
      );
      assert.equal(stored.length, 2);
      const got = await store().eventWebhooks.events.get(a.workspaceId, stored[0]?.id ?? '');
      assert.deepEqual(got, stored[0]);
      assert.equal(got?.data.text, 'Grüße 👋🏽');
      assert.equal(
        await store().eventWebhooks.events.get(b.workspaceId, stored[0]?.id ?? ''),
        null,
      );

      const all = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        limit: 10,
      });
      assert.deepEqual(all.items.map((d) => d.eventType).sort(), [
        'message.received',
        'message.status',
      ]);
      assert.ok(all.items.every((d) => d.state === 'pending' && d.deadline === T0 + DAY));
      const onlyStatus = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: filtered.id,
        limit: 10,
      });
      assert.deepEqual(
        onlyStatus.items.map((d) => d.eventType),
        ['message.status'],
      );
      const none = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: disabled.id,
        limit: 10,
      });
      assert.deepEqual(none.items, []);
      const otherWorkspace = await store().eventWebhooks.deliveries.list({
        workspaceId: b.workspaceId,
        endpointId: b.endpoint.id,
        limit: 10,
      });
      assert.deepEqual(otherWorkspace.items, []);
    });

    it('claims one delivery at a time per (endpoint, conversation) in recording order; others run alongside', async () => {
      const a = await tenant();
      await store().eventWebhooks.events.record(
        [
          event(a.workspaceId, 'message.received', 'c1', T0, { n: '1' }),
          event(a.workspaceId, 'message.received', 'c2', T0, { n: '2' }),
          event(a.workspaceId, 'message.status', 'c1', T0, { n: '3' }),
          event(a.workspaceId, 'template.status', null, T0, { n: '4' }),
          event(a.workspaceId, 'billing.threshold', null, T0, { n: '5' }),
        ],
        DAY,
      );
      const first = await claimFor(a.endpoint.id, T0);
      const eventsOf = async (ids: string[]) =>
        Promise.all(
          ids.map(
            async (id) => (await store().eventWebhooks.events.get(a.workspaceId, id))?.data.n,
          ),
        );
      assert.deepEqual(
        (await eventsOf(first.map((d) => d.eventId))).sort(),
        ['1', '2', '4', '5'],
        'the second event of c1 waits for the first',
      );
      assert.deepEqual(
        await claimFor(a.endpoint.id, T0),
        [],
        'leased deliveries are not claimed twice',
      );

      const c1 = first.find((d) => d.orderingKey === 'conversation:c1');
      assert.ok(c1);
      // A failed head keeps its conversation waiting until it succeeds.
      assert.equal(
        await store().eventWebhooks.deliveries.failed(c1.id, {
          worker: 'w1',
          at: T0,
          status: 500,
          error: 'HTTP 500',
          nextAttemptAt: T0 + MINUTE,
        }),
        true,
      );
      assert.deepEqual(await claimFor(a.endpoint.id, T0 + 1), []);
      assert.equal(await store().eventWebhooks.deliveries.nextDueAt(T0 + 1), T0 + MINUTE);
      const retry = await claimFor(a.endpoint.id, T0 + MINUTE);
      assert.deepEqual(
        retry.map((d) => d.id),
        [c1.id],
      );
      assert.equal(retry[0]?.attempts, 1);
      assert.equal(retry[0]?.lastStatus, 500);
      await store().eventWebhooks.deliveries.delivered(c1.id, {
        worker: 'w1',
        at: T0 + MINUTE,
        status: 204,
        error: null,
      });
      const next = await claimFor(a.endpoint.id, T0 + MINUTE);
      assert.deepEqual(await eventsOf(next.map((d) => d.eventId)), ['3']);
      const done = await store().eventWebhooks.deliveries.get(a.workspaceId, c1.id);
      assert.equal(done?.state, 'delivered');
      assert.equal(done?.deliveredAt, T0 + MINUTE);
      assert.equal(done?.attempts, 2);
      assert.equal(done?.lastError, null);
    });

    it('a delivery waiting behind its conversation has no due time until the one before it finishes', async () => {
      const a = await tenant();
      const [e1, e2] = await store().eventWebhooks.events.record(
        [
          event(a.workspaceId, 'message.received', 'w1', T0),
          event(a.workspaceId, 'message.received', 'w1', T0),
        ],
        DAY,
      );
      const [later] = await store().eventWebhooks.events.record(
        [event(a.workspaceId, 'message.status', 'w1', T0 + 5)],
        DAY,
      );
      assert.ok(e1 && e2 && later);
      const log = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        limit: 10,
      });
      const due = new Map(log.items.map((d) => [d.eventId, d.nextAttemptAt]));
      assert.deepEqual(
        [due.get(e1.id), due.get(e2.id), due.get(later.id)],
        [T0, null, null],
        'only the first is due; the others wait (also across record() calls)',
      );
      assert.equal(await store().eventWebhooks.deliveries.wakeWaiting(T0), 0, 'nothing stuck');
      const [head] = await claimFor(a.endpoint.id, T0);
      assert.equal(head?.eventId, e1.id);
      await store().eventWebhooks.deliveries.failed(head.id, {
        worker: 'w1',
        at: T0 + 10,
        status: null,
        error: 'timeout',
        nextAttemptAt: null,
      });
      const [second] = await claimFor(a.endpoint.id, T0 + 10);
      assert.equal(second?.eventId, e2.id, 'a dead head hands over to the next event');
      assert.equal(second?.nextAttemptAt, T0 + 10);
    });

    it('an expired lease makes a delivery claimable again, and the old worker can no longer record it', async () => {
      const a = await tenant();
      await store().eventWebhooks.events.record(
        [event(a.workspaceId, 'message.received', 'c9', T0)],
        DAY,
      );
      const [leased] = await claimFor(a.endpoint.id, T0, 'crashed', MINUTE);
      assert.ok(leased);
      const [again] = await claimFor(a.endpoint.id, T0 + 2 * MINUTE, 'alive');
      assert.equal(again?.id, leased.id);
      assert.equal(
        await store().eventWebhooks.deliveries.delivered(leased.id, {
          worker: 'crashed',
          at: T0 + 2 * MINUTE,
          status: 200,
          error: null,
        }),
        false,
      );
      assert.equal(
        await store().eventWebhooks.deliveries.failed(leased.id, {
          worker: 'alive',
          at: T0 + 2 * MINUTE,
          status: null,
          error: 'connect ECONNREFUSED',
          nextAttemptAt: null,
        }),
        true,
      );
      const dead = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        state: 'dead',
        limit: 10,
      });
      assert.equal(dead.items.length, 1);
      assert.equal(dead.items[0]?.lastError, 'connect ECONNREFUSED');
      assert.equal(dead.items[0]?.nextAttemptAt, null);
    });

    it('two store instances never lease the same delivery', async (t) => {
      if (!subject?.openAnother) {
        t.skip('this adapter cannot open a second instance');
        return;
      }
      const a = await tenant();
      await store().eventWebhooks.events.record(
        Array.from({ length: 40 }, (_, i) => event(a.workspaceId, 'message.received', `k${i}`, T0)),
        DAY,
      );
      const other = await subject.openAnother();
      try {
        const claim = (s: Store, worker: string) =>
          s.eventWebhooks.deliveries.claim({ now: T0, limit: 25, leaseMs: MINUTE, worker });
        const [x, y] = await Promise.all([claim(store(), 'x'), claim(other, 'y')]);
        const ids = [...x, ...y].map((d) => d.id);
        assert.equal(new Set(ids).size, ids.length);
      } finally {
        await other.close();
      }
    });

    it('replay deliveries queue behind pending ones of the same conversation and page newest first', async () => {
      const a = await tenant();
      const [e1, e2] = await store().eventWebhooks.events.record(
        [
          event(a.workspaceId, 'message.received', 'c1', T0),
          event(a.workspaceId, 'message.status', 'c1', T0 + 1),
        ],
        DAY,
      );
      assert.ok(e1 && e2);
      const replayed = await store().eventWebhooks.deliveries.enqueue({
        endpoint: a.endpoint,
        events: [e1],
        at: T0 + HOUR,
        deadline: T0 + HOUR + DAY,
      });
      assert.equal(replayed[0]?.replay, true);
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        const claimed = await claimFor(a.endpoint.id, T0 + HOUR);
        for (const d of claimed) {
          order.push(`${d.eventId === e1.id ? 'e1' : 'e2'}${d.replay ? '-replay' : ''}`);
          await store().eventWebhooks.deliveries.delivered(d.id, {
            worker: 'w1',
            at: T0 + HOUR,
            status: 200,
            error: null,
          });
        }
      }
      assert.deepEqual(order, ['e1', 'e2', 'e1-replay']);
      const page1 = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        limit: 2,
      });
      assert.equal(page1.items[0]?.replay, true);
      assert.ok(page1.nextCursor);
      const page2 = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        limit: 2,
        cursor: page1.nextCursor,
      });
      assert.equal(page2.items.length, 1);
      assert.equal(page2.nextCursor, null);
    });

    it('lists recorded events by range and type, and purges old finished ones only', async () => {
      // Long before every other case: purge() is not per workspace.
      const P0 = T0 - 1000 * DAY;
      const a = await tenant();
      await store().eventWebhooks.events.record(
        [
          event(a.workspaceId, 'message.received', 'c1', P0),
          event(a.workspaceId, 'consent.changed', null, P0 + MINUTE),
          event(a.workspaceId, 'message.received', 'c1', P0 + 2 * MINUTE),
        ],
        DAY,
      );
      const range = await store().eventWebhooks.events.listRecorded({
        workspaceId: a.workspaceId,
        from: P0 + MINUTE,
        to: P0 + 3 * MINUTE,
        limit: 10,
      });
      assert.deepEqual(
        range.map((e) => e.type),
        ['consent.changed', 'message.received'],
      );
      const typed = await store().eventWebhooks.events.listRecorded({
        workspaceId: a.workspaceId,
        from: P0,
        to: P0 + DAY,
        types: ['message.received'],
        limit: 10,
      });
      assert.equal(typed.length, 2);

      // Everything pending: nothing may be purged yet.
      assert.equal(await store().eventWebhooks.events.purge(P0 + DAY, 100), 0);
      for (const d of await claimFor(a.endpoint.id, P0 + DAY))
        await store().eventWebhooks.deliveries.delivered(d.id, {
          worker: 'w1',
          at: P0 + DAY,
          status: 200,
          error: null,
        });
      // consent.changed (no conversation) and the first c1 event were delivered; the second waits.
      assert.equal(await store().eventWebhooks.events.purge(P0 + DAY, 100), 2);
      const left = await store().eventWebhooks.events.listRecorded({
        workspaceId: a.workspaceId,
        from: 0,
        to: P0 + DAY,
        limit: 10,
      });
      assert.equal(left.length, 1);
    });

    it("erasure deletes the workspace's events naming the contact or its number, with their deliveries", async () => {
      const a = await tenant();
      const b = await tenant();
      await store().eventWebhooks.events.record(
        [
          event(a.workspaceId, 'message.received', 'c1', T0, {
            contactId: 'ct-1',
            from: '447700900555',
          }),
          event(a.workspaceId, 'consent.changed', null, T0, { waId: '447700900555' }),
          event(a.workspaceId, 'message.received', 'c2', T0, {
            contactId: 'ct-2',
            from: '447700900666',
          }),
          event(b.workspaceId, 'message.received', 'c9', T0, {
            contactId: 'ct-1',
            from: '447700900555',
          }),
        ],
        DAY,
      );
      assert.equal(
        await store().eventWebhooks.events.eraseContact({
          workspaceId: a.workspaceId,
          contactId: 'ct-1',
          waId: '447700900555',
        }),
        2,
      );
      const left = await store().eventWebhooks.events.listRecorded({
        workspaceId: a.workspaceId,
        from: 0,
        to: T0 + 1,
        limit: 10,
      });
      assert.deepEqual(
        left.map((e) => e.data.contactId),
        ['ct-2'],
      );
      const log = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        limit: 10,
      });
      assert.equal(log.items.length, 1);
      const other = await store().eventWebhooks.events.listRecorded({
        workspaceId: b.workspaceId,
        from: 0,
        to: T0 + 1,
        limit: 10,
      });
      assert.equal(other.length, 1, 'another workspace keeps its own events');
    });

    it('keeps endpoints to their workspace; deleting one removes its deliveries', async () => {
      const a = await tenant(['message.received']);
      const b = await tenant();
      assert.equal(await store().eventWebhooks.endpoints.get(b.workspaceId, a.endpoint.id), null);
      assert.equal(
        await store().eventWebhooks.endpoints.update(
          b.workspaceId,
          a.endpoint.id,
          { enabled: false },
          T0,
        ),
        null,
      );
      assert.equal(
        await store().eventWebhooks.endpoints.delete(b.workspaceId, a.endpoint.id),
        false,
      );
      const updated = await store().eventWebhooks.endpoints.update(
        a.workspaceId,
        a.endpoint.id,
        { eventTypes: [], description: 'ERP', url: 'https://erp.example/in' },
        T0 + MINUTE,
      );
      assert.deepEqual(
        [updated?.eventTypes, updated?.description, updated?.url, updated?.updatedAt],
        [[], 'ERP', 'https://erp.example/in', T0 + MINUTE],
      );
      assert.deepEqual(
        (await store().eventWebhooks.endpoints.list(a.workspaceId)).map((e) => e.id),
        [a.endpoint.id],
      );
      await store().eventWebhooks.events.record(
        [event(a.workspaceId, 'message.received', 'c1', T0)],
        DAY,
      );
      assert.equal(
        await store().eventWebhooks.endpoints.delete(a.workspaceId, a.endpoint.id),
        true,
      );
      const log = await store().eventWebhooks.deliveries.list({
        workspaceId: a.workspaceId,
        endpointId: a.endpoint.id,
        limit: 10,
      });
      assert.deepEqual(log.items, []);
    });

    it('moves a scheduler cursor only from the value the caller read', async () => {
      const name = unique('schedule');
      assert.equal(await store().eventWebhooks.schedules.get(name), null);
      assert.equal(await store().eventWebhooks.schedules.advance(name, null, T0), true);
      assert.equal(await store().eventWebhooks.schedules.advance(name, null, T0 + 5), false);
      assert.equal(await store().eventWebhooks.schedules.advance(name, T0, T0 + MINUTE), true);
      assert.equal(await store().eventWebhooks.schedules.advance(name, T0, T0 + HOUR), false);
      assert.equal(await store().eventWebhooks.schedules.get(name), T0 + MINUTE);
    });

    it('finds care windows by the time their 24 h end, skipping those proven closed', async () => {
      const workspace = await store().workspaces.create({ name: unique('ws') });
      const connection = await store().connections.create({
        workspaceId: workspace.id,
        provider: 'meta',
        name: 'Meta',
        config: {},
        secretsEncrypted: 'v1:x:y',
      });
      const channel = await store().channels.create({
        workspaceId: workspace.id,
        connectionId: connection.id,
        providerKey: unique('pn'),
        phoneNumber: '15550001111',
        wabaId: null,
        name: 'support',
        throughputMps: 80,
        environment: 'production',
        allowList: [],
      });
      const base = T0 + 400 * DAY; // clear of other cases' windows
      const contacts = await Promise.all(
        ['447700900001', '447700900002', '447700900003'].map((waId) =>
          store().contacts.upsert({ workspaceId: workspace.id, waId, at: base }),
        ),
      );
      const [c1, c2, c3] = contacts.map((c) => c.id);
      assert.ok(c1 && c2 && c3);
      await store().windows.put({
        channelId: channel.id,
        contactId: c1,
        lastInboundAt: base,
        closedAt: null,
      });
      await store().windows.put({
        channelId: channel.id,
        contactId: c2,
        lastInboundAt: base + HOUR,
        closedAt: null,
      });
      await store().windows.put({
        channelId: channel.id,
        contactId: c3,
        lastInboundAt: base,
        closedAt: base + HOUR,
      });
      const ending = await store().eventWebhooks.schedules.windowsEnding(
        base + DAY - 1,
        base + DAY + 30 * MINUTE,
        DAY,
        100,
      );
      assert.deepEqual(
        ending.map((w) => [w.contactId, w.endsAt, w.workspaceId]),
        [[c1, base + DAY, workspace.id]],
      );
      const later = await store().eventWebhooks.schedules.windowsEnding(
        base + DAY,
        base + DAY + HOUR,
        DAY,
        100,
      );
      assert.deepEqual(
        later.map((w) => w.contactId),
        [c2],
      );
    });
  });
}
