// Inbound media (PROVIDERS.md B.4): provider media URLs expire, so the bytes are copied into
// Parley's own blob store right away — queued durably with the message, downloaded with retries
// and backoff — and the message records where they are, their size and SHA-256.
import { createHash } from 'node:crypto';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Job } from '../ports/job-queue.ts';
import {
  MEDIA_MESSAGE_TYPES,
  type MediaRecord,
  type MediaState,
} from '../ports/provider-records-store.ts';
import type { Json, MessageRecord, Store } from '../ports/store.ts';
import { backoffDelay } from './deliver-outbound.ts';
import type { AppDeps } from './deps.ts';

export const MEDIA_QUEUE = 'media';
/** Attempts before a download is given up: with backoff they span about four minutes. */
export const MEDIA_MAX_ATTEMPTS = 8;

export interface MediaJob {
  readonly mediaId: string;
}

export type MediaOutcome = 'stored' | 'retry' | 'failed' | 'unavailable' | 'skipped';

export function isMediaType(type: string): boolean {
  return (MEDIA_MESSAGE_TYPES as readonly string[]).includes(type);
}

/** The public address of a stored media file. */
export const mediaUrl = (id: string): string => `/v1/media/${id}`;

/** What a message's content says about its media copy (`content.media`). */
export function mediaSummary(media: MediaRecord): Json {
  return {
    id: media.id,
    state: media.state,
    url: mediaUrl(media.id),
    contentType: media.contentType ?? media.mimeType,
    filename: media.filename,
    size: media.size,
    sha256: media.sha256,
    ...(media.error !== null && media.state !== 'stored' ? { error: media.error } : {}),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

interface MediaItem {
  readonly providerMediaId: string;
  readonly mimeType: string | null;
  readonly filename: string | null;
}

/**
 * The media an inbound message's content names: its own (`id`), then any others it carried in
 * `media` (Twilio's `MediaUrl1…`; an entry's `id`, else its `url`, is the provider's handle).
 */
function mediaItems(own: Record<string, unknown>): MediaItem[] {
  const first = str(own.id);
  if (first === null) return [];
  const items: MediaItem[] = [
    { providerMediaId: first, mimeType: str(own.mime_type), filename: str(own.filename) },
  ];
  const listed = Array.isArray(own.media) ? (own.media as unknown[]) : [];
  for (const entry of listed) {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const handle = str(e.id) ?? str(e.url);
    if (handle === null || handle === first) continue;
    items.push({ providerMediaId: handle, mimeType: str(e.mime_type), filename: str(e.filename) });
  }
  return items;
}

/**
 * Inside the transaction that stores an inbound media message: a media row and a durable
 * download job for each media it carried, so a crash after the webhook is processed cannot lose
 * any. The message's content points at the copies from the start (`content.media`, and
 * `content.extraMedia` for the second and later, state `pending`). Returns every media row by
 * position (none for a message without media).
 */
export async function queueMediaDownload(
  deps: AppDeps,
  tx: Store,
  message: MessageRecord,
  content: unknown,
): Promise<MediaRecord[]> {
  if (message.direction !== 'inbound' || !isMediaType(message.type)) return [];
  const own = (typeof content === 'object' && content !== null ? content : {}) as Record<
    string,
    unknown
  >;
  const items = mediaItems(own);
  if (items.length === 0) return [];
  const now = deps.clock.now();
  const rows: MediaRecord[] = [];
  let inserted = false;
  for (const [position, item] of items.entries()) {
    const created = await tx.providerRecords.media.create({
      workspaceId: message.workspaceId,
      messageId: message.id,
      position,
      channelId: message.channelId,
      ...item,
      createdAt: now,
    });
    rows.push(created.record);
    if (!created.inserted) continue;
    inserted = true;
    await tx.jobs.enqueue(MEDIA_QUEUE, { mediaId: created.record.id } satisfies MediaJob, {
      id: `media:${created.record.id}`,
      key: message.channelId,
      runAt: now,
    });
  }
  if (inserted) await writeSummaries(tx, message, rows, now);
  return rows;
}

/**
 * Writes `content.media` (the first media) and, when the message carried more, `content.extraMedia`
 * (the others, by position) on the message, its other content untouched.
 */
async function writeSummaries(
  store: Store,
  message: MessageRecord,
  rows: readonly MediaRecord[],
  at: number,
): Promise<void> {
  const [first, ...others] = rows;
  if (!first) return;
  const content = message.content;
  const base =
    typeof content === 'object' && content !== null && !Array.isArray(content)
      ? content
      : { content };
  const next: Record<string, Json> = { ...base, media: mediaSummary(first) };
  if (others.length > 0) next.extraMedia = others.map(mediaSummary);
  await store.messages.update(message.id, { content: next }, at);
}

/**
 * Re-reads the message's media rows (one of them just changed) and writes their summaries. Two
 * media of one message may finish at once: reading the rows again after the write catches a
 * summary written from a read that came before the other's change, and writes it again.
 */
async function pointMessageAt(store: Store, message: MessageRecord, at: number): Promise<void> {
  const summaries = (rows: readonly MediaRecord[]): string =>
    JSON.stringify(rows.map(mediaSummary));
  let rows = await store.providerRecords.media.listByMessage(message.id);
  for (let pass = 0; pass < 3; pass++) {
    await writeSummaries(store, message, rows, at);
    if (rows.length < 2) return;
    const again = await store.providerRecords.media.listByMessage(message.id);
    if (summaries(again) === summaries(rows)) return;
    rows = again;
  }
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'video/3gpp': '.3gp',
  'audio/ogg': '.ogg',
  'audio/mpeg': '.mp3',
  'audio/aac': '.aac',
  'audio/amr': '.amr',
  'audio/mp4': '.m4a',
  'application/pdf': '.pdf',
  'text/plain': '.txt',
};

/** `<workspace>/<yyyy>/<mm>/<media id><ext>`: one folder per workspace, months apart for retention. */
export function blobKeyFor(media: MediaRecord, contentType: string): string {
  const date = new Date(media.createdAt);
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const base = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const fromName = /\.([A-Za-z0-9]{1,8})$/.exec(media.filename ?? '')?.[0]?.toLowerCase();
  const ext = EXTENSIONS[base] ?? fromName ?? '';
  return `${media.workspaceId}/${String(date.getUTCFullYear())}/${month}/${media.id}${ext}`;
}

/** Whether a failed download is worth trying again (the port's `retryable`, else by reason). */
function retryable(error: unknown): boolean {
  const e = error as { retryable?: unknown; failure?: { reason?: unknown } } | null;
  if (typeof e?.retryable === 'boolean') return e.retryable;
  const reason = e?.failure?.reason;
  return reason !== 'auth' && reason !== 'invalid_request';
}

function retryAfter(error: unknown): number | undefined {
  const ms = (error as { failure?: { retryAfterMs?: unknown } } | null)?.failure?.retryAfterMs;
  return typeof ms === 'number' ? ms : undefined;
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

async function finish(
  deps: AppDeps,
  media: MediaRecord,
  patch: { state: MediaState; attempts: number; error: string | null },
): Promise<MediaRecord> {
  const now = deps.clock.now();
  const updated = await deps.store.providerRecords.media.update(media.id, patch, now);
  if (!updated) return { ...media, state: 'erased' };
  const message = await deps.store.messages.get(media.messageId);
  if (message) await pointMessageAt(deps.store, message, now);
  return updated;
}

/**
 * One download attempt for a queued media job: the bytes go to the blob store under their
 * content type, the media row and the message record key, size and SHA-256. A transient failure
 * is retried with exponential backoff; after MEDIA_MAX_ATTEMPTS, or a failure retrying cannot
 * fix, the media is `failed` (the job is kept as dead with its error).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#download-media
 */
export async function downloadMedia(
  deps: AppDeps,
  blobs: BlobStore,
  job: Job<MediaJob>,
): Promise<MediaOutcome> {
  const { store } = deps;
  const media = await store.providerRecords.media.get(job.payload.mediaId);
  if (!media || media.state === 'stored' || media.state === 'erased') {
    await store.jobs.complete(job.id);
    return 'skipped';
  }
  const channel = await store.channels.get(media.channelId);
  const connection = channel ? await store.connections.get(channel.connectionId) : null;
  if (!connection) {
    const error = 'the channel or its connection no longer exists';
    await finish(deps, media, { state: 'failed', attempts: media.attempts, error });
    await store.jobs.fail(job.id, error);
    return 'failed';
  }
  const provider = deps.providers.forConnection(connection);
  if (!provider.downloadMedia) {
    const error = `${connection.provider} connections offer no media download`;
    await finish(deps, media, { state: 'unavailable', attempts: media.attempts, error });
    await store.jobs.complete(job.id);
    return 'unavailable';
  }
  const attempts = media.attempts + 1;
  let downloaded;
  try {
    downloaded = await provider.downloadMedia(media.providerMediaId);
  } catch (error) {
    const detail = messageOf(error);
    const now = deps.clock.now();
    if (retryable(error) && attempts < MEDIA_MAX_ATTEMPTS) {
      await store.providerRecords.media.update(media.id, { attempts, error: detail }, now);
      await store.jobs.retry(job.id, now + backoffDelay(attempts - 1, retryAfter(error)), detail);
      return 'retry';
    }
    await finish(deps, media, { state: 'failed', attempts, error: detail });
    await store.jobs.fail(job.id, detail);
    deps.log.warn({ mediaId: media.id, attempts }, 'inbound media could not be downloaded');
    return 'failed';
  }
  const contentType = downloaded.mimeType ?? media.mimeType ?? 'application/octet-stream';
  const key = blobKeyFor(media, contentType);
  await blobs.put(key, downloaded.bytes, contentType);
  const now = deps.clock.now();
  const stored = await store.providerRecords.media.update(
    media.id,
    {
      state: 'stored',
      attempts,
      error: null,
      blobKey: key,
      size: downloaded.bytes.length,
      sha256: createHash('sha256').update(downloaded.bytes).digest('hex'),
      contentType,
      storedAt: now,
    },
    now,
  );
  if (!stored) {
    // Erased while downloading: the copy just written must not outlive the request.
    await blobs.delete(key);
    await store.jobs.complete(job.id);
    return 'skipped';
  }
  const message = await store.messages.get(media.messageId);
  if (message) await pointMessageAt(store, message, now);
  await store.jobs.complete(job.id);
  return 'stored';
}

/** A stored media file of the caller's workspace, or why there is none. */
export type MediaFile =
  | {
      readonly kind: 'file';
      readonly media: MediaRecord;
      readonly data: Buffer;
      readonly contentType: string;
    }
  | { readonly kind: 'missing' }
  | { readonly kind: 'not_stored'; readonly media: MediaRecord };

export async function readMedia(
  deps: AppDeps,
  blobs: BlobStore,
  workspaceId: string,
  id: string,
): Promise<MediaFile> {
  const media = await deps.store.providerRecords.media.get(id);
  if (!media || media.workspaceId !== workspaceId) return { kind: 'missing' };
  if (media.state !== 'stored' || media.blobKey === null) return { kind: 'not_stored', media };
  const blob = await blobs.get(media.blobKey);
  if (!blob)
    return {
      kind: 'not_stored',
      media: { ...media, state: 'failed', error: 'the stored file is gone' },
    };
  return { kind: 'file', media, data: blob.data, contentType: blob.contentType };
}
