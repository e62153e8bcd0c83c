// The consent ledger as a use case (OPT-1..3, OPT-7, OPT-8): record events with their evidence,
// read one person's ledger, the current consent per purpose, export, and erasure that keeps the
// proof while the person's data goes.
import { createHash, randomUUID } from 'node:crypto';
import {
  MESSAGE_PURPOSES,
  WORKSPACE_REACH,
  channelReach,
  describeScope,
  type ConsentEvent,
  type ConsentEvidence,
  type ConsentKind,
  type ConsentPurpose,
  type ConsentSource,
  type MessagePurpose,
} from '../core/consent/events.ts';
import { consentDecision, currentConsent } from '../core/consent/ledger.ts';
import {
  CONSENT_EXPORT_COLUMNS,
  consentExportCsv,
  consentExportRows,
} from '../core/consent/export.ts';
import type { ConsentEventRecord } from '../ports/compliance-store.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { Channel, Contact, Store } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { PolicyError } from './policy-errors.ts';
import { normaliseWaId } from './send-message.ts';
import { consentSettings, type ConsentSettings } from './workspace-policy.ts';

/** The keyed-hash purpose for phone numbers in the ledger. */
const PHONE_HASH_PURPOSE = 'consent-ledger-phone';
/** How an erased number reads in the ledger and on the contact. */
export const ERASED_PREFIX = 'erased:';

/** The keyed hash the ledger is read by (and that replaces the number on erasure). */
export function phoneHash(deps: Pick<AppDeps, 'secretBox'>, waId: string): string {
  return deps.secretBox.keyedHash(PHONE_HASH_PURPOSE, waId);
}

/** A stable event id for a signal, so a replayed webhook or failure records nothing new. */
export function signalEventId(...parts: readonly string[]): string {
  return `ce_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

export function newEventId(): string {
  return `ce_${randomUUID().replace(/-/g, '')}`;
}

/** One person's ledger in a workspace (found by the keyed hash, so erased events count too). */
export async function readLedger(
  deps: Pick<AppDeps, 'secretBox'>,
  store: Store,
  workspaceId: string,
  waId: string,
): Promise<ConsentEventRecord[]> {
  return store.compliance.consent.listByPhoneHash(workspaceId, phoneHash(deps, waId));
}

/**
 * Appends events for a person and returns the `consent.changed` event to publish once the
 * transaction commits. Events whose id is already stored are skipped (a replayed signal).
 */
export async function appendConsentEvents(
  deps: AppDeps,
  store: Store,
  input: {
    readonly workspaceId: string;
    readonly waId: string;
    readonly contactId: string | null;
    readonly events: readonly ConsentEvent[];
  },
): Promise<DomainEvent | null> {
  if (input.events.length === 0) return null;
  const hash = phoneHash(deps, input.waId);
  const now = deps.clock.now();
  const written = await store.compliance.consent.append(
    input.events.map((e) => ({
      ...e,
      workspaceId: input.workspaceId,
      contactId: input.contactId,
      phoneHash: hash,
    })),
    now,
  );
  if (written === 0) return null;
  return {
    type: 'consent.changed',
    workspaceId: input.workspaceId,
    at: Math.max(...input.events.map((e) => e.at)),
    data: {
      contactId: input.contactId,
      waId: input.waId,
      events: input.events.map((e) => ({
        id: e.id,
        kind: e.kind,
        purpose: e.purpose,
        reach: e.reach.kind,
        channelId: e.reach.kind === 'channel' ? e.reach.channelId : null,
        source: e.source,
        implied: e.implied,
        restores: e.restores ?? [],
        at: new Date(e.at).toISOString(),
      })),
    },
  };
}

/** OPT-2: what an explicit record from the API or an import carries. */
export interface ConsentRecordInput {
  readonly kind: ConsentKind;
  readonly purpose: ConsentPurpose;
  /** A channel of the workspace (one number), or null for the whole workspace. */
  readonly channelId: string | null;
  readonly source: ConsentSource;
  /** When consent was given or withdrawn; defaults to now, never in the future. */
  readonly at?: number;
  readonly recordedBy: string;
  readonly evidence: ConsentEvidence;
}

/** Signals come from providers and users, not from API callers or imports. */
const SIGNAL_SOURCES: readonly ConsentSource[] = ['user_preferences', 'provider_error'];

/** Clock skew tolerated on a given `at` before it counts as the future. */
const FUTURE_SKEW_MS = 5 * 60_000;

/**
 * OPT-2: why an explicit record would not stand up, or null. An opt-in must say what the person
 * agreed to and which business they saw; nothing may be dated in the future; provider signals
 * are recorded by Parley itself.
 */
export function consentRecordProblem(input: ConsentRecordInput, now: number): string | null {
  if (SIGNAL_SOURCES.includes(input.source))
    return `source "${input.source}" is recorded by Parley from the provider's own signal; use api, import or where the consent was collected`;
  if (input.at !== undefined && input.at > now + FUTURE_SKEW_MS)
    return `at ${new Date(input.at).toISOString()} is in the future`;
  if (input.kind === 'opt_in') {
    if (!input.evidence.text?.trim())
      return 'an opt-in needs evidence.text: the exact consent text the person was shown (OPT-2)';
    if (!input.evidence.businessName?.trim())
      return 'an opt-in needs evidence.businessName: the business name the person saw (OPT-2)';
  }
  return null;
}

/** Records one explicit event for a contact (API). */
export async function recordConsent(
  deps: AppDeps,
  workspaceId: string,
  contact: Contact,
  input: ConsentRecordInput,
): Promise<ConsentEventRecord> {
  const now = deps.clock.now();
  const problem = consentRecordProblem(input, now);
  if (problem) throw new PolicyError('invalid_request', problem);
  if (contact.waId.startsWith(ERASED_PREFIX))
    throw new PolicyError(
      'invalid_request',
      'This contact was erased; record consent by phone number instead',
    );
  const { event, changed } = await deps.store.transaction(async (tx) => {
    if (input.channelId !== null) await requireChannel(tx, workspaceId, input.channelId);
    const e: ConsentEvent = {
      id: newEventId(),
      contact: contact.waId,
      kind: input.kind,
      purpose: input.purpose,
      reach: input.channelId === null ? WORKSPACE_REACH : channelReach(input.channelId),
      source: input.source,
      at: input.at ?? now,
      recordedBy: input.recordedBy,
      implied: false,
      evidence: input.evidence,
    };
    const changedEvent = await appendConsentEvents(deps, tx, {
      workspaceId,
      waId: contact.waId,
      contactId: contact.id,
      events: [e],
    });
    const stored = (await readLedger(deps, tx, workspaceId, contact.waId)).find(
      (r) => r.id === e.id,
    );
    if (!stored) throw new Error('consent event was not stored');
    return { event: stored, changed: changedEvent };
  });
  if (changed) deps.events.publish(changed);
  return event;
}

async function requireChannel(
  store: Store,
  workspaceId: string,
  channelId: string,
): Promise<Channel> {
  const channel = await store.channels.get(channelId);
  if (!channel || channel.workspaceId !== workspaceId)
    throw new PolicyError('not_found', `No channel ${channelId} in this workspace`);
  return channel;
}

/** One purpose's current consent on one channel, as the API shows it. */
export interface PurposeConsent {
  readonly purpose: MessagePurpose;
  readonly state: 'opted_in' | 'opted_out' | 'none';
  readonly basis: 'explicit' | 'implied' | 'none';
  /** May a template of this purpose be sent now (under the workspace policy)? */
  readonly allowed: boolean;
  /** Authentication follows utility unless it has events of its own. */
  readonly decidedBy: MessagePurpose;
  readonly eventId: string | null;
  readonly since: number | null;
  readonly expiresAt: number | null;
  /** Why not (the refusal a template send would get), or the permissive policy's warning. */
  readonly reason: 'not_opted_in' | 'opted_out' | null;
  readonly detail: string | null;
}

/** OPT-3/OPT-7: consent per purpose for one contact on one channel, now. */
export function consentByPurpose(
  events: readonly ConsentEvent[],
  channelId: string,
  settings: ConsentSettings,
  now: number,
): PurposeConsent[] {
  return MESSAGE_PURPOSES.map((purpose) => {
    const query = {
      purpose,
      channelId,
      now,
      policy: settings.policy,
      impliedLapseMs: settings.impliedLapseMs,
    };
    const status = currentConsent(events, query);
    const decision = consentDecision(events, query);
    return {
      purpose,
      state: status.state,
      basis: status.basis,
      allowed: status.allowed,
      decidedBy: status.decidedBy,
      eventId: status.event?.id ?? null,
      since: status.event?.at ?? null,
      expiresAt: status.expiresAt,
      reason: decision.allowed
        ? null
        : decision.reason === 'opted_out'
          ? 'opted_out'
          : 'not_opted_in',
      detail: decision.allowed ? (decision.warning ?? null) : decision.detail,
    };
  });
}

/** The consent overview of a contact: policy, its ledger, and the current state per channel. */
export async function contactConsent(deps: AppDeps, workspaceId: string, contact: Contact) {
  const [workspace, channels, events] = await Promise.all([
    deps.store.workspaces.get(workspaceId),
    deps.store.channels.list(workspaceId),
    contact.waId.startsWith(ERASED_PREFIX)
      ? deps.store.compliance.consent.listByPhoneHash(
          workspaceId,
          contact.waId.slice(ERASED_PREFIX.length),
        )
      : readLedger(deps, deps.store, workspaceId, contact.waId),
  ]);
  const settings = consentSettings(workspace);
  const now = deps.clock.now();
  return {
    policy: settings.policy,
    events,
    channels: channels.map((c) => ({
      channelId: c.id,
      purposes: consentByPurpose(events, c.id, settings, now),
    })),
  };
}

/** OPT-8: which ledger to export. */
export interface ConsentExportQuery {
  /** A phone number: that person's events (found even after erasure); else the whole workspace. */
  readonly phone?: string;
}

/** OPT-8: the ledger's events for an export, oldest first. */
export async function exportEvents(
  deps: AppDeps,
  workspaceId: string,
  query: ConsentExportQuery,
): Promise<ConsentEventRecord[]> {
  if (query.phone !== undefined) {
    const waId = normaliseWaId(query.phone);
    if (!waId)
      throw new PolicyError('invalid_request', `"${query.phone}" is not an E.164 phone number`);
    return readLedger(deps, deps.store, workspaceId, waId);
  }
  const out: ConsentEventRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await deps.store.compliance.consent.listByWorkspace(workspaceId, {
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
}

export const CONSENT_EXPORT_FORMATS = ['csv', 'json'] as const;
export type ConsentExportFormat = (typeof CONSENT_EXPORT_FORMATS)[number];

/** OPT-8: the export document: RFC 4180 CSV, or JSON with the same columns per event. */
export function renderConsentExport(
  events: readonly ConsentEvent[],
  format: ConsentExportFormat,
): string {
  return format === 'csv'
    ? consentExportCsv(events)
    : JSON.stringify(
        { columns: CONSENT_EXPORT_COLUMNS, events: consentExportRows(events) },
        null,
        2,
      ) + '\n';
}

/** Words for an event's scope, for messages. */
export function eventScope(e: ConsentEvent): string {
  return describeScope(e.purpose, e.reach);
}

/**
 * Erasure (a data-subject request): the contact's personal data and message content go; the
 * ledger keeps every event with the number (and IP, user agent) replaced by keyed hashes, so
 * proof of consent and of opt-out survives, and an opt-out still holds if the person writes again.
 */
export async function eraseContact(deps: AppDeps, workspaceId: string, contactId: string) {
  const now = deps.clock.now();
  const erased = await deps.store.transaction(async (tx) => {
    const contact = await tx.contacts.get(contactId);
    if (!contact || contact.workspaceId !== workspaceId)
      throw new PolicyError('not_found', `No contact ${contactId} in this workspace`);
    if (contact.waId.startsWith(ERASED_PREFIX))
      return {
        contactId,
        alreadyErased: true,
        consentEvents: 0,
        messages: 0,
        webhooks: 0,
        media: 0,
        usageEvents: 0,
        outboundEvents: 0,
      };
    const hash = phoneHash(deps, contact.waId);
    const events = await tx.compliance.consent.listByPhoneHash(workspaceId, hash);
    const hashed = (value: string | undefined) =>
      value === undefined
        ? undefined
        : `hash:${deps.secretBox.keyedHash('consent-evidence', value)}`;
    const redacted = await tx.compliance.consent.redact(
      workspaceId,
      events.map((e) => {
        const { ip, userAgent, ...rest } = e.evidence;
        const ipHash = hashed(ip);
        const uaHash = hashed(userAgent);
        return {
          id: e.id,
          contact: `hash:${hash}`,
          evidence: {
            ...rest,
            ...(ipHash === undefined ? {} : { ip: ipHash }),
            ...(uaHash === undefined ? {} : { userAgent: uaHash }),
          },
        };
      }),
    );
    const counts = await tx.compliance.erasure.eraseContact({
      workspaceId,
      contactId,
      waId: contact.waId,
      replacementWaId: `${ERASED_PREFIX}${hash}`,
      at: now,
    });
    await tx.outreach.erase(workspaceId, contact.waId, `${ERASED_PREFIX}${hash}`);
    // The event webhook log may name the contact too; those events can no longer be replayed.
    const outboundEvents = await tx.eventWebhooks.events.eraseContact({
      workspaceId,
      contactId,
      waId: contact.waId,
    });
    return { contactId, alreadyErased: false, consentEvents: redacted, ...counts, outboundEvents };
  });
  // Files go after the commit (a failed erasure keeps them with the rows that point at them);
  // each row forgets its file only once the file is gone, so asking again finishes the job.
  let mediaFilesLeft = 0;
  for (const file of await deps.store.compliance.erasure.mediaFilesLeft(workspaceId, contactId)) {
    try {
      await deps.blobs.delete(file.blobKey);
      await deps.store.compliance.erasure.mediaFileDeleted(file.id);
    } catch (error) {
      mediaFilesLeft += 1;
      deps.log.error({ err: error, contactId }, 'an erased media file could not be deleted yet');
    }
  }
  return { ...erased, mediaFilesLeft };
}

/** OPT-7: consent per purpose for a contact on a channel now (the eligibility endpoint). */
export async function channelConsent(
  deps: AppDeps,
  contact: Contact,
  channel: Channel,
  now: number,
): Promise<PurposeConsent[]> {
  const [workspace, events] = await Promise.all([
    deps.store.workspaces.get(channel.workspaceId),
    contact.waId.startsWith(ERASED_PREFIX)
      ? deps.store.compliance.consent.listByPhoneHash(
          channel.workspaceId,
          contact.waId.slice(ERASED_PREFIX.length),
        )
      : readLedger(deps, deps.store, channel.workspaceId, contact.waId),
  ]);
  return consentByPurpose(events, channel.id, consentSettings(workspace), now);
}
