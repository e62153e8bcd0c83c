// Reading the consent ledger (OPT-3, OPT-4, OPT-7): the current consent for one purpose at one
// number, under the workspace's policy, and the send decision that follows from it.
import { refuse, type Refusal } from '../decision.ts';
import { DAY } from '../time.ts';
import {
  channelReach,
  describeScope,
  type ConsentEvent,
  type ConsentPurpose,
  type MessagePurpose,
} from './events.ts';

/**
 * OPT-4: `standard` accepts an implied utility opt-in from an inbound message; `strict` wants an
 * explicit opt-in for every template; `permissive` sends without a recorded opt-in but warns.
 * No policy ever sends after an opt-out (OPT-6).
 */
export const CONSENT_POLICIES = ['standard', 'strict', 'permissive'] as const;
export type ConsentPolicy = (typeof CONSENT_POLICIES)[number];

/** OPT-4: an implied opt-in lapses this long after the inbound message that implied it. */
export const DEFAULT_IMPLIED_LAPSE = 30 * DAY;

export interface ConsentQuery {
  readonly purpose: MessagePurpose;
  readonly channelId: string;
  readonly now: number;
  readonly policy?: ConsentPolicy;
  readonly impliedLapseMs?: number;
}

export interface ConsentStatus {
  readonly purpose: MessagePurpose;
  /** Whose events decided: authentication follows utility unless it has events of its own. */
  readonly decidedBy: MessagePurpose;
  readonly channelId: string;
  readonly state: 'opted_in' | 'opted_out' | 'none';
  readonly basis: 'explicit' | 'implied' | 'none';
  /** The ledger event that decided, if any. */
  readonly event: ConsentEvent | null;
  /** When an implied opt-in lapses; null otherwise. */
  readonly expiresAt: number | null;
  /** Whether a template of this purpose may be sent, under the policy. */
  readonly allowed: boolean;
  /** Set when the permissive policy lets a send through without a recorded opt-in. */
  readonly warning: string | null;
  /** The latest implied opt-in that has lapsed, when nothing else decided (for explanations). */
  readonly lapsedImplied: ConsentEvent | null;
}

/**
 * The events in force at `now`: not in the future, not restore markers, and not opt-outs that a
 * later START / `resume` reversed (OPT-5).
 */
export function eventsInForce(events: readonly ConsentEvent[], now: number): ConsentEvent[] {
  const known = events.filter((e) => e.at <= now);
  const byId = new Map(known.map((e) => [e.id, e]));
  const reversed = new Set<string>();
  for (const e of known)
    for (const id of e.restores ?? []) {
      const target = byId.get(id);
      if (target !== undefined && target.kind === 'opt_out' && target.at <= e.at) reversed.add(id);
    }
  return known.filter((e) => (e.restores ?? []).length === 0 && !reversed.has(e.id));
}

function covers(e: ConsentEvent, purpose: ConsentPurpose, channelId: string): boolean {
  return (
    (e.purpose === purpose || e.purpose === 'all') &&
    (e.reach.kind === 'workspace' || e.reach.channelId === channelId)
  );
}

/** OPT-3: latest wins; on a tie, opt-out wins. */
function latest(events: readonly ConsentEvent[]): ConsentEvent | null {
  let best: ConsentEvent | null = null;
  for (const e of events)
    if (
      best === null ||
      e.at > best.at ||
      (e.at === best.at && e.kind === 'opt_out' && best.kind === 'opt_in')
    )
      best = e;
  return best;
}

/**
 * OPT-3/OPT-4: the contact's current consent for one purpose at one number, from the contact's
 * ledger. The latest explicit event among the covering scopes (that purpose or `all` × that
 * number or the workspace) decides, opt-out winning ties; failing that, an implied utility
 * opt-in from an inbound message counts until it lapses (never for marketing, never under
 * `strict`, never over an explicit opt-out).
 * @see https://developers.facebook.com/docs/whatsapp/overview/getting-opt-in
 */
export function currentConsent(
  events: readonly ConsentEvent[],
  query: ConsentQuery,
): ConsentStatus {
  const { purpose, channelId, now } = query;
  const policy = query.policy ?? 'standard';
  const lapse = query.impliedLapseMs ?? DEFAULT_IMPLIED_LAPSE;
  const inForce = eventsInForce(events, now);

  const ownAuth = inForce.some(
    (e) => e.purpose === 'authentication' && covers(e, 'authentication', channelId),
  );
  const decidedBy: MessagePurpose = purpose === 'authentication' && !ownAuth ? 'utility' : purpose;
  const covering = inForce.filter((e) => covers(e, decidedBy, channelId));

  // An implied opt-out makes no sense; treat any opt-out as explicit (the safe reading).
  const explicit = latest(covering.filter((e) => !e.implied || e.kind === 'opt_out'));
  const impliedCandidates = covering.filter((e) => e.implied && e.kind === 'opt_in');
  const impliedUsable = decidedBy !== 'marketing' && policy !== 'strict';
  const implied = impliedUsable
    ? latest(impliedCandidates.filter((e) => now < e.at + lapse))
    : null;
  const lapsedImplied = impliedUsable ? latest(impliedCandidates) : null;

  const base = { purpose, decidedBy, channelId, lapsedImplied: null, warning: null };
  if (explicit !== null)
    return {
      ...base,
      state: explicit.kind === 'opt_in' ? 'opted_in' : 'opted_out',
      basis: 'explicit',
      event: explicit,
      expiresAt: null,
      allowed: explicit.kind === 'opt_in',
    };
  if (implied !== null)
    return {
      ...base,
      state: 'opted_in',
      basis: 'implied',
      event: implied,
      expiresAt: implied.at + lapse,
      allowed: true,
    };
  return {
    ...base,
    state: 'none',
    basis: 'none',
    event: null,
    expiresAt: null,
    allowed: policy === 'permissive',
    warning:
      policy === 'permissive'
        ? `No ${purpose} opt-in is recorded for this contact on channel ${channelId}; sent anyway under the permissive consent policy.`
        : null,
    lapsedImplied,
  };
}

/** A Decision that may carry a warning (permissive policy). */
export type ConsentDecision = { readonly allowed: true; readonly warning?: string } | Refusal;

/**
 * OPT-7: may a template of this purpose be queued for this contact at this number? Refuses with
 * `opted_out` (naming the opt-out's scope, time and source) or `not_opted_in` (naming the scope
 * that is missing). Free-form replies inside the care window never need this check (OPT-4).
 */
export function consentDecision(
  events: readonly ConsentEvent[],
  query: ConsentQuery,
): ConsentDecision {
  const status = currentConsent(events, query);
  if (status.allowed)
    return status.warning === null ? { allowed: true } : { allowed: true, warning: status.warning };
  const follows =
    status.purpose !== status.decidedBy ? ` (authentication follows utility for this contact)` : '';
  if (status.state === 'opted_out' && status.event !== null) {
    const e = status.event;
    const how = e.evidence.keyword !== undefined ? `, keyword "${e.evidence.keyword}"` : '';
    return refuse(
      'opted_out',
      `The contact opted out of ${describeScope(e.purpose, e.reach)} on ${new Date(e.at).toISOString()} (source ${e.source}${how})${follows}: no ${status.purpose} template may be sent.`,
    );
  }
  const policy = query.policy ?? 'standard';
  const scope = describeScope(status.decidedBy, channelReach(query.channelId));
  let why: string;
  if (status.decidedBy === 'marketing') why = 'marketing always needs an explicit opt-in';
  else if (policy === 'strict')
    why = "the workspace's strict policy needs an explicit opt-in for every template";
  else if (status.lapsedImplied !== null)
    why = `the opt-in implied by the contact's message of ${new Date(status.lapsedImplied.at).toISOString()} has lapsed`;
  else why = 'the contact has neither opted in nor written to this number';
  return refuse('not_opted_in', `Missing consent: ${scope} (or workspace-wide)${follows}; ${why}.`);
}
