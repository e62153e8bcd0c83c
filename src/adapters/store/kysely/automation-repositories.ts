// Chatbot flows, runs, inbound claims and business calendars on Kysely (tables of migration 0010).
import type { Kysely, Selectable } from 'kysely';
import { RUN_STATUSES, type RunStatus } from '../../../core/automation/step-machine.ts';
import type {
  AutomationRecord,
  AutomationRunRecord,
  AutomationSource,
  AutomationStore,
} from '../../../ports/automation-store.ts';
import type { Json, JsonObject } from '../../../ports/store.ts';
import type { Database } from './database-schema.ts';
import { newId } from './ids.ts';
import { fromJsonText, toJsonText } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

// Type aliases, not interfaces: `withTables` needs the implicit index signature only aliases have.
export type AutomationsTable = {
  id: string;
  workspace_id: string;
  name: string;
  definition: string;
  source: string;
  created_at: number;
  updated_at: number;
};

export type AutomationRunsTable = {
  id: string;
  workspace_id: string;
  automation_id: string;
  definition: string;
  channel_id: string;
  contact_id: string;
  conversation_id: string;
  message_id: string;
  status: string;
  step: number;
  waiting_until: number | null;
  reason: string | null;
  log: string;
  started_at: number;
  updated_at: number;
};

export type AutomationInboundTable = {
  message_id: string;
  workspace_id: string;
  claimed_at: number;
};

export type BusinessCalendarsTable = {
  channel_id: string;
  workspace_id: string;
  calendar: string;
  updated_at: number;
};

/** The tables of migration 0010, added to the shared schema only here. */
export type AutomationTables = {
  automations: AutomationsTable;
  automation_runs: AutomationRunsTable;
  automation_inbound: AutomationInboundTable;
  business_calendars: BusinessCalendarsTable;
};

type AutomationDb = Kysely<Database & AutomationTables>;

const isRunStatus = (s: string): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s);

function toFlow(row: Selectable<AutomationsTable>): AutomationRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    definition: fromJsonText(row.definition) as JsonObject,
    source: (row.source === 'config' ? 'config' : 'api') satisfies AutomationSource,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRun(row: Selectable<AutomationRunsTable>): AutomationRunRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    automationId: row.automation_id,
    definition: fromJsonText(row.definition) as JsonObject,
    channelId: row.channel_id,
    contactId: row.contact_id,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    // Only this repository writes the column, from the closed set.
    status: isRunStatus(row.status) ? row.status : 'failed',
    step: row.step,
    waitingUntil: row.waiting_until,
    reason: row.reason,
    log: fromJsonText(row.log) as Json[],
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  };
}

export function automationRepository(ctx: StoreContext): AutomationStore {
  const db = (): AutomationDb => ctx.db().withTables<AutomationTables>();

  const flows: AutomationStore['flows'] = {
    async create(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        name: input.name,
        definition: toJsonText(input.definition),
        source: input.source,
        created_at: input.createdAt,
        updated_at: input.createdAt,
      };
      const inserted = await db()
        .insertInto('automations')
        .values(row)
        .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      return inserted ? toFlow(inserted) : null;
    },
    async get(workspaceId, id) {
      const row = await db()
        .selectFrom('automations')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toFlow(row) : null;
    },
    async findByName(workspaceId, name) {
      const row = await db()
        .selectFrom('automations')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row ? toFlow(row) : null;
    },
    async list(workspaceId) {
      const rows = await db()
        .selectFrom('automations')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toFlow);
    },
    async update(workspaceId, id, patch, at) {
      const taken = await db()
        .selectFrom('automations')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('name', '=', patch.name)
        .where('id', '!=', id)
        .executeTakeFirst();
      if (taken) return null;
      const row = await db()
        .updateTable('automations')
        .set({
          name: patch.name,
          definition: toJsonText(patch.definition),
          source: patch.source,
          updated_at: at,
        })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toFlow(row) : null;
    },
    async delete(workspaceId, id) {
      const result = await db()
        .deleteFrom('automations')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };

  const runs: AutomationStore['runs'] = {
    async create(input) {
      const row = {
        id: newId(input.startedAt),
        workspace_id: input.workspaceId,
        automation_id: input.automationId,
        definition: toJsonText(input.definition),
        channel_id: input.channelId,
        contact_id: input.contactId,
        conversation_id: input.conversationId,
        message_id: input.messageId,
        status: input.status,
        step: input.step,
        waiting_until: input.waitingUntil,
        reason: input.reason,
        log: toJsonText(input.log),
        started_at: input.startedAt,
        updated_at: input.startedAt,
      };
      const inserted = await db()
        .insertInto('automation_runs')
        .values(row)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRun(inserted);
    },
    async get(id) {
      const row = await db()
        .selectFrom('automation_runs')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toRun(row) : null;
    },
    async update(id, patch, at) {
      const set: Partial<AutomationRunsTable> = { updated_at: at };
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.step !== undefined) set.step = patch.step;
      if (patch.waitingUntil !== undefined) set.waiting_until = patch.waitingUntil;
      if (patch.reason !== undefined) set.reason = patch.reason;
      if (patch.log !== undefined) set.log = toJsonText(patch.log);
      const row = await db()
        .updateTable('automation_runs')
        .set(set)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toRun(row) : null;
    },
    async listByConversation(conversationId) {
      const rows = await db()
        .selectFrom('automation_runs')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toRun);
    },
    async listByAutomation(workspaceId, automationId, limit) {
      const rows = await db()
        .selectFrom('automation_runs')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('automation_id', '=', automationId)
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(1, Math.min(limit, 500)))
        .execute();
      return rows.map(toRun);
    },
    async lastStartFor(automationId, contactId) {
      const row = await db()
        .selectFrom('automation_runs')
        .select('started_at')
        .where('automation_id', '=', automationId)
        .where('contact_id', '=', contactId)
        .orderBy('started_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? row.started_at : null;
    },
  };

  return {
    flows,
    runs,
    async claimInbound(workspaceId, messageId, at) {
      const inserted = await db()
        .insertInto('automation_inbound')
        .values({ message_id: messageId, workspace_id: workspaceId, claimed_at: at })
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning('message_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async hasEarlierInbound(conversationIds, messageId, before) {
      if (conversationIds.length === 0) return false;
      // messages_transcript (conversation_id, created_at, id) serves this per conversation.
      const row = await db()
        .selectFrom('messages')
        .select('id')
        .where('conversation_id', 'in', [...conversationIds])
        .where('direction', '=', 'inbound')
        .where('created_at', '<=', before)
        .where('id', '!=', messageId)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    async humanSentSince(conversationId, since) {
      const row = await db()
        .selectFrom('messages')
        .select('id')
        .where('conversation_id', '=', conversationId)
        .where('created_at', '>=', since)
        .where('direction', '=', 'outbound')
        .where('status', '!=', 'refused')
        .where('type', '!=', 'template')
        .where((eb) =>
          eb.or([
            eb('idempotency_key', 'is', null),
            eb('idempotency_key', 'not like', 'automation:%'),
          ]),
        )
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    calendars: {
      async get(channelId) {
        const row = await db()
          .selectFrom('business_calendars')
          .select('calendar')
          .where('channel_id', '=', channelId)
          .executeTakeFirst();
        return row ? (fromJsonText(row.calendar) as JsonObject) : null;
      },
      async put(input) {
        const calendar = toJsonText(input.calendar);
        await db()
          .insertInto('business_calendars')
          .values({
            channel_id: input.channelId,
            workspace_id: input.workspaceId,
            calendar,
            updated_at: input.at,
          })
          .onConflict((oc) =>
            oc.column('channel_id').doUpdateSet({ calendar, updated_at: input.at }),
          )
          .execute();
      },
      async delete(channelId) {
        const result = await db()
          .deleteFrom('business_calendars')
          .where('channel_id', '=', channelId)
          .executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
    },
  };
}
