// Uploaded media records on Kysely (table of migration 0009).
import type { Kysely, Selectable } from 'kysely';
import type { UploadRecord, UploadStore } from '../../../ports/upload-store.ts';
import type { Database } from './database-schema.ts';
import { newId } from './ids.ts';
import type { StoreContext } from './store-context.ts';

// A type alias, not an interface: `withTables` needs the implicit index signature only aliases have.
export type UploadsTable = {
  id: string;
  workspace_id: string;
  channel_id: string;
  mime_type: string;
  filename: string | null;
  size: number;
  sha256: string;
  blob_key: string;
  link_token: string;
  created_at: number;
  deleted_at: number | null;
  /** Migration 0018. */
  used_at: number | null;
};

/** The table of migration 0009, added to the shared schema only here. */
export type UploadTables = { uploads: UploadsTable };

function toUpload(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    channelId: row.channel_id,
    mimeType: row.mime_type,
    filename: row.filename,
    size: row.size,
    sha256: row.sha256,
    blobKey: row.blob_key,
    linkToken: row.link_token,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    usedAt: row.used_at,
  };
}

export function uploadRepository(ctx: StoreContext): UploadStore {
  const db = (): Kysely<Database & UploadTables> => ctx.db().withTables<UploadTables>();
  return {
    async create(input) {
      const row = await db()
        .insertInto('uploads')
        .values({
          id: newId(input.createdAt),
          workspace_id: input.workspaceId,
          channel_id: input.channelId,
          mime_type: input.mimeType,
          filename: input.filename,
          size: input.size,
          sha256: input.sha256,
          blob_key: input.blobKey,
          link_token: input.linkToken,
          created_at: input.createdAt,
          deleted_at: null,
          used_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUpload(row);
    },
    async get(id) {
      const row = await db()
        .selectFrom('uploads')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toUpload(row) : null;
    },
    async markDeleted(id, at) {
      const result = await db()
        .updateTable('uploads')
        .set({ deleted_at: at })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async markUsed(id, at) {
      const result = await db()
        .updateTable('uploads')
        .set({ used_at: at })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async removeUnused(before, limit) {
      const candidates = await db()
        .selectFrom('uploads')
        .select('id')
        .where('used_at', 'is', null)
        .where('created_at', '<', before)
        .orderBy('used_at')
        .orderBy('created_at')
        .limit(Math.max(1, limit))
        .execute();
      if (candidates.length === 0) return [];
      // The condition again: on PostgreSQL a use committed meanwhile makes this skip the row.
      const removed = await db()
        .deleteFrom('uploads')
        .where(
          'id',
          'in',
          candidates.map((c) => c.id),
        )
        .where('used_at', 'is', null)
        .returningAll()
        .execute();
      return removed.map(toUpload);
    },
  };
}
