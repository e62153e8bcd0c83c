// Downloads queued inbound media into the blob store: claims due jobs of the media queue, a few
// at a time, and sleeps until the next retry is due or new media is announced. Once an hour it
// also deletes the uploads no message used past their retention.
import type { BlobStore } from '../ports/blob-store.ts';
import { expireUnusedUploads } from '../app/graph-media.ts';
import { downloadMedia, MEDIA_QUEUE, type MediaJob } from '../app/media.ts';
import type { AppDeps } from '../app/deps.ts';
import { LoopWorker } from './worker-loop.ts';

export interface MediaDownloaderOptions {
  readonly worker: string;
  /** Downloads at once (each may hold a file of up to 100 MB in memory). */
  readonly concurrency?: number;
  readonly leaseMs?: number;
  /** Longest sleep when nothing is due (other nodes may enqueue). */
  readonly idleMs?: number;
  /** Uploads no message used are deleted this long after their upload (default 30 days). */
  readonly uploadRetentionMs?: number;
}

const EXPIRE_EVERY_MS = 60 * 60_000;

export class MediaDownloader extends LoopWorker {
  readonly #deps: AppDeps;
  readonly #blobs: BlobStore;
  readonly #worker: string;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #idleMs: number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #uploadRetentionMs: number;
  #lastExpiry = -Infinity;

  constructor(deps: AppDeps, blobs: BlobStore, options: MediaDownloaderOptions) {
    super('media downloader', deps.log, options.idleMs ?? 5_000);
    this.#deps = deps;
    this.#blobs = blobs;
    this.#worker = options.worker;
    this.#concurrency = options.concurrency ?? 4;
    this.#leaseMs = options.leaseMs ?? 10 * 60_000;
    this.#idleMs = options.idleMs ?? 5_000;
    this.#uploadRetentionMs = options.uploadRetentionMs ?? 30 * 86_400_000;
  }

  /** Deletes the uploads no message used past their retention; returns how many. */
  async expireUploads(): Promise<number> {
    return expireUnusedUploads(this.#deps, this.#uploadRetentionMs);
  }

  /** No new claims; downloads under way finish (their jobs stay leased otherwise, then expire). */
  override async stop(): Promise<void> {
    await super.stop();
    await this.idle();
  }

  /** Resolves when every download started so far has finished. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /**
   * One pass: claims what is due and downloads it, awaiting every download (also those the
   * background loop started). Returns how many jobs it claimed. Tests drive it with a manual clock.
   */
  async runOnce(): Promise<number> {
    const claimed = await this.#claim();
    await this.idle();
    return claimed;
  }

  async #claim(): Promise<number> {
    const room = this.#concurrency - this.#inFlight.size;
    if (room <= 0) return 0;
    const jobs = await this.#deps.store.jobs.claim<MediaJob>(MEDIA_QUEUE, {
      now: this.#deps.clock.now(),
      limit: room,
      leaseMs: this.#leaseMs,
      worker: this.#worker,
    });
    for (const job of jobs) {
      const work = downloadMedia(this.#deps, this.#blobs, job)
        .then(() => undefined)
        .catch(async (error: unknown) => {
          // A bug or the blob store failing: keep the job for a later attempt, never lose it.
          this.#deps.log.error({ err: error, jobId: job.id }, 'media download failed');
          const at = this.#deps.clock.now() + 60_000;
          await this.#deps.store.jobs
            .retry(job.id, at, error instanceof Error ? error.message : String(error))
            .catch(() => undefined);
        })
        .finally(() => this.#inFlight.delete(work));
      this.#inFlight.add(work);
    }
    return jobs.length;
  }

  protected async pass(): Promise<number> {
    const now = this.#deps.clock.now();
    if (now - this.#lastExpiry >= EXPIRE_EVERY_MS) {
      this.#lastExpiry = now;
      await this.expireUploads();
    }
    await this.#claim();
    if (this.#inFlight.size >= this.#concurrency) {
      await Promise.race(this.#inFlight);
      return 0;
    }
    const next = await this.#deps.store.jobs.nextRunAt(MEDIA_QUEUE);
    return next === null
      ? this.#idleMs
      : Math.min(this.#idleMs, Math.max(0, next - this.#deps.clock.now()));
  }
}
