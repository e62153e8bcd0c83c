// Inbound media of Twilio messages: fetched with the account's credentials (only from Twilio's
// own API host) and kept in Parley's blob store, because Twilio's copies may be deleted.
import type { InboundMessage } from '../../../core/inbound.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import type { MediaDownload } from '../../../ports/provider.ts';

/** One media item of an inbound message, stored. */
export interface StoredMedia {
  readonly key: string;
  readonly url: string;
  readonly contentType: string;
  readonly size: number;
}

/** The media URLs of a normalised inbound message (several when Twilio's NumMedia > 1). */
export function mediaOf(message: InboundMessage): Array<{ url: string; mimeType?: string }> {
  const content = (message.content ?? {}) as Record<string, unknown>;
  const list = Array.isArray(content.media) ? (content.media as unknown[]) : [content];
  const out: Array<{ url: string; mimeType?: string }> = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    const url = typeof record.url === 'string' ? record.url : undefined;
    if (url === undefined) continue;
    const mimeType = typeof record.mime_type === 'string' ? record.mime_type : undefined;
    out.push(mimeType === undefined ? { url } : { url, mimeType });
  }
  return out;
}

/** Where an inbound message's n-th media item lives in the blob store. */
export function mediaBlobKey(providerMessageId: string, index: number): string {
  return `twilio/${providerMessageId.replace(/[^A-Za-z0-9._-]/g, '_')}/${index}`;
}

/**
 * Downloads every media item of an inbound Twilio message into the blob store, under keys that
 * depend only on the message id (a repeated webhook rewrites the same blobs, never new ones).
 * @see https://www.twilio.com/docs/messaging/api/media-resource#fetch-a-media-resource
 */
export async function saveInboundMedia(
  download: (url: string) => Promise<MediaDownload>,
  blobs: BlobStore,
  message: InboundMessage,
): Promise<StoredMedia[]> {
  const stored: StoredMedia[] = [];
  const items = mediaOf(message);
  for (const [index, item] of items.entries()) {
    const media = await download(item.url);
    const key = mediaBlobKey(message.providerMessageId, index);
    const contentType = media.mimeType ?? item.mimeType ?? 'application/octet-stream';
    await blobs.put(key, media.bytes, contentType);
    stored.push({ key, url: item.url, contentType, size: media.bytes.length });
  }
  return stored;
}
