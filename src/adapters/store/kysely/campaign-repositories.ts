// Campaigns, their recipients and the outbound-limit records on Kysely (tables of migration 0006).
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import {
  CAMPAIGN_STATES,
  PAUSE_REASONS,
  RECIPIENT_OUTCOMES,
  RECIPIENT_STATES,
  outcomeOfMessage,
  type CampaignState,
  type PauseReason,
  type RecipientOutcome,
  type RecipientState,
} from '../../../core/campaigns.ts';
import type {
  CampaignProgress,
  CampaignRecord,
  CampaignStore,
  RecipientRecord,
  RecipientResult,
} from '../../../ports/campaign-store.ts';
import type { JsonObject, MessageRecord } from '../../../ports/store.ts';
import type { Database, DbBool } from './database-schema.ts';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.ts';
import { newId } from './ids.ts';
import { fromDbBool, fromJsonText, toJsonText, toMessage } from './row-mappers.ts';
import { toDbBool, type StoreContext } from './store-context.ts';

// Type aliases, not interfaces: `withTables` needs the implicit index signature only aliases have.
export type CampaignsTable = {
  id: string;
  workspace_id: string;
  channel_id: string;
  name: string;
  template_name: string;
  template_language: string;
  components: string;
  category: string | null;
  state: string;
  pause_reason: string | null;
  pause_detail: string | null;
  start_at: number | null;
  deferred_until: number | null;
  audience: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
};

export type CampaignRecipientsTable = {
  campaign_id: string;
  seq: number;
  wa_id: string;
  components: string;
  state: string;
  reason: string | null;
  detail: string | null;
  message_id: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  updated_at: number;
};

export type MessagingReachTable = {
  workspace_id: string;
  scope: string;
  wa_id: string;
  reached_at: number;
};

export type MarketingHistoryTable = {
  id: string;
  workspace_id: string;
  wa_id: string;
  kind: string;
  at: number;
  message_id: string | null;
};

/** The tables of migration 0006, added to the shared schema only here. */
export type CampaignTables = {
  campaigns: CampaignsTable;
  campaign_recipients: CampaignRecipientsTable;
  messaging_reach: MessagingReachTable;
  marketing_history: MarketingHistoryTable;
};

type CampaignDb = Kysely<Database & CampaignTables>;

/** The first key of campaign advisory locks (the second is the campaign id's hash). */
const CAMPAIGN_LOCK_CLASS = 0x63616d70; // "camp"

/** Rows per multi-row insert: well under SQLite's 32,766 bound parameters with 7 columns. */
const INSERT_CHUNK = 500;

const isState = (s: string): s is CampaignState =>
  (CAMPAIGN_STATES as readonly string[]).includes(s);
const isPause = (s: string): s is PauseReason => (PAUSE_REASONS as readonly string[]).includes(s);
const isRecipientState = (s: string): s is RecipientState =>
  (RECIPIENT_STATES as readonly string[]).includes(s);

function toCampaign(row: Selectable<CampaignsTable>): CampaignRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    channelId: row.channel_id,
    name: row.name,
    template: {
      name: row.template_name,
      language: row.template_language,
      components: fromJsonText(row.components),
    },
    category: row.category,
    state: isState(row.state) ? row.state : 'paused',
    pauseReason: row.pause_reason !== null && isPause(row.pause_reason) ? row.pause_reason : null,
    pauseDetail: row.pause_detail,
    startAt: row.start_at === null ? null : row.start_at,
    deferredUntil: row.deferred_until === null ? null : row.deferred_until,
    audience: fromJsonText(row.audience) as JsonObject,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at === null ? null : row.started_at,
    finishedAt: row.finished_at === null ? null : row.finished_at,
  };
}

function toRecipient(row: Selectable<CampaignRecipientsTable>): RecipientRecord {
  return {
    campaignId: row.campaign_id,
    seq: row.seq,
    waId: row.wa_id,
    components: fromJsonText(row.components),
    state: isRecipientState(row.state) ? row.state : 'pending',
    reason: row.reason,
    detail: row.detail,
    messageId: row.message_id,
    updatedAt: row.updated_at,
  };
}

interface ResultRow {
  seq: number;
  wa_id: string;
  state: string;
  reason: string | null;
  detail: string | null;
  message_id: string | null;
  updated_at: number;
  m_status: string | null;
  m_reason: string | null;
  m_detail: string | null;
  m_needs_review: DbBool | null;
}

function toResult(row: ResultRow): RecipientResult {
  const base = {
    seq: row.seq,
    waId: row.wa_id,
    messageId: row.message_id,
    updatedAt: row.updated_at,
  };
  if (row.state === 'skipped')
    return { ...base, outcome: 'skipped', reason: row.reason, detail: row.detail };
  if (row.state !== 'queued' || row.m_status === null)
    return { ...base, outcome: 'pending', reason: null, detail: null };
  const outcome = outcomeOfMessage(
    row.m_status,
    row.m_needs_review !== null && fromDbBool(row.m_needs_review),
  );
  const failed = outcome === 'failed' || outcome === 'skipped';
  return {
    ...base,
    outcome,
    reason: failed ? row.m_reason : null,
    // Under review the detail says why the outcome is unknown.
    detail: failed || outcome === 'review' ? row.m_detail : null,
  };
}

export function campaignRepository(ctx: StoreContext): CampaignStore {
  const db = (): CampaignDb => ctx.db() as unknown as CampaignDb;

  const results = (campaignId: string) =>
    db()
      .selectFrom('campaign_recipients as r')
      .leftJoin('messages as m', 'm.id', 'r.message_id')
      .select([
        'r.seq',
        'r.wa_id',
        'r.state',
        'r.reason',
        'r.detail',
        'r.message_id',
        'r.updated_at',
        'm.status as m_status',
        'm.reason as m_reason',
        'm.reason_detail as m_detail',
        'm.needs_review as m_needs_review',
      ])
      .where('r.campaign_id', '=', campaignId);

  /**
   * PostgreSQL: a transaction-scoped advisory lock on the campaign, shared by runners' batches
   * and exclusive for a cancel. Unlike a shared row lock, a queued exclusive request makes new
   * shared ones wait behind it, so a busy runner cannot starve a cancel. SQLite runs one
   * transaction at a time: nothing to do.
   */
  const holdCampaign = async (id: string, mode: 'shared' | 'exclusive'): Promise<void> => {
    if (ctx.dialect !== 'postgres') return;
    const lock =
      mode === 'shared'
        ? sql`select pg_advisory_xact_lock_shared(${CAMPAIGN_LOCK_CLASS}, hashtext(${id}))`
        : sql`select pg_advisory_xact_lock(${CAMPAIGN_LOCK_CLASS}, hashtext(${id}))`;
    await lock.execute(db());
  };

  return {
    campaigns: {
      async create(campaign, recipients) {
        const id = newId(campaign.createdAt);
        const row: Insertable<CampaignsTable> = {
          id,
          workspace_id: campaign.workspaceId,
          channel_id: campaign.channelId,
          name: campaign.name,
          template_name: campaign.template.name,
          template_language: campaign.template.language,
          components: toJsonText(campaign.template.components),
          category: campaign.category,
          state: campaign.state,
          pause_reason: campaign.pauseReason,
          pause_detail: campaign.pauseDetail,
          start_at: campaign.startAt,
          deferred_until: campaign.deferredUntil,
          audience: toJsonText(campaign.audience),
          created_at: campaign.createdAt,
          updated_at: campaign.createdAt,
          started_at: campaign.startedAt,
          finished_at: campaign.finishedAt,
        };
        await db().insertInto('campaigns').values(row).execute();
        for (let i = 0; i < recipients.length; i += INSERT_CHUNK) {
          const chunk = recipients.slice(i, i + INSERT_CHUNK);
          await db()
            .insertInto('campaign_recipients')
            .values(
              chunk.map((r) => ({
                campaign_id: id,
                seq: r.seq,
                wa_id: r.waId,
                components: toJsonText(r.components),
                state: r.state,
                reason: r.reason,
                detail: r.detail,
                message_id: null,
                lease_owner: null,
                lease_until: null,
                updated_at: campaign.createdAt,
              })),
            )
            .execute();
        }
        return toCampaign({ ...row, id } as Selectable<CampaignsTable>);
      },

      async get(workspaceId, id) {
        const row = await db()
          .selectFrom('campaigns')
          .selectAll()
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirst();
        return row ? toCampaign(row) : null;
      },

      async list(workspaceId, input) {
        const limit = pageLimit(input.limit);
        let query = db()
          .selectFrom('campaigns')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .orderBy('id', 'desc')
          .limit(limit + 1);
        if (input.state) query = query.where('state', '=', input.state);
        if (input.cursor) query = query.where('id', '<', decodeCursor(input.cursor).id);
        const rows = await query.execute();
        const items = rows.slice(0, limit).map(toCampaign);
        const last = items[items.length - 1];
        return {
          items,
          nextCursor:
            rows.length > limit && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null,
        };
      },

      async listByStates(states, filter = {}) {
        if (states.length === 0) return [];
        let query = db()
          .selectFrom('campaigns')
          .selectAll()
          .where('state', 'in', [...states])
          .orderBy('id');
        if (filter.channelId) query = query.where('channel_id', '=', filter.channelId);
        if (filter.workspaceId) query = query.where('workspace_id', '=', filter.workspaceId);
        return (await query.execute()).map(toCampaign);
      },

      async update(id, from, patch, at) {
        const set: Partial<CampaignsTable> = { updated_at: at };
        if (patch.state !== undefined) set.state = patch.state;
        if (patch.pauseReason !== undefined) set.pause_reason = patch.pauseReason;
        if (patch.pauseDetail !== undefined) set.pause_detail = patch.pauseDetail;
        if (patch.deferredUntil !== undefined) set.deferred_until = patch.deferredUntil;
        if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
        if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
        const result = await db()
          .updateTable('campaigns')
          .set(set)
          .where('id', '=', id)
          .where('state', 'in', [...from])
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return null;
        const row = await db()
          .selectFrom('campaigns')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toCampaign(row) : null;
      },

      async holdRunning(id) {
        await holdCampaign(id, 'shared');
        const row = await db()
          .selectFrom('campaigns')
          .select('state')
          .where('id', '=', id)
          .executeTakeFirst();
        return row?.state === 'running';
      },

      async holdForChange(id) {
        await holdCampaign(id, 'exclusive');
      },
    },

    recipients: {
      async claim(campaignId, input) {
        const candidates = await db()
          .selectFrom('campaign_recipients')
          .select('seq')
          .where('campaign_id', '=', campaignId)
          .where((eb) =>
            eb.or([
              eb('state', '=', 'pending'),
              eb.and([eb('state', '=', 'claimed'), eb('lease_until', '<=', input.now)]),
            ]),
          )
          .orderBy('seq')
          .limit(Math.max(1, input.limit))
          .execute();
        if (candidates.length === 0) return [];
        const token = `${input.owner}/${newId(input.now)}`;
        // The same condition again in the update: on PostgreSQL a concurrent claimer's committed
        // update makes this one skip the row (re-evaluated after the row lock), never take it twice.
        await db()
          .updateTable('campaign_recipients')
          .set({
            state: 'claimed',
            lease_owner: token,
            lease_until: input.now + input.leaseMs,
            updated_at: input.now,
          })
          .where('campaign_id', '=', campaignId)
          .where(
            'seq',
            'in',
            candidates.map((c) => c.seq),
          )
          .where((eb) =>
            eb.or([
              eb('state', '=', 'pending'),
              eb.and([eb('state', '=', 'claimed'), eb('lease_until', '<=', input.now)]),
            ]),
          )
          .execute();
        const rows = await db()
          .selectFrom('campaign_recipients')
          .selectAll()
          .where('campaign_id', '=', campaignId)
          .where('lease_owner', '=', token)
          .where('state', '=', 'claimed')
          .orderBy('seq')
          .execute();
        return rows.map(toRecipient);
      },

      async markQueued(campaignId, seq, messageId, at) {
        await db()
          .updateTable('campaign_recipients')
          .set({
            state: 'queued',
            message_id: messageId,
            lease_owner: null,
            lease_until: null,
            updated_at: at,
          })
          .where('campaign_id', '=', campaignId)
          .where('seq', '=', seq)
          .execute();
      },

      async markSkipped(campaignId, seq, reason, detail, at) {
        await db()
          .updateTable('campaign_recipients')
          .set({
            state: 'skipped',
            reason,
            detail,
            lease_owner: null,
            lease_until: null,
            updated_at: at,
          })
          .where('campaign_id', '=', campaignId)
          .where('seq', '=', seq)
          .where('state', 'in', ['pending', 'claimed'])
          .execute();
      },

      async release(campaignId, seqs, at) {
        for (let i = 0; i < seqs.length; i += INSERT_CHUNK)
          await db()
            .updateTable('campaign_recipients')
            .set({ state: 'pending', lease_owner: null, lease_until: null, updated_at: at })
            .where('campaign_id', '=', campaignId)
            .where('seq', 'in', [...seqs.slice(i, i + INSERT_CHUNK)])
            .where('state', '=', 'claimed')
            .execute();
      },

      async skipRemaining(campaignId, reason, at) {
        const result = await db()
          .updateTable('campaign_recipients')
          .set({ state: 'skipped', reason, lease_owner: null, lease_until: null, updated_at: at })
          .where('campaign_id', '=', campaignId)
          .where('state', 'in', ['pending', 'claimed'])
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      },

      async withdrawQueued(campaignId, detail, at) {
        const queued = await db()
          .selectFrom('campaign_recipients as r')
          .innerJoin('messages as m', 'm.id', 'r.message_id')
          .select('m.id')
          .where('r.campaign_id', '=', campaignId)
          .where('r.state', '=', 'queued')
          .where('m.status', '=', 'pending')
          .where('m.dispatched_at', 'is', null)
          .where('m.needs_review', '=', toDbBool(ctx, false))
          .orderBy('r.seq')
          .execute();
        const withdrawn: MessageRecord[] = [];
        for (let i = 0; i < queued.length; i += INSERT_CHUNK) {
          const ids = queued.slice(i, i + INSERT_CHUNK).map((m) => m.id);
          // claimDispatch's own condition: on PostgreSQL a dispatcher's committed claim makes
          // this skip the row (re-evaluated after the row lock), and a withdrawal makes its claim fail.
          const won = await db()
            .updateTable('messages')
            .set({ status: 'refused', reason_detail: detail, failed_at: at, updated_at: at })
            .where('id', 'in', ids)
            .where('direction', '=', 'outbound')
            .where('status', '=', 'pending')
            .where('dispatched_at', 'is', null)
            .where('needs_review', '=', toDbBool(ctx, false))
            .returningAll()
            .execute();
          if (won.length === 0) continue;
          const wonIds = won.map((m) => m.id);
          await db()
            .updateTable('campaign_recipients')
            .set({ state: 'skipped', reason: 'withdrawn', detail, updated_at: at })
            .where('campaign_id', '=', campaignId)
            .where('message_id', 'in', wonIds)
            .execute();
          // LIM-4 counts marketing that went out: a withdrawn message never did.
          await db()
            .deleteFrom('marketing_history')
            .where('message_id', 'in', wonIds)
            .where('kind', '=', 'sent')
            .execute();
          withdrawn.push(...won.map(toMessage));
        }
        return withdrawn;
      },

      async countRemaining(campaignId) {
        const row = await db()
          .selectFrom('campaign_recipients')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('campaign_id', '=', campaignId)
          .where('state', 'in', ['pending', 'claimed'])
          .executeTakeFirst();
        return Number(row?.n ?? 0);
      },

      async progress(campaignId) {
        const rows = await db()
          .selectFrom('campaign_recipients as r')
          .leftJoin('messages as m', 'm.id', 'r.message_id')
          .select((eb) => [
            'r.state',
            'r.reason',
            'm.status as m_status',
            'm.reason as m_reason',
            'm.needs_review as m_needs_review',
            eb.fn.countAll<number | string>().as('n'),
          ])
          .where('r.campaign_id', '=', campaignId)
          .groupBy(['r.state', 'r.reason', 'm.status', 'm.reason', 'm.needs_review'])
          .execute();
        const byOutcome = Object.fromEntries(RECIPIENT_OUTCOMES.map((o) => [o, 0])) as Record<
          RecipientOutcome,
          number
        >;
        const skippedByReason: Record<string, number> = {};
        const failedByReason: Record<string, number> = {};
        let total = 0;
        for (const row of rows) {
          const n = Number(row.n);
          total += n;
          const result = toResult({
            seq: 0,
            wa_id: '',
            state: row.state,
            reason: row.reason,
            detail: null,
            message_id: null,
            updated_at: 0,
            m_status: row.m_status,
            m_reason: row.m_reason,
            m_detail: null,
            m_needs_review: row.m_needs_review,
          });
          byOutcome[result.outcome] += n;
          const reason = result.reason ?? 'unknown';
          if (result.outcome === 'skipped')
            skippedByReason[reason] = (skippedByReason[reason] ?? 0) + n;
          if (result.outcome === 'failed')
            failedByReason[reason] = (failedByReason[reason] ?? 0) + n;
        }
        const progress: CampaignProgress = { total, byOutcome, skippedByReason, failedByReason };
        return progress;
      },

      async list(campaignId, input) {
        const limit = pageLimit(input.limit);
        let query = results(campaignId)
          .orderBy('r.seq')
          .limit(limit + 1);
        if (input.cursor) query = query.where('r.seq', '>', decodeCursor(input.cursor).at);
        switch (input.outcome) {
          case undefined:
            break;
          case 'pending':
            query = query.where('r.state', 'in', ['pending', 'claimed']);
            break;
          case 'skipped':
            query = query.where((eb) =>
              eb.or([
                eb('r.state', '=', 'skipped'),
                eb.and([eb('r.state', '=', 'queued'), eb('m.status', '=', 'refused')]),
              ]),
            );
            break;
          case 'queued':
          case 'review':
            query = query
              .where('r.state', '=', 'queued')
              .where('m.status', 'not in', ['sent', 'delivered', 'read', 'failed', 'refused'])
              .where('m.needs_review', '=', toDbBool(ctx, input.outcome === 'review'));
            break;
          default:
            query = query.where('r.state', '=', 'queued').where('m.status', '=', input.outcome);
        }
        const rows = (await query.execute()) as ResultRow[];
        const items = rows.slice(0, limit).map(toResult);
        const last = items[items.length - 1];
        return {
          items,
          nextCursor: rows.length > limit && last ? encodeCursor({ at: last.seq, id: '' }) : null,
        };
      },

      async findByMessage(messageId) {
        const row = await db()
          .selectFrom('campaign_recipients')
          .select(['campaign_id', 'seq'])
          .where('message_id', '=', messageId)
          .executeTakeFirst();
        return row ? { campaignId: row.campaign_id, seq: row.seq } : null;
      },

      async estimateRows(campaignId) {
        const campaign = await db()
          .selectFrom('campaigns')
          .select(['workspace_id', 'channel_id'])
          .where('id', '=', campaignId)
          .executeTakeFirst();
        if (!campaign) return [];
        const rows = await db()
          .selectFrom('campaign_recipients as r')
          .leftJoin('contacts as c', (join) =>
            join.onRef('c.wa_id', '=', 'r.wa_id').on('c.workspace_id', '=', campaign.workspace_id),
          )
          .leftJoin('care_windows as w', (join) =>
            join.onRef('w.contact_id', '=', 'c.id').on('w.channel_id', '=', campaign.channel_id),
          )
          .select(['r.wa_id', 'w.last_inbound_at', 'w.closed_at'])
          .where('r.campaign_id', '=', campaignId)
          .where('r.state', 'in', ['pending', 'claimed'])
          .orderBy('r.seq')
          .execute();
        return rows.map((r) => ({
          waId: r.wa_id,
          lastInboundAt: r.last_inbound_at === null ? null : r.last_inbound_at,
          closedAt: r.closed_at === null ? null : r.closed_at,
        }));
      },
    },

    reach: {
      async get(workspaceId, scope, waId, since) {
        const [own, window] = await Promise.all([
          db()
            .selectFrom('messaging_reach')
            .select('reached_at')
            .where('workspace_id', '=', workspaceId)
            .where('scope', '=', scope)
            .where('wa_id', '=', waId)
            .executeTakeFirst(),
          db()
            .selectFrom('messaging_reach')
            .select((eb) => [
              eb.fn.countAll<number | string>().as('n'),
              eb.fn.min<number>('reached_at').as('oldest'),
            ])
            .where('workspace_id', '=', workspaceId)
            .where('scope', '=', scope)
            .where('reached_at', '>', since)
            .executeTakeFirst(),
        ]);
        return {
          lastReachedAt: own ? own.reached_at : null,
          reachedInWindow: Number(window?.n ?? 0),
          oldestReachedAt:
            window?.oldest === null || window?.oldest === undefined ? null : window.oldest,
        };
      },

      async record(workspaceId, scope, waId, at) {
        await db()
          .insertInto('messaging_reach')
          .values({ workspace_id: workspaceId, scope, wa_id: waId, reached_at: at })
          .onConflict((oc) =>
            oc
              .columns(['workspace_id', 'scope', 'wa_id'])
              .doUpdateSet({ reached_at: at })
              .where('messaging_reach.reached_at', '<', at),
          )
          .execute();
      },
    },

    async erase(workspaceId, waId, replacement) {
      await db()
        .updateTable('campaign_recipients')
        .set({ wa_id: replacement })
        .where('wa_id', '=', waId)
        .where(
          'campaign_id',
          'in',
          db().selectFrom('campaigns').select('id').where('workspace_id', '=', workspaceId),
        )
        .execute();
      // Kept under the replacement, so LIM-3 and LIM-4 still count what was sent.
      await db()
        .updateTable('messaging_reach')
        .set({ wa_id: replacement })
        .where('workspace_id', '=', workspaceId)
        .where('wa_id', '=', waId)
        .execute();
      await db()
        .updateTable('marketing_history')
        .set({ wa_id: replacement })
        .where('workspace_id', '=', workspaceId)
        .where('wa_id', '=', waId)
        .execute();
    },

    marketing: {
      async history(workspaceId, waId, since) {
        const rows = await db()
          .selectFrom('marketing_history')
          .select(['kind', 'at'])
          .where('workspace_id', '=', workspaceId)
          .where('wa_id', '=', waId)
          .where('at', '>', since)
          .execute();
        let userCapAt: number | null = null;
        const sentAt: number[] = [];
        for (const row of rows) {
          const at = row.at;
          if (row.kind === 'user_cap') userCapAt = Math.max(userCapAt ?? at, at);
          else sentAt.push(at);
        }
        return { sentAt, userCapAt };
      },

      async record(workspaceId, waId, kind, at, messageId) {
        await db()
          .insertInto('marketing_history')
          .values({
            id: newId(at),
            workspace_id: workspaceId,
            wa_id: waId,
            kind,
            at,
            message_id: messageId,
          })
          .execute();
      },
    },
  };
}
