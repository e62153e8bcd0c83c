// Hot statements compiled once per dialect with stand-in values, then only bound per call.
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './database-schema.ts';
import type { StoreContext } from './store-context.ts';

/**
 * A statement of one fixed shape run several times per message (a lookup by key): building and
 * compiling it in Kysely costs more than SQLite spends running it, so it is compiled the first
 * time per dialect with a stand-in for each value and later calls only swap the values in (every
 * place a value is used). Every stand-in must come out as a bound parameter (checked once), never
 * as text inside the SQL.
 */
export function compiledOnce<Row, const K extends string>(
  slots: readonly K[],
  build: (db: Kysely<Database>, slot: Readonly<Record<K, string>>) => Compilable<Row>,
): (ctx: StoreContext, values: Readonly<Record<K, unknown>>) => Promise<Row[]> {
  const standIns = Object.fromEntries(slots.map((k) => [k, `\u0000slot:${k}`])) as Record<
    K,
    string
  >;
  const slotOf = new Map<unknown, K>(slots.map((k) => [standIns[k], k]));
  const templates = new Map<StoreContext['dialect'], CompiledQuery<Row>>();
  return async (ctx, values) => {
    const db = ctx.db();
    let template = templates.get(ctx.dialect);
    if (template === undefined) {
      template = build(db, standIns).compile();
      const bound = template.parameters;
      if (slots.some((k) => !bound.includes(standIns[k])))
        throw new Error('compiled statement: a value was not bound as a parameter');
      templates.set(ctx.dialect, template);
    }
    const parameters = template.parameters.map((p) => {
      const slot = slotOf.get(p);
      return slot === undefined ? p : values[slot];
    });
    return (await db.executeQuery<Row>({ ...template, parameters })).rows;
  };
}
