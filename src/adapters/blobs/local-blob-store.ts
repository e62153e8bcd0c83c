// BlobStore on the local disk: downloaded media under `PARLEY_DATA_DIR/media`, content type kept.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { BlobStore } from '../../ports/blob-store.ts';

/**
 * A key is one or more `/`-separated segments of letters, digits, `.`, `_` and `-`, each starting
 * with a letter or digit: no `..`, no absolute paths, no hidden files, so a key can never leave
 * the root nor collide with the `.meta` folder where content types live.
 */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const MAX_KEY_LENGTH = 512;
const META_DIR = '.meta';
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
}

export interface LocalBlobStore extends BlobStore {
  /** The folder every blob lives under. */
  readonly root: string;
  /** Removes a blob and its content type; false when there was none. */
  delete(key: string): Promise<boolean>;
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(key))
    throw new InvalidBlobKeyError(
      `blob key ${JSON.stringify(key.slice(0, 80))} is not allowed: use 1-${MAX_KEY_LENGTH} characters of segments of letters, digits, ".", "_" and "-" separated by "/", each starting with a letter or digit`,
    );
}

/** Writes through a temporary file and a rename, so a reader never sees half a blob. */
async function writeAtomically(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.partial`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * A BlobStore keeping each blob as a file under `root` (created on first write) and its content
 * type beside it in `root/.meta/<key>.json`. The content type is written first, so a blob that can
 * be read always has its type. Writing a key again replaces the blob.
 */
export function createLocalBlobStore(root: string): LocalBlobStore {
  const base = resolve(root);
  const dataPath = (key: string): string => {
    checkKey(key);
    const path = join(base, ...key.split('/'));
    // Belt and braces: the pattern already forbids anything that could climb out of the root.
    if (!path.startsWith(base + sep)) throw new InvalidBlobKeyError(`blob key ${key} escapes`);
    return path;
  };
  const metaPath = (key: string): string => join(base, META_DIR, ...`${key}.json`.split('/'));

  return {
    root: base,
    async put(key, data, contentType) {
      const path = dataPath(key);
      await writeAtomically(metaPath(key), JSON.stringify({ contentType, size: data.length }));
      await writeAtomically(path, data);
    },
    async get(key) {
      const data = await readIfPresent(dataPath(key));
      if (data === null) return null;
      const meta = await readIfPresent(metaPath(key));
      let contentType = FALLBACK_CONTENT_TYPE;
      if (meta) {
        try {
          const parsed = JSON.parse(meta.toString('utf8')) as { contentType?: unknown };
          if (typeof parsed.contentType === 'string' && parsed.contentType !== '')
            contentType = parsed.contentType;
        } catch {
          // A damaged sidecar loses only the type, never the bytes.
        }
      }
      return { data, contentType };
    },
    async delete(key) {
      const path = dataPath(key);
      const existed = (await readIfPresent(path)) !== null;
      await rm(path, { force: true });
      await rm(metaPath(key), { force: true });
      return existed;
    },
  };
}
