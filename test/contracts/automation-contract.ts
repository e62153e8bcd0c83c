// Store contract cases for automation (migration 0010): flows, runs, inbound claims, the
// takeover and first-message queries, business calendars, and contact attributes and tags.
// Run on every dialect from test/store.contract.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NewAutomationRun } from '../../src/ports/automation-store.ts';
import type {
  Channel,
  Contact,
  Conversation,
  NewMessage,
  Store,
  Workspace,
} from '../../src/ports/store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;
const AWKWARD = 'Grüße — 你好 👋🏽 "quoted" \\ nul:\u0000';

let serial = 0;
const unique = (label: string): string => `${label}-${Date.now().toString(36)}-${++serial}`;

interface Tenant {
  workspace: Workspace;
  channel: Channel;
  contact: Contact;
  conversation: Conversation;
}

async function seed(store: Store, name = 'Acme'): Promise<Tenant> {
  const workspace = await store.workspaces.create({ name: unique(name) });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'meta',
    name: 'Meta',
    config: {},
    secretsEncrypted: 'v1:x:y',
  });
  const channel = await store.channels.create({
    workspaceId: workspace.id,
    connectionId: connection.id,
    providerKey: unique('pn'),
    phoneNumber: '15550001111',
    wabaId: 'waba-1',
    name: 'Support',
    throughputMps: 80,
    environment: 'production',
    allowList: [],
  });
  const contact = await store.contacts.upsert({
    workspaceId: workspace.id,
    waId: '447700900123',
    at: T0,
  });
  const conversation = await store.conversations.create({
    workspaceId: workspace.id,
    channelId: channel.id,
    contactId: contact.id,
    at: T0,
  });
  return { workspace, channel, contact, conversation };
}

function message(t: Tenant, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    workspaceId: t.workspace.id,
    channelId: t.channel.id,
    contactId: t.contact.id,
    conversationId: t.conversation.id,
    direction: 'inbound',
    type: 'text',
    content: { content: { body: 'hi' } },
    text: 'hi',
    status: 'delivered',
    reason: null,
    reasonDetail: null,
    providerMessageId: unique('wamid'),
    providerError: null,
    idempotencyKey: null,
    replyTo: null,
    createdAt: T0,
    dispatchedAt: null,
    sentAt: null,
    deliveredAt: T0,
    readAt: null,
    failedAt: null,
    needsReview: false,
    ...overrides,
  };
}

function run(
  t: Tenant,
  automationId: string,
  over: Partial<NewAutomationRun> = {},
): NewAutomationRun {
  return {
    workspaceId: t.workspace.id,
    automationId,
    definition: { name: 'Menu', steps: [{ type: 'reply', text: AWKWARD }] },
    channelId: t.channel.id,
    contactId: t.contact.id,
    conversationId: t.conversation.id,
    messageId: unique('m'),
    status: 'running',
    step: 0,
    waitingUntil: null,
    reason: null,
    log: [],
    startedAt: T0,
    ...over,
  };
}

export function runAutomationContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`Automation store contract: ${name}`, () => {
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

    it('keeps flows per workspace with unique names, in creation order, byte for byte', async () => {
      const a = await seed(store(), 'A');
      const b = await seed(store(), 'B');
      const flows = store().automations.flows;
      const definition = { name: 'Menu', trigger: { type: 'keyword', keywords: [AWKWARD] } };
      const first = await flows.create({
        workspaceId: a.workspace.id,
        name: 'Menu',
        definition,
        source: 'api',
        createdAt: T0,
      });
      assert.ok(first);
      assert.deepEqual(first.definition, definition);
      assert.equal(
        await flows.create({
          workspaceId: a.workspace.id,
          name: 'Menu',
          definition,
          source: 'api',
          createdAt: T0,
        }),
        null,
        'a second flow of the same name is not stored',
      );
      const elsewhere = await flows.create({
        workspaceId: b.workspace.id,
        name: 'Menu',
        definition,
        source: 'config',
        createdAt: T0,
      });
      assert.equal(elsewhere?.source, 'config');
      const second = await flows.create({
        workspaceId: a.workspace.id,
        name: 'Hours',
        definition: { name: 'Hours' },
        source: 'api',
        createdAt: T0 + MINUTE,
      });
      assert.ok(second);
      assert.deepEqual(
        (await flows.list(a.workspace.id)).map((f) => f.name),
        ['Menu', 'Hours'],
      );
      assert.equal(await flows.get(b.workspace.id, first.id), null);
      assert.equal((await flows.findByName(a.workspace.id, 'Hours'))?.id, second.id);

      assert.equal(
        await flows.update(
          a.workspace.id,
          second.id,
          { name: 'Menu', definition: {}, source: 'api' },
          T0,
        ),
        null,
        'renaming onto another flow is refused',
      );
      const renamed = await flows.update(
        a.workspace.id,
        second.id,
        { name: 'Opening hours', definition: { name: 'Opening hours' }, source: 'config' },
        T0 + 2 * MINUTE,
      );
      assert.equal(renamed?.name, 'Opening hours');
      assert.equal(renamed?.updatedAt, T0 + 2 * MINUTE);
      assert.equal(await flows.delete(b.workspace.id, second.id), false);
      assert.equal(await flows.delete(a.workspace.id, second.id), true);
      assert.equal(await flows.get(a.workspace.id, second.id), null);
    });

    it('keeps runs with their definition, newest first, and the last start per contact', async () => {
      const t = await seed(store());
      const runs = store().automations.runs;
      const flowId = unique('flow');
      const older = await runs.create(run(t, flowId));
      const newer = await runs.create(run(t, flowId, { startedAt: T0 + MINUTE }));
      assert.deepEqual(older.definition, run(t, flowId).definition);
      const waiting = await runs.update(
        newer.id,
        {
          status: 'waiting',
          step: 1,
          waitingUntil: T0 + 60 * MINUTE,
          log: [{ step: 0, text: AWKWARD }],
        },
        T0 + 2 * MINUTE,
      );
      assert.equal(waiting?.status, 'waiting');
      assert.equal(waiting?.waitingUntil, T0 + 60 * MINUTE);
      assert.deepEqual(waiting?.log, [{ step: 0, text: AWKWARD }]);
      assert.equal(waiting?.updatedAt, T0 + 2 * MINUTE);
      assert.deepEqual(
        (await runs.listByConversation(t.conversation.id)).map((r) => r.id),
        [newer.id, older.id],
      );
      assert.deepEqual(
        (await runs.listByAutomation(t.workspace.id, flowId, 1)).map((r) => r.id),
        [newer.id],
      );
      assert.equal(await runs.lastStartFor(flowId, t.contact.id), T0 + MINUTE);
      assert.equal(await runs.lastStartFor(flowId, 'someone-else'), null);
    });

    it('claims an inbound message once', async () => {
      const t = await seed(store());
      const id = unique('message');
      assert.equal(await store().automations.claimInbound(t.workspace.id, id, T0), true);
      assert.equal(await store().automations.claimInbound(t.workspace.id, id, T0 + 1), false);
    });

    it('tells an earlier inbound message, and a message someone other than the bot sent', async () => {
      const t = await seed(store());
      const a = store().automations;
      const first = await store().messages.insert(message(t));
      assert.equal(
        await a.hasEarlierInbound([t.conversation.id], first.record.id, T0),
        false,
        'the only message is the first',
      );
      const second = await store().messages.insert(message(t, { createdAt: T0 + MINUTE }));
      assert.equal(
        await a.hasEarlierInbound([t.conversation.id], second.record.id, T0 + MINUTE),
        true,
      );
      assert.equal(await a.hasEarlierInbound([], second.record.id, T0 + MINUTE), false);

      const outbound = (over: Partial<NewMessage>) =>
        message(t, {
          direction: 'outbound',
          providerMessageId: null,
          status: 'pending',
          createdAt: T0 + 2 * MINUTE,
          ...over,
        });
      await store().messages.insert(outbound({ idempotencyKey: 'automation:run:0' }));
      await store().messages.insert(outbound({ status: 'refused' }));
      await store().messages.insert(
        outbound({ type: 'template', idempotencyKey: 'campaign:c1:r1' }),
      );
      assert.equal(
        await a.humanSentSince(t.conversation.id, T0),
        false,
        'bot, refused and template only',
      );
      await store().messages.insert(
        outbound({ idempotencyKey: 'crm-42', createdAt: T0 + 3 * MINUTE }),
      );
      assert.equal(await a.humanSentSince(t.conversation.id, T0), true);
      assert.equal(await a.humanSentSince(t.conversation.id, T0 + 4 * MINUTE), false);
    });

    it('keeps one business calendar per channel', async () => {
      const t = await seed(store());
      const calendars = store().automations.calendars;
      assert.equal(await calendars.get(t.channel.id), null);
      const calendar = { zone: 'Europe/London', weekly: { mon: [{ from: '09:00', to: '17:00' }] } };
      await calendars.put({
        workspaceId: t.workspace.id,
        channelId: t.channel.id,
        calendar,
        at: T0,
      });
      await calendars.put({
        workspaceId: t.workspace.id,
        channelId: t.channel.id,
        calendar: { ...calendar, zone: 'Europe/Madrid' },
        at: T0 + 1,
      });
      assert.equal((await calendars.get(t.channel.id))?.zone, 'Europe/Madrid');
      assert.equal(await calendars.delete(t.channel.id), true);
      assert.equal(await calendars.delete(t.channel.id), false);
    });

    it("replaces a contact's attributes and tags", async () => {
      const t = await seed(store());
      const updated = await store().contacts.update(
        t.contact.id,
        { attributes: { order: '1042', note: AWKWARD, n: 3 }, tags: ['vip', AWKWARD] },
        T0 + MINUTE,
      );
      assert.deepEqual(updated?.attributes, { order: '1042', note: AWKWARD, n: 3 });
      assert.deepEqual(updated?.tags, ['vip', AWKWARD]);
      assert.equal(updated?.updatedAt, T0 + MINUTE);
      const again = await store().contacts.get(t.contact.id);
      assert.deepEqual(again?.attributes, updated?.attributes);
      assert.equal(await store().contacts.update('missing', { tags: [] }, T0), null);
    });
  });
}
