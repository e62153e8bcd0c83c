// The periodic template reconcile (TPL-8): every channel's templates are synced with its
// provider at start and every few minutes, catching what webhooks missed; new channels are
// picked up within seconds. Expired notification dedupe keys (LIM-7) are purged on the way.
import type { Channel } from '../ports/store.ts';
import type { AppDeps } from '../app/deps.ts';
import { syncChannelTemplates, type SyncSummary } from '../app/template-registry.ts';

export interface TemplateSyncOptions {
  /** Full reconcile period (default 15 minutes). */
  readonly everyMs?: number;
  /** How often channels never synced by this process are looked for (default 30 s). */
  readonly newChannelsEveryMs?: number;
}

export class TemplateSync {
  readonly #deps: AppDeps;
  readonly #everyMs: number;
  readonly #newEveryMs: number;
  readonly #synced = new Set<string>();
  readonly #timers: NodeJS.Timeout[] = [];
  #running: Promise<unknown> | null = null;
  #stopped = false;

  constructor(deps: AppDeps, options: TemplateSyncOptions = {}) {
    this.#deps = deps;
    this.#everyMs = options.everyMs ?? 15 * 60_000;
    this.#newEveryMs = options.newChannelsEveryMs ?? 30_000;
  }

  /**
   * Syncs sandbox channels before returning (in-process, instant: the demo's templates then
   * check and render locally from the first send), and every other channel in the background
   * so a slow provider never delays start.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    const channels = await this.#deps.store.channels.listAll();
    const kinds = await Promise.all(channels.map((c) => this.#providerKind(c)));
    const local = channels.filter((_, i) => kinds[i] === 'sandbox');
    const remote = channels.filter((_, i) => kinds[i] !== 'sandbox');
    await this.#syncEach(local);
    this.#track(this.#syncEach(remote));
    this.#every(this.#everyMs, () => this.syncAll());
    this.#every(this.#newEveryMs, () => this.syncNew());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) clearInterval(t);
    while (this.#running) await this.#running;
  }

  /** Reconciles every channel now; one channel's failure is logged and does not stop the rest. */
  async syncAll(): Promise<SyncSummary[]> {
    await this.#deps.store.compliance.notifications.purgeExpired(this.#deps.clock.now());
    return this.#syncEach(await this.#deps.store.channels.listAll());
  }

  /** Channels this process has not synced yet (created since start). */
  async syncNew(): Promise<SyncSummary[]> {
    const channels = await this.#deps.store.channels.listAll();
    return this.#syncEach(channels.filter((c) => !this.#synced.has(c.id)));
  }

  async #providerKind(channel: Channel): Promise<string | null> {
    const connection = await this.#deps.store.connections.get(channel.connectionId);
    return connection?.provider ?? null;
  }

  async #syncEach(channels: readonly Channel[]): Promise<SyncSummary[]> {
    const out: SyncSummary[] = [];
    for (const channel of channels) {
      if (this.#stopped) break;
      try {
        const { summary, events } = await syncChannelTemplates(this.#deps, channel);
        this.#synced.add(channel.id);
        for (const e of events) this.#deps.events.publish(e);
        out.push(summary);
      } catch (error) {
        // Marked synced anyway: the next full reconcile tries again, not every 30 s.
        this.#synced.add(channel.id);
        this.#deps.log.warn(
          { err: error, channelId: channel.id },
          'template sync failed for a channel; the next reconcile retries',
        );
      }
    }
    return out;
  }

  #every(ms: number, work: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      if (this.#stopped || this.#running) return;
      this.#track(work());
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  #track(work: Promise<unknown>): void {
    const running = work
      .catch((error: unknown) => {
        this.#deps.log.error({ err: error }, 'template sync failed');
      })
      .finally(() => {
        if (this.#running === running) this.#running = null;
      });
    this.#running = running;
  }
}
