// The store port: every durable fact Parley keeps. One contract, two dialects (SQLite, PostgreSQL).
// Records use integer milliseconds for time and plain JSON-able values for nested data.
import type { MessageStatus, ProviderStatus } from '../core/message-status.ts';
import type { ReasonCode } from '../core/reason-codes.ts';
import type { ProviderKind } from './provider.ts';
import type { JobQueue } from './job-queue.ts';
import type { ComplianceStore } from './compliance-store.ts';
import type { ProviderRecordsStore } from './provider-records-store.ts';
import type { BillingRepository } from './billing-store.ts';
import type { AutomationStore } from './automation-store.ts';
import type { UploadStore } from './upload-store.ts';
import type { EventWebhookStore } from './event-webhook-store.ts';
import type { InboxStore } from './inbox-store.ts';
import type { CampaignStore } from './campaign-store.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const CHANNEL_ENVIRONMENTS = ['production', 'staging', 'test'] as const;
export type ChannelEnvironment = (typeof CHANNEL_ENVIRONMENTS)[number];

export interface Workspace {
  id: string;
  name: string;
  settings: JsonObject;
  createdAt: number;
}

export interface ApiKey {
  id: string;
  workspaceId: string;
  name: string;
  /** First characters of the key, shown to tell keys apart; never enough to use it. */
  prefix: string;
  /** SHA-256 hex of the whole key. */
  keyHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface Connection {
  id: string;
  workspaceId: string;
  provider: ProviderKind;
  name: string;
  /** Non-secret settings (base URL, API version, phone number ids …). */
  config: JsonObject;
  /** Secrets encrypted with PARLEY_SECRET_KEY (app-level envelope, opaque to the store). */
  secretsEncrypted: string;
  createdAt: number;
  updatedAt: number;
}

export interface Channel {
  id: string;
  workspaceId: string;
  connectionId: string;
  /** The provider's id for the number (Meta phone_number_id, Twilio `whatsapp:+…`). Unique per connection. */
  providerKey: string;
  /** E.164 digits. */
  phoneNumber: string;
  wabaId: string | null;
  name: string;
  /** LIM-1 throughput tier, messages per second. */
  throughputMps: number;
  environment: ChannelEnvironment;
  /** Outside production, only these wa_ids may receive messages. */
  allowList: string[];
  createdAt: number;
}

export interface Contact {
  id: string;
  workspaceId: string;
  /** Digits of the E.164 number. Unique per workspace. */
  waId: string;
  name: string | null;
  /** Business-scoped user id (2026 payloads). */
  userId: string | null;
  attributes: JsonObject;
  tags: string[];
  createdAt: number;
  updatedAt: number;
}

/** CSW state for one (channel, contact) pair. */
export interface CareWindowRecord {
  channelId: string;
  contactId: string;
  lastInboundAt: number | null;
  closedAt: number | null;
}

export const CONVERSATION_STATES = ['open', 'closed'] as const;
export type ConversationState = (typeof CONVERSATION_STATES)[number];

export interface Conversation {
  id: string;
  workspaceId: string;
  channelId: string;
  contactId: string;
  state: ConversationState;
  assigneeId: string | null;
  createdAt: number;
  lastMessageAt: number;
  closedAt: number | null;
}

export type Direction = 'inbound' | 'outbound';

export interface MessageRecord {
  id: string;
  workspaceId: string;
  channelId: string;
  contactId: string;
  conversationId: string | null;
  direction: Direction;
  /** Cloud API message type (`text`, `image`, `template` …). */
  type: string;
  /** The type's own object (outbound: as sent; inbound: as received). */
  content: Json;
  /** Rendered text for transcripts (TPL-12 for templates). */
  text: string | null;
  status: MessageStatus;
  reason: ReasonCode | null;
  reasonDetail: string | null;
  providerMessageId: string | null;
  /** The provider's error kept verbatim (code, title, details). */
  providerError: Json;
  idempotencyKey: string | null;
  replyTo: string | null;
  /** Provider time for inbound; request time for outbound. */
  createdAt: number;
  updatedAt: number;
  /** Set durably just before the provider is called; with no provider id after a crash, the fate is unknown. */
  dispatchedAt: number | null;
  sentAt: number | null;
  deliveredAt: number | null;
  readAt: number | null;
  failedAt: number | null;
  /** Outcome unknown after a crash mid-dispatch: never resent blindly. */
  needsReview: boolean;
}

export interface StatusEventRecord {
  id: string;
  messageId: string;
  status: ProviderStatus;
  at: number;
  providerCode: string | null;
  raw: Json;
  receivedAt: number;
}

export const WEBHOOK_STATES = ['received', 'processed', 'unrouted', 'failed'] as const;
export type WebhookState = (typeof WEBHOOK_STATES)[number];

/** The raw durable log of every received webhook: stored before it is acknowledged. */
export interface WebhookRecord {
  id: string;
  connectionId: string;
  provider: ProviderKind;
  receivedAt: number;
  headers: Record<string, string>;
  /** The exact bytes received. */
  body: Buffer;
  url: string;
  state: WebhookState;
  error: string | null;
  processedAt: number | null;
}

export interface IdempotencyRecord {
  workspaceId: string;
  key: string;
  /** Hash of the request body: the same key with another body is a conflict. */
  requestHash: string;
  messageId: string;
  createdAt: number;
  expiresAt: number;
}

export interface TemplateRecord {
  id: string;
  workspaceId: string;
  /** The WABA or channel scope the template lives in (provider templates are per WABA). */
  channelId: string | null;
  name: string;
  language: string;
  category: string;
  status: string;
  parameterFormat: string;
  components: Json;
  providerTemplateId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, or null at the end. */
  nextCursor: string | null;
}

export interface ConversationFilter {
  workspaceId: string;
  channelId?: string;
  contactId?: string;
  state?: ConversationState;
  assigneeId?: string | null;
  limit: number;
  cursor?: string;
}

export type NewMessage = Omit<MessageRecord, 'id' | 'updatedAt'>;

/** Outcome of inserting something that may already exist (provider retries, idempotent APIs). */
export type InsertResult<T> = { inserted: true; record: T } | { inserted: false; record: T };

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `work` in one database transaction; everything it writes commits or none of it does. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;

  workspaces: {
    create(input: { name: string; settings?: JsonObject }): Promise<Workspace>;
    get(id: string): Promise<Workspace | null>;
    list(): Promise<Workspace[]>;
    count(): Promise<number>;
  };

  apiKeys: {
    create(input: {
      workspaceId: string;
      name: string;
      prefix: string;
      keyHash: string;
    }): Promise<ApiKey>;
    findByHash(keyHash: string): Promise<ApiKey | null>;
    list(workspaceId: string): Promise<ApiKey[]>;
    revoke(workspaceId: string, id: string, at: number): Promise<boolean>;
  };

  connections: {
    create(input: Omit<Connection, 'id' | 'createdAt' | 'updatedAt'>): Promise<Connection>;
    get(id: string): Promise<Connection | null>;
    list(workspaceId: string): Promise<Connection[]>;
    update(
      id: string,
      patch: Partial<Pick<Connection, 'name' | 'config' | 'secretsEncrypted'>>,
    ): Promise<Connection | null>;
    delete(workspaceId: string, id: string): Promise<boolean>;
  };

  channels: {
    create(input: Omit<Channel, 'id' | 'createdAt'>): Promise<Channel>;
    get(id: string): Promise<Channel | null>;
    list(workspaceId: string): Promise<Channel[]>;
    /** Every channel of every workspace (the dispatcher and the sandbox need them all). */
    listAll(): Promise<Channel[]>;
    findByProviderKey(connectionId: string, providerKey: string): Promise<Channel | null>;
    update(
      id: string,
      patch: Partial<Pick<Channel, 'name' | 'throughputMps' | 'environment' | 'allowList'>>,
    ): Promise<Channel | null>;
  };

  contacts: {
    /** Inserts or refreshes name/userId (only when given) for (workspace, waId). */
    upsert(input: {
      workspaceId: string;
      waId: string;
      name?: string | null;
      userId?: string | null;
      at: number;
    }): Promise<Contact>;
    get(id: string): Promise<Contact | null>;
    findByWaId(workspaceId: string, waId: string): Promise<Contact | null>;
    /** Replaces the given fields (attributes and tags whole) and bumps updatedAt. */
    update(
      id: string,
      patch: Partial<Pick<Contact, 'name' | 'attributes' | 'tags'>>,
      at: number,
    ): Promise<Contact | null>;
    list(input: {
      workspaceId: string;
      limit: number;
      cursor?: string;
      search?: string;
    }): Promise<Page<Contact>>;
    count(workspaceId: string): Promise<number>;
  };

  windows: {
    get(channelId: string, contactId: string): Promise<CareWindowRecord | null>;
    put(record: CareWindowRecord): Promise<void>;
  };

  conversations: {
    findOpen(channelId: string, contactId: string): Promise<Conversation | null>;
    create(input: {
      workspaceId: string;
      channelId: string;
      contactId: string;
      at: number;
    }): Promise<Conversation>;
    /**
     * In one statement: the open conversation moved forward to `at` (never back), or a new one
     * opened at `at` when none is open (`inserted`).
     */
    openOrTouch(input: {
      workspaceId: string;
      channelId: string;
      contactId: string;
      at: number;
    }): Promise<InsertResult<Conversation>>;
    get(id: string): Promise<Conversation | null>;
    list(filter: ConversationFilter): Promise<Page<Conversation>>;
    touch(id: string, at: number): Promise<void>;
    update(
      id: string,
      patch: Partial<Pick<Conversation, 'state' | 'assigneeId' | 'closedAt'>>,
    ): Promise<Conversation | null>;
  };

  messages: {
    /** Inserts a message; an inbound one whose (channel, providerMessageId) exists is not inserted again (STA-2). */
    insert(input: NewMessage): Promise<InsertResult<MessageRecord>>;
    get(id: string): Promise<MessageRecord | null>;
    findByProviderId(channelId: string, providerMessageId: string): Promise<MessageRecord | null>;
    /** Writes the given fields and bumps updatedAt. */
    update(
      id: string,
      patch: Partial<
        Omit<
          MessageRecord,
          'id' | 'workspaceId' | 'channelId' | 'contactId' | 'direction' | 'createdAt'
        >
      >,
      at: number,
    ): Promise<MessageRecord | null>;
    /** Transcript order: createdAt then id. */
    listByConversation(
      conversationId: string,
      input: { limit: number; cursor?: string },
    ): Promise<Page<MessageRecord>>;
    /** Outbound messages dispatched but never confirmed (crash recovery). */
    listDispatchedUnconfirmed(before: number, limit: number): Promise<MessageRecord[]>;
    /**
     * Outbound messages still waiting to be handed to a provider (pending, never dispatched, not
     * flagged) and created before `before`, in id order after `afterId`: each should have a queued
     * job, which a sweep re-offers idempotently in case a shared queue lost it.
     */
    listUndispatched(
      before: number,
      afterId: string | null,
      limit: number,
    ): Promise<MessageRecord[]>;
    /**
     * Compare-and-set before a send: marks a pending outbound message that was never dispatched
     * and is not flagged as being handed to the provider at `at`. Null when it was not in that
     * state — another node holding the same job got there first, or an earlier attempt did —
     * so of any number of workers at most one sends it.
     */
    claimDispatch(id: string, at: number): Promise<MessageRecord | null>;
  };

  statusEvents: {
    /** Stores one status event; (messageId, status) already present means a re-delivery: not inserted (STA-2). */
    insert(input: Omit<StatusEventRecord, 'id'>): Promise<InsertResult<StatusEventRecord>>;
    list(messageId: string): Promise<StatusEventRecord[]>;
  };

  webhooks: {
    insert(
      input: Omit<WebhookRecord, 'id' | 'state' | 'error' | 'processedAt'>,
    ): Promise<WebhookRecord>;
    get(id: string): Promise<WebhookRecord | null>;
    /** Oldest first: webhooks stored but not yet processed. */
    listPending(limit: number): Promise<WebhookRecord[]>;
    /** Several ids: one statement for a processed batch. */
    mark(
      id: string | readonly string[],
      state: Exclude<WebhookState, 'received'>,
      at: number,
      error?: string | null,
    ): Promise<void>;
    countByState(state: WebhookState): Promise<number>;
  };

  idempotency: {
    get(workspaceId: string, key: string, now: number): Promise<IdempotencyRecord | null>;
    /** Inserts; false if a live record for (workspace, key) exists already. */
    put(record: IdempotencyRecord): Promise<boolean>;
    purgeExpired(now: number): Promise<number>;
  };

  templates: {
    upsert(
      input: Omit<TemplateRecord, 'id' | 'createdAt' | 'updatedAt'> & { at: number },
    ): Promise<TemplateRecord>;
    find(
      workspaceId: string,
      name: string,
      language: string,
      channelId?: string | null,
    ): Promise<TemplateRecord | null>;
    list(workspaceId: string): Promise<TemplateRecord[]>;
  };

  /** The local durable job queue (outbound dispatch, retries) kept in the same database. */
  jobs: JobQueue;

  /** Consent ledger, template lifecycle, notification dedupe, policy settings, erasure. */
  compliance: ComplianceStore;

  /** Inbound media downloads, account-health events, number changes (what providers report). */
  providerRecords: ProviderRecordsStore;

  /** The cost ledger: usage log with ratings, month counters, WABA accounts, rate cards. */
  billing: BillingRepository;

  /** Chatbot flows, their runs, handled inbound messages and business calendars. */
  automations: AutomationStore;

  /** Media uploaded to be sent by id (the Cloud-API-compatible endpoint). */
  uploads: UploadStore;

  /** Outbound event webhooks: event log, endpoints, deliveries, window-event scheduler cursors. */
  eventWebhooks: EventWebhookStore;
  /** Agents, sessions, departments and the inbox's own conversation fields, notes, parked replies. */
  inbox: InboxStore;

  /** Campaigns and their recipients; who was reached (LIM-3) and marketing history (LIM-4). */
  outreach: CampaignStore;
}
