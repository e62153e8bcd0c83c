// Ledger events from what users and providers signal (OPT-4, OPT-5, OPT-6): inbound messages
// (implied opt-in or keywords), Meta's `user_preferences` webhook and the async error 131050.
import {
  WORKSPACE_REACH,
  channelReach,
  type ConsentEvent,
  type ConsentEvidence,
} from './events.ts';
import {
  matchKeyword,
  DEFAULT_KEYWORD_SETS,
  type KeywordMatch,
  type KeywordSet,
} from './keywords.ts';
import { eventsInForce } from './ledger.ts';

/** Where and when a signal arrived; `id` becomes the new event's id. */
export interface SignalContext {
  readonly id: string;
  readonly contact: string;
  /** The business number the signal arrived on. */
  readonly channelId: string;
  /** Provider time of the signal. */
  readonly at: number;
  /** The inbound message's (or failed send's) provider id. */
  readonly messageId?: string;
  /** Defaults to `system`. */
  readonly recordedBy?: string;
}

function evidence(ctx: SignalContext, extra: ConsentEvidence = {}): ConsentEvidence {
  return {
    channelId: ctx.channelId,
    ...(ctx.messageId === undefined ? {} : { messageId: ctx.messageId }),
    ...extra,
  };
}

function isKeywordStop(e: ConsentEvent): boolean {
  return e.kind === 'opt_out' && e.source === 'inbound_message' && e.evidence.keyword !== undefined;
}

function isProviderMarketingStop(e: ConsentEvent): boolean {
  return (
    e.kind === 'opt_out' &&
    e.purpose === 'marketing' &&
    (e.source === 'user_preferences' || e.source === 'provider_error')
  );
}

/**
 * OPT-5: the ledger events for a stop or start keyword. Stop: an opt-out of every purpose,
 * workspace-wide. Start: an event that reverses every keyword stop still in force (restoring
 * exactly what they removed); nothing when there is no stop to reverse.
 */
export function keywordConsentEvents(
  match: KeywordMatch,
  ctx: SignalContext,
  ledger: readonly ConsentEvent[],
): ConsentEvent[] {
  const common = {
    id: ctx.id,
    contact: ctx.contact,
    purpose: 'all' as const,
    reach: WORKSPACE_REACH,
    source: 'inbound_message' as const,
    at: ctx.at,
    recordedBy: ctx.recordedBy ?? 'system',
    implied: false,
    evidence: evidence(ctx, { keyword: match.keyword }),
  };
  if (match.action === 'stop') return [{ ...common, kind: 'opt_out' }];
  const stops = eventsInForce(ledger, ctx.at).filter(isKeywordStop);
  if (stops.length === 0) return [];
  return [{ ...common, kind: 'opt_in', restores: stops.map((e) => e.id) }];
}

/** OPT-4: the implied utility opt-in at this number that an ordinary inbound message records. */
export function impliedOptInEvent(ctx: SignalContext): ConsentEvent {
  return {
    id: ctx.id,
    contact: ctx.contact,
    kind: 'opt_in',
    purpose: 'utility',
    reach: channelReach(ctx.channelId),
    source: 'inbound_message',
    at: ctx.at,
    recordedBy: ctx.recordedBy ?? 'system',
    implied: true,
    evidence: evidence(ctx),
  };
}

/**
 * OPT-4/OPT-5: what one inbound message writes to the ledger: keyword events for a stop or
 * start keyword, otherwise an implied utility opt-in. `text` is null for non-text messages.
 */
export function consentEventsForInbound(
  text: string | null,
  ctx: SignalContext,
  ledger: readonly ConsentEvent[],
  keywordSets: readonly KeywordSet[] = DEFAULT_KEYWORD_SETS,
): ConsentEvent[] {
  const match = text === null ? null : matchKeyword(text, keywordSets);
  if (match !== null) return keywordConsentEvents(match, ctx, ledger);
  return [impliedOptInEvent(ctx)];
}

/**
 * OPT-5: events for Meta's `user_preferences` webhook. `stop` opts the contact out of marketing
 * workspace-wide; `resume` reverses the provider's marketing stops still in force (webhook stops
 * and 131050s); other values (`signup`) change nothing here.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/user_preferences
 */
export function userPreferencesEvents(
  value: string,
  ctx: SignalContext,
  ledger: readonly ConsentEvent[],
  detail?: string,
): ConsentEvent[] {
  const common = {
    id: ctx.id,
    contact: ctx.contact,
    purpose: 'marketing' as const,
    reach: WORKSPACE_REACH,
    source: 'user_preferences' as const,
    at: ctx.at,
    recordedBy: ctx.recordedBy ?? 'system',
    implied: false,
    evidence: evidence(ctx, detail === undefined ? {} : { note: detail }),
  };
  if (value === 'stop') return [{ ...common, kind: 'opt_out' }];
  if (value !== 'resume') return [];
  const stops = eventsInForce(ledger, ctx.at).filter(isProviderMarketingStop);
  if (stops.length === 0) return [];
  return [{ ...common, kind: 'opt_in', restores: stops.map((e) => e.id) }];
}

/**
 * OPT-5: a send that failed with 131050 ("user stopped marketing messages") records a marketing
 * opt-out, workspace-wide, with the failed message as evidence.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function marketingStoppedEvent(ctx: SignalContext): ConsentEvent {
  return {
    id: ctx.id,
    contact: ctx.contact,
    kind: 'opt_out',
    purpose: 'marketing',
    reach: WORKSPACE_REACH,
    source: 'provider_error',
    at: ctx.at,
    recordedBy: ctx.recordedBy ?? 'system',
    implied: false,
    evidence: evidence(ctx, { note: 'Meta error 131050: the user stopped marketing messages' }),
  };
}

/**
 * OPT-6: send one free-form confirmation for a keyword opt-out, and only one: not when a keyword
 * stop was already in force (the user writing STOP twice gets one answer).
 */
export function shouldConfirmOptOut(event: ConsentEvent, ledger: readonly ConsentEvent[]): boolean {
  if (!isKeywordStop(event)) return false;
  const before = ledger.filter((e) => e.id !== event.id);
  return !eventsInForce(before, event.at).some(isKeywordStop);
}

/** OPT-6: a default confirmation text, naming the business and how to come back. */
export function optOutConfirmationText(businessName: string, startKeyword = 'START'): string {
  return `You will no longer receive messages from ${businessName} on WhatsApp. Reply ${startKeyword} to subscribe again.`;
}
