// The store records that prove what Parley did: the append-only consent ledger (OPT-1..8), each
// template's lifecycle and edit history (TPL-8/9), notification dedupe keys (LIM-7), the
// workspace's policy settings, and data-subject erasure.
import type { ConsentEvent, ConsentEvidence } from '../core/consent/events.ts';
import type { Json, JsonObject, Page, TemplateRecord, Workspace } from './store.ts';

/** A ledger event as stored: the core event plus where it belongs. */
export interface ConsentEventRecord extends ConsentEvent {
  readonly workspaceId: string;
  /** The contact row it was recorded for, when there was one. */
  readonly contactId: string | null;
  /**
   * Keyed hash of the contact's wa_id: how the ledger is read, and what survives erasure (the
   * `contact` field is then replaced by it).
   */
  readonly phoneHash: string;
  /** When Parley wrote it (`at` is when consent was given or withdrawn). */
  readonly recordedAt: number;
}

/** What erasure writes over one ledger event: the number and personal evidence, hashed. */
export interface ConsentRedaction {
  readonly id: string;
  readonly contact: string;
  readonly evidence: ConsentEvidence;
}

/** A template's lifecycle (the core `TemplateState`, kept as JSON) and when it last changed. */
export interface TemplateLifecycleRecord {
  readonly templateId: string;
  readonly state: Json;
  readonly updatedAt: number;
}

/** LIM-7: the first notification sent for a dedupe key, suppressing repeats until `expiresAt`. */
export interface NotificationDedupeRecord {
  readonly workspaceId: string;
  readonly keyHash: string;
  readonly messageId: string;
  readonly sentAt: number;
  readonly expiresAt: number;
}

export type DedupeClaim =
  { readonly won: true } | { readonly won: false; readonly existing: NotificationDedupeRecord };

/** What erasing one contact changed. */
export interface ErasureCounts {
  readonly messages: number;
  readonly webhooks: number;
  /** Media rows marked erased. */
  readonly media: number;
  /** Cost-ledger rows whose number was replaced. */
  readonly usageEvents: number;
}

export interface ComplianceStore {
  consent: {
    /** Appends events; an id already stored is left as it is (a replayed signal changes nothing). */
    append(events: readonly Omit<ConsentEventRecord, 'recordedAt'>[], at: number): Promise<number>;
    /** One person's ledger in a workspace, oldest first (`at`, then id). */
    listByPhoneHash(workspaceId: string, phoneHash: string): Promise<ConsentEventRecord[]>;
    /** The workspace's whole ledger, oldest first, in pages. */
    listByWorkspace(
      workspaceId: string,
      input: { limit: number; cursor?: string },
    ): Promise<Page<ConsentEventRecord>>;
    /** Erasure only: replaces the number and personal evidence of these events in place. */
    redact(workspaceId: string, redactions: readonly ConsentRedaction[]): Promise<number>;
  };

  templates: {
    get(id: string): Promise<TemplateRecord | null>;
    /** Removes a template with its lifecycle and edit history. */
    delete(workspaceId: string, id: string): Promise<boolean>;
    getLifecycle(templateId: string): Promise<TemplateLifecycleRecord | null>;
    putLifecycle(record: TemplateLifecycleRecord): Promise<void>;
    /** TPL-9: one edit of a submitted template. */
    recordEdit(templateId: string, at: number): Promise<void>;
    /** TPL-9: instants of earlier edits, oldest first. */
    listEdits(templateId: string): Promise<number[]>;
  };

  notifications: {
    /** The live record for a key (expiresAt > now), if any. */
    find(
      workspaceId: string,
      keyHash: string,
      now: number,
    ): Promise<NotificationDedupeRecord | null>;
    /**
     * Records `record` as the first send of its key unless a live one exists (expiresAt > its
     * sentAt), atomically: of two concurrent claims exactly one wins.
     */
    claim(record: NotificationDedupeRecord): Promise<DedupeClaim>;
    purgeExpired(now: number): Promise<number>;
  };

  workspaceSettings: {
    /** Merges `patch` into the workspace's settings, top-level keys replaced. */
    update(workspaceId: string, patch: JsonObject): Promise<Workspace | null>;
  };

  erasure: {
    /**
     * Erases a contact's personal data and message content: the contact's number becomes
     * `replacementWaId` and its name, user id, attributes and tags are cleared; its messages keep
     * their metadata (status, times, reason) but lose content and text, and the number is cut from
     * their reason details and raw status payloads; processed raw webhooks that mention the
     * number lose their body; its media rows become `erased` (see `mediaFilesLeft`); cost-ledger rows and number-change records carry `replacementWaId` instead of the
     * number, so costs still add up without naming the person.
     */
    eraseContact(input: {
      readonly workspaceId: string;
      readonly contactId: string;
      readonly waId: string;
      readonly replacementWaId: string;
      readonly at: number;
    }): Promise<ErasureCounts>;
    /**
     * Erased media whose file is still in the blob store: the caller deletes each file after the
     * erasure commits and then calls `mediaFileDeleted`, so an interrupted erasure can be resumed.
     */
    mediaFilesLeft(
      workspaceId: string,
      contactId: string,
    ): Promise<{ readonly id: string; readonly blobKey: string }[]>;
    mediaFileDeleted(id: string): Promise<void>;
  };
}
