// The Cloud-API-compatible surface (`/graph/{version}/…`): Meta-shaped requests and answers over
// Parley's own send path, so existing Cloud API client code works by changing its base URL.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { metaCodeForReason, reasonForMetaCode } from '../../core/reason-codes.ts';
import type { OutboundContent } from '../../core/messages.ts';
import type { Channel } from '../../ports/store.ts';
import {
  findGraphChannel,
  graphMarkRead,
  graphSend,
  type GraphInvalid,
} from '../../app/graph-messages.ts';
import { GraphApiError } from '../problem.ts';
import { sendFile } from '../send-file.ts';
import { sendMessageBody } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';
import { policyGuard } from './policy-guard.ts';
import {
  createWabaTemplate,
  deleteWabaTemplates,
  findGraphWaba,
  listWabaTemplates,
} from '../../app/graph-templates.ts';
import {
  UPLOAD_MAX_BYTES,
  deleteGraphMedia,
  findGraphMedia,
  graphMediaView,
  readGraphFile,
  readLinkedUpload,
  uploadGraphMedia,
} from '../../app/graph-media.ts';

/** Room for the multipart framing around the largest file. */
const UPLOAD_BODY_LIMIT = UPLOAD_MAX_BYTES + 1024 * 1024;

/** Where media bytes are served: with the workspace's Bearer key, or an upload's link token. */
const FILE_ROUTE = '/graph/files/:id';

/** A provider fetching an upload's link: its token authenticates, not an API key. */
export function isLinkFetch(request: FastifyRequest): boolean {
  const query = request.query as Record<string, unknown> | undefined;
  return request.routeOptions.url === FILE_ROUTE && typeof query?.token === 'string';
}

const node = z.string().min(1).max(200);
const graphParams = z.object({ version: z.string().regex(/^v\d+(\.\d+)?$/), node });

const templatesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(25),
  after: z.string().max(100).optional(),
  before: z.string().max(100).optional(),
  name: z.string().max(512).optional(),
  status: z.string().max(40).optional(),
  language: z.string().max(20).optional(),
  category: z.string().max(40).optional(),
  fields: z.string().max(500).optional(),
});

const deleteTemplateQuery = z.object({
  name: z.string().min(1).max(512),
  hsm_id: z.string().min(1).max(100).optional(),
});

/** Paging cursors are opaque to clients; inside they are the offset into the stable order. */
const cursorOf = (offset: number): string =>
  Buffer.from(`o:${String(offset)}`).toString('base64url');
function offsetOf(cursor: string | undefined): number | null {
  if (cursor === undefined) return null;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match?.[1])
    throw new GraphApiError(100, 'Param after/before is not a cursor this API handed out');
  return Number(match[1]);
}

const sendEnvelope = z
  .object({
    messaging_product: z.literal('whatsapp'),
    recipient_type: z.literal('individual').optional(),
    to: z.string().min(1).max(40),
    type: z.string().default('text'),
    context: z.object({ message_id: z.string().min(1).max(200) }).optional(),
    biz_opaque_callback_data: z.string().max(512).optional(),
  })
  .loose();

const readBody = z
  .object({
    messaging_product: z.literal('whatsapp'),
    status: z.literal('read'),
    message_id: z.string().min(1).max(200),
    typing_indicator: z.object({ type: z.literal('text') }).optional(),
  })
  .strict();

/** `a.b.0` → `a['b'][0]`, the way Meta names parameters in its error details. */
function paramPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${head ?? 'body'}${rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `['${p}']`)).join('')}`;
}

/** Zod issues as Meta's code 100 "Invalid parameter" with every finding in the details. */
function invalidParameter(error: z.ZodError): GraphApiError {
  const details = error.issues.map((i) => `Param ${paramPath(i.path)}: ${i.message}`).join('; ');
  return new GraphApiError(100, details, { parleyCode: 'validation_failed' });
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidParameter(result.error);
  return result.data;
}

function graphInvalid(outcome: GraphInvalid): GraphApiError {
  switch (outcome.code) {
    case 'not_found':
      return new GraphApiError(100, outcome.detail, { subcode: 33, parleyCode: 'not_found' });
    case 'idempotency_conflict':
      return new GraphApiError(100, outcome.detail, { parleyCode: 'idempotency_conflict' });
    case 'not_supported':
      return new GraphApiError(131051, outcome.detail, { parleyCode: 'not_supported' });
    case 'media':
      return new GraphApiError(131053, outcome.detail, { parleyCode: 'media' });
    case 'invalid_parameter':
      return new GraphApiError(100, outcome.detail, { parleyCode: 'invalid_request' });
  }
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}

export function registerGraphRoutes(app: FastifyInstance, options: HttpOptions): void {
  const deps = options.deps;
  // Multipart uploads are parsed by the platform's own FormData (undici) in the route.
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: UPLOAD_BODY_LIMIT },
    (_request, body, done) => {
      done(null, body);
    },
  );

  async function channelOf(request: FastifyRequest, id: string): Promise<Channel> {
    const channel = await findGraphChannel(deps, request.workspaceId, id);
    if (!channel)
      throw new GraphApiError(
        100,
        `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
        { subcode: 33, parleyCode: 'not_found' },
      );
    return channel;
  }

  app.post(
    '/:version/:node/messages',
    {
      schema: {
        tags: ['cloud-api'],
        summary:
          'Cloud API send or mark-as-read, Meta-shaped; goes through Parley policy, pacing and ledger',
      },
    },
    async (request, reply) => {
      const params = parse(graphParams, request.params);
      const channel = await channelOf(request, params.node);
      const body: unknown = request.body;
      if (typeof body === 'object' && body !== null && 'status' in body) {
        const read = parse(readBody, body);
        const outcome = await graphMarkRead(deps, request.workspaceId, channel, read.message_id);
        if (outcome.kind === 'invalid') throw graphInvalid(outcome);
        if (outcome.kind === 'failed') {
          const f = outcome.failure;
          const code = /^\d+$/.test(f.providerCode ?? '') ? Number(f.providerCode) : NaN;
          throw new GraphApiError(
            Number.isFinite(code) && reasonForMetaCode(code) === f.reason
              ? code
              : metaCodeForReason(f.reason),
            f.details ?? f.title ?? f.reason,
            { parleyCode: f.reason },
          );
        }
        return { success: true };
      }
      const envelope = parse(sendEnvelope, body);
      const { type } = envelope;
      const own = (body as Record<string, unknown>)[type];
      const checked = sendMessageBody.safeParse({
        channelId: channel.id,
        to: envelope.to,
        type,
        [type]: own,
      });
      if (!checked.success) {
        const unknownType = checked.error.issues.some(
          (i) => i.code === 'invalid_union' && i.path.length === 1 && i.path[0] === 'type',
        );
        if (unknownType)
          throw new GraphApiError(131051, `Unsupported message type: ${type}`, {
            parleyCode: 'validation_failed',
          });
        throw invalidParameter(checked.error);
      }
      // The type's own object, as validated (unknown keys of loose parts stripped).
      const content = {
        type,
        [type]: (checked.data as Record<string, unknown>)[type],
      } as OutboundContent;
      const outcome = await graphSend(deps, {
        workspaceId: request.workspaceId,
        channel,
        to: envelope.to,
        content,
        ...(envelope.context ? { contextMessageId: envelope.context.message_id } : {}),
        ...(headerValue(request, 'idempotency-key') !== undefined
          ? { idempotencyKey: headerValue(request, 'idempotency-key') }
          : {}),
      });
      if (outcome.kind === 'invalid') throw graphInvalid(outcome);
      if (outcome.kind === 'refused') {
        const m = outcome.message;
        throw new GraphApiError(
          metaCodeForReason(outcome.reason),
          m.reasonDetail ?? outcome.reason,
          {
            parleyCode: outcome.reason,
            extras: { message_id: m.id },
          },
        );
      }
      options.onMessageQueued();
      return reply.status(200).send({
        messaging_product: 'whatsapp',
        contacts: [{ input: envelope.to, wa_id: outcome.waId }],
        messages: [
          {
            id: outcome.message.id,
            ...(content.type === 'template' ? { message_status: 'accepted' } : {}),
          },
        ],
      });
    },
  );

  app.post(
    '/:version/:node/media',
    {
      bodyLimit: UPLOAD_BODY_LIMIT,
      schema: {
        tags: ['cloud-api'],
        summary: 'Cloud API media upload (multipart: file, type, messaging_product)',
      },
    },
    async (request) => {
      const params = parse(graphParams, request.params);
      const channel = await channelOf(request, params.node);
      const form = await formOf(request);
      const query = request.query as Record<string, unknown>;
      const product = form.get('messaging_product') ?? query.messaging_product;
      if (product !== 'whatsapp')
        throw new GraphApiError(100, 'Param messaging_product must be "whatsapp"');
      const file = form.get('file');
      if (!(file instanceof Blob))
        throw new GraphApiError(100, 'Param file is required: the media file as a form part');
      const typeField = form.get('type');
      const mimeType = typeof typeField === 'string' && typeField !== '' ? typeField : file.type;
      if (mimeType === '')
        throw new GraphApiError(100, "Param type is required: the file's MIME type");
      const name = file instanceof File ? file.name : '';
      const outcome = await uploadGraphMedia(deps, {
        workspaceId: request.workspaceId,
        channel,
        bytes: Buffer.from(await file.arrayBuffer()),
        mimeType,
        filename: name !== '' && name !== 'blob' ? name.slice(0, 240) : null,
      });
      if (outcome.kind === 'invalid')
        throw new GraphApiError(131053, outcome.detail, { parleyCode: 'media' });
      return { id: outcome.upload.id };
    },
  );

  const unknownMedia = (id: string) =>
    new GraphApiError(
      100,
      `Unsupported request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
      { subcode: 33, parleyCode: 'not_found' },
    );

  /** Meta's optional `phone_number_id`: the media must belong to that number. */
  async function matchesNumber(request: FastifyRequest, channelId: string): Promise<boolean> {
    const { phone_number_id: number } = request.query as Record<string, unknown>;
    if (typeof number !== 'string' || number === '') return true;
    const channel = await findGraphChannel(deps, request.workspaceId, number);
    return channel?.id === channelId;
  }

  app.get(
    '/:version/:node',
    { schema: { tags: ['cloud-api'], summary: 'Cloud API media metadata (url, sha256, size)' } },
    async (request) => {
      const { node: id } = parse(graphParams, request.params);
      const found = await findGraphMedia(deps, request.workspaceId, id);
      const channelId = found?.kind === 'upload' ? found.upload.channelId : found?.media.channelId;
      if (!found || channelId === undefined || !(await matchesNumber(request, channelId)))
        throw unknownMedia(id);
      return graphMediaView(deps, found);
    },
  );

  app.delete(
    '/:version/:node',
    { schema: { tags: ['cloud-api'], summary: 'Cloud API media delete' } },
    async (request) => {
      const { node: id } = parse(graphParams, request.params);
      const found = await findGraphMedia(deps, request.workspaceId, id);
      if (found?.kind !== 'upload' || !(await matchesNumber(request, found.upload.channelId)))
        throw unknownMedia(id);
      if (!(await deleteGraphMedia(deps, request.workspaceId, id))) throw unknownMedia(id);
      return { success: true };
    },
  );

  app.get(
    '/files/:id',
    {
      schema: {
        tags: ['cloud-api'],
        summary: "A media file's bytes (the url of the media object; Bearer key or link token)",
      },
    },
    async (request, reply) => {
      const { id } = parse(z.object({ id: node }), request.params);
      const file = isLinkFetch(request)
        ? await readLinkedUpload(deps, id, (request.query as { token: string }).token)
        : await readGraphFile(deps, request.workspaceId, id);
      if (!file) throw unknownMedia(id);
      // Meta's media download names no file: the Cloud API's clients expect none.
      return sendFile(reply, { ...file, filename: null });
    },
  );

  async function wabaOf(request: FastifyRequest, id: string): Promise<Channel[]> {
    const channels = await findGraphWaba(deps, request.workspaceId, id);
    if (channels.length === 0)
      throw new GraphApiError(
        100,
        `Unsupported request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
        { subcode: 33, parleyCode: 'not_found' },
      );
    return channels;
  }

  app.get(
    '/:version/:node/message_templates',
    {
      schema: {
        tags: ['cloud-api'],
        summary:
          'Cloud API template list of a WABA (Meta paging; filters name, status, language, category)',
      },
    },
    async (request) => {
      const params = parse(graphParams, request.params);
      const q = parse(templatesQuery, request.query);
      const channels = await wabaOf(request, params.node);
      const all = await listWabaTemplates(deps, request.workspaceId, channels, {
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.language !== undefined ? { language: q.language } : {}),
        ...(q.category !== undefined ? { category: q.category } : {}),
      });
      const after = offsetOf(q.after);
      const before = offsetOf(q.before);
      const start = after ?? (before !== null ? Math.max(0, before - q.limit) : 0);
      const data = all.slice(start, start + q.limit);
      const end = start + data.length;
      const path = `${deps.publicUrl}/graph/${params.version}/${encodeURIComponent(params.node)}/message_templates`;
      const keep = new URLSearchParams();
      for (const key of ['name', 'status', 'language', 'category', 'fields'] as const)
        if (q[key] !== undefined) keep.set(key, q[key]);
      keep.set('limit', String(q.limit));
      const link = (cursor: 'after' | 'before', offset: number) => {
        const query = new URLSearchParams(keep);
        query.set(cursor, cursorOf(offset));
        return `${path}?${query.toString()}`;
      };
      return {
        data,
        paging: {
          cursors: { before: cursorOf(start), after: cursorOf(end) },
          ...(end < all.length ? { next: link('after', end) } : {}),
          ...(start > 0 ? { previous: link('before', start) } : {}),
        },
      };
    },
  );

  app.post(
    '/:version/:node/message_templates',
    {
      schema: {
        tags: ['cloud-api'],
        summary: 'Cloud API template creation: checked (TPL-1..7) and submitted for review',
      },
    },
    async (request) => {
      const params = parse(graphParams, request.params);
      const [channel] = await wabaOf(request, params.node);
      if (!channel) throw new GraphApiError(100, 'The WhatsApp Business Account has no number');
      const body = parse(
        z
          .object({
            name: z.string(),
            language: z.string(),
            category: z.string(),
            components: z.array(z.unknown()),
            parameter_format: z.string().optional(),
            allow_category_change: z.boolean().optional(),
          })
          .loose(),
        request.body,
      );
      // Meta's creation flag is about Meta's own review; Parley's registry maps categories itself.
      const definition: Record<string, unknown> = { ...body };
      delete definition.allow_category_change;
      return policyGuard(() => createWabaTemplate(deps, request.workspaceId, channel, definition));
    },
  );

  app.delete(
    '/:version/:node/message_templates',
    {
      schema: { tags: ['cloud-api'], summary: 'Cloud API template deletion by name (and hsm_id)' },
    },
    async (request) => {
      const params = parse(graphParams, request.params);
      const q = parse(deleteTemplateQuery, request.query);
      const channels = await wabaOf(request, params.node);
      await policyGuard(() =>
        deleteWabaTemplates(deps, request.workspaceId, channels, {
          name: q.name,
          ...(q.hsm_id !== undefined ? { hsmId: q.hsm_id } : {}),
        }),
      );
      return { success: true };
    },
  );
}

async function formOf(request: FastifyRequest): Promise<FormData> {
  if (!Buffer.isBuffer(request.body))
    throw new GraphApiError(100, 'Upload the file as multipart/form-data with a "file" part', {
      parleyCode: 'unsupported_media_type',
    });
  try {
    // The body is already buffered under the route's limit, so the streaming concern behind the
    // deprecation does not apply; undici's parser saves a multipart dependency.
    const response = new Response(request.body, {
      headers: { 'content-type': request.headers['content-type'] ?? '' },
    });
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    return await response.formData();
  } catch (error) {
    throw new GraphApiError(
      100,
      `The multipart body could not be read: ${error instanceof Error ? error.message : 'malformed'}`,
      { parleyCode: 'invalid_request' },
    );
  }
}
