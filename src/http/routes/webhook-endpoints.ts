// /v1/webhook-endpoints: outbound event subscriptions (secret shown once, rotatable), their
// delivery log, replay by event ids or a time range, and a test ping.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVENT_FORMATS } from '../../app/event-formats.ts';
import { EventWebhookError, type EventWebhooks } from '../../app/event-webhooks.ts';
import { EVENT_TYPES } from '../../ports/event-bus.ts';
import {
  DELIVERY_STATES,
  type DeliveryRecord,
  type WebhookEndpoint,
} from '../../ports/event-webhook-store.ts';
import { ApiProblem } from '../problem.ts';
import { idParams, pagingQuery } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';
import { iso } from '../views.ts';

const eventTypes = z
  .array(z.enum(EVENT_TYPES))
  .max(EVENT_TYPES.length * 2)
  .describe('Event types to send; empty or absent: every type');

const endpointFields = {
  url: z.string().min(1).max(2048).describe('Where events are POSTed: http or https'),
  description: z.string().max(500),
  events: eventTypes,
  format: z.enum(EVENT_FORMATS).describe("Body shape and signature scheme; default 'parley'"),
  enabled: z.boolean(),
};

const createEndpointBody = z
  .object({
    url: endpointFields.url,
    description: endpointFields.description.optional(),
    events: endpointFields.events.optional(),
    format: endpointFields.format.optional(),
    enabled: endpointFields.enabled.optional(),
  })
  .strict();

const updateEndpointBody = createEndpointBody.partial().strict();

const deliveriesQuery = pagingQuery.extend({ state: z.enum(DELIVERY_STATES).optional() });

const time = z.iso.datetime({ offset: true });

const replayBody = z.union([
  z
    .object({ eventIds: z.array(z.string().min(1).max(100)).min(1).max(1000) })
    .strict()
    .describe('These events again, in recording order'),
  z
    .object({
      from: time.describe('Recorded at or after'),
      to: time.describe('Recorded before'),
      types: eventTypes.optional(),
    })
    .strict()
    .describe("The endpoint's events recorded in [from, to)"),
]);

export function endpointView(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.eventTypes,
    format: e.format,
    enabled: e.enabled,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.state === 'pending' ? iso(d.nextAttemptAt) : null,
    /** Pending behind an earlier delivery of the same conversation to this endpoint. */
    waiting: d.state === 'pending' && d.nextAttemptAt === null,
    giveUpAt: iso(d.deadline),
    lastAttemptAt: iso(d.lastAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    deliveredAt: iso(d.deliveredAt),
    replay: d.replay,
    createdAt: iso(d.createdAt),
  };
}

async function handled<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EventWebhookError)
      throw new ApiProblem(error.code, error.message, error.extensions);
    throw error;
  }
}

export function registerWebhookEndpointRoutes(
  app: FastifyInstance,
  options: HttpOptions,
  webhooks: EventWebhooks,
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['webhook-endpoints'];
  const deliveryParams = idParams;

  api.post(
    '/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Subscribe a URL to events; the signing secret is in this answer only',
        body: createEndpointBody,
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await handled(() =>
        webhooks.create(request.workspaceId, request.body),
      );
      return reply.status(201).send({ ...endpointView(endpoint), secret });
    },
  );

  api.get('/webhook-endpoints', { schema: { tags } }, async (request) => ({
    items: (await webhooks.list(request.workspaceId)).map(endpointView),
  }));

  api.get('/webhook-endpoints/:id', { schema: { tags, params: idParams } }, async (request) =>
    endpointView(await handled(() => webhooks.get(request.workspaceId, request.params.id))),
  );

  api.patch(
    '/webhook-endpoints/:id',
    { schema: { tags, params: idParams, body: updateEndpointBody } },
    async (request) =>
      endpointView(
        await handled(() => webhooks.update(request.workspaceId, request.params.id, request.body)),
      ),
  );

  api.delete(
    '/webhook-endpoints/:id',
    {
      schema: { tags, summary: 'Remove the endpoint and its delivery log', params: idParams },
    },
    async (request, reply) => {
      await handled(() => webhooks.remove(request.workspaceId, request.params.id));
      return reply.status(204).send();
    },
  );

  api.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'A new signing secret, effective at once; shown in this answer only',
        params: idParams,
      },
    },
    async (request) => {
      const { endpoint, secret } = await handled(() =>
        webhooks.rotateSecret(request.workspaceId, request.params.id),
      );
      return { ...endpointView(endpoint), secret };
    },
  );

  api.get(
    '/webhook-endpoints/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'Delivery log, newest first: attempts, last answer, next attempt, dead letters',
        params: deliveryParams,
        querystring: deliveriesQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const page = await handled(() =>
        webhooks.deliveries(request.workspaceId, request.params.id, {
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
          ...(q.state !== undefined ? { state: q.state } : {}),
        }),
      );
      return { items: page.items.map(deliveryView), nextCursor: page.nextCursor };
    },
  );

  api.post(
    '/webhook-endpoints/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send events again: by ids, or every event of a recording-time range',
        params: idParams,
        body: replayBody,
      },
    },
    async (request, reply) => {
      const b = request.body;
      const input =
        'eventIds' in b
          ? { eventIds: b.eventIds }
          : {
              from: Date.parse(b.from),
              to: Date.parse(b.to),
              ...(b.types !== undefined ? { types: b.types } : {}),
            };
      const { deliveries } = await handled(() =>
        webhooks.replay(request.workspaceId, request.params.id, input),
      );
      return reply.status(202).send({
        replayed: deliveries.length,
        eventIds: deliveries.map((d) => d.eventId),
        deliveryIds: deliveries.map((d) => d.id),
      });
    },
  );

  api.post(
    '/webhook-endpoints/:id/ping',
    {
      schema: {
        tags,
        summary: 'POST a signed webhook.ping now and report the answer (not stored, not retried)',
        params: idParams,
      },
    },
    async (request) => {
      const result = await handled(() => webhooks.ping(request.workspaceId, request.params.id));
      options.deps.log.info(
        { endpointId: request.params.id, ok: result.ok, status: result.status },
        'webhook endpoint pinged',
      );
      return result;
    },
  );
}
