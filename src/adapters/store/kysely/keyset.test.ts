// Keyset paging: one row-value seek in the listing's direction, a page of `limit`, the next cursor.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import { decodeCursor, encodeCursor, InvalidCursorError } from './cursor.ts';
import type { Database } from './database-schema.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';

const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('keyset paging', () => {
  it('seeks past the cursor with one row-value comparison, < newest first and > oldest first', () => {
    const cursor = encodeCursor({ at: 1_700_000_000_000, id: 'm-7' });
    const newest = db
      .selectFrom('messages')
      .selectAll()
      .where(seekAfter(cursor, { at: 'created_at', id: 'id' }, 'desc'))
      .compile();
    assert.match(newest.sql, /where \("created_at", "id"\) < \(\$1, \$2\)$/);
    assert.deepEqual(newest.parameters, [1_700_000_000_000, 'm-7']);
    const oldest = db
      .selectFrom('messages')
      .selectAll()
      .where(seekAfter(cursor, { at: 'created_at', id: 'id' }, 'asc'))
      .compile();
    assert.match(oldest.sql, /where \("created_at", "id"\) > \(\$1, \$2\)$/);
  });

  it('refuses a cursor it did not produce', () => {
    assert.throws(
      () => seekAfter('not-a-cursor', { at: 'at', id: 'id' }, 'desc'),
      InvalidCursorError,
    );
  });

  it('fetches one row more than the page and gives a cursor only when more followed', () => {
    assert.deepEqual(keysetLimit(2), { limit: 2, fetch: 3 });
    assert.deepEqual(keysetLimit(0), { limit: 1, fetch: 2 });
    const rows = [
      { t: 30, id: 'c' },
      { t: 20, id: 'b' },
      { t: 10, id: 'a' },
    ];
    const key = (r: { t: number; id: string }) => ({ at: r.t, id: r.id });
    const more = keysetPage(rows, 2, (r) => r, key);
    assert.deepEqual(
      more.items.map((r) => r.id),
      ['c', 'b'],
    );
    assert.deepEqual(decodeCursor(more.nextCursor ?? ''), { at: 20, id: 'b' });
    const end = keysetPage(rows.slice(0, 2), 2, (r) => r, key);
    assert.equal(end.nextCursor, null);
    assert.deepEqual(
      keysetPage([], 2, (r) => r, key),
      { items: [], nextCursor: null },
    );
  });
});
