// Provider ingress: the raw bytes are kept for signature checks; a webhook is acknowledged only
// after it is stored durably. Unknown connection → 404; bad signature → 401; unknown number → 200.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { answerChallenge, ingestWebhook } from '../../app/receive-webhook.ts';
import type { RawWebhook } from '../../ports/provider.ts';
import { problem, sendProblem } from '../problem.ts';
import type { HttpOptions } from '../server.ts';
import type { Metrics } from '../metrics.ts';

const INGRESSES = ['meta', '360dialog', 'cloud'] as const;
const params = z.object({ connectionId: z.string().min(1).max(100) });

export function registerWebhookRoutes(
  typed: FastifyInstance,
  options: HttpOptions,
  metrics: Metrics,
): void {
  // Signatures are computed over the exact bytes: no JSON parsing before verification.
  typed.removeAllContentTypeParsers();
  typed.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  const routes = typed.withTypeProvider<ZodTypeProvider>();

  for (const ingress of INGRESSES) {
    if (ingress !== '360dialog') {
      routes.get(
        `/webhooks/${ingress}/:connectionId`,
        { schema: { params, hide: true } },
        async (request, reply) => {
          const result = await answerChallenge(options.deps, {
            connectionId: request.params.connectionId,
            ingress,
            query: singleValues(request.query),
          });
          if (result.kind === 'rejected')
            return sendProblem(reply, problem(result.code, result.detail));
          return reply.type('text/plain').send(result.body);
        },
      );
    }
    routes.post(
      `/webhooks/${ingress}/:connectionId`,
      { schema: { params, hide: true } },
      async (request, reply) =>
        receive(request, reply, ingress, request.params.connectionId, options, metrics),
    );
  }
  // Twilio: inbound messages and per-message status callbacks, both signed with X-Twilio-Signature.
  // Either may be configured with GET: the parameters come in the query, signed with the URL.
  for (const path of ['/webhooks/twilio/:connectionId', '/webhooks/twilio/:connectionId/status'])
    for (const method of ['post', 'get'] as const)
      routes[method](path, { schema: { params, hide: true } }, async (request, reply) =>
        receive(request, reply, 'twilio', request.params.connectionId, options, metrics),
      );
}

const LOOPBACK_URL = /^https?:\/\/(localhost|127\.|\[::1\]|0\.0\.0\.0)/i;

/**
 * The public URL a provider called, which Twilio signs: `PARLEY_PUBLIC_URL` + path + query. Only
 * when no public URL is configured (it is still the local listen address) do a proxy's
 * `X-Forwarded-Proto`/`X-Forwarded-Host` name it; a configured public URL always wins.
 * @see https://www.twilio.com/docs/usage/webhooks/webhooks-security#validating-signatures-from-twilio
 */
function calledUrl(request: FastifyRequest, publicUrl: string): string {
  const first = (value: unknown): string | undefined =>
    typeof value === 'string' ? value.split(',')[0]?.trim() || undefined : undefined;
  const host = first(request.headers['x-forwarded-host']);
  if (host === undefined || !LOOPBACK_URL.test(publicUrl)) return `${publicUrl}${request.url}`;
  const proto = first(request.headers['x-forwarded-proto']) === 'http' ? 'http' : 'https';
  return `${proto}://${host}${request.url}`;
}

async function receive(
  request: FastifyRequest,
  reply: FastifyReply,
  ingress: string,
  connectionId: string,
  options: HttpOptions,
  metrics: Metrics,
): Promise<FastifyReply> {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const raw: RawWebhook = {
    method: request.method,
    url: calledUrl(request, options.deps.publicUrl),
    headers: request.headers as Record<string, string | undefined>,
    query: singleValues(request.query),
    body,
  };
  const result = await ingestWebhook(options.deps, { connectionId, ingress, raw });
  if (result.kind === 'rejected') {
    metrics.webhooks.inc({ provider: ingress, outcome: String(result.status) });
    return sendProblem(reply, problem(result.code, result.detail));
  }
  metrics.webhooks.inc({ provider: ingress, outcome: 'stored' });
  // Processing starts after the acknowledgement is on its way.
  setImmediate(() => options.onWebhookStored(result.webhook, result.events));
  // Twilio reads the answer to a message webhook as TwiML: an empty one sends no reply.
  if (ingress === 'twilio')
    return reply
      .status(200)
      .type('text/xml')
      .send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
  return reply.status(200).send({ received: true, id: result.webhook.id });
}

/**
 * Query parameters as single strings. A repeated parameter (`?hub.challenge=1&hub.challenge=2`)
 * arrives as an array; it is ambiguous, so it counts as absent rather than reaching the provider
 * code as something that is not a string.
 */
function singleValues(query: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (typeof query !== 'object' || query === null) return out;
  for (const [name, value] of Object.entries(query as Record<string, unknown>))
    if (typeof value === 'string') out[name] = value;
  return out;
}
