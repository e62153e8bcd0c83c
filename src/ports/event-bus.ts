// Live domain events inside one process (and, with Redis, across nodes): inbox updates, webhooks out.
export const EVENT_TYPES = [
  'message.received',
  'message.status',
  'message.failed',
  'conversation.created',
  'conversation.assigned',
  'conversation.closed',
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

export interface EventBus {
  publish(event: DomainEvent): void;
  /** Returns a function that unsubscribes. */
  subscribe(handler: (event: DomainEvent) => void): () => void;
}
