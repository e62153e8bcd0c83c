// Live events inside one process; a subscriber's error never reaches the publisher.
import type { DomainEvent, EventBus } from '../../ports/event-bus.ts';
import type { Logger } from '../../ports/logger.ts';

export function createInProcessEventBus(log?: Logger): EventBus {
  const handlers = new Set<(event: DomainEvent) => void>();
  return {
    publish(event) {
      for (const handler of handlers) {
        try {
          handler(event);
        } catch (error) {
          log?.error({ err: error, type: event.type }, 'event subscriber failed');
        }
      }
    },
    // Everything published here is local: `localOnly` changes nothing in one process.
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
}
