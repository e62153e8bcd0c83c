// Short-lived caches for what every webhook looks up: its connection and the channel of a phone
// number id. They change rarely; a few seconds of staleness across nodes is harmless, and local
// changes evict at once.
import type { Channel, Connection, Store } from '../ports/store.ts';

const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: T;
  until: number;
}

export class Lookups {
  readonly #store: Store;
  readonly #connections = new Map<string, Entry<Connection | null>>();
  readonly #channels = new Map<string, Entry<Channel | null>>();

  constructor(store: Store) {
    this.#store = store;
  }

  connection(id: string): Promise<Connection | null> {
    return this.#cached(this.#connections, id, () => this.#store.connections.get(id));
  }

  channelByProviderKey(connectionId: string, providerKey: string): Promise<Channel | null> {
    return this.#cached(this.#channels, `${connectionId}\n${providerKey}`, () =>
      this.#store.channels.findByProviderKey(connectionId, providerKey),
    );
  }

  /** After a local change to connections or channels. */
  forget(): void {
    this.#connections.clear();
    this.#channels.clear();
  }

  async #cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    // Wall-clock freshness, not the rule clock: this is about caching, not WhatsApp's rules.
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (map.size >= MAX_ENTRIES) map.clear();
    map.set(key, { value, until: now + TTL_MS });
    return value;
  }
}
