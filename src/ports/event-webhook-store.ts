// Outbound event webhooks, kept durably: the event log, subscriber endpoints, one delivery row
// per (endpoint, event) with its retry state, and the cursors of the window-event scheduler.
import type { EventType } from './event-bus.ts';
import type { CareWindowRecord, JsonObject, Page } from './store.ts';

/** One domain event as recorded once, with the id subscribers see in `Parley-Event-Id`. */
export interface StoredEvent {
  id: string;
  workspaceId: string;
  type: EventType;
  /** Events with the same key (a conversation) reach each endpoint in recording order; null: unordered. */
  orderingKey: string | null;
  /** When it happened (the publisher's time). */
  at: number;
  /** When Parley recorded it: replay ranges and retention use this time. */
  recordedAt: number;
  data: JsonObject;
}

export type NewStoredEvent = Omit<StoredEvent, 'id'>;

export interface WebhookEndpoint {
  id: string;
  workspaceId: string;
  url: string;
  description: string;
  /** Event types sent to the endpoint; empty means every type. */
  eventTypes: EventType[];
  /** Body shape and signature scheme ('parley' by default; see app/event-formats.ts). */
  format: string;
  /** The signing secret, sealed with PARLEY_SECRET_KEY. */
  secretSealed: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** `pending`: waiting for (another) attempt; `delivered`: a 2xx answered; `dead`: gave up. */
export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryRecord {
  id: string;
  workspaceId: string;
  endpointId: string;
  eventId: string;
  eventType: EventType;
  orderingKey: string | null;
  state: DeliveryState;
  attempts: number;
  /**
   * When the next attempt is due. Null for a finished delivery, and for a pending one waiting
   * for an earlier delivery of its conversation to the same endpoint to finish.
   */
  nextAttemptAt: number | null;
  /** Retries stop at this time: the delivery is then dead-lettered. */
  deadline: number;
  lastAttemptAt: number | null;
  /** HTTP status of the last answer, null when there was none (network error, timeout). */
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  /** A delivery created by a replay rather than when the event was recorded. */
  replay: boolean;
  createdAt: number;
}

export interface EndpointInput {
  workspaceId: string;
  url: string;
  description: string;
  eventTypes: EventType[];
  format: string;
  secretSealed: string;
  enabled: boolean;
  at: number;
}

export type EndpointPatch = Partial<
  Pick<
    WebhookEndpoint,
    'url' | 'description' | 'eventTypes' | 'format' | 'secretSealed' | 'enabled'
  >
>;

export interface DeliveryClaim {
  readonly now: number;
  readonly limit: number;
  /** Leased to `worker` until now + leaseMs; an expired lease (a crashed node) makes it due again. */
  readonly leaseMs: number;
  readonly worker: string;
}

export interface AttemptOutcome {
  readonly worker: string;
  readonly at: number;
  readonly status: number | null;
  readonly error: string | null;
  /** For a failure: the next attempt, or null to dead-letter. */
  readonly nextAttemptAt?: number | null;
}

/** A care window whose 24 hours end in a scanned range (window.closing / window.closed). */
export interface EndingWindow extends CareWindowRecord {
  workspaceId: string;
  endsAt: number;
}

export interface EventWebhookStore {
  endpoints: {
    create(input: EndpointInput): Promise<WebhookEndpoint>;
    /** Scoped to the workspace: another workspace's endpoint is not found. */
    get(workspaceId: string, id: string): Promise<WebhookEndpoint | null>;
    list(workspaceId: string): Promise<WebhookEndpoint[]>;
    update(
      workspaceId: string,
      id: string,
      patch: EndpointPatch,
      at: number,
    ): Promise<WebhookEndpoint | null>;
    /** Removes the endpoint and its delivery log. */
    delete(workspaceId: string, id: string): Promise<boolean>;
  };

  events: {
    /**
     * Records events (in the order given) and, in the same transaction, one pending delivery per
     * enabled endpoint of the event's workspace whose filter takes the event type.
     */
    record(events: readonly NewStoredEvent[], deadlineMs: number): Promise<StoredEvent[]>;
    get(workspaceId: string, id: string): Promise<StoredEvent | null>;
    /** The events with these ids (of any workspace: callers hold ids from scoped deliveries). */
    getMany(ids: readonly string[]): Promise<StoredEvent[]>;
    /** Recording order. At most `limit` of the workspace's events recorded in [from, to). */
    listRecorded(input: {
      workspaceId: string;
      from: number;
      to: number;
      types?: readonly EventType[];
      limit: number;
    }): Promise<StoredEvent[]>;
    /**
     * Erasure: deletes the workspace's events whose data names the contact (its id or its
     * number) and their deliveries, so the event log keeps nothing about the person.
     */
    eraseContact(input: { workspaceId: string; contactId: string; waId: string }): Promise<number>;
    /** Deletes events recorded before `before` whose deliveries are all finished; returns how many. */
    purge(before: number, limit: number): Promise<number>;
  };

  deliveries: {
    /** New pending deliveries of stored events to one endpoint, in the order given (replay). */
    enqueue(input: {
      endpoint: WebhookEndpoint;
      events: readonly StoredEvent[];
      at: number;
      deadline: number;
    }): Promise<DeliveryRecord[]>;
    /**
     * Leases up to `limit` due pending deliveries of enabled endpoints, oldest first. A delivery
     * waits while an earlier pending delivery of the same (endpoint, ordering key) exists.
     */
    claim(options: DeliveryClaim): Promise<DeliveryRecord[]>;
    /** Records an attempt that got a 2xx; false if the lease was lost. */
    delivered(id: string, outcome: AttemptOutcome): Promise<boolean>;
    /** Records a failed attempt: retried at `nextAttemptAt`, or dead when it is null. */
    failed(id: string, outcome: AttemptOutcome): Promise<boolean>;
    get(workspaceId: string, id: string): Promise<DeliveryRecord | null>;
    /** Newest first. */
    list(input: {
      workspaceId: string;
      endpointId: string;
      state?: DeliveryState;
      limit: number;
      cursor?: string;
    }): Promise<Page<DeliveryRecord>>;
    /**
     * Gives a due time (`now`) to the first pending delivery of each (endpoint, key) that has
     * none. Finishing a delivery already does this for the next one; this sweep repairs the
     * rare interleaving (PostgreSQL, read committed) where a delivery recorded concurrently
     * with its predecessor's finish was left waiting. Returns how many it woke.
     */
    wakeWaiting(now: number): Promise<number>;
    /** Earliest due time among claimable-later deliveries not leased at `now` (the worker's sleep). */
    nextDueAt(now: number): Promise<number | null>;
  };

  schedules: {
    get(name: string): Promise<number | null>;
    /**
     * Moves a scheduler cursor from `expected` (null: not set yet) to `next`; false when another
     * node moved it first, so each range is scanned by one node only.
     */
    advance(name: string, expected: number | null, next: number): Promise<boolean>;
    /** Care windows (never proven closed) whose 24 h end in (after, upTo], by end time. */
    windowsEnding(
      after: number,
      upTo: number,
      windowMs: number,
      limit: number,
    ): Promise<EndingWindow[]>;
  };
}

/** What one HTTP attempt to a subscriber came to. */
export type WebhookSendResult =
  | { readonly kind: 'answered'; readonly status: number; readonly durationMs: number }
  | { readonly kind: 'error'; readonly error: string; readonly durationMs: number };

/** Posts a signed event to a subscriber URL (an HTTP client adapter). */
export interface WebhookSender {
  send(
    url: string,
    request: { readonly body: string; readonly headers: Readonly<Record<string, string>> },
    timeoutMs: number,
  ): Promise<WebhookSendResult>;
}
