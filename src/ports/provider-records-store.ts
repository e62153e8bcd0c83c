// What providers tell Parley beyond messages and statuses, kept durably: inbound media copied to
// Parley's own blob store, account-health events (token, quality, limits, pauses), and the
// history of users who changed their number.
import type { InsertResult, Json, Page } from './store.ts';

/** Inbound media types whose bytes Parley downloads (PROVIDERS.md B.4). */
export const MEDIA_MESSAGE_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaMessageType = (typeof MEDIA_MESSAGE_TYPES)[number];

/**
 * `pending`: waiting for (another) download attempt; `stored`: the bytes are in the blob store;
 * `failed`: every attempt failed; `unavailable`: the provider offers no way to download;
 * `erased`: a data-subject request removed the file. Erased is final: no update changes it.
 */
export const MEDIA_STATES = ['pending', 'stored', 'failed', 'unavailable', 'erased'] as const;
export type MediaState = (typeof MEDIA_STATES)[number];

export interface MediaRecord {
  id: string;
  workspaceId: string;
  /** The inbound message the media arrived with. */
  messageId: string;
  /** 0 for the message's (first) media; 1, 2 … for the others it carried (Twilio `MediaUrl{N}`). */
  position: number;
  channelId: string;
  /** The provider's media id (Meta `image.id` …), valid for a limited time. */
  providerMediaId: string;
  state: MediaState;
  /** The MIME type the webhook announced. */
  mimeType: string | null;
  /** The content type of the stored bytes (what the download said, else what was announced). */
  contentType: string | null;
  /** The user's file name (documents). */
  filename: string | null;
  blobKey: string | null;
  size: number | null;
  /** Lower-case hex SHA-256 of the stored bytes. */
  sha256: string | null;
  attempts: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  storedAt: number | null;
}

export type NewMediaRecord = Omit<
  MediaRecord,
  | 'id'
  | 'position'
  | 'state'
  | 'contentType'
  | 'blobKey'
  | 'size'
  | 'sha256'
  | 'attempts'
  | 'error'
  | 'updatedAt'
  | 'storedAt'
> & {
  /** Which of the message's media (default 0, its first). */
  readonly position?: number;
};

export type MediaPatch = Partial<
  Pick<
    MediaRecord,
    'state' | 'contentType' | 'blobKey' | 'size' | 'sha256' | 'attempts' | 'error' | 'storedAt'
  >
>;

export const HEALTH_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type HealthSeverity = (typeof HEALTH_SEVERITIES)[number];

/** One thing a provider reported (or a send revealed) about a connection's or number's health. */
export interface AccountHealthEvent {
  id: string;
  workspaceId: string;
  connectionId: string;
  /** The number it concerns, when it concerns one. */
  channelId: string | null;
  /** What kind of trouble or change (see `HEALTH_KINDS` in app/account-health). */
  kind: string;
  severity: HealthSeverity;
  /** The provider's own code or event name (`190`, `FLAGGED`, `PAUSED` …). */
  code: string | null;
  detail: string;
  /** What to do about it, when something must be done. */
  fix: string | null;
  /** The provider's payload (or the failure) behind it, kept whole. */
  data: Json;
  /** Provider time of the event. */
  at: number;
  recordedAt: number;
}

export type NewAccountHealthEvent = Omit<AccountHealthEvent, 'id' | 'recordedAt'> & {
  /** Events with the same (connection, dedupeKey) are recorded once: re-deliveries change nothing. */
  readonly dedupeKey: string;
};

export interface HealthFilter {
  readonly workspaceId: string;
  readonly connectionId?: string;
  readonly channelId?: string;
  /** With `channelId` and `connectionId`: also the connection's events about no one number. */
  readonly withAccountEvents?: boolean;
  readonly limit: number;
  readonly cursor?: string;
}

/** A user changed their WhatsApp number: the old contact's history now belongs to the new one. */
export interface NumberChangeRecord {
  id: string;
  workspaceId: string;
  fromContactId: string;
  toContactId: string;
  fromWaId: string;
  toWaId: string;
  /** The `system` message that announced it. */
  messageId: string;
  at: number;
  recordedAt: number;
}

/** What moving one contact's history to another changed. */
export interface HistoryMoveCounts {
  readonly messages: number;
  readonly conversations: number;
  readonly windows: number;
}

export interface ProviderRecordsStore {
  media: {
    /**
     * Creates a media row of a message at its position; a (message, position) that has one keeps
     * it (not inserted again).
     */
    create(input: NewMediaRecord): Promise<InsertResult<MediaRecord>>;
    get(id: string): Promise<MediaRecord | null>;
    /** The message's first media (position 0). */
    findByMessage(messageId: string): Promise<MediaRecord | null>;
    /** Every media row of a message, by position. */
    listByMessage(messageId: string): Promise<MediaRecord[]>;
    /** Null when there is no such row or it was erased (an erased row never changes again). */
    update(id: string, patch: MediaPatch, at: number): Promise<MediaRecord | null>;
  };

  health: {
    /** Appends an event unless one with the same (connection, dedupeKey) exists. */
    record(input: NewAccountHealthEvent): Promise<InsertResult<AccountHealthEvent>>;
    /** Newest first (`at`, then id), within one workspace, optionally one connection or number. */
    list(filter: HealthFilter): Promise<Page<AccountHealthEvent>>;
  };

  numberChanges: {
    findByMessage(messageId: string): Promise<NumberChangeRecord | null>;
    record(input: Omit<NumberChangeRecord, 'id' | 'recordedAt'>): Promise<NumberChangeRecord>;
    /** Changes a contact's wa_id in place (the new number has no contact yet). */
    renumberContact(contactId: string, waId: string, at: number): Promise<void>;
    /**
     * Moves every message, conversation and care window of `fromContactId` to `toContactId` (the
     * new number already had a contact). Where both have an open conversation on one number, the
     * old one is closed at `at`; where both have a window on one number, the later inbound wins.
     */
    moveHistory(fromContactId: string, toContactId: string, at: number): Promise<HistoryMoveCounts>;
  };
}
