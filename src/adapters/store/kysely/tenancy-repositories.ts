// Workspaces, API keys, provider connections and channels: the tenancy and configuration tables.
import type { Updateable } from 'kysely';
import type { Store } from '../../../ports/store.ts';
import { compiledOnce } from './compiled-once.ts';
import type { ChannelsTable, ConnectionsTable } from './database-schema.ts';
import { newId } from './ids.ts';
import { toApiKey, toChannel, toConnection, toJsonText, toWorkspace } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

export function workspaceRepository(ctx: StoreContext): Store['workspaces'] {
  return {
    async create(input) {
      const row = {
        id: newId(),
        name: input.name,
        settings: toJsonText(input.settings ?? {}),
        created_at: ctx.now(),
      };
      await ctx.db().insertInto('workspaces').values(row).execute();
      return toWorkspace(row);
    },
    async get(id) {
      const row = await ctx
        .db()
        .selectFrom('workspaces')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toWorkspace(row) : null;
    },
    async list() {
      const rows = await ctx
        .db()
        .selectFrom('workspaces')
        .selectAll()
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toWorkspace);
    },
    async count() {
      const row = await ctx
        .db()
        .selectFrom('workspaces')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return row.n;
    },
  };
}

export function apiKeyRepository(ctx: StoreContext): Store['apiKeys'] {
  return {
    async create(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        name: input.name,
        prefix: input.prefix,
        key_hash: input.keyHash,
        created_at: ctx.now(),
        revoked_at: null,
      };
      await ctx.db().insertInto('api_keys').values(row).execute();
      return toApiKey(row);
    },
    async findByHash(keyHash) {
      // Revoked keys are returned too: the caller tells "revoked" apart from "unknown".
      const row = await ctx
        .db()
        .selectFrom('api_keys')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .executeTakeFirst();
      return row ? toApiKey(row) : null;
    },
    async list(workspaceId) {
      const rows = await ctx
        .db()
        .selectFrom('api_keys')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toApiKey);
    },
    async revoke(workspaceId, id, at) {
      // Only a live key of this workspace: revoking twice (or another tenant's key) reports false.
      const result = await ctx
        .db()
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export function connectionRepository(ctx: StoreContext): Store['connections'] {
  return {
    async create(input) {
      const now = ctx.now();
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        provider: input.provider,
        name: input.name,
        config: toJsonText(input.config),
        secrets_encrypted: input.secretsEncrypted,
        created_at: now,
        updated_at: now,
      };
      await ctx.db().insertInto('connections').values(row).execute();
      return toConnection(row);
    },
    async get(id) {
      const [row] = await selectConnection(ctx, { id });
      return row ? toConnection(row) : null;
    },
    async list(workspaceId) {
      const rows = await ctx
        .db()
        .selectFrom('connections')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toConnection);
    },
    async update(id, patch) {
      const set: Updateable<ConnectionsTable> = { updated_at: ctx.now() };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.config !== undefined) set.config = toJsonText(patch.config);
      if (patch.secretsEncrypted !== undefined) set.secrets_encrypted = patch.secretsEncrypted;
      const row = await ctx
        .db()
        .updateTable('connections')
        .set(set)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toConnection(row) : null;
    },
    async delete(workspaceId, id) {
      // Channels reference their connection: deleting one that still has channels is refused
      // by the foreign key rather than orphaning the channels' history.
      const result = await ctx
        .db()
        .deleteFrom('connections')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

// Read at dispatch (and by the ledger) for every message: compiled once.
const selectConnection = compiledOnce(['id'], (db, v) =>
  db.selectFrom('connections').selectAll().where('id', '=', v.id),
);
const selectChannel = compiledOnce(['id'], (db, v) =>
  db.selectFrom('channels').selectAll().where('id', '=', v.id),
);

export function channelRepository(ctx: StoreContext): Store['channels'] {
  return {
    async create(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        connection_id: input.connectionId,
        provider_key: input.providerKey,
        phone_number: input.phoneNumber,
        waba_id: input.wabaId,
        name: input.name,
        throughput_mps: input.throughputMps,
        environment: input.environment,
        allow_list: toJsonText(input.allowList),
        created_at: ctx.now(),
      };
      await ctx.db().insertInto('channels').values(row).execute();
      return toChannel(row);
    },
    async get(id) {
      const [row] = await selectChannel(ctx, { id });
      return row ? toChannel(row) : null;
    },
    async list(workspaceId) {
      const rows = await ctx
        .db()
        .selectFrom('channels')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toChannel);
    },
    async listAll() {
      const rows = await ctx
        .db()
        .selectFrom('channels')
        .selectAll()
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toChannel);
    },
    async findByProviderKey(connectionId, providerKey) {
      const row = await ctx
        .db()
        .selectFrom('channels')
        .selectAll()
        .where('connection_id', '=', connectionId)
        .where('provider_key', '=', providerKey)
        .executeTakeFirst();
      return row ? toChannel(row) : null;
    },
    async update(id, patch) {
      const set: Updateable<ChannelsTable> = {};
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.throughputMps !== undefined) set.throughput_mps = patch.throughputMps;
      if (patch.environment !== undefined) set.environment = patch.environment;
      if (patch.allowList !== undefined) set.allow_list = toJsonText(patch.allowList);
      if (Object.keys(set).length === 0) return this.get(id);
      const row = await ctx
        .db()
        .updateTable('channels')
        .set(set)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toChannel(row) : null;
    },
  };
}
