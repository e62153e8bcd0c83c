// Inbound media Parley copied into its own blob store: `GET /v1/media/{id}` within the caller's workspace.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { readMedia } from '../../app/media.ts';
import { ApiProblem } from '../problem.ts';
import { idParams } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';

/** A file name safe inside a quoted Content-Disposition parameter (RFC 6266 with an RFC 5987 twin). */
function disposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function registerMediaRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;

  api.get(
    '/media/:id',
    {
      schema: {
        tags: ['messages'],
        summary:
          "The bytes of an inbound media file, with its content type (the message's content.media names the id)",
        params: idParams,
      },
    },
    async (request, reply) => {
      const file = await readMedia(deps, deps.blobs, request.workspaceId, request.params.id);
      if (file.kind === 'missing')
        throw new ApiProblem('not_found', `No media ${request.params.id} in this workspace`);
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
      reply
        .header('content-type', file.contentType)
        .header('content-length', String(file.data.length))
        .header('cache-control', 'private, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff');
      if (file.media.sha256) reply.header('etag', `"${file.media.sha256}"`);
      if (file.media.filename)
        reply.header('content-disposition', disposition(file.media.filename));
      return reply.send(file.data);
    },
  );
}
