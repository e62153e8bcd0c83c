// PRODUCT P5: the inbox listing walks an index in order (no sort) with 100,000 conversations;
// its speed is measured in bench/, not asserted here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import type { ConversationFilter, Store } from '../../../ports/store.ts';
import {
  freshPostgresUrl,
  freshSqliteFile,
  postgresAvailable,
  requireServerOrSkip,
} from '../../../../test/helpers/databases.ts';
import { conversationListQuery } from './conversation-repositories.ts';
import { encodeCursor } from './cursor.ts';
import type { Database } from './database-schema.ts';
import { createKyselyStore } from './kysely-store.ts';
import { createPostgresPool } from './postgres-pool.ts';
import { openSqlite, ParleySqliteDialect } from './sqlite-dialect.ts';

const CONVERSATIONS = 100_000;
const BASE = 1_760_000_000_000;

/** Listing shapes the inbox uses; each must be answered by walking an index in order. */
const SHAPES: {
  name: string;
  filter: Omit<ConversationFilter, 'workspaceId' | 'limit'>;
  /** Columns the index search itself must bound (not filter row by row). */
  seeks: string[];
}[] = [
  { name: 'everything', filter: {}, seeks: ['workspace_id'] },
  { name: 'open', filter: { state: 'open' }, seeks: ['state'] },
  { name: 'closed', filter: { state: 'closed' }, seeks: ['state'] },
  {
    name: 'mine, open',
    filter: { assigneeId: 'agent-3', state: 'open' },
    seeks: ['assignee_id', 'state'],
  },
  {
    name: 'unassigned, open',
    filter: { assigneeId: null, state: 'open' },
    seeks: ['assignee_id', 'state'],
  },
  { name: 'one channel', filter: { channelId: 'ch-1' }, seeks: ['channel_id'] },
  { name: 'one channel, open', filter: { channelId: 'ch-1', state: 'open' }, seeks: [] },
  { name: 'one contact', filter: { contactId: 'ct-4242' }, seeks: ['contact_id'] },
];

/** 100,000 conversations (10 % open, 1 in 7 unassigned, two channels, ties on lastMessageAt). */
async function seed(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`insert into workspaces (id, name, settings, created_at) values ('ws-load', 'Load', '{}', 0)`.execute(
      trx,
    );
    await sql`insert into connections (id, workspace_id, provider, name, config, secrets_encrypted, created_at, updated_at)
      values ('conn-load', 'ws-load', 'sandbox', 'load', '{}', '', 0, 0)`.execute(trx);
    await sql`insert into channels (id, workspace_id, connection_id, provider_key, phone_number, waba_id, name, throughput_mps, environment, allow_list, created_at)
      values ('ch-0', 'ws-load', 'conn-load', 'k0', '1', null, 'zero', 80, 'production', '[]', 0),
             ('ch-1', 'ws-load', 'conn-load', 'k1', '2', null, 'one', 80, 'production', '[]', 0)`.execute(
      trx,
    );
    await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${sql.lit(CONVERSATIONS)})
      insert into contacts (id, workspace_id, wa_id, name, user_id, attributes, tags, created_at, updated_at)
      select 'ct-' || n, 'ws-load', '49' || n, null, null, '{}', '[]', 0, 0 from seq`.execute(trx);
    await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${sql.lit(CONVERSATIONS)})
      insert into conversations (id, workspace_id, channel_id, contact_id, state, assignee_id, created_at, last_message_at, closed_at)
      select 'cv-' || n, 'ws-load', case when n % 2 = 0 then 'ch-0' else 'ch-1' end, 'ct-' || n,
        case when n % 10 = 0 then 'open' else 'closed' end,
        case when n % 7 = 0 then null else 'agent-' || (n % 20) end,
        ${sql.lit(BASE)}, ${sql.lit(BASE)} + (n / 3) * 1000, null
      from seq`.execute(trx);
  });
}

interface Subject {
  store: Store;
  /** A plain Kysely handle on the same database, to seed and to ask for query plans. */
  db: Kysely<Database>;
  /** The plan of `query`: whether it sorts instead of walking an index in order, and its text. */
  sorts(query: CompiledQuery): Promise<{ sorts: boolean; plan: string }>;
  /** Whether the plan bounds the index search by `column` (rather than filtering rows). */
  seeks(plan: string, column: string): boolean;
  cleanup(): Promise<void>;
}

async function sqliteSubject(): Promise<Subject> {
  const file = freshSqliteFile();
  const store = await createKyselyStore({ sqliteFile: file.file });
  await store.migrate();
  const db = new Kysely<Database>({
    dialect: new ParleySqliteDialect(() => openSqlite(file.file)),
  });
  return {
    store,
    db,
    async sorts(query) {
      const { rows } = await db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
      );
      const plan = rows.map((r) => r.detail).join('\n');
      return { sorts: /TEMP B-TREE/i.test(plan) || !/INDEX conversations_/.test(plan), plan };
    },
    seeks: (plan, column) =>
      new RegExp(`USING INDEX conversations_\\w+ \\(.*\\b${column}[=>< ]`).test(plan),
    async cleanup() {
      await db.destroy();
      await store.close();
      file.cleanup();
    },
  };
}

async function postgresSubject(): Promise<Subject> {
  const { url, drop } = await freshPostgresUrl();
  const store = await createKyselyStore({ databaseUrl: url });
  await store.migrate();
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPostgresPool(url) }),
  });
  return {
    store,
    db,
    async sorts(query) {
      const { rows } = await db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]),
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      return { sorts: /\bSort\b/.test(plan) || !/Index Scan.* on conversations/.test(plan), plan };
    },
    seeks: (plan, column) => new RegExp(`Index Cond: .*\\b${column} (=|IS)`).test(plan),
    async cleanup() {
      await db.destroy();
      await store.close();
      await drop();
    },
  };
}

const pgSkip = requireServerOrSkip(
  await postgresAvailable(),
  'PostgreSQL (PARLEY_TEST_POSTGRES_URL)',
);
const dialects = (process.env.PARLEY_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim());

for (const [dialect, make] of [
  ['sqlite', sqliteSubject],
  ['postgres', postgresSubject],
] as const) {
  if (!dialects.includes(dialect)) continue;
  describe(
    `conversation listing on ${dialect} with ${CONVERSATIONS} conversations`,
    dialect === 'postgres' && pgSkip !== undefined ? { skip: pgSkip } : {},
    () => {
      let subject: Subject | undefined;
      before(async () => {
        subject = await make();
        await seed(subject.db);
        // PostgreSQL plans from statistics; autovacuum would gather them on a live server.
        if (dialect === 'postgres') await sql`analyze`.execute(subject.db);
      });
      after(async () => {
        await subject?.cleanup();
      });

      for (const shape of SHAPES) {
        it(`P5: lists "${shape.name}" by walking an index in order, first page and deep pages`, async () => {
          assert.ok(subject);
          const filter = { workspaceId: 'ws-load', limit: 50, ...shape.filter };
          const deep = {
            ...filter,
            cursor: encodeCursor({ at: BASE + 20_000_000, id: 'cv-60000' }),
          };
          for (const f of [filter, deep]) {
            const { sorts, plan } = await subject.sorts(
              conversationListQuery(subject.db, f, 51).compile(),
            );
            assert.equal(sorts, false, `expected an ordered index walk, got:\n${plan}`);
          }
        });
      }
    },
  );
}
