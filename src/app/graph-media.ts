// Cloud-API-compatible media: uploads kept in Parley's blob store, their metadata and bytes, and
// sending them by id — as a `link` the channel's provider fetches, which every provider supports.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  ANIMATED_STICKER_MAX_BYTES,
  MEDIA_FILE_RULES,
  MEDIA_TYPES,
  checkMediaFile,
  type MediaBody,
  type MediaType,
  type OutboundContent,
  type TemplateBody,
} from '../core/messages.ts';
import type { MediaRecord } from '../ports/provider-records-store.ts';
import type { Channel } from '../ports/store.ts';
import type { UploadRecord } from '../ports/upload-store.ts';
import type { AppDeps } from './deps.ts';
import type { ExtraMedia } from './send-media-group.ts';

/** The largest upload: a document (LIM-6); the other types are checked against their own limit. */
export const UPLOAD_MAX_BYTES = MEDIA_FILE_RULES.document.maxBytes;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The media type a file of this MIME type is sent as (what Meta's upload infers). */
export function mediaTypeOf(mimeType: string): MediaType {
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (base === 'image/webp') return 'sticker';
  for (const type of ['image', 'audio', 'video'] as const)
    if (MEDIA_FILE_RULES[type].mimeTypes?.includes(base)) return type;
  return 'document';
}

/** Why a file was refused: nothing in it, a MIME type WhatsApp does not take, or too big (LIM-6). */
export type UploadProblem = 'empty' | 'unsupported_type' | 'too_large';

export type UploadOutcome =
  | { readonly kind: 'uploaded'; readonly upload: UploadRecord; readonly type: MediaType }
  | { readonly kind: 'invalid'; readonly problem: UploadProblem; readonly detail: string };

/**
 * `POST /{phone-number-id}/media`: LIM-6 checks the file against the type its MIME type makes it
 * (a sticker counted as possibly animated), then the bytes go to the blob store and the record
 * with an unguessable link token to the store.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#upload-media
 */
export async function uploadGraphMedia(
  deps: AppDeps,
  input: {
    readonly workspaceId: string;
    readonly channel: Channel;
    readonly bytes: Buffer;
    readonly mimeType: string;
    readonly filename: string | null;
    /** The type it will be sent as, when the caller says; otherwise what its MIME type makes it. */
    readonly as?: MediaType;
  },
): Promise<UploadOutcome> {
  if (input.bytes.length === 0)
    return { kind: 'invalid', problem: 'empty', detail: 'The uploaded file is empty' };
  const type = input.as ?? mediaTypeOf(input.mimeType);
  // Checked with no bytes first, so a wrong type is told apart from a file that is too big.
  const wrongType = checkMediaFile(type, { mimeType: input.mimeType, bytes: 0 });
  if (wrongType) return { kind: 'invalid', problem: 'unsupported_type', detail: wrongType.detail };
  const refusal = checkMediaFile(type, {
    mimeType: input.mimeType,
    bytes: input.bytes.length,
    animated: true,
  });
  if (refusal) return { kind: 'invalid', problem: 'too_large', detail: refusal.detail };
  const now = deps.clock.now();
  const date = new Date(now);
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const blobKey = `${input.workspaceId}/uploads/${String(date.getUTCFullYear())}/${month}/${randomUUID()}`;
  await deps.blobs.put(blobKey, input.bytes, input.mimeType);
  const upload = await deps.store.uploads.create({
    workspaceId: input.workspaceId,
    channelId: input.channel.id,
    mimeType: input.mimeType,
    filename: input.filename,
    size: input.bytes.length,
    sha256: createHash('sha256').update(input.bytes).digest('hex'),
    blobKey,
    linkToken: randomBytes(32).toString('base64url'),
    createdAt: now,
  });
  return { kind: 'uploaded', upload, type };
}

/** Where a client downloads a media file with its Bearer key (Meta's `url`). */
export const graphFileUrl = (deps: AppDeps, id: string): string =>
  `${deps.publicUrl}/graph/files/${encodeURIComponent(id)}`;

/** The link a provider fetches an upload by: no API key, the upload's token instead. */
export const uploadLink = (deps: AppDeps, upload: UploadRecord): string =>
  `${graphFileUrl(deps, upload.id)}?token=${upload.linkToken}`;

/** The upload a link of `uploadLink` names, or null for any other link. */
export function uploadIdOfLink(deps: AppDeps, link: string): string | null {
  const prefix = `${deps.publicUrl}/graph/files/`;
  if (!link.startsWith(prefix)) return null;
  const id = link.slice(prefix.length).split('?')[0] ?? '';
  return id === '' ? null : decodeURIComponent(id);
}

/** A media id as `GET /{media-id}` knows it: an upload, or inbound media Parley has stored. */
export type GraphMedia =
  | { readonly kind: 'upload'; readonly upload: UploadRecord }
  | { readonly kind: 'inbound'; readonly media: MediaRecord };

export async function findGraphMedia(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<GraphMedia | null> {
  const upload = await deps.store.uploads.get(id);
  if (upload)
    return upload.workspaceId === workspaceId && upload.deletedAt === null
      ? { kind: 'upload', upload }
      : null;
  const media = await deps.store.providerRecords.media.get(id);
  // Pending media is described already (a handler asks as soon as the webhook arrives); its
  // bytes are served once the download has stored them.
  return media?.workspaceId === workspaceId &&
    (media.state === 'stored' || media.state === 'pending')
    ? { kind: 'inbound', media }
    : null;
}

/** Meta's media object: `{messaging_product, url, mime_type, sha256, file_size, id}`. */
export function graphMediaView(deps: AppDeps, found: GraphMedia) {
  const { id, mime, sha256, size } =
    found.kind === 'upload'
      ? {
          id: found.upload.id,
          mime: found.upload.mimeType,
          sha256: found.upload.sha256,
          size: found.upload.size,
        }
      : {
          id: found.media.id,
          mime: found.media.contentType ?? found.media.mimeType ?? 'application/octet-stream',
          sha256: found.media.sha256 ?? '',
          size: found.media.size ?? 0,
        };
  return {
    messaging_product: 'whatsapp' as const,
    url: graphFileUrl(deps, id),
    mime_type: mime,
    sha256,
    file_size: size,
    id,
  };
}

export interface GraphFile {
  readonly data: Buffer;
  readonly contentType: string;
  readonly sha256: string | null;
  readonly filename: string | null;
}

/** The bytes of a media id for the caller's workspace (Bearer), or null. */
export async function readGraphFile(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<GraphFile | null> {
  const found = await findGraphMedia(deps, workspaceId, id);
  if (!found) return null;
  const { blobKey, sha256, filename } = found.kind === 'upload' ? found.upload : found.media;
  if (blobKey === null) return null;
  const blob = await deps.blobs.get(blobKey);
  return blob ? { ...blob, sha256, filename } : null;
}

/** The bytes of an upload for a provider fetching its link (token instead of an API key), or null. */
export async function readLinkedUpload(
  deps: AppDeps,
  id: string,
  token: string,
): Promise<GraphFile | null> {
  const upload = await deps.store.uploads.get(id);
  if (!upload || upload.deletedAt !== null) return null;
  const want = Buffer.from(upload.linkToken);
  const got = Buffer.from(token);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  const blob = await deps.blobs.get(upload.blobKey);
  return blob ? { ...blob, sha256: upload.sha256, filename: upload.filename } : null;
}

/**
 * `DELETE /{media-id}`: the upload's bytes go; its record stays for the messages that named it.
 * Inbound media is not deleted this way (retention and erasure own it).
 */
export async function deleteGraphMedia(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<boolean> {
  const upload = await deps.store.uploads.get(id);
  if (!upload || upload.workspaceId !== workspaceId) return false;
  if (!(await deps.store.uploads.markDeleted(id, deps.clock.now()))) return false;
  await deps.blobs.delete(upload.blobKey);
  return true;
}

/** Upload records removed per statement by retention. */
const EXPIRE_BATCH = 500;

/**
 * Retention: the uploads no message linked to within `retentionMs` of their upload go, bytes and
 * record (Meta keeps an uploaded media id for 30 days too). One a message used is kept, since its
 * link serves the file to the provider and to the transcript for as long as the message exists.
 * Returns how many went.
 */
export async function expireUnusedUploads(deps: AppDeps, retentionMs: number): Promise<number> {
  const before = deps.clock.now() - retentionMs;
  let removed = 0;
  for (;;) {
    const gone = await deps.store.uploads.removeUnused(before, EXPIRE_BATCH);
    // The record goes first: bytes left by a crash here are unreachable, never a dangling link.
    for (const upload of gone)
      if (upload.deletedAt === null) await deps.blobs.delete(upload.blobKey);
    removed += gone.length;
    if (gone.length < EXPIRE_BATCH) return removed;
  }
}

export type ResolvedContent =
  | {
      readonly kind: 'content';
      readonly content: OutboundContent;
      /** The uploads it links to: mark them used (markUploadsUsed) once the request is valid. */
      readonly uploadIds: readonly string[];
    }
  | { readonly kind: 'invalid'; readonly detail: string };

/**
 * Records that a valid request links to these uploads, so retention keeps them; called after
 * every check passed, so a refused request writes nothing. Returns a refusal when one was deleted
 * meanwhile.
 */
export async function markUploadsUsed(
  deps: AppDeps,
  uploadIds: readonly string[],
): Promise<string | null> {
  for (const id of uploadIds)
    if (!(await deps.store.uploads.markUsed(id, deps.clock.now())))
      return `media id ${id} is not a valid media id of this workspace (it was deleted)`;
  return null;
}

const isMediaType = (type: string): type is MediaType =>
  (MEDIA_TYPES as readonly string[]).includes(type);

/**
 * Media sent by id: an id of a Parley upload becomes a link to it (checked against LIM-6 for the
 * type it is sent as); an id of another workspace, or a deleted one, is refused; any other id
 * is the provider's own and goes through untouched. Template header media too.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
 */
export async function resolveUploads(
  deps: AppDeps,
  workspaceId: string,
  content: OutboundContent,
): Promise<ResolvedContent> {
  const uploadIds: string[] = [];
  const resolve = async (
    type: MediaType,
    where: string,
    body: MediaBody,
  ): Promise<MediaBody | string> => {
    if (body.id === undefined) return body;
    const upload = await deps.store.uploads.get(body.id);
    if (!upload) {
      return UUID.test(body.id)
        ? `${where}['id'] ${body.id} is not a valid media id of this workspace`
        : body;
    }
    if (upload.workspaceId !== workspaceId || upload.deletedAt !== null)
      return `${where}['id'] ${body.id} is not a valid media id of this workspace${upload.deletedAt !== null && upload.workspaceId === workspaceId ? ' (it was deleted)' : ''}`;
    const refusal = checkMediaFile(type, {
      mimeType: upload.mimeType,
      bytes: upload.size,
      animated: upload.size <= ANIMATED_STICKER_MAX_BYTES,
    });
    if (refusal) return `${where}: ${refusal.detail}`;
    uploadIds.push(upload.id);
    const rest: MediaBody = { ...body };
    delete rest.id;
    const filename = rest.filename ?? (type === 'document' ? upload.filename : null);
    return { ...rest, link: uploadLink(deps, upload), ...(filename ? { filename } : {}) };
  };

  if (isMediaType(content.type)) {
    const type = content.type;
    const body = (content as Record<string, unknown>)[type] as MediaBody;
    const resolved = await resolve(type, type, body);
    return typeof resolved === 'string'
      ? { kind: 'invalid', detail: resolved }
      : {
          kind: 'content',
          content: { type, [type]: resolved } as OutboundContent,
          uploadIds,
        };
  }
  if (content.type !== 'template') return { kind: 'content', content, uploadIds };
  const template: TemplateBody = content.template;
  const components = [];
  for (const component of template.components ?? []) {
    const parameters = [];
    for (const parameter of component.parameters ?? []) {
      const type = parameter.type;
      const media =
        type === 'image' || type === 'video' || type === 'document' ? parameter[type] : undefined;
      if (media === undefined || (type !== 'image' && type !== 'video' && type !== 'document')) {
        parameters.push(parameter);
        continue;
      }
      const resolved = await resolve(type, `template ${component.type} ${type}`, media);
      if (typeof resolved === 'string') return { kind: 'invalid', detail: resolved };
      parameters.push({ ...parameter, [type]: resolved });
    }
    components.push(component.parameters ? { ...component, parameters } : component);
  }
  return {
    kind: 'content',
    content: {
      type: 'template',
      template: template.components ? { ...template, components } : template,
    },
    uploadIds,
  };
}

/**
 * A media group's extra media (`extraMedia`) with upload ids resolved like the message's own:
 * each is checked as the type it is sent as (its own, or the message's).
 */
export async function resolveExtraUploads(
  deps: AppDeps,
  workspaceId: string,
  messageType: string,
  extras: readonly ExtraMedia[],
): Promise<
  | {
      readonly kind: 'extras';
      readonly extras: ExtraMedia[];
      readonly uploadIds: readonly string[];
    }
  | { readonly kind: 'invalid'; readonly detail: string }
> {
  const resolved: ExtraMedia[] = [];
  const uploadIds: string[] = [];
  for (const [n, extra] of extras.entries()) {
    const { type = messageType, ...media } = extra;
    // Not a media type: the group itself is refused later, naming the message's type.
    if (!isMediaType(type)) return { kind: 'extras', extras: [...extras], uploadIds: [] };
    const outcome = await resolveUploads(deps, workspaceId, {
      type,
      [type]: media,
    } as OutboundContent);
    // The detail names the type where it names the place ("sticker: …", "image['id'] …").
    if (outcome.kind === 'invalid')
      return {
        kind: 'invalid',
        detail: `extraMedia[${String(n)}]${outcome.detail.startsWith(type) ? outcome.detail.slice(type.length) : `: ${outcome.detail}`}`,
      };
    const body = (outcome.content as Record<string, unknown>)[type] as MediaBody;
    resolved.push(extra.type !== undefined ? { ...body, type: extra.type } : body);
    uploadIds.push(...outcome.uploadIds);
  }
  return { kind: 'extras', extras: resolved, uploadIds };
}
