// `parley emulator`: the sandbox world as a standalone HTTP server speaking Meta's Cloud API
// (messages, media, templates, phone number info) and sending Meta-format webhooks to a receiver.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { lintTemplate, hasErrors } from '../../../../core/templates/index.ts';
import { checkMediaFile, type MediaType } from '../../../../core/messages.ts';
import { SECOND } from '../../../../core/time.ts';
import {
  DEMO_NUMBER,
  SandboxWorld,
  type SandboxNumber,
  type SandboxNumberInput,
  type StatusDelays,
} from '../sandbox-world.ts';
import {
  TEMPLATE_CATEGORIES,
  type SandboxTemplate,
  type TemplateDefinition,
} from '../sandbox-templates.ts';
import { EmulatorClock } from './emulator-clock.ts';
import { registerControlRoutes } from './emulator-control.ts';
import {
  graphError,
  invalidParameter,
  invalidToken,
  missingToken,
  unknownObject,
  unknownPath,
  type GraphReply,
} from './emulator-graph.ts';
import { EmulatorMedia, placeholderFile } from './emulator-media.ts';
import { WebhookSender } from './emulator-webhooks.ts';

export interface EmulatorOptions {
  /** TCP port (default 8090; 0 picks a free one). */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Where webhooks go (e.g. Parley's `/webhooks/meta/{connectionId}`); none: only logged. */
  readonly webhookUrl?: string;
  /** Signs every webhook (`X-Hub-Signature-256`); a random one when omitted. */
  readonly appSecret?: string;
  /** The `hub.verify_token` the emulator presents when it verifies the receiver. */
  readonly verifyToken?: string;
  /** The only access token accepted; when omitted any non-empty Bearer token is. */
  readonly accessToken?: string;
  /** Business numbers known from the start (default: the demo shop's number). */
  readonly numbers?: readonly SandboxNumberInput[];
  /** How long a template stays PENDING before the lint-based verdict (default 5 s). */
  readonly templateReviewMs?: number;
  /**
   * How template refusals (132000, 132001, 132012, 132015, 132016) come back: `sync` (default) as
   * the HTTP error answer, `late` as an accepted send and then a `failed` status webhook.
   */
  readonly templateErrors?: 'sync' | 'late';
  /** LIM-1: answer 130429 above each number's throughput (default true). */
  readonly enforceThroughput?: boolean;
  /** LIM-2: answer 131056 above the pair rate (default true). */
  readonly enforcePairRate?: boolean;
  readonly statusDelays?: Partial<StatusDelays>;
  /** Chance that a user reads a delivered message by themselves (default 1). */
  readonly readProbability?: number;
  /**
   * Batches webhooks: entries wait up to `windowMs` and go out together, at most `maxEntries` in
   * one POST (as Meta does for busy accounts; default off: one webhook per event).
   */
  readonly batchWebhooks?: { readonly maxEntries: number; readonly windowMs: number };
  /** Source of jitter and chaos; inject a seeded one for deterministic runs. */
  readonly random?: () => number;
  /** Memory for uploaded media before the oldest is forgotten (default 256 MiB). */
  readonly maxMediaBytes?: number;
  /** A receiver that has not answered a webhook after this long counts as failed (default 10 s). */
  readonly webhookTimeoutMs?: number;
  /** Hears about errors inside simulated events (bugs, never delivery failures). */
  readonly onError?: (error: unknown) => void;
}

export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:8090` (Cloud API paths hang below it: `/v23.0/…`). */
  readonly url: string;
  /** The configured access token, or null when any Bearer token is accepted. */
  readonly accessToken: string | null;
  readonly appSecret: string;
  readonly verifyToken: string | undefined;
  /** The business numbers configured at start. */
  readonly numbers: readonly SandboxNumber[];
  /** The simulated WhatsApp behind the server (for in-process tests and benchmarks). */
  readonly world: SandboxWorld;
  readonly clock: EmulatorClock;
  readonly webhooks: WebhookSender;
  close(): Promise<void>;
}

/** What the routes share. */
export interface EmulatorContext {
  readonly world: SandboxWorld;
  readonly clock: EmulatorClock;
  readonly media: EmulatorMedia;
  readonly webhooks: WebhookSender;
  readonly defaultNumber: SandboxNumber;
  readonly appSecret: string;
  readonly verifyToken: string | undefined;
  readonly baseUrl: () => string;
}

/** Media a business may upload, by the type it will be sent as (LIM-6). */
function mediaTypeOf(mimeType: string): MediaType {
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (base === 'image/webp') return 'sticker';
  if (base.startsWith('image/')) return 'image';
  if (base.startsWith('audio/')) return 'audio';
  if (base.startsWith('video/')) return 'video';
  return 'document';
}

const VERSION = /^v\d{1,2}\.\d$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function send(reply: FastifyReply, answer: GraphReply): FastifyReply {
  return reply
    .code(answer.status)
    .headers(answer.headers ?? {})
    .send(answer.body);
}

/** `+1 555-078-3881`-style, as Meta shows numbers. */
function displayNumber(digits: string): string {
  return parsePhoneNumberFromString(`+${digits}`)?.formatInternational() ?? `+${digits}`;
}

/**
 * Starts the emulator and resolves once it listens.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const onError =
    options.onError ??
    ((error: unknown) => {
      console.error('parley emulator:', error);
    });
  const clock = new EmulatorClock(onError);
  const media = new EmulatorMedia(options.maxMediaBytes);
  const webhooks = new WebhookSender({
    url: options.webhookUrl,
    now: () => clock.now(),
    ...(options.webhookTimeoutMs === undefined ? {} : { timeoutMs: options.webhookTimeoutMs }),
  });
  const appSecret = options.appSecret ?? randomBytes(16).toString('hex');
  const accessToken = options.accessToken ?? null;
  const reviewMs = options.templateReviewMs ?? 5 * SECOND;

  const world = new SandboxWorld({
    clock,
    schedule: clock.schedule,
    appSecret,
    deliver: webhooks.deliver,
    templateErrors: options.templateErrors ?? 'sync',
    enforceThroughput: options.enforceThroughput ?? true,
    enforcePairRate: options.enforcePairRate ?? true,
    ...(options.verifyToken === undefined ? {} : { verifyToken: options.verifyToken }),
    ...(options.statusDelays === undefined ? {} : { statusDelays: options.statusDelays }),
    ...(options.readProbability === undefined ? {} : { readProbability: options.readProbability }),
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.batchWebhooks === undefined ? {} : { batchWebhooks: options.batchWebhooks }),
    mediaExists: (mediaId) => media.get(mediaId) !== undefined,
    inboundMedia: (mimeType) => {
      const file = media.add('', mimeType, placeholderFile(mimeType, String(clock.now())));
      return { id: file.id, sha256: Buffer.from(file.sha256, 'hex').toString('base64') };
    },
    onError,
  });
  const numbers = (options.numbers ?? [DEMO_NUMBER]).map((n) => world.addNumber(n));
  const defaultNumber = numbers[0];
  if (!defaultNumber) throw new Error('the emulator needs at least one business number');

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  let baseUrl = '';
  const context: EmulatorContext = {
    world,
    clock,
    media,
    webhooks,
    defaultNumber,
    appSecret,
    verifyToken: options.verifyToken,
    baseUrl: () => baseUrl,
  };

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413)
      return send(reply, graphError(413, 100, `(#100) Request body too large: ${error.message}`));
    if (status >= 400 && status < 500) return send(reply, invalidParameter(error.message));
    onError(error);
    return send(reply, graphError(500, 1, 'An unknown error occurred', { type: 'OAuthException' }));
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, unknownPath(request.url.split('?')[0] ?? '')),
  );
  // whatsapp-api-js uploads multipart/form-data; the body is parsed in the route (100 MB: LIM-6)
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: 101 * 1024 * 1024 },
    (_request, body, done) => done(null, body),
  );

  /** Bearer check for every Cloud API route (the control API is for the local operator). */
  const authorised = (request: FastifyRequest): GraphReply | null => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const token = match?.[1];
    if (!token) return missingToken();
    if (accessToken !== null && token !== accessToken) return invalidToken();
    return null;
  };
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url;
    if (path.startsWith('/control') || path === '/' || path.startsWith('/favicon')) return;
    const segment = path.split('/')[1] ?? '';
    if (!VERSION.test(segment) && !path.startsWith('/media-files/')) {
      await send(reply, unknownPath(path.split('?')[0] ?? ''));
      return reply;
    }
    const problem = authorised(request);
    if (problem) {
      await send(reply, problem);
      return reply;
    }
  });

  app.get('/', () => ({
    emulator: 'parley',
    cloud_api: `${baseUrl}/v23.0`,
    control: `${baseUrl}/control`,
    numbers: numbers.map((n) => ({
      phone_number_id: n.phoneNumberId,
      display_phone_number: n.displayPhoneNumber,
      waba_id: n.wabaId,
    })),
  }));

  // ── messages ──────────────────────────────────────────────────────────────────────────
  // Requests that get no answer under chaos `timeouts` are held, then dropped on close.
  const held = new Set<() => void>();
  app.post<{ Params: { version: string; id: string } }>(
    '/:version/:id/messages',
    async (request, reply) => {
      const answer = world.answer(request.params.id, request.body);
      if (answer.kind === 'no_response') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 120 * SECOND);
          timer.unref();
          held.add(resolve);
        });
        request.raw.socket.destroy();
        return reply;
      }
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    },
  );

  // ── media ─────────────────────────────────────────────────────────────────────────────
  app.post<{ Params: { version: string; id: string }; Querystring: Record<string, string> }>(
    '/:version/:id/media',
    async (request, reply) => {
      const number = world.resolveNumber(request.params.id);
      if (!number) return send(reply, unknownObject('post', request.params.id));
      const contentType = request.headers['content-type'] ?? '';
      if (!Buffer.isBuffer(request.body) || !contentType.startsWith('multipart/form-data'))
        return send(
          reply,
          invalidParameter('Upload the file as multipart/form-data with a part named file.'),
        );
      let form: FormData;
      try {
        const parts = new Response(request.body, { headers: { 'content-type': contentType } });
        // undici's parser: the body is already buffered and bounded (what its deprecation note
        // is about for servers), and no multipart dependency is needed for an emulator
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        form = await parts.formData();
      } catch {
        return send(reply, invalidParameter('The multipart/form-data body could not be parsed.'));
      }
      const product = request.query.messaging_product ?? form.get('messaging_product');
      if (product !== 'whatsapp')
        return send(
          reply,
          invalidParameter("The parameter messaging_product is required and must be 'whatsapp'."),
        );
      const file = form.get('file');
      if (file === null || typeof file === 'string')
        return send(reply, invalidParameter('The parameter file is required.'));
      const declared = form.get('type');
      const mimeType = (typeof declared === 'string' && declared) || file.type;
      if (!mimeType)
        return send(reply, invalidParameter('The file has no type; set the part’s Content-Type.'));
      const bytes = Buffer.from(await file.arrayBuffer());
      const refusal = checkMediaFile(mediaTypeOf(mimeType), {
        mimeType,
        bytes: bytes.length,
        animated: true,
      });
      if (refusal) return send(reply, invalidParameter(refusal.detail));
      const stored = media.add(number.phoneNumberId, mimeType, bytes);
      return { id: stored.id };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { key?: string } }>(
    '/media-files/:id',
    (request, reply) => {
      const file = media.get(request.params.id);
      // Meta's download URLs are signed; a wrong key is a 404 like an expired URL
      if (!file || request.query.key !== file.key)
        return reply.code(404).type('text/plain').send('Not Found');
      return reply
        .type(file.mimeType)
        .header('content-length', String(file.bytes.length))
        .send(file.bytes);
    },
  );

  // ── objects by id: phone number, media, template ────────────────────────────────────────
  const templateById = (
    id: string,
  ): { template: SandboxTemplate; number: SandboxNumber } | null => {
    for (const number of world.numbers())
      for (const template of world.templates(number.phoneNumberId))
        if (template.id === id && template.status !== 'DELETED') return { template, number };
    return null;
  };

  // ── token and app: what `parley doctor` (and Meta's own tools) ask first ─────────────
  const appId = '1800000000000001';
  app.get<{ Querystring: { input_token?: string } }>('/:version/debug_token', (request) => ({
    data: {
      app_id: appId,
      type: 'SYSTEM_USER',
      application: 'Parley Emulator',
      // a system-user token that never expires
      expires_at: 0,
      is_valid: accessToken === null || request.query.input_token === accessToken,
      scopes: ['whatsapp_business_messaging', 'whatsapp_business_management'],
    },
  }));
  app.get('/:version/me', () => ({ id: '1900000000000001', name: 'Parley Emulator System User' }));
  app.get<{ Params: { version: string; id: string } }>(
    '/:version/:id/subscribed_apps',
    (request, reply) => {
      if (!world.numberOfWaba(request.params.id))
        return send(reply, unknownObject('get', request.params.id));
      return {
        data: [
          {
            whatsapp_business_api_data: {
              id: appId,
              name: 'Parley Emulator',
              link: `${baseUrl}/`,
            },
          },
        ],
      };
    },
  );

  /** TPL-9: an edit (`POST /{template-id}`) goes back to review, keeping the template's id. */
  app.post<{ Params: { version: string; id: string } }>('/:version/:id', (request, reply) => {
    const found = templateById(request.params.id);
    if (!found) return send(reply, unknownObject('post', request.params.id));
    const body = request.body;
    if (!isObject(body)) return send(reply, invalidParameter('The request body must be JSON.'));
    const { template, number } = found;
    if (!['APPROVED', 'REJECTED', 'PAUSED'].includes(template.status))
      return send(
        reply,
        invalidParameter(`A template in status ${template.status} cannot be edited.`),
      );
    if (
      typeof body.category === 'string' &&
      template.status === 'APPROVED' &&
      body.category.toUpperCase() !== template.category
    )
      return send(
        reply,
        invalidParameter('The category of an approved template cannot be changed.'),
      );
    const definition = {
      name: template.name,
      language: template.language,
      category: template.category,
      parameter_format: template.parameter_format,
      components: Array.isArray(body.components) ? body.components : template.components,
    } as TemplateDefinition;
    review(number.phoneNumberId, definition);
    return { success: true };
  });

  app.get<{ Params: { version: string; id: string } }>('/:version/:id', (request, reply) => {
    const { id } = request.params;
    const number = world.number(id);
    if (number) return phoneNumberInfo(number);
    const file = media.get(id);
    if (file)
      return {
        messaging_product: 'whatsapp',
        url: `${baseUrl}/media-files/${file.id}?key=${file.key}`,
        mime_type: file.mimeType,
        sha256: file.sha256,
        // a string in Meta's description of this endpoint
        file_size: String(file.bytes.length),
        id: file.id,
      };
    const found = templateById(id);
    if (found) return found.template;
    return send(reply, unknownObject('get', id));
  });

  app.delete<{ Params: { version: string; id: string } }>('/:version/:id', (request, reply) => {
    if (media.delete(request.params.id)) return { success: true };
    return send(reply, unknownObject('delete', request.params.id));
  });

  // ── templates (WABA level) ────────────────────────────────────────────────────────────
  /**
   * TPL-8: PENDING now, the verdict after `reviewMs`: what Parley's own template lint calls an
   * error Meta would reject, so the emulator rejects it (INVALID_FORMAT); the rest is approved.
   */
  const review = (phoneNumberId: string, definition: TemplateDefinition): SandboxTemplate => {
    const rejected = hasErrors(lintTemplate(definition));
    return world.submitTemplate(phoneNumberId, definition, {
      reviewMs,
      ...(rejected ? { outcome: 'REJECTED' as const, reason: 'INVALID_FORMAT' } : {}),
    });
  };

  app.get<{ Params: { version: string; id: string }; Querystring: Record<string, string> }>(
    '/:version/:id/message_templates',
    (request, reply) => {
      const number = world.numberOfWaba(request.params.id);
      if (!number) return send(reply, unknownObject('get', request.params.id));
      const q = request.query;
      const listed = (name: string | undefined) =>
        name === undefined ? null : new Set(name.split(',').map((s) => s.trim().toUpperCase()));
      const statuses = listed(q.status);
      const categories = listed(q.category);
      const languages = q.language === undefined ? null : new Set(q.language.split(','));
      const all = world
        .templatesOfWaba(number.wabaId)
        .filter(
          (t) =>
            t.status !== 'DELETED' &&
            (q.name === undefined || t.name === q.name) &&
            (statuses === null || statuses.has(t.status)) &&
            (categories === null || categories.has(t.category)) &&
            (languages === null || languages.has(t.language)),
        );
      const limit = Math.min(Math.max(Number(q.limit ?? 25) || 25, 1), 100);
      const start =
        q.after === undefined ? 0 : Number(Buffer.from(q.after, 'base64url').toString());
      if (!Number.isInteger(start) || start < 0)
        return send(reply, invalidParameter('The parameter after is not a valid cursor.'));
      const page = all.slice(start, start + limit);
      const cursor = (i: number) => Buffer.from(String(i)).toString('base64url');
      return {
        data: page,
        paging: {
          cursors: { before: cursor(start), after: cursor(start + page.length) },
          ...(start + page.length < all.length
            ? {
                next: `${baseUrl}${request.url.split('?')[0] ?? ''}?limit=${limit}&after=${cursor(start + page.length)}`,
              }
            : {}),
        },
      };
    },
  );

  app.post<{ Params: { version: string; id: string } }>(
    '/:version/:id/message_templates',
    (request, reply) => {
      const number = world.numberOfWaba(request.params.id);
      if (!number) return send(reply, unknownObject('post', request.params.id));
      const body = request.body;
      if (!isObject(body)) return send(reply, invalidParameter('The request body must be JSON.'));
      const { name, language, category, components } = body;
      if (typeof name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(name))
        return send(
          reply,
          invalidParameter(
            'The parameter name is required: lowercase letters, digits and underscores.',
          ),
        );
      if (typeof language !== 'string' || language === '')
        return send(reply, invalidParameter('The parameter language is required.'));
      if (
        typeof category !== 'string' ||
        !(TEMPLATE_CATEGORIES as readonly string[]).includes(category.toUpperCase())
      )
        return send(
          reply,
          invalidParameter(
            `The parameter category must be one of ${TEMPLATE_CATEGORIES.join(', ')}.`,
          ),
        );
      if (!Array.isArray(components))
        return send(reply, invalidParameter('The parameter components is required.'));
      const existing = world.template(number.phoneNumberId, name, language);
      if (existing && existing.status !== 'DELETED')
        return send(
          reply,
          graphError(400, 100, 'Invalid parameter', {
            subcode: 2388024,
            details: `Content in this language already exists: ${name} (${language}).`,
          }),
        );
      const definition = {
        name,
        language,
        category: category.toUpperCase(),
        components,
        ...(body.parameter_format === 'NAMED' || body.parameter_format === 'POSITIONAL'
          ? { parameter_format: body.parameter_format }
          : {}),
      } as TemplateDefinition;
      const template = review(number.phoneNumberId, definition);
      return { id: template.id, status: template.status, category: template.category };
    },
  );

  app.delete<{ Params: { version: string; id: string }; Querystring: Record<string, string> }>(
    '/:version/:id/message_templates',
    async (request, reply) => {
      const number = world.numberOfWaba(request.params.id);
      if (!number) return send(reply, unknownObject('delete', request.params.id));
      const { name, hsm_id: hsmId } = request.query;
      if (!name) return send(reply, invalidParameter('The parameter name is required.'));
      const doomed = world
        .templatesOfWaba(number.wabaId)
        .filter((t) => t.name === name && t.status !== 'DELETED' && (!hsmId || t.id === hsmId));
      if (doomed.length === 0)
        return send(
          reply,
          graphError(400, 100, 'Invalid parameter', {
            subcode: 2593002,
            details: `Message template "${name}" not found.`,
          }),
        );
      for (const t of doomed)
        await world.setTemplateStatus(number.phoneNumberId, t.name, t.language, 'DELETED', {
          notify: false,
        });
      return { success: true };
    },
  );

  registerControlRoutes(app, context);

  const address = await app.listen({
    port: options.port ?? 8090,
    host: options.host ?? '127.0.0.1',
  });
  baseUrl = address.replace('[::1]', 'localhost');

  return {
    url: baseUrl,
    accessToken,
    appSecret,
    verifyToken: options.verifyToken,
    numbers,
    world,
    clock,
    webhooks,
    async close() {
      for (const release of held) release();
      held.clear();
      clock.stop();
      await app.close();
      webhooks.close();
    },
  };

  function phoneNumberInfo(number: SandboxNumber): Record<string, unknown> {
    return {
      verified_name: number.verifiedName,
      code_verification_status: 'VERIFIED',
      display_phone_number: displayNumber(number.displayPhoneNumber),
      quality_rating: 'GREEN',
      status: 'CONNECTED',
      name_status: 'APPROVED',
      messaging_limit_tier: 'TIER_2K',
      platform_type: 'CLOUD_API',
      throughput: { level: number.throughputMps >= 1000 ? 'HIGH' : 'STANDARD' },
      id: number.phoneNumberId,
    };
  }
}
