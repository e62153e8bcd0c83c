// Keyset paging over (time, id): the seek after a page cursor, one extra row, the next cursor.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Page } from '../../../ports/store.ts';
import { decodeCursor, encodeCursor, pageLimit, type SortKey } from './cursor.ts';

/** How a listing is ordered: newest first (`desc`) or oldest first (`asc`), by time then id. */
export type KeysetOrder = 'asc' | 'desc';

/**
 * The rows after `cursor` in the listing's order, as one row-value comparison,
 * `(at, id) < (…, …)` newest first, so an index on (…, at, id) is sought, not scanned.
 * Throws InvalidCursorError for a cursor this store did not produce.
 */
export function seekAfter(
  cursor: string,
  columns: { readonly at: string; readonly id: string },
  order: KeysetOrder,
): RawBuilder<SqlBool> {
  const after = decodeCursor(cursor);
  const op = sql.raw(order === 'desc' ? '<' : '>');
  return sql<SqlBool>`(${sql.ref(columns.at)}, ${sql.ref(columns.id)}) ${op} (${after.at}, ${after.id})`;
}

/**
 * A page's size as the store applies it, and how many rows to fetch: one more, which only says
 * whether another page follows.
 */
export function keysetLimit(limit: number): { readonly limit: number; readonly fetch: number } {
  const size = pageLimit(limit);
  return { limit: size, fetch: size + 1 };
}

/** The first `limit` rows as items, and a cursor after the last of them when more were fetched. */
export function keysetPage<Row, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (item: Item) => SortKey,
): Page<Item> {
  const items = rows.slice(0, limit).map(toItem);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
