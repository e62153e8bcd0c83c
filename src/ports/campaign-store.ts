// The store records of campaigns (definition, state, recipients claimed under a lease) and of the
// outbound limits that remember who was reached (LIM-3 reach, LIM-4 marketing history).
import type {
  CampaignState,
  PauseReason,
  RecipientOutcome,
  RecipientState,
} from '../core/campaigns.ts';
import type { MarketingHistory, ReachState } from '../core/outbound-limits.ts';
import type { Json, JsonObject, MessageRecord, Page } from './store.ts';

export interface CampaignTemplate {
  readonly name: string;
  readonly language: string;
  /** Components shared by every recipient (a recipient's own components win). */
  readonly components: Json;
}

export interface CampaignRecord {
  readonly id: string;
  readonly workspaceId: string;
  readonly channelId: string;
  readonly name: string;
  readonly template: CampaignTemplate;
  /** The template's category when it was created (`marketing` …), null when unknown locally. */
  readonly category: string | null;
  readonly state: CampaignState;
  readonly pauseReason: PauseReason | null;
  readonly pauseDetail: string | null;
  /** Schedule: not before this instant. */
  readonly startAt: number | null;
  /** LIM-3: the messaging limit was reached; the runner tries again at this instant. */
  readonly deferredUntil: number | null;
  /** How the audience was chosen (filter or file summary), for the record. */
  readonly audience: JsonObject;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

export interface NewRecipient {
  /** Position in the audience (1-based), unique in the campaign. */
  readonly seq: number;
  readonly waId: string;
  /** This recipient's template components, or null for the campaign's. */
  readonly components: Json;
  readonly state: 'pending' | 'skipped';
  readonly reason: string | null;
  readonly detail: string | null;
}

export interface RecipientRecord extends Omit<NewRecipient, 'state'> {
  readonly campaignId: string;
  readonly state: RecipientState;
  readonly messageId: string | null;
  readonly updatedAt: number;
}

/** A recipient with the outcome its message reached. */
export interface RecipientResult {
  readonly seq: number;
  readonly waId: string;
  readonly outcome: RecipientOutcome;
  readonly reason: string | null;
  readonly detail: string | null;
  readonly messageId: string | null;
  readonly updatedAt: number;
}

export interface CampaignProgress {
  readonly total: number;
  readonly byOutcome: Readonly<Record<RecipientOutcome, number>>;
  /** Skipped and failed recipients by reason. */
  readonly skippedByReason: Readonly<Record<string, number>>;
  readonly failedByReason: Readonly<Record<string, number>>;
}

/** A recipient about to be priced: its number and its care window with the campaign's channel. */
export interface EstimateRow {
  readonly waId: string;
  readonly lastInboundAt: number | null;
  readonly closedAt: number | null;
}

export type CampaignPatch = Partial<
  Pick<
    CampaignRecord,
    'state' | 'pauseReason' | 'pauseDetail' | 'deferredUntil' | 'startedAt' | 'finishedAt'
  >
>;

export interface CampaignStore {
  campaigns: {
    /** The campaign and its whole audience, in one transaction (set-based inserts). */
    create(
      campaign: Omit<CampaignRecord, 'id' | 'updatedAt'>,
      recipients: readonly NewRecipient[],
    ): Promise<CampaignRecord>;
    get(workspaceId: string, id: string): Promise<CampaignRecord | null>;
    list(
      workspaceId: string,
      input: { limit: number; cursor?: string; state?: CampaignState },
    ): Promise<Page<CampaignRecord>>;
    /** Campaigns in these states, every workspace (the runner and the auto-pause signals). */
    listByStates(
      states: readonly CampaignState[],
      filter?: { channelId?: string; workspaceId?: string },
    ): Promise<CampaignRecord[]>;
    /**
     * Applies `patch` only while the campaign is in one of `from` (a compare-and-set: of two
     * racing changes one wins); null when it was not.
     */
    update(
      id: string,
      from: readonly CampaignState[],
      patch: CampaignPatch,
      at: number,
    ): Promise<CampaignRecord | null>;
    /**
     * Inside a runner's transaction: whether the campaign is running. A shared hold until the
     * transaction ends: several runners hold it at once; `holdForChange` waits for them all.
     */
    holdRunning(id: string): Promise<boolean>;
    /**
     * Inside a transaction about to change the campaign (cancel): waits until no runner's
     * transaction holds it, and keeps new ones waiting until this transaction ends, so this one
     * sees every message they queued and they see the change.
     */
    holdForChange(id: string): Promise<void>;
  };

  recipients: {
    /**
     * Leases up to `limit` pending recipients (or claimed ones whose lease expired), lowest seq
     * first, to `owner` until `now + leaseMs`. Two claimers never get the same recipient.
     */
    claim(
      campaignId: string,
      input: { owner: string; now: number; leaseMs: number; limit: number },
    ): Promise<RecipientRecord[]>;
    /** Handed to the send path: the message that carries it. */
    markQueued(campaignId: string, seq: number, messageId: string, at: number): Promise<void>;
    markSkipped(
      campaignId: string,
      seq: number,
      reason: string,
      detail: string | null,
      at: number,
    ): Promise<void>;
    /** Back to pending (deferral, pause while claimed). */
    release(campaignId: string, seqs: readonly number[], at: number): Promise<void>;
    /** Every pending or claimed recipient becomes skipped with `reason`; returns how many. */
    skipRemaining(campaignId: string, reason: string, at: number): Promise<number>;
    /**
     * Cancel: the messages of queued recipients that no dispatcher has claimed yet (pending,
     * never dispatched, not flagged) become `refused` with `detail`, and their recipients
     * skipped as `withdrawn`; their LIM-4 marketing records go. Each message changes only while
     * `messages.claimDispatch` could still take it, so of the two exactly one wins. Returns the
     * withdrawn messages as they are now (their jobs are no-ops).
     */
    withdrawQueued(campaignId: string, detail: string, at: number): Promise<MessageRecord[]>;
    /** Recipients not yet handed off (pending or claimed). */
    countRemaining(campaignId: string): Promise<number>;
    progress(campaignId: string): Promise<CampaignProgress>;
    list(
      campaignId: string,
      input: { limit: number; cursor?: string; outcome?: RecipientOutcome },
    ): Promise<Page<RecipientResult>>;
    /** The campaign a message was sent for, if any. */
    findByMessage(messageId: string): Promise<{ campaignId: string; seq: number } | null>;
    /** Recipients still to send, with their care window on the campaign's channel. */
    estimateRows(campaignId: string): Promise<EstimateRow[]>;
  };

  reach: {
    /** LIM-3 state of one user in a scope over (since, …]. */
    get(workspaceId: string, scope: string, waId: string, since: number): Promise<ReachState>;
    /** Records that the user was reached at `at` (keeps the latest). */
    record(workspaceId: string, scope: string, waId: string, at: number): Promise<void>;
  };

  /** Erasure: the contact's number becomes `replacement` in recipients, reach and history. */
  erase(workspaceId: string, waId: string, replacement: string): Promise<void>;

  marketing: {
    history(workspaceId: string, waId: string, since: number): Promise<MarketingHistory>;
    /** A marketing template sent to the contact (`sent`) or a 131049 for them (`user_cap`). */
    record(
      workspaceId: string,
      waId: string,
      kind: 'sent' | 'user_cap',
      at: number,
      messageId: string | null,
    ): Promise<void>;
  };
}
