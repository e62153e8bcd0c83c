// Live events across nodes: each event is handled at once in the process that published it, and
// fanned out over Redis pub/sub to every other node's subscribers (except local-only ones).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DomainEvent, EventBus } from '../../ports/event-bus.ts';
import type { Logger } from '../../ports/logger.ts';

interface Envelope {
  readonly origin: string;
  readonly event: DomainEvent;
}

export interface RedisEventBus extends EventBus {
  /** Resolves once the subscription to other nodes' events is active. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `publisher` is a shared connection; `subscriber` must be a connection of its own, since a
 * Redis connection in subscribe mode can issue no other command.
 * Pub/sub is at most once: a node that is down misses the live events of that time. That is
 * acceptable because nothing durable depends on it — durable effects subscribe local-only,
 * and a reconnecting inbox reloads from the API.
 */
export function createRedisEventBus(
  publisher: Redis,
  subscriber: Redis,
  options: { readonly channel?: string; readonly log?: Logger } = {},
): RedisEventBus {
  const channel = options.channel ?? 'parley:events';
  const origin = randomUUID();
  const handlers = new Map<(event: DomainEvent) => void, { localOnly: boolean }>();
  const log = options.log;
  const deliver = (event: DomainEvent, remote: boolean): void => {
    for (const [handler, { localOnly }] of handlers) {
      if (remote && localOnly) continue;
      try {
        handler(event);
      } catch (error) {
        log?.error({ err: error, type: event.type }, 'event subscriber failed');
      }
    }
  };
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch (error) {
      log?.warn({ err: error }, 'unreadable event from another node ignored');
      return;
    }
    if (envelope.origin !== origin) deliver(envelope.event, true);
  });
  const subscribed = subscriber.subscribe(channel).then(() => undefined);
  subscribed.catch((error: unknown) =>
    log?.error({ err: error }, 'could not subscribe to other nodes’ events'),
  );
  return {
    publish(event) {
      deliver(event, false);
      const envelope: Envelope = { origin, event };
      publisher.publish(channel, JSON.stringify(envelope)).catch((error: unknown) => {
        log?.warn({ err: error, type: event.type }, 'event not fanned out to other nodes');
      });
    },
    subscribe(handler, subscribeOptions) {
      handlers.set(handler, { localOnly: subscribeOptions?.localOnly === true });
      return () => handlers.delete(handler);
    },
    ready: () => subscribed,
    async close() {
      handlers.clear();
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
