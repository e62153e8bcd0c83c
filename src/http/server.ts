// The thin HTTP layer: Fastify with zod schemas. Routes parse, call app/, and map the result.
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { InboundEvent } from '../core/inbound.ts';
import type { WebhookRecord } from '../ports/store.ts';
import type { AppDeps } from '../app/deps.ts';
import { hashApiKey } from '../app/api-keys.ts';
import {
  ApiProblem,
  frameworkErrorHandler,
  installGraphErrorHandlers,
  installProblemHandlers,
} from './problem.ts';
import { registerApiRoutes } from './routes/api.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { registerTemplateRoutes } from './routes/templates.ts';
import { registerConsentRoutes } from './routes/consent.ts';
import { registerNotificationRoutes } from './routes/notifications.ts';
import { registerBillingRoutes } from './routes/billing.ts';
import { registerMediaRoutes } from './routes/media.ts';
import { registerConnectionHealthRoutes } from './routes/connection-health.ts';
import { isLinkFetch, registerGraphRoutes } from './routes/graph.ts';
import { registerAutomationRoutes } from './routes/automations.ts';
import { registerWebhookEndpointRoutes } from './routes/webhook-endpoints.ts';
import type { EventWebhooks } from '../app/event-webhooks.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { registerUi } from './ui.ts';

export interface HttpOptions {
  readonly deps: AppDeps;
  readonly bodyLimit: number;
  readonly logger?: FastifyBaseLogger;
  /** A webhook was stored: hand it to processing (after the response is sent). */
  readonly onWebhookStored: (webhook: WebhookRecord, events: InboundEvent[]) => void;
  /** A message was queued: wake the dispatcher. */
  readonly onMessageQueued: () => void;
  /** Readiness beyond the database (e.g. workers started). */
  readonly ready?: () => boolean;
  readonly version: string;
  /** Outbound event webhooks (`/v1/webhook-endpoints`); absent, the resource is not served. */
  readonly eventWebhooks?: EventWebhooks;
}

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
    /** The id of the API key that authenticated the request (who recorded a consent event). */
    apiKeyId: string;
  }
}

export async function buildHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // Request lines would dominate the log at webhook rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: true,
    return503OnClosing: true,
    frameworkErrors: (error, request, reply) => {
      frameworkErrorHandler(error, request, reply);
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app);
  const metrics = createMetrics(options.deps);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Parley API',
        version: options.version,
        description:
          'Customer care and notifications on the WhatsApp Business API. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'A workspace API key' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  registerOperationalRoutes(app, options, metrics);
  // One authenticator for /v1 and /graph, so a key revoked through either is forgotten by both.
  const auth = createAuthenticator(options.deps);
  await app.register((webhooks, _opts, done) => {
    registerWebhookRoutes(webhooks, options, metrics);
    done();
  });
  await app.register(
    (v1, _opts, done) => {
      v1.decorateRequest('workspaceId', '');
      v1.decorateRequest('apiKeyId', '');
      // The API speaks JSON only: Fastify's default text/plain parser would hand a string to the
      // body schema and answer 400 where 415 is the truth.
      v1.removeContentTypeParser('text/plain');
      v1.addHook('onRequest', auth.onRequest);
      registerApiRoutes(v1, options, { onApiKeyRevoked: auth.forget });
      registerTemplateRoutes(v1, options);
      registerConsentRoutes(v1, options);
      registerNotificationRoutes(v1, options);
      registerBillingRoutes(v1, options);
      registerMediaRoutes(v1, options);
      registerConnectionHealthRoutes(v1, options);
      registerAutomationRoutes(v1, options);
      if (options.eventWebhooks) registerWebhookEndpointRoutes(v1, options, options.eventWebhooks);
      done();
    },
    { prefix: '/v1' },
  );
  await app.register(
    (graph, _opts, done) => {
      graph.decorateRequest('workspaceId', '');
      graph.decorateRequest('apiKeyId', '');
      graph.removeContentTypeParser('text/plain');
      installGraphErrorHandlers(graph);
      graph.addHook('onRequest', async (request) => {
        if (!isLinkFetch(request)) await auth.onRequest(request);
      });
      registerGraphRoutes(graph, options);
      done();
    },
    { prefix: '/graph' },
  );
  app.get('/v1/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // Last: the inbox answers only what no API, webhook or operational route claims.
  await registerUi(app);
  return app;
}

function registerOperationalRoutes(
  app: FastifyInstance,
  options: HttpOptions,
  metrics: Metrics,
): void {
  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.deps.store.ping();
    } catch (error) {
      throw new ApiProblem('not_ready', `database unreachable: ${(error as Error).message}`);
    }
    if (options.ready && !options.ready()) return reply.status(503).send({ status: 'starting' });
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/**
 * Bearer API keys, looked up by hash; a short cache keeps the hot path off the database.
 * `forget` drops a revoked key at once, so revocation through this node takes effect immediately
 * (other nodes notice within the cache's lifetime).
 */
function createAuthenticator(deps: AppDeps) {
  const cache = new Map<string, { workspaceId: string; keyId: string; until: number }>();
  const onRequest = async (request: FastifyRequest) => {
    if (request.url.startsWith('/v1/openapi.json')) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1])
      throw new ApiProblem(
        'unauthenticated',
        'Send a workspace API key as "Authorization: Bearer <key>"',
      );
    const hash = hashApiKey(match[1]);
    const now = Date.now();
    const cached = cache.get(hash);
    if (cached && cached.until > now) {
      request.workspaceId = cached.workspaceId;
      request.apiKeyId = cached.keyId;
      return;
    }
    const key = await deps.store.apiKeys.findByHash(hash);
    if (!key || key.revokedAt !== null)
      throw new ApiProblem('unauthenticated', 'The API key is not valid (unknown or revoked)');
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { workspaceId: key.workspaceId, keyId: key.id, until: now + 30_000 });
    request.workspaceId = key.workspaceId;
    request.apiKeyId = key.id;
  };
  const forget = (keyId: string): void => {
    for (const [hash, entry] of cache) if (entry.keyId === keyId) cache.delete(hash);
  };
  return { onRequest, forget };
}
