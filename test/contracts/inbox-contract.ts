// Store contract cases for the inbox (agents, sessions, tokens, login attempts, departments, the
// inbox listing and its row fields, notes, canned responses, parked replies, response times).
// Run on every dialect from test/store.contract.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, Contact, Conversation, Store, Workspace } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;
let sequence = 0;
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${++sequence}`;

export function runInboxContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Inbox store contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    const store = (): Store => {
      if (!subject) throw new Error('store not ready');
      return subject.store;
    };
    let workspace: Workspace;
    let channel: Channel;

    const contactNamed = (label: string): Promise<Contact> =>
      store().contacts.upsert({
        workspaceId: workspace.id,
        waId: `4477009${String(++sequence).padStart(5, '0')}`,
        name: label,
        at: T0,
      });
    const message = (
      c: Conversation,
      direction: 'inbound' | 'outbound',
      at: number,
      text: string,
    ) =>
      store().messages.insert({
        workspaceId: c.workspaceId,
        channelId: c.channelId,
        contactId: c.contactId,
        conversationId: c.id,
        direction,
        type: 'text',
        content: { body: text },
        text,
        status: direction === 'inbound' ? 'delivered' : 'sent',
        reason: null,
        reasonDetail: null,
        providerMessageId: direction === 'inbound' ? unique('wamid') : null,
        providerError: null,
        idempotencyKey: null,
        replyTo: null,
        createdAt: at,
        dispatchedAt: null,
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        failedAt: null,
        needsReview: false,
      });
    const conversationWith = async (label: string, at: number) => {
      const contact = await contactNamed(label);
      const c = await store().conversations.create({
        workspaceId: workspace.id,
        channelId: channel.id,
        contactId: contact.id,
        at,
      });
      await message(c, 'inbound', at, `hello from ${label}`);
      return c;
    };

    before(async () => {
      subject = await makeStore();
      workspace = await store().workspaces.create({ name: unique('inbox') });
      const connection = await store().connections.create({
        workspaceId: workspace.id,
        provider: 'sandbox',
        name: 'Sandbox',
        config: {},
        secretsEncrypted: 'sealed',
      });
      channel = await store().channels.create({
        workspaceId: workspace.id,
        connectionId: connection.id,
        providerKey: unique('pn'),
        phoneNumber: '15550001111',
        wabaId: null,
        name: 'Shop',
        throughputMps: 80,
        environment: 'production',
        allowList: [],
      });
    });
    after(async () => {
      await subject?.cleanup();
    });

    it('keeps an agent as created, finds it by email in any case, and updates it', async () => {
      const email = `${unique('ada')}@Example.test`;
      const agent = await store().inbox.agents.create({
        workspaceId: workspace.id,
        email,
        name: 'Ada',
        role: 'admin',
        state: 'active',
        passwordHash: 'scrypt$1$8$1$salt$hash',
        departmentIds: ['d1'],
        at: T0,
      });
      assert.equal(agent.email, email.toLowerCase());
      assert.deepEqual(await store().inbox.agents.findByEmail(email.toUpperCase()), agent);
      const updated = await store().inbox.agents.update(
        agent.id,
        { role: 'agent', departmentIds: [] },
        T0 + 1,
      );
      assert.equal(updated?.role, 'agent');
      assert.deepEqual(updated?.departmentIds, []);
      assert.equal(updated?.updatedAt, T0 + 1);
      await assert.rejects(
        store().inbox.agents.create({ ...agent, email: email.toUpperCase(), at: T0 }),
        'an email signs in to one workspace only',
      );
      assert.equal(await store().inbox.agents.delete(agent.id), true);
      assert.equal(await store().inbox.agents.get(agent.id), null);
    });

    it('finds a session by its token hash and forgets it on delete', async () => {
      const hash = unique('hash');
      const session = await store().inbox.sessions.create({
        tokenHash: hash,
        agentId: 'agent-1',
        workspaceId: workspace.id,
        csrfToken: 'csrf',
        createdAt: T0,
        expiresAt: T0 + 1000,
      });
      assert.deepEqual(await store().inbox.sessions.findByHash(hash), session);
      await store().inbox.sessions.deleteForAgent('agent-1');
      assert.equal(await store().inbox.sessions.findByHash(hash), null);
    });

    it('spends a token once: the second use answers false', async () => {
      const hash = unique('token');
      await store().inbox.tokens.create({
        tokenHash: hash,
        kind: 'invite',
        agentId: 'a',
        workspaceId: workspace.id,
        createdAt: T0,
        expiresAt: T0 + 1000,
      });
      assert.equal(await store().inbox.tokens.use(hash, T0 + 1), true);
      assert.equal(await store().inbox.tokens.use(hash, T0 + 2), false);
      assert.equal((await store().inbox.tokens.findByHash(hash))?.usedAt, T0 + 1);
    });

    it('counts login attempts per key inside a window and purges old ones', async () => {
      const key = unique('login');
      for (const at of [T0, T0 + 10, T0 + 20]) await store().inbox.attempts.record(key, at);
      assert.equal(await store().inbox.attempts.count(key, T0 + 5), 2);
      assert.equal(await store().inbox.attempts.count(unique('other'), 0), 0);
      await store().inbox.attempts.purge(T0 + 15);
      assert.equal(await store().inbox.attempts.count(key, 0), 1);
    });

    it('lists the inbox by status, assignee, department and search, newest first, with unread and last message', async () => {
      const dept = await store().inbox.departments.create({
        workspaceId: workspace.id,
        name: unique('Sales'),
        at: T0,
      });
      const a = await conversationWith('Zed Alpha', T0 + MINUTE);
      const b = await conversationWith('Zed Beta', T0 + 2 * MINUTE);
      const c = await conversationWith('Zed Gamma', T0 + 3 * MINUTE);
      await store().conversations.touch(a.id, T0 + 4 * MINUTE);
      await message(a, 'inbound', T0 + 4 * MINUTE, 'second');
      await store().inbox.conversations.update(b.id, {
        assigneeId: 'agent-9',
        departmentId: dept.id,
        labels: ['vip'],
        readAt: T0 + 2 * MINUTE,
      });
      await store().inbox.conversations.update(c.id, { snoozedUntil: T0 + 60 * MINUTE });
      const list = async (filter: Record<string, unknown>, now = T0 + 5 * MINUTE) =>
        (
          await store().inbox.conversations.list({
            workspaceId: workspace.id,
            now,
            limit: 50,
            search: 'zed',
            ...filter,
          })
        ).items.map((x) => x.id);
      assert.deepEqual(await list({}), [a.id, c.id, b.id]);
      assert.deepEqual(await list({ status: 'open' }), [a.id, b.id]);
      assert.deepEqual(await list({ status: 'snoozed' }), [c.id]);
      assert.deepEqual(await list({ status: 'open' }, T0 + 60 * MINUTE), [a.id, c.id, b.id]);
      assert.deepEqual(await list({ assigneeId: 'agent-9' }), [b.id]);
      assert.deepEqual(await list({ assigneeId: null }), [a.id, c.id]);
      assert.deepEqual(await list({ departmentId: dept.id }), [b.id]);
      assert.deepEqual(await list({ search: 'GAMMA' }), [c.id]);
      assert.deepEqual(await list({ search: '50%_' }), []);
      const got = await store().inbox.conversations.get(b.id);
      assert.deepEqual(got?.labels, ['vip']);
      const unread = await store().inbox.conversations.unreadCounts([
        { id: a.id, readAt: null },
        { id: b.id, readAt: T0 + 2 * MINUTE },
      ]);
      assert.equal(unread.get(a.id), 2);
      assert.equal(unread.get(b.id), 0);
      const last = await store().inbox.conversations.lastMessages([a.id]);
      assert.deepEqual(last.get(a.id), {
        text: 'second',
        type: 'text',
        at: T0 + 4 * MINUTE,
        direction: 'inbound',
      });
      assert.equal(await store().inbox.conversations.wake(channel.id, c.contactId), c.id);
      assert.equal((await store().inbox.conversations.get(c.id))?.snoozedUntil, null);
      assert.equal(await store().inbox.conversations.wake(channel.id, c.contactId), null);
      assert.equal(await store().inbox.departments.delete(dept.id), true);
      assert.equal((await store().inbox.conversations.get(b.id))?.departmentId, null);
    });

    it('settles a parked reply once and lists only held ones', async () => {
      const c = await conversationWith('Parked', T0);
      const p = await store().inbox.parked.create({
        workspaceId: workspace.id,
        conversationId: c.id,
        channelId: c.channelId,
        contactId: c.contactId,
        agentId: null,
        text: 'held',
        reengagementMessageId: null,
        createdAt: T0,
      });
      assert.deepEqual(
        (await store().inbox.parked.listHeld(c.channelId, c.contactId)).map((x) => x.id),
        [p.id],
      );
      assert.equal(await store().inbox.parked.settle(p.id, 'sent', T0 + 1, null), true);
      assert.equal(await store().inbox.parked.settle(p.id, 'cancelled', T0 + 2, null), false);
      assert.deepEqual(await store().inbox.parked.listHeld(c.channelId, c.contactId), []);
      assert.equal((await store().inbox.parked.get(p.id))?.state, 'sent');
    });

    it('keeps notes in time order and canned responses unique per shortcut', async () => {
      const c = await conversationWith('Noted', T0);
      for (const [at, text] of [
        [T0 + 2, 'second'],
        [T0 + 1, 'first'],
      ] as const)
        await store().inbox.notes.create({
          workspaceId: workspace.id,
          conversationId: c.id,
          agentId: null,
          text,
          createdAt: at,
        });
      assert.deepEqual(
        (await store().inbox.notes.list(c.id, -1, T0 + 10)).map((n) => n.text),
        ['first', 'second'],
      );
      const shortcut = unique('hi');
      await store().inbox.canned.create({ workspaceId: workspace.id, shortcut, text: 'a', at: T0 });
      await assert.rejects(
        store().inbox.canned.create({ workspaceId: workspace.id, shortcut, text: 'b', at: T0 }),
      );
    });

    it('reports first inbound, first answer and close per conversation opened in the range', async () => {
      const c = await conversationWith('Timed', T0 + 100 * MINUTE);
      await message(c, 'outbound', T0 + 107 * MINUTE, 'answer');
      await store().inbox.conversations.update(c.id, {
        state: 'closed',
        closedAt: T0 + 130 * MINUTE,
      });
      const rows = await store().inbox.conversations.responseTimes(
        workspace.id,
        T0 + 99 * MINUTE,
        T0 + 101 * MINUTE,
      );
      assert.deepEqual(
        rows.map((r) => [r.conversationId, r.firstInboundAt, r.firstResponseAt, r.closedAt]),
        [[c.id, T0 + 100 * MINUTE, T0 + 107 * MINUTE, T0 + 130 * MINUTE]],
      );
    });
  });
}
