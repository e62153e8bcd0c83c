// The thin HTTP layer: Fastify with zod schemas. Routes parse, call app/, and map the result.
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import fastifyCookie from '@fastify/cookie';
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
import { resolveSession, sameToken } from '../app/agents.ts';
import type { Agent, AgentSession } from '../ports/inbox-store.ts';
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
import { PUBLIC_AUTH_PATHS, SESSION_COOKIE, registerAuthRoutes } from './routes/auth.ts';
import { registerInboxRoutes } from './routes/inbox.ts';
import { registerCampaignRoutes } from './routes/campaigns.ts';
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
  /** A campaign was started or resumed: wake the campaign runner. */
  readonly onCampaignChanged?: () => void;
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
    /** The signed-in agent when the request came with a session cookie instead of a key. */
    agent: Agent | null;
    agentSession: AgentSession | null;
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
  await app.register(fastifyCookie);

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
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'parley_session',
            description:
              'An agent session (POST /v1/auth/login); mutating requests also send X-CSRF-Token',
          },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
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
      v1.decorateRequest('agent', null);
      v1.decorateRequest('agentSession', null);
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
      registerAuthRoutes(v1, options);
      registerInboxRoutes(v1, options);
      registerCampaignRoutes(v1, options);
      done();
    },
    { prefix: '/v1' },
  );
  await app.register(
    (graph, _opts, done) => {
      graph.decorateRequest('workspaceId', '');
      graph.decorateRequest('apiKeyId', '');
      graph.decorateRequest('agent', null);
      graph.decorateRequest('agentSession', null);
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

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * What only admins may do with a session: manage agents, departments, connections, channels and
 * API keys. Everyone may read the agent, department and channel lists (assignment pickers).
 */
function adminOnly(method: string, path: string): boolean {
  if (path.startsWith('/v1/api-keys')) return true;
  if (!MUTATING.has(method)) return false;
  return /^\/v1\/(agents|departments|connections|channels)(\/|$)/.test(path);
}

/**
 * Every /v1 route accepts a Bearer API key or an agent session cookie. Keys are looked up by
 * hash; a short cache keeps the hot path off the database. `forget` drops a revoked key at once,
 * so revocation through this node takes effect immediately (other nodes notice within the
 * cache's lifetime). A cookie request that changes something must echo the session's CSRF
 * token in X-CSRF-Token: SameSite=Lax alone still lets a same-site page post a form.
 */
function createAuthenticator(deps: AppDeps) {
  const cache = new Map<string, { workspaceId: string; keyId: string; until: number }>();
  const onRequest = async (request: FastifyRequest) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/v1/openapi.json')) return;
    const header = request.headers.authorization;
    const cookie = request.cookies[SESSION_COOKIE];
    // The ways to get a session answer anyone (a stale cookie must not block signing in again).
    if (!header && PUBLIC_AUTH_PATHS.has(path)) return;
    if (!header && cookie) return withSession(request, cookie);
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1])
      throw new ApiProblem(
        'unauthenticated',
        'Send a workspace API key as "Authorization: Bearer <key>" or sign in (POST /v1/auth/login)',
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
  const withSession = async (request: FastifyRequest, token: string) => {
    const path = request.url.split('?')[0] ?? '';
    const resolved = await resolveSession(deps, token);
    if (!resolved) throw new ApiProblem('unauthenticated', 'The session has ended; sign in again');
    if (MUTATING.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameToken(sent, resolved.session.csrfToken))
        throw new ApiProblem(
          'csrf_failed',
          "Send the session's CSRF token (from login or GET /v1/auth/session) in X-CSRF-Token",
        );
    }
    if (resolved.agent.role !== 'admin' && adminOnly(request.method, path))
      throw new ApiProblem('forbidden', 'Only an admin of the workspace may do this');
    request.workspaceId = resolved.agent.workspaceId;
    request.agent = resolved.agent;
    request.agentSession = resolved.session;
  };
  const forget = (keyId: string): void => {
    for (const [hash, entry] of cache) if (entry.keyId === keyId) cache.delete(hash);
  };
  return { onRequest, forget };
}
