// Store contract cases for campaigns, their leased recipients and the outbound-limit records
// (LIM-3 reach, LIM-4 marketing history). Run on every dialect from test/store.contract.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CampaignRecord, NewRecipient } from '../../src/ports/campaign-store.ts';
import type { Channel, Store } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;

async function channelOf(store: Store, label: string): Promise<Channel> {
  const workspace = await store.workspaces.create({ name: label });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'sandbox',
    name: label,
    config: {},
    secretsEncrypted: '',
  });
  return store.channels.create({
    workspaceId: workspace.id,
    connectionId: connection.id,
    providerKey: `pn-${label}`,
    phoneNumber: '15550001111',
    wabaId: `waba-${label}`,
    name: label,
    throughputMps: 80,
    environment: 'production',
    allowList: [],
  });
}

function recipients(count: number, skipped = 0): NewRecipient[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    waId: String(447700900000 + i),
    components:
      i === 0 ? [{ type: 'body', parameters: [{ type: 'text', text: 'Grüße 👋' }] }] : null,
    state: i < skipped ? ('skipped' as const) : ('pending' as const),
    reason: i < skipped ? 'opted_out' : null,
    detail: i < skipped ? 'opted out on 2026-02-01' : null,
  }));
}

async function campaignOf(
  store: Store,
  channel: Channel,
  list: readonly NewRecipient[],
): Promise<CampaignRecord> {
  return store.transaction((tx) =>
    tx.outreach.campaigns.create(
      {
        workspaceId: channel.workspaceId,
        channelId: channel.id,
        name: 'Spring',
        template: { name: 'welcome_offer', language: 'en', components: null },
        category: 'marketing',
        state: 'running',
        pauseReason: null,
        pauseDetail: null,
        startAt: null,
        deferredUntil: null,
        audience: { kind: 'csv', lines: list.length },
        createdAt: T0,
        startedAt: T0,
        finishedAt: null,
      },
      list,
    ),
  );
}

export function runCampaignContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Campaign store contract: ${name}`, () => {
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

    it('creates a campaign with a large audience in chunks and reads it back only in its workspace', async () => {
      const channel = await channelOf(store(), 'create');
      const other = await channelOf(store(), 'create-other');
      const campaign = await campaignOf(store(), channel, recipients(1_203, 3));
      assert.deepEqual(
        await store().outreach.campaigns.get(channel.workspaceId, campaign.id),
        campaign,
      );
      assert.equal(await store().outreach.campaigns.get(other.workspaceId, campaign.id), null);
      const progress = await store().outreach.recipients.progress(campaign.id);
      assert.equal(progress.total, 1_203);
      assert.equal(progress.byOutcome.pending, 1_200);
      assert.deepEqual(progress.skippedByReason, { opted_out: 3 });
      assert.equal(await store().outreach.recipients.countRemaining(campaign.id), 1_200);
      const page = await store().outreach.campaigns.list(channel.workspaceId, { limit: 10 });
      assert.deepEqual(
        page.items.map((c) => c.id),
        [campaign.id],
      );
    });

    it('changes a campaign only from the states given (compare-and-set)', async () => {
      const channel = await channelOf(store(), 'cas');
      const campaign = await campaignOf(store(), channel, recipients(1));
      assert.equal(
        await store().outreach.campaigns.update(campaign.id, ['paused'], { state: 'running' }, T0),
        null,
      );
      const paused = await store().outreach.campaigns.update(
        campaign.id,
        ['running'],
        { state: 'paused', pauseReason: 'spam_rate', pauseDetail: '131048' },
        T0 + 1,
      );
      assert.equal(paused?.state, 'paused');
      assert.equal(paused?.pauseReason, 'spam_rate');
      assert.equal(paused?.updatedAt, T0 + 1);
      const running = await store().outreach.campaigns.listByStates(['running'], {
        channelId: channel.id,
      });
      assert.deepEqual(running, []);
    });

    it('never hands one recipient to two claimers, even from two connections at once', async () => {
      const channel = await channelOf(store(), 'claim');
      const campaign = await campaignOf(store(), channel, recipients(300));
      const another = subject?.openAnother ? await subject.openAnother() : store();
      try {
        const claim = (s: Store, owner: string) =>
          s.outreach.recipients.claim(campaign.id, { owner, now: T0, leaseMs: 60_000, limit: 200 });
        const [a, b] = await Promise.all([claim(store(), 'a'), claim(another, 'b')]);
        const seqs = [...a, ...b].map((r) => r.seq);
        assert.equal(new Set(seqs).size, seqs.length, 'a recipient was claimed twice');
        const rest = await claim(store(), 'c');
        const all = new Set([...seqs, ...rest.map((r) => r.seq)]);
        assert.equal(all.size, 300, 'every recipient is claimed once in the end');
        assert.deepEqual(await claim(store(), 'd'), []);
        assert.equal(a[0]?.components === null || Array.isArray(a[0]?.components), true);
      } finally {
        if (another !== store()) await another.close();
      }
    });

    it('lets an expired lease be claimed again, and a released recipient too', async () => {
      const channel = await channelOf(store(), 'lease');
      const campaign = await campaignOf(store(), channel, recipients(3));
      const first = await store().outreach.recipients.claim(campaign.id, {
        owner: 'crashed',
        now: T0,
        leaseMs: 1_000,
        limit: 2,
      });
      assert.deepEqual(
        first.map((r) => r.seq),
        [1, 2],
      );
      const during = await store().outreach.recipients.claim(campaign.id, {
        owner: 'other',
        now: T0 + 999,
        leaseMs: 1_000,
        limit: 10,
      });
      assert.deepEqual(
        during.map((r) => r.seq),
        [3],
      );
      await store().outreach.recipients.release(campaign.id, [3], T0 + 999);
      const later = await store().outreach.recipients.claim(campaign.id, {
        owner: 'other',
        now: T0 + 1_000,
        leaseMs: 1_000,
        limit: 10,
      });
      assert.deepEqual(
        later.map((r) => r.seq),
        [1, 2, 3],
      );
      assert.deepEqual(later[0]?.components, [
        { type: 'body', parameters: [{ type: 'text', text: 'Grüße 👋' }] },
      ]);
    });

    it('reports outcomes from the message each recipient was sent as, with paging and filters', async () => {
      const channel = await channelOf(store(), 'outcomes');
      const campaign = await campaignOf(store(), channel, recipients(4, 1));
      const contact = await store().contacts.upsert({
        workspaceId: channel.workspaceId,
        waId: '447700900001',
        at: T0,
      });
      const message = await store().messages.insert({
        workspaceId: channel.workspaceId,
        channelId: channel.id,
        contactId: contact.id,
        conversationId: null,
        direction: 'outbound',
        type: 'template',
        content: {},
        text: null,
        status: 'failed',
        reason: 'spam_rate',
        reasonDetail: '131048',
        providerMessageId: null,
        providerError: null,
        idempotencyKey: `campaign:${campaign.id}:2`,
        replyTo: null,
        createdAt: T0,
        dispatchedAt: null,
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        failedAt: T0,
        needsReview: false,
      });
      await store().outreach.recipients.markQueued(campaign.id, 2, message.record.id, T0 + 1);
      await store().outreach.recipients.markSkipped(campaign.id, 3, 'market_blocked', 'US', T0 + 1);
      assert.deepEqual(await store().outreach.recipients.findByMessage(message.record.id), {
        campaignId: campaign.id,
        seq: 2,
      });
      const progress = await store().outreach.recipients.progress(campaign.id);
      assert.equal(progress.byOutcome.failed, 1);
      assert.equal(progress.byOutcome.pending, 1);
      assert.deepEqual(progress.failedByReason, { spam_rate: 1 });
      assert.deepEqual(progress.skippedByReason, { opted_out: 1, market_blocked: 1 });
      const failed = await store().outreach.recipients.list(campaign.id, {
        limit: 10,
        outcome: 'failed',
      });
      assert.deepEqual(
        failed.items.map((r) => [r.seq, r.reason, r.messageId]),
        [[2, 'spam_rate', message.record.id]],
      );
      const first = await store().outreach.recipients.list(campaign.id, { limit: 2 });
      assert.deepEqual(
        first.items.map((r) => r.seq),
        [1, 2],
      );
      assert.ok(first.nextCursor);
      const second = await store().outreach.recipients.list(campaign.id, {
        limit: 2,
        cursor: first.nextCursor,
      });
      assert.deepEqual(
        second.items.map((r) => [r.seq, r.outcome]),
        [
          [3, 'skipped'],
          [4, 'pending'],
        ],
      );
      assert.equal(second.nextCursor, null);
      assert.equal(
        await store().outreach.recipients.skipRemaining(campaign.id, 'cancelled', T0),
        1,
      );
      assert.equal(await store().outreach.recipients.countRemaining(campaign.id), 0);
    });

    it('a recipient whose message is flagged for review counts under review, not queued, with the reason it is unknown', async () => {
      const channel = await channelOf(store(), 'review');
      const campaign = await campaignOf(store(), channel, recipients(2));
      const queue = async (seq: number, needsReview: boolean) => {
        const contact = await store().contacts.upsert({
          workspaceId: channel.workspaceId,
          waId: String(447700900000 + seq),
          at: T0,
        });
        const message = await store().messages.insert({
          workspaceId: channel.workspaceId,
          channelId: channel.id,
          contactId: contact.id,
          conversationId: null,
          direction: 'outbound',
          type: 'template',
          content: {},
          text: null,
          status: 'pending',
          reason: null,
          reasonDetail: needsReview ? 'Outcome unknown: timeout' : null,
          providerMessageId: null,
          providerError: null,
          idempotencyKey: `campaign:${campaign.id}:${seq}`,
          replyTo: null,
          createdAt: T0,
          dispatchedAt: needsReview ? T0 : null,
          sentAt: null,
          deliveredAt: null,
          readAt: null,
          failedAt: null,
          needsReview,
        });
        await store().outreach.recipients.markQueued(campaign.id, seq, message.record.id, T0 + 1);
      };
      await queue(1, true);
      await queue(2, false);
      const progress = await store().outreach.recipients.progress(campaign.id);
      assert.equal(progress.byOutcome.review, 1);
      assert.equal(progress.byOutcome.queued, 1);
      const review = await store().outreach.recipients.list(campaign.id, {
        limit: 10,
        outcome: 'review',
      });
      assert.deepEqual(
        review.items.map((r) => [r.seq, r.outcome, r.detail]),
        [[1, 'review', 'Outcome unknown: timeout']],
      );
      const queued = await store().outreach.recipients.list(campaign.id, {
        limit: 10,
        outcome: 'queued',
      });
      assert.deepEqual(
        queued.items.map((r) => [r.seq, r.outcome]),
        [[2, 'queued']],
      );
    });

    it('LIM-3: counts distinct users reached in the window, keeping each user’s latest reach', async () => {
      const reach = store().outreach.reach;
      await reach.record('ws-reach', 'waba:W1', '1', T0);
      await reach.record('ws-reach', 'waba:W1', '2', T0 + 1_000);
      await reach.record('ws-reach', 'waba:W1', '1', T0 + 2_000);
      await reach.record('ws-reach', 'waba:W1', '1', T0 + 500); // older: kept at T0 + 2 s
      await reach.record('ws-reach', 'waba:W2', '3', T0);
      const state = await reach.get('ws-reach', 'waba:W1', '1', T0 + DAY - 1_000 - DAY);
      assert.deepEqual(state, {
        lastReachedAt: T0 + 2_000,
        reachedInWindow: 2,
        oldestReachedAt: T0 + 1_000,
      });
      const later = await reach.get('ws-reach', 'waba:W1', '9', T0 + 1_500);
      assert.deepEqual(later, {
        lastReachedAt: null,
        reachedInWindow: 1,
        oldestReachedAt: T0 + 2_000,
      });
    });

    it('cancel withdraws queued messages no dispatcher claimed; against a claim at the same moment exactly one of the two wins', async () => {
      const channel = await channelOf(store(), 'withdraw');
      const campaign = await campaignOf(store(), channel, recipients(40));
      const queue = async (seq: number) => {
        const waId = String(447700900000 + seq - 1);
        const contact = await store().contacts.upsert({
          workspaceId: channel.workspaceId,
          waId,
          at: T0,
        });
        const message = await store().messages.insert({
          workspaceId: channel.workspaceId,
          channelId: channel.id,
          contactId: contact.id,
          conversationId: null,
          direction: 'outbound',
          type: 'template',
          content: {},
          text: null,
          status: 'pending',
          reason: null,
          reasonDetail: null,
          providerMessageId: null,
          providerError: null,
          idempotencyKey: `campaign:${campaign.id}:${seq}`,
          replyTo: null,
          createdAt: T0,
          dispatchedAt: null,
          sentAt: null,
          deliveredAt: null,
          readAt: null,
          failedAt: null,
          needsReview: false,
        });
        await store().outreach.recipients.markQueued(campaign.id, seq, message.record.id, T0);
        await store().outreach.marketing.record(
          channel.workspaceId,
          waId,
          'sent',
          T0,
          message.record.id,
        );
        return message.record.id;
      };
      const ids: string[] = [];
      for (let seq = 1; seq <= 40; seq++) ids.push(await queue(seq));
      // 1 is with a dispatcher already, 2 was flagged for review: neither is withdrawn.
      assert.ok(await store().messages.claimDispatch(ids[0]!, T0 + 1));
      await store().messages.update(ids[1]!, { needsReview: true }, T0 + 1);
      // 3..40: dispatchers claim while the cancel withdraws, from another connection.
      const another = subject?.openAnother ? await subject.openAnother() : store();
      try {
        const [claims, records] = await Promise.all([
          Promise.all(ids.slice(2).map((id) => another.messages.claimDispatch(id, T0 + 2))),
          store().outreach.recipients.withdrawQueued(campaign.id, 'Withdrawn: cancelled', T0 + 2),
        ]);
        const withdrawn = records.map((m) => m.id);
        // Returned as they are now, for the events announcing them.
        for (const m of records) assert.equal(m.status, 'refused');
        const claimed = ids.slice(2).filter((_, i) => claims[i] !== null);
        assert.equal(claimed.length + withdrawn.length, 38, 'each message is claimed or withdrawn');
        assert.deepEqual(
          claimed.filter((id) => withdrawn.includes(id)),
          [],
          'none is both',
        );
        assert.ok(!withdrawn.includes(ids[0]!) && !withdrawn.includes(ids[1]!));
        for (const id of withdrawn) {
          const m = await store().messages.get(id);
          assert.equal(m?.status, 'refused');
          assert.equal(m?.dispatchedAt, null);
          assert.equal(m?.reasonDetail, 'Withdrawn: cancelled');
          assert.equal(
            await store().messages.claimDispatch(id, T0 + 3),
            null,
            'never claimed later',
          );
        }
        const progress = await store().outreach.recipients.progress(campaign.id);
        assert.equal(progress.skippedByReason.withdrawn ?? 0, withdrawn.length);
        assert.equal(progress.byOutcome.skipped, withdrawn.length);
        // LIM-4: only marketing that can still go out is counted.
        const first = await store().outreach.marketing.history(
          channel.workspaceId,
          '447700900000',
          T0 - 1,
        );
        assert.equal(first.sentAt.length, 1);
        if (withdrawn.length > 0) {
          const seq = ids.indexOf(withdrawn[0]!) + 1;
          const gone = await store().outreach.marketing.history(
            channel.workspaceId,
            String(447700900000 + seq - 1),
            T0 - 1,
          );
          assert.deepEqual(gone.sentAt, []);
        }
        // Again: nothing left to withdraw.
        assert.deepEqual(
          await store().outreach.recipients.withdrawQueued(campaign.id, 'again', T0 + 4),
          [],
        );
      } finally {
        if (another !== store()) await another.close();
      }
    });

    it('a cancel waits for the runners holding the campaign; a runner arriving after it waits too and sees it cancelled', async (t) => {
      if (store().dialect !== 'postgres' || !subject?.openAnother) {
        t.skip('one transaction at a time on this store: nothing overlaps');
        return;
      }
      const channel = await channelOf(store(), 'hold');
      const campaign = await campaignOf(store(), channel, recipients(1));
      const [second, third] = [await subject.openAnother(), await subject.openAnother()];
      try {
        const order: string[] = [];
        let release = (): void => undefined;
        const held = new Promise<void>((resolve) => (release = resolve));
        let holding = (): void => undefined;
        const isHolding = new Promise<void>((resolve) => (holding = resolve));
        const batch = store().transaction(async (tx) => {
          assert.equal(await tx.outreach.campaigns.holdRunning(campaign.id), true);
          holding();
          await held;
          order.push('batch ends');
        });
        await isHolding;
        const cancel = second.transaction(async (tx) => {
          await tx.outreach.campaigns.holdForChange(campaign.id);
          order.push('cancel holds');
          await tx.outreach.campaigns.update(campaign.id, ['running'], { state: 'cancelled' }, T0);
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        const late = third.transaction(async (tx) => {
          const running = await tx.outreach.campaigns.holdRunning(campaign.id);
          order.push(`late batch: ${running ? 'running' : 'not running'}`);
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        assert.deepEqual(order, [], 'the cancel and the late batch wait');
        release();
        await Promise.all([batch, cancel, late]);
        assert.deepEqual(order, ['batch ends', 'cancel holds', 'late batch: not running']);
      } finally {
        await second.close();
        await third.close();
      }
    });

    it('LIM-4: keeps marketing sends and 131049 hold-offs per contact', async () => {
      const m = store().outreach.marketing;
      await m.record('ws-mkt', '44', 'sent', T0, 'msg-1');
      await m.record('ws-mkt', '44', 'sent', T0 + 1_000, 'msg-2');
      await m.record('ws-mkt', '44', 'user_cap', T0 + 2_000, 'msg-3');
      await m.record('ws-mkt', '45', 'sent', T0, null);
      const history = await m.history('ws-mkt', '44', T0 - 1);
      assert.deepEqual([...history.sentAt].sort(), [T0, T0 + 1_000]);
      assert.equal(history.userCapAt, T0 + 2_000);
      assert.deepEqual(await m.history('ws-mkt', '44', T0 + 5_000), {
        sentAt: [],
        userCapAt: null,
      });
    });
  });
}
