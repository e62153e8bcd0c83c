// Statements compiled once: each call runs the same SQL with its own values, never a stand-in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DummyDriver,
  Kysely,
  sql,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
} from 'kysely';
import { compiledOnce } from './compiled-once.ts';
import type { Database } from './database-schema.ts';
import type { StoreContext } from './store-context.ts';

/** A store context whose connection records what it is asked to run and answers no rows. */
function recordingContext(): { ctx: StoreContext; ran: CompiledQuery[] } {
  const ran: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    executeQuery: (query) => {
      ran.push(query);
      return Promise.resolve({ rows: [] });
    },
    streamQuery: () => {
      throw new Error('not streamed');
    },
  };
  class RecordingDriver extends DummyDriver {
    override acquireConnection(): Promise<DatabaseConnection> {
      return Promise.resolve(connection);
    }
  }
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new RecordingDriver(),
      createIntrospector: (k) => new SqliteIntrospector(k),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  return { ctx: { dialect: 'sqlite', db: () => db, now: () => 0 }, ran };
}

describe('compiledOnce', () => {
  it('runs the same SQL as the builder, with each call’s values in their places', async () => {
    const { ctx, ran } = recordingContext();
    const select = compiledOnce(['channelId', 'providerMessageId'], (db, v) =>
      db
        .selectFrom('messages')
        .selectAll()
        .where('channel_id', '=', v.channelId)
        .where('provider_message_id', '=', v.providerMessageId),
    );
    await select(ctx, { channelId: 'ch-1', providerMessageId: 'wamid.A' });
    await select(ctx, { channelId: 'ch-2', providerMessageId: 'wamid.B' });
    const built = ctx
      .db()
      .selectFrom('messages')
      .selectAll()
      .where('channel_id', '=', 'ch-2')
      .where('provider_message_id', '=', 'wamid.B')
      .compile();
    assert.deepEqual(
      ran.map((q) => [q.sql, q.parameters]),
      [
        [built.sql, ['ch-1', 'wamid.A']],
        [built.sql, ['ch-2', 'wamid.B']],
      ],
    );
  });

  it('puts a value used twice into both of its places', async () => {
    const { ctx, ran } = recordingContext();
    const claim = compiledOnce(['id', 'at'], (db, v) =>
      db
        .updateTable('messages')
        .set({ dispatched_at: v.at as unknown as number, updated_at: v.at as unknown as number })
        .where('id', '=', v.id)
        .where('status', '=', 'pending'),
    );
    await claim(ctx, { id: 'm-1', at: 1_000 });
    await claim(ctx, { id: 'm-2', at: 2_000 });
    assert.deepEqual(
      ran.map((q) => q.parameters),
      [
        [1_000, 1_000, 'm-1', 'pending'],
        [2_000, 2_000, 'm-2', 'pending'],
      ],
    );
  });

  it('refuses a statement that would put a value into the SQL text instead of binding it', async () => {
    const { ctx, ran } = recordingContext();
    const inlined = compiledOnce(['id'], (db, v) =>
      db.selectFrom('messages').selectAll().where('id', '=', sql.lit(v.id)),
    );
    await assert.rejects(inlined(ctx, { id: 'm-1' }), /not bound as a parameter/);
    assert.equal(ran.length, 0);
  });
});
