// Records every domain event published on this node, once, in the durable event log, with one
// pending delivery per subscribed endpoint. Events are batched: while one write is in flight the
// next ones gather, so a burst costs a few transactions rather than one per event.
import type { DomainEvent } from '../ports/event-bus.ts';
import type { NewStoredEvent } from '../ports/event-webhook-store.ts';
import type { JsonObject } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';

export interface EventRecorder {
  /** Waits until every event heard so far is recorded (or given up on). */
  idle(): Promise<void>;
  /** Stops listening; events already heard are still written. */
  stop(): Promise<void>;
}

export interface EventRecorderOptions {
  /** Retries stop this long after an event was recorded. */
  readonly giveUpAfterMs: number;
  /** Called after a batch with deliveries may have been written (wakes the delivery worker). */
  readonly onRecorded?: () => void;
  /** Events per transaction. */
  readonly batchSize?: number;
  /** Events kept in memory while the database is unreachable; beyond it the oldest are dropped. */
  readonly maxBuffered?: number;
  /** Pause before writing a failed batch again. */
  readonly retryMs?: number;
}

/** Events about one conversation are delivered in order; others carry no ordering key. */
export function orderingKeyOf(event: DomainEvent): string | null {
  const id = event.data.conversationId;
  return typeof id === 'string' && id !== '' ? `conversation:${id}` : null;
}

function toStored(event: DomainEvent, recordedAt: number): NewStoredEvent {
  return {
    workspaceId: event.workspaceId,
    type: event.type,
    orderingKey: orderingKeyOf(event),
    at: event.at,
    recordedAt,
    // A round trip through JSON keeps exactly what the body will carry (no undefined, no Dates).
    data: JSON.parse(JSON.stringify(event.data) ?? '{}') as JsonObject,
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function startEventRecorder(deps: AppDeps, options: EventRecorderOptions): EventRecorder {
  const batchSize = options.batchSize ?? 500;
  const maxBuffered = options.maxBuffered ?? 100_000;
  const retryMs = options.retryMs ?? 1_000;
  let buffer: NewStoredEvent[] = [];
  let writing: Promise<void> | null = null;
  let stopped = false;

  const write = async (): Promise<void> => {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      try {
        await deps.store.eventWebhooks.events.record(batch, options.giveUpAfterMs);
        buffer = buffer.slice(batch.length);
        options.onRecorded?.();
      } catch (error) {
        deps.log.error({ err: error, pending: buffer.length }, 'cannot record events; retrying');
        if (stopped) {
          deps.log.error({ lost: buffer.length }, 'events not recorded at shutdown');
          buffer = [];
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  };

  const kick = (): void => {
    if (writing) return;
    // Start on the next turn of the event loop, not now: SQLite answers synchronously, so a
    // write begun at the first event would finish before the next one is heard and every event
    // would cost a transaction of its own. One turn gathers what the current I/O phase publishes.
    writing = nextTurn()
      .then(write)
      .finally(() => {
        writing = null;
        if (buffer.length > 0 && !stopped) kick();
      });
  };

  const unsubscribe = deps.events.subscribe(
    (event) => {
      buffer.push(toStored(event, deps.clock.now()));
      if (buffer.length > maxBuffered) {
        const dropped = buffer.length - maxBuffered;
        buffer = buffer.slice(dropped);
        deps.log.error({ dropped }, 'event buffer full: oldest events dropped');
      }
      kick();
    },
    { localOnly: true },
  );

  const idle = async (): Promise<void> => {
    while (writing) await writing;
  };

  return {
    idle,
    async stop() {
      unsubscribe();
      stopped = true;
      await idle();
      if (buffer.length > 0) await write();
    },
  };
}
