// Sends stored media bytes with the headers every download route shares.
import type { FastifyReply } from 'fastify';

export interface FileToSend {
  readonly data: Buffer;
  readonly contentType: string;
  readonly sha256: string | null;
  /** Named in Content-Disposition when given. */
  readonly filename?: string | null;
}

/** A file name safe inside a quoted Content-Disposition parameter (RFC 6266 with an RFC 5987 twin). */
function disposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Sends the bytes with their type, length, ETag and the given caching; never sniffed. */
export function sendFile(
  reply: FastifyReply,
  file: FileToSend,
  cacheControl = 'private, max-age=300',
): FastifyReply {
  reply
    .header('content-type', file.contentType)
    .header('content-length', String(file.data.length))
    .header('cache-control', cacheControl)
    .header('x-content-type-options', 'nosniff');
  if (file.sha256) reply.header('etag', `"${file.sha256}"`);
  if (file.filename) reply.header('content-disposition', disposition(file.filename));
  return reply.send(file.data);
}
