// The campaign runner's work: start scheduled campaigns when due, feed running ones into the
// normal send path in batches (recipients claimed under a lease, one message per recipient with
// the idempotency key `campaign:{id}:{seq}`), defer at the messaging limit (LIM-3), complete them;
// and the signals that pause campaigns by themselves (131048, a paused or disabled template) or
// hold off a contact's marketing (131049, LIM-4).
import { autoPauseReason, skipReasonOf, type PauseReason } from '../core/campaigns.ts';
import type { TemplateComponentParams } from '../core/messages.ts';
import { templateSendDecision } from '../core/templates/lifecycle.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { CampaignRecord, RecipientRecord } from '../ports/campaign-store.ts';
import type { Store } from '../ports/store.ts';
import { publishProgress } from './campaigns.ts';
import type { AppDeps } from './deps.ts';
import { sendCampaignMessage } from './send-message.ts';
import { lifecycleOf } from './template-registry.ts';

export interface RunnerOptions {
  /** Who claims (host:pid): leases name their owner. */
  readonly owner: string;
  /** Recipients claimed and sent per campaign per pass. */
  readonly batchSize?: number;
  /** A crashed runner's claims become claimable again after this. */
  readonly leaseMs?: number;
  /** Recipients enqueued per database transaction (default 100). */
  readonly enqueueBatch?: number;
}

/** The idempotency key of a campaign recipient's message: a restart never enqueues it twice. */
export function campaignMessageKey(campaignId: string, seq: number): string {
  return `campaign:${campaignId}:${seq}`;
}

/**
 * Recipients enqueued per transaction. Each transaction first checks that the campaign is still
 * running, so a pause or cancel takes effect between two of them.
 */
const ENQUEUE_BATCH = 100;

/**
 * One pass over every campaign that has work: returns how many recipients were handed to the
 * send path (0 when there was nothing to do).
 */
export async function runCampaigns(deps: AppDeps, options: RunnerOptions): Promise<number> {
  const { store, clock } = deps;
  const now = clock.now();
  for (const c of await store.outreach.campaigns.listByStates(['scheduled'])) {
    if (c.startAt !== null && c.startAt > now) continue;
    const started = await store.outreach.campaigns.update(
      c.id,
      ['scheduled'],
      { state: 'running', ...(c.startedAt === null ? { startedAt: now } : {}) },
      now,
    );
    if (started) await publishProgress(deps, started);
  }
  let handed = 0;
  for (const c of await store.outreach.campaigns.listByStates(['running'])) {
    if (c.deferredUntil !== null && c.deferredUntil > now) continue;
    try {
      handed += await feedCampaign(deps, c, options);
    } catch (error) {
      deps.log.error({ err: error, campaignId: c.id }, 'campaign batch failed');
    }
  }
  return handed;
}

/** The earliest instant a campaign has work again (schedule or deferral), for the runner's sleep. */
export async function nextCampaignWakeAt(deps: AppDeps): Promise<number | null> {
  const waiting = await deps.store.outreach.campaigns.listByStates(['scheduled', 'running']);
  let next: number | null = null;
  for (const c of waiting) {
    const at = c.state === 'scheduled' ? c.startAt : c.deferredUntil;
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}

async function feedCampaign(
  deps: AppDeps,
  campaign: CampaignRecord,
  options: RunnerOptions,
): Promise<number> {
  const { store, clock } = deps;
  const now = clock.now();
  const paused = await templatePause(deps, campaign, now);
  if (paused) {
    await pauseCampaign(deps, campaign, paused.reason, paused.detail);
    return 0;
  }
  if (campaign.deferredUntil !== null)
    await store.outreach.campaigns.update(campaign.id, ['running'], { deferredUntil: null }, now);
  const claimed = await store.outreach.recipients.claim(campaign.id, {
    owner: options.owner,
    now,
    leaseMs: options.leaseMs ?? 5 * 60_000,
    limit: options.batchSize ?? 200,
  });
  if (claimed.length === 0) {
    if ((await store.outreach.recipients.countRemaining(campaign.id)) === 0) {
      const done = await store.outreach.campaigns.update(
        campaign.id,
        ['running'],
        { state: 'completed', finishedAt: now },
        now,
      );
      if (done) await publishProgress(deps, done);
    }
    return 0;
  }
  const perTransaction = Math.max(1, options.enqueueBatch ?? ENQUEUE_BATCH);
  let handed = 0;
  for (let from = 0; from < claimed.length; from += perTransaction) {
    const batch = claimed.slice(from, from + perTransaction);
    const result = await enqueueBatch(deps, campaign, batch);
    handed += result.handed;
    if (result.stop === null) continue;
    const at = clock.now();
    // Everything after the recipient that stopped the batch goes back for a later pass.
    await store.outreach.recipients.release(
      campaign.id,
      claimed.slice(from + result.done).map((r) => r.seq),
      at,
    );
    const stop = result.stop;
    if (stop.kind === 'deferred') {
      // LIM-3: nothing was stored for this recipient; it and the rest wait for the rolling window.
      const deferred = await store.outreach.campaigns.update(
        campaign.id,
        ['running'],
        { deferredUntil: stop.retryAt },
        at,
      );
      if (deferred) await publishProgress(deps, deferred);
    } else if (stop.kind === 'pause') {
      await pauseCampaign(deps, campaign, stop.reason, stop.detail);
    }
    return handed;
  }
  const after = await store.outreach.campaigns.get(campaign.workspaceId, campaign.id);
  if (after) await publishProgress(deps, after);
  return handed;
}

/** Why a batch stopped before its end (the rest of the claim is released). */
type BatchStop =
  | { readonly kind: 'not_running' }
  | { readonly kind: 'deferred'; readonly retryAt: number }
  | { readonly kind: 'pause'; readonly reason: PauseReason; readonly detail: string | null };

interface BatchResult {
  /** Recipients of the batch dealt with (queued, replayed, refused or skipped), in order. */
  readonly done: number;
  /** Of those, handed to the send path (a message is stored for them). */
  readonly handed: number;
  readonly stop: BatchStop | null;
}

/**
 * Enqueues a batch of claimed recipients in one transaction: far fewer commits than one per
 * recipient, with every check still made per recipient inside it. If the transaction fails (a
 * lost idempotency race with a runner whose lease had expired, a deadlock, a dropped
 * connection) nothing of it was written, and the batch is done again one recipient per
 * transaction, so one bad recipient cannot hold back the others.
 */
async function enqueueBatch(
  deps: AppDeps,
  campaign: CampaignRecord,
  batch: readonly RecipientRecord[],
): Promise<BatchResult> {
  if (batch.length > 1) {
    try {
      return await deps.store.transaction((tx) => enqueueInTransaction(deps, tx, campaign, batch));
    } catch (error) {
      deps.log.warn(
        { err: error, campaignId: campaign.id },
        'campaign batch rolled back; enqueueing its recipients one by one',
      );
    }
  }
  let done = 0;
  let handed = 0;
  for (const recipient of batch) {
    const one = async () =>
      deps.store.transaction((tx) => enqueueInTransaction(deps, tx, campaign, [recipient]));
    // A lost idempotency race rolls the recipient back; the second try finds the winner's message.
    const result = await one().catch(() => one());
    done += result.done;
    handed += result.handed;
    if (result.stop) return { done, handed, stop: result.stop };
  }
  return { done, handed, stop: null };
}

async function enqueueInTransaction(
  deps: AppDeps,
  tx: Store,
  campaign: CampaignRecord,
  batch: readonly RecipientRecord[],
): Promise<BatchResult> {
  const { clock } = deps;
  // Held until this transaction ends (other runners' batches hold it too): a cancel waits for
  // the batch and then withdraws what it queued; a cancel or pause that came first stops it here.
  if (!(await tx.outreach.campaigns.holdRunning(campaign.id)))
    return { done: 0, handed: 0, stop: { kind: 'not_running' } };
  const batchDeps: AppDeps = { ...deps, store: batchView(tx) };
  let handed = 0;
  for (const [i, recipient] of batch.entries()) {
    const components = (recipient.components ?? campaign.template.components) as
      TemplateComponentParams[] | null;
    const outcome = await sendCampaignMessage(
      batchDeps,
      {
        workspaceId: campaign.workspaceId,
        channelId: campaign.channelId,
        to: recipient.waId,
        content: {
          type: 'template',
          template: {
            name: campaign.template.name,
            language: { code: campaign.template.language },
            ...(components ? { components } : {}),
          },
        },
        idempotencyKey: campaignMessageKey(campaign.id, recipient.seq),
      },
      // The recipient is marked with its message: a crash leaves both or neither.
      (store, message) =>
        store.outreach.recipients.markQueued(campaign.id, recipient.seq, message.id, clock.now()),
    );
    const at = clock.now();
    if (outcome.kind === 'deferred')
      return { done: i, handed, stop: { kind: 'deferred', retryAt: outcome.retryAt } };
    if (outcome.kind === 'invalid') {
      await tx.outreach.recipients.markSkipped(
        campaign.id,
        recipient.seq,
        outcome.code === 'invalid_request' ? 'invalid_phone' : 'invalid_params',
        outcome.detail,
        at,
      );
      continue;
    }
    // A replay (claimed again after a crash elsewhere) finds the message already stored.
    if (outcome.replayed)
      await tx.outreach.recipients.markQueued(campaign.id, recipient.seq, outcome.message.id, at);
    handed++;
    const reason = outcome.kind === 'refused' ? outcome.message.reason : null;
    const pause = reason ? autoPauseReason(reason) : null;
    if (reason && !pause && !skipReasonOf(reason))
      deps.log.warn({ campaignId: campaign.id, reason }, 'campaign recipient refused');
    if (pause)
      return {
        done: i + 1,
        handed,
        stop: { kind: 'pause', reason: pause, detail: outcome.message.reasonDetail },
      };
  }
  return { done: batch.length, handed, stop: null };
}

/**
 * The transaction as one batch sees it: the channel and the template (record and lifecycle),
 * the same for every recipient, are read once per batch instead of once per recipient, and a
 * recipient's care window once instead of twice. A template paused or a window opened
 * meanwhile is seen by the next batch, and by the dispatcher, which checks again before it sends.
 */
function batchView(tx: Store): Store {
  const memo = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
    let hit = cache.get(key);
    if (!hit) {
      hit = load();
      cache.set(key, hit);
    }
    return hit;
  };
  const channels = new Map<string, ReturnType<Store['channels']['get']>>();
  const templates = new Map<string, ReturnType<Store['templates']['find']>>();
  const windows = new Map<string, ReturnType<Store['windows']['get']>>();
  const lifecycles = new Map<
    string,
    ReturnType<Store['compliance']['templates']['getLifecycle']>
  >();
  const view: Store = {
    ...tx,
    transaction: (work) => tx.transaction(() => work(view)),
    channels: { ...tx.channels, get: (id) => memo(channels, id, () => tx.channels.get(id)) },
    // Read twice per recipient (CSW at queue time, then LIM-3); each recipient once per batch.
    windows: {
      ...tx.windows,
      get: (channelId, contactId) =>
        memo(windows, `${channelId}/${contactId}`, () => tx.windows.get(channelId, contactId)),
    },
    templates: {
      ...tx.templates,
      find: (...args) => memo(templates, JSON.stringify(args), () => tx.templates.find(...args)),
    },
    compliance: {
      ...tx.compliance,
      templates: {
        ...tx.compliance.templates,
        getLifecycle: (id) => memo(lifecycles, id, () => tx.compliance.templates.getLifecycle(id)),
      },
    },
  };
  return view;
}

/** TPL-9: a template that may not be sent now pauses the campaign instead of failing everyone. */
async function templatePause(
  deps: AppDeps,
  campaign: CampaignRecord,
  now: number,
): Promise<{ reason: PauseReason; detail: string } | null> {
  const record = await deps.store.templates.find(
    campaign.workspaceId,
    campaign.template.name,
    campaign.template.language,
    campaign.channelId,
  );
  if (!record)
    return {
      reason: 'template_not_approved',
      detail: `Template ${campaign.template.name} (${campaign.template.language}) no longer exists`,
    };
  const decision = templateSendDecision((await lifecycleOf(deps.store, record)).state, now);
  if (decision.allowed) return null;
  return {
    reason:
      decision.reason === 'template_paused' || decision.reason === 'template_disabled'
        ? decision.reason
        : 'template_not_approved',
    detail: decision.detail,
  };
}

export async function pauseCampaign(
  deps: AppDeps,
  campaign: CampaignRecord,
  reason: PauseReason,
  detail: string | null,
): Promise<CampaignRecord | null> {
  const paused = await deps.store.outreach.campaigns.update(
    campaign.id,
    ['running', 'scheduled'],
    { state: 'paused', pauseReason: reason, pauseDetail: detail },
    deps.clock.now(),
  );
  if (paused) {
    deps.log.warn({ campaignId: campaign.id, reason }, 'campaign paused automatically');
    await publishProgress(deps, paused);
  }
  return paused;
}

/**
 * Reacts to what WhatsApp says while campaigns run: 131048 (`spam_rate`) pauses every campaign
 * of the number; a template paused or disabled (132015/132016 or a `template.status` webhook)
 * pauses the campaigns sending it; 131049 (`marketing_user_cap`) holds off that contact's
 * marketing for 24 h (LIM-4). Work runs after the publisher returns; `idle()` waits for it.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function subscribeCampaignSignals(deps: AppDeps): { idle(): Promise<void>; stop(): void } {
  const running = new Set<Promise<void>>();
  const unsubscribe = deps.events.subscribe((event) => {
    if (event.type !== 'message.failed' && event.type !== 'template.status') return;
    const work = onSignal(deps, event)
      .catch((error: unknown) => {
        deps.log.error({ err: error }, 'campaign signal handling failed');
      })
      .finally(() => running.delete(work));
    running.add(work);
  });
  return {
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    stop: unsubscribe,
  };
}

async function onSignal(deps: AppDeps, event: DomainEvent): Promise<void> {
  const { store } = deps;
  if (event.type === 'template.status') {
    const status = typeof event.data.status === 'string' ? event.data.status.toUpperCase() : '';
    const reason: PauseReason | null =
      status === 'PAUSED' ? 'template_paused' : status === 'DISABLED' ? 'template_disabled' : null;
    const channelId = event.data.channelId;
    if (!reason || typeof channelId !== 'string') return;
    const channel = await store.channels.get(channelId);
    if (!channel) return;
    // Templates live in the WABA: every channel of it sending this template is affected.
    const sameWaba = new Set(
      (await store.channels.list(channel.workspaceId))
        .filter((c) => c.id === channel.id || (c.wabaId !== null && c.wabaId === channel.wabaId))
        .map((c) => c.id),
    );
    const active = await store.outreach.campaigns.listByStates(['running', 'scheduled'], {
      workspaceId: channel.workspaceId,
    });
    for (const c of active)
      if (
        sameWaba.has(c.channelId) &&
        c.template.name === event.data.name &&
        c.template.language === event.data.language
      )
        await pauseCampaign(
          deps,
          c,
          reason,
          `Template ${c.template.name} (${c.template.language}) is ${status}`,
        );
    return;
  }
  const reason = typeof event.data.reason === 'string' ? event.data.reason : null;
  const messageId = event.data.messageId;
  if (!reason || typeof messageId !== 'string') return;
  if (reason === 'marketing_user_cap') {
    const message = await store.messages.get(messageId);
    const contact = message ? await store.contacts.get(message.contactId) : null;
    if (message && contact)
      await store.outreach.marketing.record(
        message.workspaceId,
        contact.waId,
        'user_cap',
        event.at,
        messageId,
      );
    return;
  }
  const pause = autoPauseReason(reason);
  if (!pause) return;
  const message = await store.messages.get(messageId);
  if (!message) return;
  if (pause === 'spam_rate') {
    const active = await store.outreach.campaigns.listByStates(['running', 'scheduled'], {
      channelId: message.channelId,
    });
    for (const c of active)
      await pauseCampaign(
        deps,
        c,
        'spam_rate',
        'WhatsApp reported 131048 (spam rate limit) for this number: campaigns of the number are paused',
      );
    return;
  }
  const owner = await store.outreach.recipients.findByMessage(messageId);
  if (!owner) return;
  const campaign = await store.outreach.campaigns.get(message.workspaceId, owner.campaignId);
  if (campaign) await pauseCampaign(deps, campaign, pause, `A message failed with ${reason}`);
}
