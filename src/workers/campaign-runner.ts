// The campaign runner: a loop that starts scheduled campaigns and feeds running ones into the
// outbound queue in batches. Several processes may run it against one database: recipients are
// claimed under a lease and each message carries the recipient's idempotency key.
import type { AppDeps } from '../app/deps.ts';
import { nextCampaignWakeAt, runCampaigns, type RunnerOptions } from '../app/run-campaign.ts';

export interface CampaignRunnerOptions extends RunnerOptions {
  /** Longest sleep between passes when nothing is due (other nodes and the CLI start campaigns). */
  readonly idleMs?: number;
  /** Messages were queued: wake the outbound dispatcher. */
  readonly onQueued?: () => void;
}

export class CampaignRunner {
  readonly #deps: AppDeps;
  readonly #options: CampaignRunnerOptions;
  readonly #idleMs: number;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(deps: AppDeps, options: CampaignRunnerOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#idleMs = options.idleMs ?? 1_000;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** A campaign was started or resumed: do not wait for the next tick. */
  wake(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    this.#loop = null;
  }

  /** One pass (tests drive the runner with this and a manual clock); how many were queued. */
  async runOnce(): Promise<number> {
    const handed = await runCampaigns(this.#deps, this.#options);
    if (handed > 0) this.#options.onQueued?.();
    return handed;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const handed = await this.runOnce();
        if (handed > 0) continue; // more batches may be waiting
        const next = await nextCampaignWakeAt(this.#deps);
        const now = this.#deps.clock.now();
        const delay =
          next === null ? this.#idleMs : Math.max(0, Math.min(this.#idleMs, next - now));
        await this.#sleep(delay || 5);
      } catch (error) {
        this.#deps.log.error({ err: error }, 'campaign runner pass failed');
        await this.#sleep(this.#idleMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        this.#wake = null;
        resolve();
      };
      this.#wake = done;
      this.#timer = setTimeout(done, ms);
    });
  }
}
