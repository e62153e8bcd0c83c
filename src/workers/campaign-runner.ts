// The campaign runner: a loop that starts scheduled campaigns and feeds running ones into the
// outbound queue in batches. Several processes may run it against one database: recipients are
// claimed under a lease and each message carries the recipient's idempotency key.
import type { AppDeps } from '../app/deps.ts';
import { nextCampaignWakeAt, runCampaigns, type RunnerOptions } from '../app/run-campaign.ts';
import { LoopWorker } from './worker-loop.ts';

export interface CampaignRunnerOptions extends RunnerOptions {
  /** Longest sleep between passes when nothing is due (other nodes and the CLI start campaigns). */
  readonly idleMs?: number;
  /** Messages were queued: wake the outbound dispatcher. */
  readonly onQueued?: () => void;
}

export class CampaignRunner extends LoopWorker {
  readonly #deps: AppDeps;
  readonly #options: CampaignRunnerOptions;
  readonly #idleMs: number;

  constructor(deps: AppDeps, options: CampaignRunnerOptions) {
    super('campaign runner', deps.log, options.idleMs ?? 1_000);
    this.#deps = deps;
    this.#options = options;
    this.#idleMs = options.idleMs ?? 1_000;
  }

  /** One pass (tests drive the runner with this and a manual clock); how many were queued. */
  async runOnce(): Promise<number> {
    const handed = await runCampaigns(this.#deps, this.#options);
    if (handed > 0) this.#options.onQueued?.();
    return handed;
  }

  protected async pass(): Promise<number> {
    const handed = await this.runOnce();
    if (handed > 0) return 0; // more batches may be waiting
    const next = await nextCampaignWakeAt(this.#deps);
    const now = this.#deps.clock.now();
    const delay = next === null ? this.#idleMs : Math.max(0, Math.min(this.#idleMs, next - now));
    return delay || 5;
  }
}
