// Connection and number health: account-health events, on-demand provider checks that say what to
// fix, and webhook registration for providers that take it by API (360dialog).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { healthEventView } from '../../app/account-health.ts';
import { AdminError, getChannel, getConnection } from '../../app/admin.ts';
import { checkConnection, registerWebhook } from '../../app/connection-check.ts';
import { ApiProblem } from '../problem.ts';
import { idParams, pagingQuery } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';

async function owned<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AdminError) throw new ApiProblem(error.code, error.message);
    throw error;
  }
}

export function registerConnectionHealthRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;

  api.get(
    '/connections/:id/health',
    {
      schema: {
        tags: ['connections'],
        summary:
          'Account-health events of a connection, newest first: token, restrictions, quality, limits, template pauses',
        params: idParams,
        querystring: pagingQuery,
      },
    },
    async (request) => {
      const connection = await owned(() =>
        getConnection(deps, request.workspaceId, request.params.id),
      );
      const page = await deps.store.providerRecords.health.list({
        workspaceId: request.workspaceId,
        connectionId: connection.id,
        limit: request.query.limit,
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      });
      return { items: page.items.map(healthEventView), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/channels/:id/health',
    {
      schema: {
        tags: ['channels'],
        summary:
          'Account-health events of a number and of its whole account (connection), newest first',
        params: idParams,
        querystring: pagingQuery,
      },
    },
    async (request) => {
      const channel = await owned(() => getChannel(deps, request.workspaceId, request.params.id));
      const page = await deps.store.providerRecords.health.list({
        workspaceId: request.workspaceId,
        connectionId: channel.connectionId,
        channelId: channel.id,
        withAccountEvents: true,
        limit: request.query.limit,
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      });
      return { items: page.items.map(healthEventView), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/connections/:id/check',
    {
      schema: {
        tags: ['connections'],
        summary:
          'Runs the provider checks now (token, webhook subscription, number registration, quality); each failed check says what to fix',
        params: idParams,
      },
    },
    async (request) => {
      const connection = await owned(() =>
        getConnection(deps, request.workspaceId, request.params.id),
      );
      return checkConnection(deps, connection);
    },
  );

  api.post(
    '/connections/:id/register-webhook',
    {
      schema: {
        tags: ['connections'],
        summary:
          "Registers this connection's webhook URL with the provider (360dialog: with the secret header Parley requires)",
        params: idParams,
      },
    },
    async (request) => {
      const connection = await owned(() =>
        getConnection(deps, request.workspaceId, request.params.id),
      );
      const result = await registerWebhook(deps, connection);
      if (result.kind === 'unsupported')
        throw new ApiProblem('webhook_registration_unsupported', result.detail);
      if (result.kind === 'failed') throw new ApiProblem('provider_request_failed', result.detail);
      return {
        registered: true,
        webhookUrl: result.webhookUrl,
        ok: result.checks.every((c) => c.ok),
        checks: result.checks,
      };
    },
  );
}
