// Live domain events inside one process (and, with Redis, across nodes): inbox updates, webhooks out.
export const EVENT_TYPES = [
  'message.received',
  'message.status',
  'message.failed',
  'conversation.created',
  'conversation.assigned',
  'conversation.closed',
  /** Reopened, snoozed, woken, labelled, read, a note or a parked reply (`data.change`). */
  'conversation.updated',
  'window.closing',
  'window.closed',
  'consent.changed',
  'template.status',
  'campaign.progress',
  'billing.threshold',
  'account.health',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface DomainEvent {
  readonly type: EventType;
  readonly workspaceId: string;
  readonly at: number;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface SubscribeOptions {
  /**
   * Only events published by this process. Durable side effects (the cost ledger, consent and
   * health signals) subscribe so: with several nodes each event is then handled once, by the
   * node where it happened. Live views (the inbox stream) hear every node.
   */
  readonly localOnly?: boolean;
}

export interface EventBus {
  publish(event: DomainEvent): void;
  /** Returns a function that unsubscribes. */
  subscribe(handler: (event: DomainEvent) => void, options?: SubscribeOptions): () => void;
}
