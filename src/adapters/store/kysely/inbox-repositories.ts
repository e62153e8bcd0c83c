// The inbox on Kysely: agents, sessions, tokens, login attempts, departments, the inbox columns of
// conversations, notes, canned responses and parked replies (tables of migration 0008).
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import {
  AGENT_ROLES,
  AGENT_STATES,
  PARKED_STATES,
  type Agent,
  type AgentRole,
  type AgentState,
  type CannedResponse,
  type ConversationNote,
  type CostSum,
  type Department,
  type InboxConversation,
  type InboxStore,
  type LastMessage,
  type ParkedReply,
  type ParkedState,
} from '../../../ports/inbox-store.ts';
import type { CareWindowRecord, Contact } from '../../../ports/store.ts';
import type { ConversationsTable, Database } from './database-schema.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';
import { newId } from './ids.ts';
import {
  fromJsonText,
  toCareWindow,
  toContact,
  toConversation,
  toJsonText,
} from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

// Type aliases, not interfaces: `withTables` needs the implicit index signature only aliases have.
export type AgentsTable = {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  role: string;
  state: string;
  password_hash: string | null;
  department_ids: string;
  created_at: number;
  updated_at: number;
};
export type AgentSessionsTable = {
  id: string;
  token_hash: string;
  agent_id: string;
  workspace_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
};
export type AgentTokensTable = {
  token_hash: string;
  kind: string;
  agent_id: string;
  workspace_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
};
export type LoginAttemptsTable = { id: string; key: string; at: number };
export type DepartmentsTable = {
  id: string;
  workspace_id: string;
  name: string;
  created_at: number;
};
export type InboxConversationsTable = ConversationsTable & {
  department_id: string | null;
  /** Migration 0011: who closed it, and its department then. */
  closed_by: string | null;
  closed_department_id: string | null;
  snoozed_until: number | null;
  labels: string;
  read_at: number | null;
};
export type ConversationNotesTable = {
  id: string;
  workspace_id: string;
  conversation_id: string;
  agent_id: string | null;
  text: string;
  created_at: number;
};
export type CannedResponsesTable = {
  id: string;
  workspace_id: string;
  shortcut: string;
  text: string;
  created_at: number;
  updated_at: number;
};
export type ParkedRepliesTable = {
  id: string;
  workspace_id: string;
  conversation_id: string;
  channel_id: string;
  contact_id: string;
  agent_id: string | null;
  text: string;
  state: string;
  reengagement_message_id: string | null;
  message_id: string | null;
  created_at: number;
  released_at: number | null;
};

/** The tables of migration 0008 (and the columns it adds to conversations). */
export type InboxTables = {
  agents: AgentsTable;
  agent_sessions: AgentSessionsTable;
  agent_tokens: AgentTokensTable;
  login_attempts: LoginAttemptsTable;
  departments: DepartmentsTable;
  conversation_notes: ConversationNotesTable;
  canned_responses: CannedResponsesTable;
  parked_replies: ParkedRepliesTable;
};

/** Migration 0011: the agent who sent an outbound message, and the conversation's department then. */
export type AttributedMessagesTable = Database['messages'] & {
  agent_id: string | null;
  department_id: string | null;
};

type InboxDb = Kysely<
  Omit<Database, 'conversations' | 'messages'> & {
    conversations: InboxConversationsTable;
    messages: AttributedMessagesTable;
  } & InboxTables
>;

const stringList = (text: string): string[] => {
  const value = fromJsonText(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
};

function toAgent(row: Selectable<AgentsTable>): Agent {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    // Only this repository writes these columns, from the closed sets.
    role: (AGENT_ROLES as readonly string[]).includes(row.role) ? (row.role as AgentRole) : 'agent',
    state: (AGENT_STATES as readonly string[]).includes(row.state)
      ? (row.state as AgentState)
      : 'disabled',
    passwordHash: row.password_hash,
    departmentIds: stringList(row.department_ids),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toInboxConversation(row: Selectable<InboxConversationsTable>): InboxConversation {
  return {
    ...toConversation(row),
    departmentId: row.department_id,
    snoozedUntil: row.snoozed_until,
    labels: stringList(row.labels),
    readAt: row.read_at,
    closedBy: row.closed_by,
    closedDepartmentId: row.closed_department_id,
  };
}

function toParked(row: Selectable<ParkedRepliesTable>): ParkedReply {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    conversationId: row.conversation_id,
    channelId: row.channel_id,
    contactId: row.contact_id,
    agentId: row.agent_id,
    text: row.text,
    state: (PARKED_STATES as readonly string[]).includes(row.state)
      ? (row.state as ParkedState)
      : 'cancelled',
    reengagementMessageId: row.reengagement_message_id,
    messageId: row.message_id,
    createdAt: row.created_at,
    releasedAt: row.released_at,
  };
}

const toCanned = (row: Selectable<CannedResponsesTable>): CannedResponse => ({
  id: row.id,
  workspaceId: row.workspace_id,
  shortcut: row.shortcut,
  text: row.text,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toDepartment = (row: Selectable<DepartmentsTable>): Department => ({
  id: row.id,
  workspaceId: row.workspace_id,
  name: row.name,
  createdAt: row.created_at,
});

const toNote = (row: Selectable<ConversationNotesTable>): ConversationNote => ({
  id: row.id,
  workspaceId: row.workspace_id,
  conversationId: row.conversation_id,
  agentId: row.agent_id,
  text: row.text,
  createdAt: row.created_at,
});

/** Up to this many contacts matching a name search are looked up by id; more walk the list. */
const NAME_MATCHES_LISTED = 500;

/** Escapes LIKE wildcards so a search for `50%` matches the text, not "50 and anything". */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function sumCosts(rows: readonly { currency: string | null; micros: unknown }[]): CostSum[] {
  return rows
    .filter((r): r is { currency: string; micros: unknown } => r.currency !== null)
    .map((r) => ({ currency: r.currency, micros: Number(r.micros) }));
}

export function inboxRepository(ctx: StoreContext): InboxStore {
  const db = (): InboxDb => ctx.db().withTables<InboxTables>() as unknown as InboxDb;

  const getAgent = async (id: string) => {
    const row = await db().selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAgent(row) : null;
  };
  const getConversation = async (id: string) => {
    const row = await db()
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toInboxConversation(row) : null;
  };
  const getCanned = async (id: string) => {
    const row = await db()
      .selectFrom('canned_responses')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toCanned(row) : null;
  };

  return {
    agents: {
      async create(input) {
        const row: AgentsTable = {
          id: newId(input.at),
          workspace_id: input.workspaceId,
          email: input.email.toLowerCase(),
          name: input.name,
          role: input.role,
          state: input.state,
          password_hash: input.passwordHash,
          department_ids: toJsonText(input.departmentIds),
          created_at: input.at,
          updated_at: input.at,
        };
        await db().insertInto('agents').values(row).execute();
        return toAgent(row);
      },
      get: getAgent,
      async findByEmail(email) {
        const row = await db()
          .selectFrom('agents')
          .selectAll()
          .where('email', '=', email.toLowerCase())
          .executeTakeFirst();
        return row ? toAgent(row) : null;
      },
      async list(workspaceId) {
        const rows = await db()
          .selectFrom('agents')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(toAgent);
      },
      async update(id, patch, at) {
        const set: Updateable<AgentsTable> = { updated_at: at };
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.role !== undefined) set.role = patch.role;
        if (patch.state !== undefined) set.state = patch.state;
        if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
        if (patch.departmentIds !== undefined) set.department_ids = toJsonText(patch.departmentIds);
        await db().updateTable('agents').set(set).where('id', '=', id).execute();
        return getAgent(id);
      },
      async delete(id) {
        const result = await db().deleteFrom('agents').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
    },

    sessions: {
      async create(input) {
        const row: AgentSessionsTable = {
          id: newId(input.createdAt),
          token_hash: input.tokenHash,
          agent_id: input.agentId,
          workspace_id: input.workspaceId,
          csrf_token: input.csrfToken,
          created_at: input.createdAt,
          expires_at: input.expiresAt,
        };
        await db().insertInto('agent_sessions').values(row).execute();
        return { id: row.id, ...input };
      },
      async findByHash(tokenHash) {
        const row = await db()
          .selectFrom('agent_sessions')
          .selectAll()
          .where('token_hash', '=', tokenHash)
          .executeTakeFirst();
        return row
          ? {
              id: row.id,
              tokenHash: row.token_hash,
              agentId: row.agent_id,
              workspaceId: row.workspace_id,
              csrfToken: row.csrf_token,
              createdAt: row.created_at,
              expiresAt: row.expires_at,
            }
          : null;
      },
      async delete(id) {
        await db().deleteFrom('agent_sessions').where('id', '=', id).execute();
      },
      async deleteForAgent(agentId) {
        await db().deleteFrom('agent_sessions').where('agent_id', '=', agentId).execute();
      },
    },

    tokens: {
      async create(input) {
        await db()
          .insertInto('agent_tokens')
          .values({
            token_hash: input.tokenHash,
            kind: input.kind,
            agent_id: input.agentId,
            workspace_id: input.workspaceId,
            created_at: input.createdAt,
            expires_at: input.expiresAt,
            used_at: null,
          })
          .execute();
        return { ...input, usedAt: null };
      },
      async findByHash(tokenHash) {
        const row = await db()
          .selectFrom('agent_tokens')
          .selectAll()
          .where('token_hash', '=', tokenHash)
          .executeTakeFirst();
        return row
          ? {
              tokenHash: row.token_hash,
              kind: row.kind === 'invite' ? 'invite' : 'reset',
              agentId: row.agent_id,
              workspaceId: row.workspace_id,
              createdAt: row.created_at,
              expiresAt: row.expires_at,
              usedAt: row.used_at,
            }
          : null;
      },
      async use(tokenHash, at) {
        const result = await db()
          .updateTable('agent_tokens')
          .set({ used_at: at })
          .where('token_hash', '=', tokenHash)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
    },

    attempts: {
      async record(key, at) {
        await db()
          .insertInto('login_attempts')
          .values({ id: newId(at), key, at })
          .execute();
      },
      async count(key, since) {
        const row = await db()
          .selectFrom('login_attempts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('key', '=', key)
          .where('at', '>', since)
          .executeTakeFirstOrThrow();
        return row.n;
      },
      async purge(before) {
        await db().deleteFrom('login_attempts').where('at', '<', before).execute();
      },
    },

    departments: {
      async create(input) {
        const row = {
          id: newId(input.at),
          workspace_id: input.workspaceId,
          name: input.name,
          created_at: input.at,
        };
        await db().insertInto('departments').values(row).execute();
        return toDepartment(row);
      },
      async get(id) {
        const row = await db()
          .selectFrom('departments')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toDepartment(row) : null;
      },
      async list(workspaceId) {
        const rows = await db()
          .selectFrom('departments')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .orderBy('name')
          .execute();
        return rows.map(toDepartment);
      },
      async rename(id, name) {
        await db().updateTable('departments').set({ name }).where('id', '=', id).execute();
        const row = await db()
          .selectFrom('departments')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toDepartment(row) : null;
      },
      async delete(id) {
        await db()
          .updateTable('conversations')
          .set({ department_id: null })
          .where('department_id', '=', id)
          .execute();
        const result = await db().deleteFrom('departments').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
    },

    conversations: {
      get: getConversation,
      /**
       * The inbox listing: equality filters on an index ending in (last_message_at, id) walked
       * backwards, as in `conversationListQuery`; status `open`/`snoozed` add a residual test on
       * `snoozed_until`, search a contact subquery.
       */
      async list(filter) {
        const { limit, fetch } = keysetLimit(filter.limit);
        let query = db()
          .selectFrom('conversations')
          .selectAll()
          .where('workspace_id', '=', filter.workspaceId);
        if (filter.channelId !== undefined)
          query = query.where('channel_id', '=', filter.channelId);
        if (filter.contactId !== undefined)
          query = query.where('contact_id', '=', filter.contactId);
        if (filter.state !== undefined) query = query.where('state', '=', filter.state);
        if (filter.departmentId !== undefined)
          query = query.where('department_id', '=', filter.departmentId);
        if (filter.assigneeId === null) query = query.where('assignee_id', 'is', null);
        else if (filter.assigneeId !== undefined)
          query = query.where('assignee_id', '=', filter.assigneeId);
        if (filter.status === 'closed') query = query.where('state', '=', 'closed');
        else if (filter.status === 'open')
          query = query
            .where('state', '=', 'open')
            .where((eb) =>
              eb.or([eb('snoozed_until', 'is', null), eb('snoozed_until', '<=', filter.now)]),
            );
        else if (filter.status === 'snoozed')
          query = query.where('state', '=', 'open').where('snoozed_until', '>', filter.now);
        const search = filter.search?.trim();
        const digits = search?.replace(/[\s().+-]/g, '');
        if (search && digits && /^\d+$/.test(digits)) {
          // A number is matched from its start (country code first): a range on the contacts'
          // (workspace_id, wa_id) key, then the few conversations of those contacts.
          query = query.where('contact_id', 'in', (eb) =>
            eb
              .selectFrom('contacts')
              .select('contacts.id')
              .where('contacts.workspace_id', '=', filter.workspaceId)
              .where('contacts.wa_id', '>=', digits)
              // ':' sorts right after '9': the upper bound of every number with this prefix.
              .where('contacts.wa_id', '<', `${digits}:`),
          );
        } else if (search) {
          // A name. A rare one: its few contacts' conversations through the contact index. A
          // common one (more than NAME_MATCHES_LISTED contacts): walk the conversations newest
          // first testing each contact, which stops after a page because matches are dense.
          // SQLite's LIKE ignores ASCII case; PostgreSQL needs ILIKE.
          const pattern = likePattern(search);
          const nameMatches = (ref: string) =>
            ctx.dialect === 'postgres'
              ? sql<boolean>`${sql.ref(ref)} ilike ${pattern} escape '\\'`
              : sql<boolean>`${sql.ref(ref)} like ${pattern} escape '\\'`;
          const matched = await db()
            .selectFrom('contacts')
            .select('id')
            .where('workspace_id', '=', filter.workspaceId)
            .where(nameMatches('contacts.name'))
            .limit(NAME_MATCHES_LISTED + 1)
            .execute();
          if (matched.length === 0) return { items: [], nextCursor: null };
          query =
            matched.length <= NAME_MATCHES_LISTED
              ? query.where(
                  'contact_id',
                  'in',
                  matched.map((m) => m.id),
                )
              : query.where((eb) =>
                  eb.exists(
                    eb
                      .selectFrom('contacts as k')
                      .select(sql.lit(1).as('one'))
                      .whereRef('k.id', '=', 'conversations.contact_id')
                      .where(nameMatches('k.name')),
                  ),
                );
        }
        if (filter.cursor !== undefined)
          query = query.where(
            seekAfter(filter.cursor, { at: 'last_message_at', id: 'id' }, 'desc'),
          );
        const rows = await query
          .orderBy('last_message_at', 'desc')
          .orderBy('id', 'desc')
          .limit(fetch)
          .execute();
        return keysetPage(rows, limit, toInboxConversation, (c) => ({
          at: c.lastMessageAt,
          id: c.id,
        }));
      },
      async update(id, patch) {
        const set: Updateable<InboxConversationsTable> = {};
        if (patch.state !== undefined) set.state = patch.state;
        if (patch.assigneeId !== undefined) set.assignee_id = patch.assigneeId;
        if (patch.closedAt !== undefined) set.closed_at = patch.closedAt;
        if (patch.departmentId !== undefined) set.department_id = patch.departmentId;
        if (patch.snoozedUntil !== undefined) set.snoozed_until = patch.snoozedUntil;
        if (patch.labels !== undefined) set.labels = toJsonText(patch.labels);
        if (patch.readAt !== undefined) set.read_at = patch.readAt;
        if (patch.closedBy !== undefined) set.closed_by = patch.closedBy;
        if (patch.closedDepartmentId !== undefined)
          set.closed_department_id = patch.closedDepartmentId;
        if (Object.keys(set).length > 0)
          await db().updateTable('conversations').set(set).where('id', '=', id).execute();
        return getConversation(id);
      },
      async wake(channelId, contactId) {
        const row = await db()
          .selectFrom('conversations')
          .select(['id', 'snoozed_until'])
          .where('channel_id', '=', channelId)
          .where('contact_id', '=', contactId)
          .where('state', '=', sql.lit('open'))
          .executeTakeFirst();
        if (!row || row.snoozed_until === null) return null;
        await db()
          .updateTable('conversations')
          .set({ snoozed_until: null })
          .where('id', '=', row.id)
          .execute();
        return row.id;
      },
      // The row fields of a page, one query each (not one per row): every subquery walks the
      // messages_transcript index (conversation_id, created_at, id) of one conversation.
      async unreadCounts(items) {
        const counts = new Map<string, number>(items.map((i) => [i.id, 0]));
        if (items.length === 0) return counts;
        const rows = await db()
          .selectFrom('messages as m')
          .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
          .select(['m.conversation_id as id', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where(
            'c.id',
            'in',
            items.map((i) => i.id),
          )
          .where('m.direction', '=', 'inbound')
          .where((eb) => eb('m.created_at', '>', eb.fn.coalesce('c.read_at', sql.lit(-1))))
          .groupBy('m.conversation_id')
          .execute();
        for (const row of rows) if (row.id !== null) counts.set(row.id, Number(row.n));
        return counts;
      },
      async lastMessages(ids) {
        const result = new Map<string, LastMessage>();
        if (ids.length === 0) return result;
        const rows = await db()
          .selectFrom('messages')
          .select(['conversation_id', 'text', 'type', 'created_at', 'direction'])
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('conversations as c')
              .select((inner) =>
                inner
                  .selectFrom('messages as x')
                  .select('x.id')
                  .whereRef('x.conversation_id', '=', 'c.id')
                  .orderBy('x.created_at', 'desc')
                  .orderBy('x.id', 'desc')
                  .limit(1)
                  .as('last_id'),
              )
              .where('c.id', 'in', [...ids]),
          )
          .execute();
        for (const row of rows)
          if (row.conversation_id !== null)
            result.set(row.conversation_id, {
              text: row.text,
              type: row.type,
              at: row.created_at,
              direction: row.direction === 'inbound' ? 'inbound' : 'outbound',
            });
        return result;
      },
      async costs(ids) {
        const result = new Map<string, CostSum[]>(ids.map((id) => [id, []]));
        if (ids.length === 0) return result;
        const rows = await sql<{ id: string; currency: string | null; micros: unknown }>`
          select m.conversation_id as id, u.currency as currency, sum(u.amount_micros) as micros
          from messages m join billing_usage u
            on u.workspace_id = m.workspace_id and u.message_id = m.id
          where m.conversation_id in (${sql.join([...ids])}) and m.direction = 'outbound'
            and u.amount_micros is not null
          group by m.conversation_id, u.currency`.execute(db());
        for (const row of rows.rows) result.get(row.id)?.push(...sumCosts([row]));
        return result;
      },
      async contacts(ids) {
        const result = new Map<string, Contact>();
        if (ids.length === 0) return result;
        const rows = await db()
          .selectFrom('contacts')
          .selectAll()
          .where('id', 'in', [...new Set(ids)])
          .execute();
        for (const row of rows) result.set(row.id, toContact(row));
        return result;
      },
      async windows(pairs) {
        const result = new Map<string, CareWindowRecord>();
        if (pairs.length === 0) return result;
        // One primary-key probe per pair (an OR of equalities both planners split).
        const rows = await db()
          .selectFrom('care_windows')
          .selectAll()
          .where((eb) =>
            eb.or(
              pairs.map((p) =>
                eb.and([eb('channel_id', '=', p.channelId), eb('contact_id', '=', p.contactId)]),
              ),
            ),
          )
          .execute();
        for (const row of rows)
          result.set(`${row.channel_id}:${row.contact_id}`, toCareWindow(row));
        return result;
      },
      async attributeReply(messageId, agentId) {
        // The department is read in the same statement, so it is the one of this instant.
        await sql`update messages set agent_id = ${agentId},
            department_id = (select c.department_id from conversations c
              where c.id = messages.conversation_id)
          where id = ${messageId}`.execute(db());
      },
      async responseTimes(workspaceId, from, to) {
        // The first business reply that went out after the customer's first message.
        const firstReply = (column: string) => sql`(select ${sql.ref(`o.${column}`)}
            from messages o
            where o.conversation_id = c.id and o.direction = 'outbound'
              and o.status not in ('refused', 'failed')
              and o.created_at >= (select min(i.created_at) from messages i
                where i.conversation_id = c.id and i.direction = 'inbound')
            order by o.created_at, o.id limit 1)`;
        const rows = await sql<{
          id: string;
          assignee_id: string | null;
          department_id: string | null;
          created_at: unknown;
          closed_at: unknown;
          closed_by: string | null;
          closed_department_id: string | null;
          first_in: unknown;
          first_out: unknown;
          first_out_agent: string | null;
          first_out_department: string | null;
        }>`
          select c.id, c.assignee_id, c.department_id, c.created_at, c.closed_at,
            c.closed_by, c.closed_department_id,
            (select min(m.created_at) from messages m
              where m.conversation_id = c.id and m.direction = 'inbound') as first_in,
            ${firstReply('created_at')} as first_out,
            ${firstReply('agent_id')} as first_out_agent,
            ${firstReply('department_id')} as first_out_department
          from conversations c
          where c.workspace_id = ${workspaceId} and c.created_at >= ${from} and c.created_at < ${to}`.execute(
          db(),
        );
        const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
        return rows.rows.map((r) => ({
          conversationId: r.id,
          assigneeId: r.assignee_id,
          departmentId: r.department_id,
          createdAt: Number(r.created_at),
          closedAt: num(r.closed_at),
          closedBy: r.closed_by,
          closedDepartmentId: r.closed_department_id,
          firstInboundAt: num(r.first_in),
          firstResponseAt: num(r.first_out),
          firstResponseAgentId: r.first_out_agent,
          firstResponseDepartmentId: r.first_out_department,
        }));
      },
    },

    contacts: {
      async update(id, patch, at) {
        const set: Updateable<Database['contacts']> = { updated_at: at };
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.attributes !== undefined) set.attributes = toJsonText(patch.attributes);
        if (patch.tags !== undefined) set.tags = toJsonText(patch.tags);
        await db().updateTable('contacts').set(set).where('id', '=', id).execute();
        const row = await db()
          .selectFrom('contacts')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toContact(row) : null;
      },
      async cost(workspaceId, contactId) {
        const rows = await sql<{ currency: string | null; micros: unknown }>`
          select currency, sum(amount_micros) as micros from billing_usage
          where workspace_id = ${workspaceId} and contact_id = ${contactId}
            and amount_micros is not null
          group by currency`.execute(db());
        return sumCosts(rows.rows);
      },
      async entryPoint(workspaceId, contactId) {
        // The contact's few conversations first (indexed), then their inbound messages.
        const row = await db()
          .selectFrom('messages')
          .select(['content', 'created_at'])
          .where('conversation_id', 'in', (eb) =>
            eb
              .selectFrom('conversations')
              .select('conversations.id')
              .where('conversations.workspace_id', '=', workspaceId)
              .where('conversations.contact_id', '=', contactId),
          )
          .where('direction', '=', 'inbound')
          .where('content', 'like', '%"referral":{%')
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (!row) return null;
        const content = fromJsonText(row.content);
        const referral =
          content && typeof content === 'object' && !Array.isArray(content)
            ? content.referral
            : null;
        if (!referral || typeof referral !== 'object' || Array.isArray(referral)) return null;
        return { at: row.created_at, referral };
      },
    },

    notes: {
      async create(input) {
        const row = {
          id: newId(input.createdAt),
          workspace_id: input.workspaceId,
          conversation_id: input.conversationId,
          agent_id: input.agentId,
          text: input.text,
          created_at: input.createdAt,
        };
        await db().insertInto('conversation_notes').values(row).execute();
        return toNote(row);
      },
      async list(conversationId, after, until) {
        const rows = await db()
          .selectFrom('conversation_notes')
          .selectAll()
          .where('conversation_id', '=', conversationId)
          .where('created_at', '>', after)
          .where('created_at', '<=', until)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(toNote);
      },
    },

    canned: {
      async create(input) {
        const row = {
          id: newId(input.at),
          workspace_id: input.workspaceId,
          shortcut: input.shortcut,
          text: input.text,
          created_at: input.at,
          updated_at: input.at,
        };
        await db().insertInto('canned_responses').values(row).execute();
        return toCanned(row);
      },
      get: getCanned,
      async list(workspaceId) {
        const rows = await db()
          .selectFrom('canned_responses')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .orderBy('shortcut')
          .execute();
        return rows.map(toCanned);
      },
      async update(id, patch, at) {
        const set: Updateable<CannedResponsesTable> = { updated_at: at };
        if (patch.shortcut !== undefined) set.shortcut = patch.shortcut;
        if (patch.text !== undefined) set.text = patch.text;
        await db().updateTable('canned_responses').set(set).where('id', '=', id).execute();
        return getCanned(id);
      },
      async delete(id) {
        const result = await db()
          .deleteFrom('canned_responses')
          .where('id', '=', id)
          .executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
    },

    parked: {
      async create(input) {
        const row: ParkedRepliesTable = {
          id: newId(input.createdAt),
          workspace_id: input.workspaceId,
          conversation_id: input.conversationId,
          channel_id: input.channelId,
          contact_id: input.contactId,
          agent_id: input.agentId,
          text: input.text,
          state: 'held',
          reengagement_message_id: input.reengagementMessageId,
          message_id: null,
          created_at: input.createdAt,
          released_at: null,
        };
        await db().insertInto('parked_replies').values(row).execute();
        return toParked(row);
      },
      async get(id) {
        const row = await db()
          .selectFrom('parked_replies')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toParked(row) : null;
      },
      async listHeld(channelId, contactId) {
        const rows = await db()
          .selectFrom('parked_replies')
          .selectAll()
          .where('channel_id', '=', channelId)
          .where('contact_id', '=', contactId)
          // A literal, so both dialects match the partial index on held rows.
          .where('state', '=', sql.lit('held'))
          .orderBy('created_at')
          .execute();
        return rows.map(toParked);
      },
      async listForConversation(conversationId) {
        const rows = await db()
          .selectFrom('parked_replies')
          .selectAll()
          .where('conversation_id', '=', conversationId)
          .orderBy('created_at')
          .execute();
        return rows.map(toParked);
      },
      async settle(id, state, at, messageId) {
        const result = await db()
          .updateTable('parked_replies')
          .set({ state, released_at: at, message_id: messageId })
          .where('id', '=', id)
          .where('state', '=', 'held')
          .executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
      async setReengagement(id, messageId) {
        await db()
          .updateTable('parked_replies')
          .set({ reengagement_message_id: messageId })
          .where('id', '=', id)
          .execute();
      },
    },
  };
}
