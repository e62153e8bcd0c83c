// Media the emulator holds in memory: uploads by the business and files simulated users send,
// with Meta's metadata (mime type, sha256, size) and a bounded footprint.
import { createHash, randomBytes } from 'node:crypto';

export interface StoredMedia {
  readonly id: string;
  readonly phoneNumberId: string;
  readonly mimeType: string;
  readonly bytes: Buffer;
  /** Hex SHA-256 of the bytes, as `GET /{media-id}` reports it. */
  readonly sha256: string;
  /** Unguessable part of the download URL (Meta's URLs are signed and short-lived). */
  readonly key: string;
}

/**
 * Media uploads expire after 30 days on Meta's side; the emulator instead forgets the oldest file
 * once `maxBytes` is exceeded, so a long benchmark cannot grow without bound.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
 */
export class EmulatorMedia {
  readonly #files = new Map<string, StoredMedia>();
  readonly #maxBytes: number;
  #bytes = 0;
  #seq = 0;
  readonly #salt = randomBytes(2).readUInt16BE(0);

  constructor(maxBytes = 256 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  add(phoneNumberId: string, mimeType: string, bytes: Buffer): StoredMedia {
    // Meta media ids are 15–16 digit numbers
    const id = String(1_200_000_000_000_000 + this.#salt * 1_000_000_000 + ++this.#seq);
    const media: StoredMedia = {
      id,
      phoneNumberId,
      mimeType,
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      key: randomBytes(12).toString('hex'),
    };
    this.#files.set(id, media);
    this.#bytes += bytes.length;
    while (this.#bytes > this.#maxBytes && this.#files.size > 1) {
      const oldest = this.#files.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    return media;
  }

  get(id: string): StoredMedia | undefined {
    return this.#files.get(id);
  }

  delete(id: string): boolean {
    const media = this.#files.get(id);
    if (!media) return false;
    this.#files.delete(id);
    this.#bytes -= media.bytes.length;
    return true;
  }

  get size(): number {
    return this.#files.size;
  }
}

/** Small but real files for media a simulated user sends (each is a valid file of its type). */
export function placeholderFile(mimeType: string, seed: string): Buffer {
  const base = mimeType.split(';')[0]?.trim() ?? mimeType;
  const tail = Buffer.from(`parley-emulator:${seed}`);
  switch (base) {
    case 'image/jpeg':
      // SOI, a comment segment carrying the seed, EOI
      return Buffer.concat([
        Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, tail.length + 2]),
        tail,
        Buffer.from([0xff, 0xd9]),
      ]);
    case 'application/pdf':
      return Buffer.from(`%PDF-1.4\n% ${seed}\n%%EOF\n`);
    case 'image/webp':
      return Buffer.concat([Buffer.from('RIFF\x00\x00\x00\x00WEBP', 'latin1'), tail]);
    case 'audio/ogg':
      return Buffer.concat([Buffer.from('OggS', 'latin1'), tail]);
    default:
      return tail;
  }
}
