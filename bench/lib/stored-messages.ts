// Reads back what a benchmarked server stored, straight from its database (read-only for SQLite),
// to check that every acknowledged webhook became exactly one stored message.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface StoredCounts {
  /** Provider message ids of the inbound messages of one channel. */
  readonly inboundIds: Set<string>;
  readonly inboundRows: number;
  readonly webhookRows: number;
}

const INBOUND = `select provider_message_id as id from messages where direction = 'inbound' and channel_id = $1`;
const WEBHOOKS = `select count(*) as n from webhooks where connection_id = $1`;

export async function readStored(
  target: { sqliteFile: string } | { databaseUrl: string },
  channelId: string,
  connectionId: string,
): Promise<StoredCounts> {
  if ('sqliteFile' in target) {
    const db = new Database(target.sqliteFile, { readonly: true });
    try {
      const rows = db.prepare(INBOUND.replace('$1', '?')).all(channelId) as { id: string }[];
      const { n } = db.prepare(WEBHOOKS.replace('$1', '?')).get(connectionId) as { n: number };
      return {
        inboundIds: new Set(rows.map((r) => r.id)),
        inboundRows: rows.length,
        webhookRows: n,
      };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.databaseUrl });
  await client.connect();
  try {
    const rows = (await client.query<{ id: string }>(INBOUND, [channelId])).rows;
    const count = (await client.query<{ n: string }>(WEBHOOKS, [connectionId])).rows[0];
    return {
      inboundIds: new Set(rows.map((r) => r.id)),
      inboundRows: rows.length,
      webhookRows: Number(count?.n ?? 0),
    };
  } finally {
    await client.end();
  }
}
