// The outbound limits that depend on who was already reached: the messaging limit (LIM-3), the
// per-contact marketing frequency cap and 131049 hold-off (LIM-4) and the US marketing block (LIM-5).
import { ALLOW, refuse, type Decision } from './decision.ts';
import { DAY } from './time.ts';

/** LIM-3: the moving window over which distinct reached users are counted. */
export const MESSAGING_LIMIT_WINDOW = DAY;

/** LIM-3: Meta's tiers, distinct users per rolling 24 h; `null` is unlimited. */
export const MESSAGING_TIERS = [250, 1_000, 2_000, 10_000, 100_000, null] as const;
export type MessagingTier = (typeof MESSAGING_TIERS)[number];

/** LIM-3: since this instant the limit is shared by every number of a portfolio, not per number. */
export const PORTFOLIO_LIMITS_FROM = Date.parse('2025-10-07T00:00:00Z');

/** LIM-5: since this instant Meta refuses marketing templates to US numbers (130497). */
export const US_MARKETING_BLOCK_FROM = Date.parse('2025-04-01T00:00:00Z');

/** LIM-4: 131049 means "this user got many marketing messages": skip their marketing this long. */
export const MARKETING_HOLD_OFF = DAY;

/**
 * LIM-3: what the messaging limit is counted over. Since 2025-10-07 the portfolio (Parley keys it
 * by the channel's WABA); before, each number had its own limit.
 * @see https://developers.facebook.com/docs/whatsapp/messaging-limits
 */
export function messagingLimitScope(
  channel: { readonly id: string; readonly wabaId: string | null },
  now: number,
): string {
  return now >= PORTFOLIO_LIMITS_FROM && channel.wabaId !== null
    ? `waba:${channel.wabaId}`
    : `number:${channel.id}`;
}

export interface ReachState {
  /** When this user was last reached outside a care window in the scope, if ever. */
  readonly lastReachedAt: number | null;
  /** Distinct users reached in the scope in (now − 24 h, now]. */
  readonly reachedInWindow: number;
  /**
   * When the oldest reach in the window expires (frees one place); null when the window is
   * empty. Lets a deferral name when to try again.
   */
  readonly oldestReachedAt: number | null;
}

export type MessagingLimitDecision =
  | { readonly allowed: true; readonly countsAsNewUser: boolean }
  | {
      readonly allowed: false;
      readonly reason: 'messaging_limit';
      readonly detail: string;
      /** The earliest instant a place frees up in the rolling window. */
      readonly retryAt: number;
    };

/**
 * LIM-3: may a business-initiated message (a template outside the care window) reach this user
 * now? A user already reached in the last 24 h takes no new place; a message inside an open care
 * window never counts (the caller does not ask then). `tier` null is unlimited.
 * @see https://developers.facebook.com/docs/whatsapp/messaging-limits
 */
export function messagingLimitDecision(
  reach: ReachState,
  tier: MessagingTier,
  now: number,
): MessagingLimitDecision {
  const alreadyReached =
    reach.lastReachedAt !== null && reach.lastReachedAt > now - MESSAGING_LIMIT_WINDOW;
  if (alreadyReached) return { allowed: true, countsAsNewUser: false };
  if (tier === null || reach.reachedInWindow < tier)
    return { allowed: true, countsAsNewUser: true };
  const retryAt =
    reach.oldestReachedAt === null ? now : reach.oldestReachedAt + MESSAGING_LIMIT_WINDOW;
  return {
    allowed: false,
    reason: 'messaging_limit',
    detail: `The messaging limit of ${tier} distinct users in a rolling 24 hours is reached (${reach.reachedInWindow} reached); a place frees at ${new Date(retryAt).toISOString()}`,
    retryAt,
  };
}

/** LIM-4: the workspace's own per-contact marketing frequency cap (off unless configured). */
export interface MarketingCap {
  /** At most this many marketing templates to one contact … */
  readonly max: number;
  /** … within this many milliseconds. */
  readonly windowMs: number;
}

export interface MarketingHistory {
  /** Instants marketing templates were sent (queued) to this contact, any order. */
  readonly sentAt: readonly number[];
  /** The latest 131049 for this contact, if any. */
  readonly userCapAt: number | null;
}

/**
 * LIM-4: may one more marketing template go to this contact now? A 131049 holds off their
 * marketing for 24 h; the workspace cap (null: off) counts what was sent in its window.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates#per-user-marketing-template-message-limits
 */
export function marketingCapDecision(
  history: MarketingHistory,
  cap: MarketingCap | null,
  now: number,
): Decision {
  if (history.userCapAt !== null && now < history.userCapAt + MARKETING_HOLD_OFF)
    return refuse(
      'marketing_user_cap',
      `WhatsApp held back marketing to this contact (131049) at ${new Date(history.userCapAt).toISOString()}; their marketing resumes at ${new Date(history.userCapAt + MARKETING_HOLD_OFF).toISOString()}`,
    );
  if (cap === null) return ALLOW;
  const since = now - cap.windowMs;
  const recent = history.sentAt.filter((at) => at > since).length;
  if (recent >= cap.max)
    return refuse(
      'marketing_user_cap',
      `The workspace caps marketing at ${cap.max} per contact per ${Math.round(cap.windowMs / 3_600_000)} h; this contact already got ${recent}`,
    );
  return ALLOW;
}

/**
 * LIM-5: Meta blocks marketing templates to United States numbers (not Canada or other +1
 * countries) since 2025-04-01. `country` is the recipient's ISO code (resolved by the caller).
 * @see https://developers.facebook.com/docs/whatsapp/pricing/updates-to-pricing#marketing-messages-to-us-numbers
 */
export function marketBlockDecision(
  country: string | null,
  purpose: string,
  now: number,
): Decision {
  if (purpose !== 'marketing' || country !== 'US' || now < US_MARKETING_BLOCK_FROM) return ALLOW;
  return refuse(
    'market_blocked',
    'WhatsApp does not deliver marketing templates to United States (+1) numbers since 2025-04-01',
  );
}
