// Media over /v1: `POST /v1/media` uploads a file to send by id (the composer's attachments), and
// `GET /v1/media/{id}` serves inbound media Parley copied, or an upload, within the caller's workspace.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MEDIA_TYPES } from '../../core/messages.ts';
import { readMedia } from '../../app/media.ts';
import {
  UPLOAD_MAX_BYTES,
  readGraphFile,
  uploadGraphMedia,
  type UploadProblem,
} from '../../app/graph-media.ts';
import { ApiProblem } from '../problem.ts';
import { sendFile } from '../send-file.ts';
import { idParams } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';

/** Room for the multipart framing around the largest file (a 100 MB document, LIM-6). */
const UPLOAD_BODY_LIMIT = UPLOAD_MAX_BYTES + 1024 * 1024;

const uploadQuery = z.object({
  channelId: z
    .string()
    .min(1)
    .max(100)
    .describe('The channel (business number) it will be sent from'),
  type: z
    .enum(MEDIA_TYPES)
    .optional()
    .describe('The message type it will be sent as; by default what its MIME type makes it'),
});

const CODE_BY_PROBLEM: Readonly<Record<UploadProblem, string>> = {
  empty: 'invalid_request',
  unsupported_type: 'unsupported_media_type',
  too_large: 'payload_too_large',
};

interface UploadedFile {
  readonly bytes: Buffer;
  readonly mimeType: string;
  readonly filename: string | null;
}

/** A name from `X-Filename` (percent-encoded) or a form part, trimmed to what a record keeps. */
function cleanName(name: string | null | undefined): string | null {
  if (!name || name === 'blob') return null;
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // Not percent-encoded: the name as sent.
  }
  const base = decoded.split(/[\\/]/).pop()?.trim() ?? '';
  return base === '' ? null : base.slice(0, 240);
}

/**
 * The file of an upload: a multipart form with a `file` part (curl -F file=@…), or the raw bytes
 * with the file's own Content-Type and an optional `X-Filename` (what the inbox sends).
 */
async function fileOf(request: FastifyRequest): Promise<UploadedFile> {
  const contentType = request.headers['content-type'] ?? '';
  if (!Buffer.isBuffer(request.body) || contentType === '')
    throw new ApiProblem(
      'unsupported_media_type',
      'Send the file\'s bytes with its own Content-Type (e.g. image/jpeg), or a multipart/form-data body with a "file" part',
    );
  if (!/^multipart\/form-data/i.test(contentType)) {
    const header = request.headers['x-filename'];
    return {
      bytes: request.body,
      mimeType: contentType,
      filename: cleanName(typeof header === 'string' ? header : null),
    };
  }
  let form: FormData;
  try {
    // Buffered under the route's limit already, so undici's parser saves a multipart dependency.
    const response = new Response(request.body, { headers: { 'content-type': contentType } });
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    form = await response.formData();
  } catch (error) {
    throw new ApiProblem(
      'invalid_request',
      `The multipart body could not be read: ${error instanceof Error ? error.message : 'malformed'}`,
    );
  }
  const file = form.get('file');
  if (!(file instanceof Blob))
    throw new ApiProblem('invalid_request', 'The form has no "file" part with the media file');
  const typeField = form.get('mimeType');
  const mimeType = typeof typeField === 'string' && typeField !== '' ? typeField : file.type;
  if (mimeType === '')
    throw new ApiProblem('unsupported_media_type', 'The "file" part has no Content-Type');
  return {
    bytes: Buffer.from(await file.arrayBuffer()),
    mimeType,
    filename: cleanName(file instanceof File ? file.name : null),
  };
}

export function registerMediaRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;

  // Its own scope: every Content-Type is a file here, and only here.
  void app.register((uploads, _opts, done) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: UPLOAD_BODY_LIMIT },
      (_request, body, parsed) => {
        parsed(null, body);
      },
    );
    uploads.withTypeProvider<ZodTypeProvider>().post(
      '/media',
      {
        bodyLimit: UPLOAD_BODY_LIMIT,
        schema: {
          tags: ['messages'],
          summary:
            'Upload a file to send by its id (image, video, audio, document or sticker; LIM-6 limits)',
          querystring: uploadQuery,
        },
      },
      async (request, reply) => {
        const channel = await deps.store.channels.get(request.query.channelId);
        if (!channel || channel.workspaceId !== request.workspaceId)
          throw new ApiProblem(
            'not_found',
            `No channel ${request.query.channelId} in this workspace`,
          );
        const file = await fileOf(request);
        const outcome = await uploadGraphMedia(deps, {
          workspaceId: request.workspaceId,
          channel,
          bytes: file.bytes,
          mimeType: file.mimeType,
          filename: file.filename,
          ...(request.query.type !== undefined ? { as: request.query.type } : {}),
        });
        if (outcome.kind === 'invalid')
          throw new ApiProblem(CODE_BY_PROBLEM[outcome.problem], outcome.detail, {
            mimeType: file.mimeType,
            size: file.bytes.length,
          });
        const u = outcome.upload;
        return reply.status(201).send({
          id: u.id,
          type: outcome.type,
          mimeType: u.mimeType,
          filename: u.filename,
          size: u.size,
          sha256: u.sha256,
          url: `/v1/media/${u.id}`,
        });
      },
    );
    done();
  });

  api.get(
    '/media/:id',
    {
      schema: {
        tags: ['messages'],
        summary:
          "The bytes of a media file: inbound media (the message's content.media names the id) or an upload",
        params: idParams,
      },
    },
    async (request, reply) => {
      const file = await readMedia(deps, deps.blobs, request.workspaceId, request.params.id);
      if (file.kind === 'missing') {
        // Not inbound media: an upload of this workspace (what the transcript shows for a send).
        const upload = await readGraphFile(deps, request.workspaceId, request.params.id);
        if (!upload)
          throw new ApiProblem('not_found', `No media ${request.params.id} in this workspace`);
        return sendFile(reply, upload);
      }
      if (file.kind === 'not_stored') {
        const m = file.media;
        throw new ApiProblem(
          m.state === 'pending' ? 'media_pending' : 'media_unavailable',
          m.state === 'pending'
            ? `Media ${m.id} is still being downloaded from the provider (${String(m.attempts)} attempt(s) so far)`
            : `Media ${m.id} could not be stored: ${m.error ?? m.state}`,
          { state: m.state, attempts: m.attempts },
        );
      }
      // Inbound media never changes once stored.
      return sendFile(
        reply,
        {
          data: file.data,
          contentType: file.contentType,
          sha256: file.media.sha256,
          filename: file.media.filename,
        },
        'private, max-age=31536000, immutable',
      );
    },
  );
}
