// Per-process caches for the send and receive hot paths: a workspace's settings (a few seconds;
// a change made through this process evicts at once) and the implied opt-ins already in the
// ledger (events are never removed, so what is known here stays true).
import type { Store, Workspace } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';

const SETTINGS_TTL_MS = 5_000;
const MAX_ENTRIES = 100_000;

export interface PolicyCache {
  /** The workspace (for its policy settings), at most a few seconds old. */
  workspace(store: Store, workspaceId: string): Promise<Workspace | null>;
  forgetWorkspace(workspaceId: string): void;
  /** When an implied opt-in for this (workspace, number, channel) is known to be recorded. */
  impliedAt(key: string): number | undefined;
  rememberImplied(key: string, at: number): void;
}

/** One cache per running Parley (keyed by its lookups, which live exactly as long). */
const caches = new WeakMap<object, PolicyCache>();

export function policyCache(deps: Pick<AppDeps, 'lookups'>): PolicyCache {
  let cache = caches.get(deps.lookups);
  if (!cache) {
    cache = createPolicyCache();
    caches.set(deps.lookups, cache);
  }
  return cache;
}

function createPolicyCache(): PolicyCache {
  const workspaces = new Map<string, { value: Workspace | null; until: number }>();
  const implied = new Map<string, number>();
  return {
    async workspace(store, workspaceId) {
      // Wall-clock freshness: this is about caching, not WhatsApp's rules.
      const now = Date.now();
      const hit = workspaces.get(workspaceId);
      if (hit && hit.until > now) return hit.value;
      const value = await store.workspaces.get(workspaceId);
      if (workspaces.size >= MAX_ENTRIES) workspaces.clear();
      workspaces.set(workspaceId, { value, until: now + SETTINGS_TTL_MS });
      return value;
    },
    forgetWorkspace(workspaceId) {
      workspaces.delete(workspaceId);
    },
    impliedAt(key) {
      return implied.get(key);
    },
    rememberImplied(key, at) {
      if (implied.size >= MAX_ENTRIES) implied.clear();
      const known = implied.get(key);
      if (known === undefined || at > known) implied.set(key, at);
    },
  };
}
