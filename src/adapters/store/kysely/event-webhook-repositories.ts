// Event log, webhook endpoints, deliveries and scheduler cursors on Kysely (tables of migration 0005).
import { sql, type Kysely, type Selectable } from 'kysely';
import { EVENT_TYPES, type EventType } from '../../../ports/event-bus.ts';
import {
  DELIVERY_STATES,
  type DeliveryRecord,
  type DeliveryState,
  type EventWebhookStore,
  type StoredEvent,
  type WebhookEndpoint,
} from '../../../ports/event-webhook-store.ts';
import type { JsonObject } from '../../../ports/store.ts';
import type { Database } from './database-schema.ts';
import { pageLimit } from './cursor.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';
import { newId } from './ids.ts';
import { fromJsonText, toJsonText } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

// Type aliases, not interfaces: `withTables` needs the implicit index signature only aliases have.
export type OutboundEventsTable = {
  id: string;
  workspace_id: string;
  type: string;
  ordering_key: string | null;
  at: number;
  recorded_at: number;
  data: string;
};

export type WebhookEndpointsTable = {
  id: string;
  workspace_id: string;
  url: string;
  description: string;
  event_types: string;
  format: string;
  secret_sealed: string;
  /** 0 or 1 on both dialects. */
  enabled: number;
  created_at: number;
  updated_at: number;
};

export type WebhookDeliveriesTable = {
  id: string;
  workspace_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  ordering_key: string | null;
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  deadline: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  replay: number;
  created_at: number;
};

export type EventSchedulesTable = {
  name: string;
  cursor: number;
};

/** The tables of migration 0005, added to the shared schema only here. */
export type EventWebhookTables = {
  outbound_events: OutboundEventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  event_schedules: EventSchedulesTable;
};

type EventsDb = Kysely<Database & EventWebhookTables>;

/** Rows per multi-row insert: well under SQLite's bound-parameter limit. */
const INSERT_CHUNK = 500;

const isEventType = (s: string): s is EventType => (EVENT_TYPES as readonly string[]).includes(s);
const isDeliveryState = (s: string): s is DeliveryState =>
  (DELIVERY_STATES as readonly string[]).includes(s);

/** Types written by a newer version (or removed) still read: the column is free text. */
function asEventType(s: string): EventType {
  return isEventType(s) ? s : (s as EventType);
}

function toEvent(row: Selectable<OutboundEventsTable>): StoredEvent {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    type: asEventType(row.type),
    orderingKey: row.ordering_key,
    at: row.at,
    recordedAt: row.recorded_at,
    data: fromJsonText(row.data) as JsonObject,
  };
}

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpoint {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    description: row.description,
    eventTypes: (fromJsonText(row.event_types) as string[]).map(asEventType),
    format: row.format,
    secretSealed: row.secret_sealed,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: asEventType(row.event_type),
    orderingKey: row.ordering_key,
    // Only this repository writes the column, from the closed set.
    state: isDeliveryState(row.state) ? row.state : 'pending',
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    deadline: row.deadline,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    replay: row.replay === 1,
    createdAt: row.created_at,
  };
}

function takes(endpoint: Pick<WebhookEndpoint, 'eventTypes'>, type: EventType): boolean {
  return endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function eventWebhookRepository(ctx: StoreContext): EventWebhookStore {
  const db = (): EventsDb => ctx.db().withTables<EventWebhookTables>();
  /** Joins the caller's transaction when there is one, else opens its own. */
  const atomically = <T>(work: (trx: EventsDb) => Promise<T>): Promise<T> => {
    const current = db();
    return current.isTransaction ? work(current) : current.transaction().execute(work);
  };

  const deliveryRows = (
    endpointId: string,
    workspaceId: string,
    events: readonly StoredEvent[],
    at: number,
    deadline: number,
    replay: boolean,
  ): WebhookDeliveriesTable[] =>
    events.map((e) => ({
      id: newId(),
      workspace_id: workspaceId,
      endpoint_id: endpointId,
      event_id: e.id,
      event_type: e.type,
      ordering_key: e.orderingKey,
      state: 'pending',
      attempts: 0,
      next_attempt_at: at,
      deadline,
      lease_owner: null,
      lease_until: null,
      last_attempt_at: null,
      last_status: null,
      last_error: null,
      delivered_at: null,
      replay: replay ? 1 : 0,
      created_at: at,
    }));

  /**
   * Inserts deliveries; one whose (endpoint, key) already has a pending delivery (stored, or
   * earlier in `rows`) waits with no due time until its predecessor finishes, so claims never
   * walk over a failing conversation's backlog.
   */
  const insertDeliveries = async (
    trx: EventsDb,
    rows: readonly WebhookDeliveriesTable[],
  ): Promise<void> => {
    const keyed = rows.filter((r) => r.ordering_key !== null);
    if (keyed.length > 0) {
      const busy = new Set<string>();
      const endpointIds = [...new Set(keyed.map((r) => r.endpoint_id))];
      for (const keys of chunks([...new Set(keyed.map((r) => r.ordering_key ?? ''))], 500)) {
        const pending = await trx
          .selectFrom('webhook_deliveries')
          .select(['endpoint_id', 'ordering_key'])
          .distinct()
          .where('state', '=', 'pending')
          .where('endpoint_id', 'in', endpointIds)
          .where('ordering_key', 'in', keys)
          .execute();
        for (const p of pending) busy.add(`${p.endpoint_id}\n${p.ordering_key ?? ''}`);
      }
      for (const row of keyed) {
        const key = `${row.endpoint_id}\n${row.ordering_key ?? ''}`;
        if (busy.has(key)) row.next_attempt_at = null;
        else busy.add(key);
      }
    }
    for (const chunk of chunks(rows, INSERT_CHUNK))
      await trx.insertInto('webhook_deliveries').values(chunk).execute();
  };

  /** Pending, not leased, due, and no earlier pending delivery of the same (endpoint, key). */
  const unblocked = (now: number) =>
    db()
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .where('e.enabled', '=', 1)
      .where('d.state', '=', 'pending')
      .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<=', now)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as p')
              .select(sql<number>`1`.as('one'))
              .whereRef('p.endpoint_id', '=', 'd.endpoint_id')
              .whereRef('p.ordering_key', '=', 'd.ordering_key')
              .where('p.state', '=', 'pending')
              .whereRef('p.id', '<', 'd.id'),
          ),
        ),
      );

  const finish = (
    id: string,
    state: DeliveryState,
    outcome: {
      worker: string;
      at: number;
      status: number | null;
      error: string | null;
      nextAttemptAt: number | null;
    },
  ): Promise<boolean> =>
    atomically(async (trx) => {
      const row = await trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          state,
          attempts: eb('attempts', '+', 1),
          next_attempt_at: outcome.nextAttemptAt,
          lease_owner: null,
          lease_until: null,
          last_attempt_at: outcome.at,
          last_status: outcome.status,
          last_error: outcome.error,
          ...(state === 'delivered' ? { delivered_at: outcome.at } : {}),
        }))
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .where('lease_owner', '=', outcome.worker)
        .returning(['endpoint_id', 'ordering_key'])
        .executeTakeFirst();
      if (!row) return false;
      if (state !== 'pending' && row.ordering_key !== null) {
        // The conversation's next delivery for this endpoint is due now.
        const next = await trx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('endpoint_id', '=', row.endpoint_id)
          .where('ordering_key', '=', row.ordering_key)
          .where('state', '=', 'pending')
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
        if (next)
          await trx
            .updateTable('webhook_deliveries')
            .set({ next_attempt_at: outcome.at })
            .where('id', '=', next.id)
            .where('next_attempt_at', 'is', null)
            .execute();
      }
      return true;
    });

  return {
    endpoints: {
      async create(input) {
        const row: WebhookEndpointsTable = {
          id: newId(),
          workspace_id: input.workspaceId,
          url: input.url,
          description: input.description,
          event_types: toJsonText(input.eventTypes),
          format: input.format,
          secret_sealed: input.secretSealed,
          enabled: input.enabled ? 1 : 0,
          created_at: input.at,
          updated_at: input.at,
        };
        await db().insertInto('webhook_endpoints').values(row).execute();
        return toEndpoint(row);
      },
      async get(workspaceId, id) {
        const row = await db()
          .selectFrom('webhook_endpoints')
          .selectAll()
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirst();
        return row ? toEndpoint(row) : null;
      },
      async list(workspaceId) {
        const rows = await db()
          .selectFrom('webhook_endpoints')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(toEndpoint);
      },
      async update(workspaceId, id, patch, at) {
        const set: Partial<WebhookEndpointsTable> = { updated_at: at };
        if (patch.url !== undefined) set.url = patch.url;
        if (patch.description !== undefined) set.description = patch.description;
        if (patch.eventTypes !== undefined) set.event_types = toJsonText(patch.eventTypes);
        if (patch.format !== undefined) set.format = patch.format;
        if (patch.secretSealed !== undefined) set.secret_sealed = patch.secretSealed;
        if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
        const row = await db()
          .updateTable('webhook_endpoints')
          .set(set)
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .returningAll()
          .executeTakeFirst();
        return row ? toEndpoint(row) : null;
      },
      delete(workspaceId, id) {
        return atomically(async (trx) => {
          const removed = await trx
            .deleteFrom('webhook_endpoints')
            .where('id', '=', id)
            .where('workspace_id', '=', workspaceId)
            .executeTakeFirst();
          if (Number(removed.numDeletedRows) === 0) return false;
          await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
          return true;
        });
      },
    },

    events: {
      async record(events, deadlineMs) {
        if (events.length === 0) return [];
        const stored: StoredEvent[] = events.map((e) => ({ ...e, id: newId() }));
        await atomically(async (trx) => {
          for (const chunk of chunks(stored, INSERT_CHUNK))
            await trx
              .insertInto('outbound_events')
              .values(
                chunk.map((e) => ({
                  id: e.id,
                  workspace_id: e.workspaceId,
                  type: e.type,
                  ordering_key: e.orderingKey,
                  at: e.at,
                  recorded_at: e.recordedAt,
                  data: toJsonText(e.data),
                })),
              )
              .execute();
          const workspaces = [...new Set(stored.map((e) => e.workspaceId))];
          const endpoints = (
            await trx
              .selectFrom('webhook_endpoints')
              .selectAll()
              .where('workspace_id', 'in', workspaces)
              .where('enabled', '=', 1)
              .orderBy('id')
              .execute()
          ).map(toEndpoint);
          if (endpoints.length === 0) return;
          // Event by event, so delivery ids (the ordering) follow recording order.
          const rows: WebhookDeliveriesTable[] = [];
          for (const event of stored)
            for (const endpoint of endpoints)
              if (endpoint.workspaceId === event.workspaceId && takes(endpoint, event.type))
                rows.push(
                  ...deliveryRows(
                    endpoint.id,
                    event.workspaceId,
                    [event],
                    event.recordedAt,
                    event.recordedAt + deadlineMs,
                    false,
                  ),
                );
          await insertDeliveries(trx, rows);
        });
        return stored;
      },
      async get(workspaceId, id) {
        const row = await db()
          .selectFrom('outbound_events')
          .selectAll()
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirst();
        return row ? toEvent(row) : null;
      },
      async getMany(ids) {
        const found: StoredEvent[] = [];
        for (const chunk of chunks([...new Set(ids)], INSERT_CHUNK)) {
          const rows = await db()
            .selectFrom('outbound_events')
            .selectAll()
            .where('id', 'in', chunk)
            .execute();
          found.push(...rows.map(toEvent));
        }
        return found;
      },
      async listRecorded(input) {
        let query = db()
          .selectFrom('outbound_events')
          .selectAll()
          .where('workspace_id', '=', input.workspaceId)
          .where('recorded_at', '>=', input.from)
          .where('recorded_at', '<', input.to);
        if (input.types && input.types.length > 0)
          query = query.where('type', 'in', [...input.types]);
        const rows = await query
          .orderBy('recorded_at')
          .orderBy('id')
          .limit(Math.max(1, Math.floor(input.limit)))
          .execute();
        return rows.map(toEvent);
      },
      eraseContact(input) {
        return atomically(async (trx) => {
          const rows = await trx
            .selectFrom('outbound_events')
            .select('id')
            .where('workspace_id', '=', input.workspaceId)
            .where((eb) =>
              eb.or([
                eb('data', 'like', `%${input.contactId}%`),
                eb('data', 'like', `%${input.waId}%`),
              ]),
            )
            .execute();
          const ids = rows.map((r) => r.id);
          for (const chunk of chunks(ids, INSERT_CHUNK)) {
            await trx.deleteFrom('webhook_deliveries').where('event_id', 'in', chunk).execute();
            await trx.deleteFrom('outbound_events').where('id', 'in', chunk).execute();
          }
          return ids.length;
        });
      },
      purge(before, limit) {
        return atomically(async (trx) => {
          const old = await trx
            .selectFrom('outbound_events as o')
            .select('o.id')
            .where('o.recorded_at', '<', before)
            .where((eb) =>
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('webhook_deliveries as d')
                    .select(sql<number>`1`.as('one'))
                    .whereRef('d.event_id', '=', 'o.id')
                    .where('d.state', '=', 'pending'),
                ),
              ),
            )
            .orderBy('o.recorded_at')
            .limit(pageLimit(limit))
            .execute();
          const ids = old.map((r) => r.id);
          if (ids.length === 0) return 0;
          await trx.deleteFrom('webhook_deliveries').where('event_id', 'in', ids).execute();
          await trx.deleteFrom('outbound_events').where('id', 'in', ids).execute();
          return ids.length;
        });
      },
    },

    deliveries: {
      async enqueue(input) {
        const rows = deliveryRows(
          input.endpoint.id,
          input.endpoint.workspaceId,
          input.events,
          input.at,
          input.deadline,
          true,
        );
        await atomically((trx) => insertDeliveries(trx, rows));
        return rows.map(toDelivery);
      },
      async claim(options) {
        const candidates = await unblocked(options.now)
          .select('d.id')
          .where('d.next_attempt_at', '<=', options.now)
          .orderBy('d.next_attempt_at')
          .orderBy('d.id')
          .limit(Math.max(1, Math.floor(options.limit)))
          .execute();
        if (candidates.length === 0) return [];
        // The lease is taken only if nobody took it meanwhile (another node's claim).
        const rows = await db()
          .updateTable('webhook_deliveries')
          .set({ lease_owner: options.worker, lease_until: options.now + options.leaseMs })
          .where(
            'id',
            'in',
            candidates.map((c) => c.id),
          )
          .where('state', '=', 'pending')
          .where((eb) =>
            eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', options.now)]),
          )
          .returningAll()
          .execute();
        return rows
          .map(toDelivery)
          .sort(
            (a, b) =>
              (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) ||
              (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
          );
      },
      delivered(id, outcome) {
        return finish(id, 'delivered', { ...outcome, nextAttemptAt: null });
      },
      failed(id, outcome) {
        const next = outcome.nextAttemptAt ?? null;
        return finish(id, next === null ? 'dead' : 'pending', { ...outcome, nextAttemptAt: next });
      },
      async get(workspaceId, id) {
        const row = await db()
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirst();
        return row ? toDelivery(row) : null;
      },
      async list(input) {
        const { limit, fetch } = keysetLimit(input.limit);
        let query = db()
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('workspace_id', '=', input.workspaceId)
          .where('endpoint_id', '=', input.endpointId);
        if (input.state) query = query.where('state', '=', input.state);
        // An empty cursor is no cursor here (the first page), as it always was.
        if (input.cursor)
          query = query.where(seekAfter(input.cursor, { at: 'created_at', id: 'id' }, 'desc'));
        const rows = await query
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(fetch)
          .execute();
        return keysetPage(rows, limit, toDelivery, (d) => ({ at: d.createdAt, id: d.id }));
      },
      async wakeWaiting(now) {
        const result = await db()
          .updateTable('webhook_deliveries')
          .set({ next_attempt_at: now })
          .where('state', '=', 'pending')
          .where('next_attempt_at', 'is', null)
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('webhook_deliveries as h')
              .select((h) => h.fn.min<string>('h.id').as('id'))
              .where('h.state', '=', 'pending')
              .where('h.ordering_key', 'is not', null)
              .groupBy(['h.endpoint_id', 'h.ordering_key']),
          )
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      },
      async nextDueAt(now) {
        // Leased deliveries come back when their lease ends; blocked ones when their head finishes.
        const row = await unblocked(now)
          .select((eb) => eb.fn.min('d.next_attempt_at').as('due'))
          .executeTakeFirst();
        const due = row?.due;
        return due ?? null;
      },
    },

    schedules: {
      async get(name) {
        const row = await db()
          .selectFrom('event_schedules')
          .select('cursor')
          .where('name', '=', name)
          .executeTakeFirst();
        return row ? row.cursor : null;
      },
      async advance(name, expected, next) {
        if (expected === null) {
          const inserted = await db()
            .insertInto('event_schedules')
            .values({ name, cursor: next })
            .onConflict((oc) => oc.column('name').doNothing())
            .executeTakeFirst();
          return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
        }
        const updated = await db()
          .updateTable('event_schedules')
          .set({ cursor: next })
          .where('name', '=', name)
          .where('cursor', '=', expected)
          .executeTakeFirst();
        return Number(updated.numUpdatedRows) > 0;
      },
      async windowsEnding(after, upTo, windowMs, limit) {
        const rows = await db()
          .selectFrom('care_windows as w')
          .innerJoin('channels as c', 'c.id', 'w.channel_id')
          .select([
            'w.channel_id',
            'w.contact_id',
            'w.last_inbound_at',
            'w.closed_at',
            'c.workspace_id',
          ])
          .where('w.closed_at', 'is', null)
          .where('w.last_inbound_at', '>', after - windowMs)
          .where('w.last_inbound_at', '<=', upTo - windowMs)
          .orderBy('w.last_inbound_at')
          .orderBy('w.channel_id')
          .orderBy('w.contact_id')
          .limit(pageLimit(limit))
          .execute();
        return rows.map((r) => ({
          channelId: r.channel_id,
          contactId: r.contact_id,
          lastInboundAt: r.last_inbound_at,
          closedAt: r.closed_at,
          workspaceId: r.workspace_id,
          endsAt: Number(r.last_inbound_at) + windowMs,
        }));
      },
    },
  };
}
