// Pacing as pure math (WHATSAPP_RULES.md §6): token buckets for a number's throughput (LIM-1)
// and for a (number, contact) pair (LIM-2). State is plain data so any store can keep it.
import { SECOND } from './time.ts';

export interface BucketState {
  readonly tokens: number;
  readonly updatedAt: number;
}

export interface BucketRule {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Largest number of tokens the bucket holds (the burst). */
  readonly capacity: number;
}

export type TakeResult =
  | { readonly ok: true; readonly state: BucketState }
  | { readonly ok: false; readonly state: BucketState; readonly retryAt: number };

/** LIM-1: a channel's throughput tier in messages per second. */
export const THROUGHPUT_TIERS = [20, 80, 1000] as const;
export const DEFAULT_THROUGHPUT = 80;

/**
 * LIM-1: smooth pacing at the tier's rate, so that no half-open second ever holds more than
 * `messagesPerSecond` sends while the full rate is still reached.
 * Instants are whole milliseconds, so a token due mid-millisecond (80/s is one every 12.5 ms) is
 * taken at the next one; a capacity of exactly one token would throw that fraction away and pace
 * 80/s at 1000/13 ≈ 77/s. The capacity therefore keeps just under one millisecond's refill on top
 * of one token. The bound still holds: the sends of a half-open second span at most 999 ms, which
 * refill at most 0.999·r tokens, and (1 + 0.000999·r) + 0.999·r < r + 1.
 * @see https://developers.facebook.com/docs/whatsapp/throughput
 */
export function channelBucket(messagesPerSecond: number): BucketRule {
  return {
    ratePerSecond: messagesPerSecond,
    capacity: 1 + (messagesPerSecond * 0.999) / SECOND,
  };
}

/**
 * LIM-2: about one message per 6 s to the same contact, bursts up to 45 borrowing from future quota.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/overview#pair-rate-limits
 */
export const PAIR_RULE: BucketRule = { ratePerSecond: 1 / 6, capacity: 45 };

export function fullBucket(rule: BucketRule, now: number): BucketState {
  return { tokens: rule.capacity, updatedAt: now };
}

function refill(state: BucketState, rule: BucketRule, now: number): BucketState {
  if (now <= state.updatedAt) return state;
  const tokens = Math.min(
    rule.capacity,
    state.tokens + ((now - state.updatedAt) / SECOND) * rule.ratePerSecond,
  );
  return { tokens, updatedAt: now };
}

/** Takes `count` tokens if the bucket has them; otherwise says when it will. */
export function takeTokens(
  state: BucketState,
  rule: BucketRule,
  now: number,
  count = 1,
): TakeResult {
  const filled = refill(state, rule, now);
  if (filled.tokens >= count)
    return { ok: true, state: { tokens: filled.tokens - count, updatedAt: filled.updatedAt } };
  const missing = count - filled.tokens;
  const retryAt = filled.updatedAt + Math.ceil((missing / rule.ratePerSecond) * SECOND);
  return { ok: false, state: filled, retryAt };
}

/** A bucket paused until `until` (a 429 told us to wait): empty, and refilling only from then. */
export function pausedBucket(state: BucketState | undefined, until: number): BucketState {
  if (state && state.updatedAt >= until && state.tokens <= 0) return state;
  return { tokens: 0, updatedAt: Math.max(until, state?.updatedAt ?? until) };
}

/** What the pacer said about one job of a lane, in the order the jobs were offered. */
export type Admission =
  /** Both the channel and the pair had a token: send it now. */
  | { readonly kind: 'go' }
  /** LIM-2: this contact has had its burst; try again at `retryAt` (no channel token spent). */
  | { readonly kind: 'pair'; readonly retryAt: number }
  /** LIM-1: the channel ran dry before this job; it keeps its place in the lane. */
  | { readonly kind: 'wait' };

export interface AdmitResult {
  readonly admissions: readonly Admission[];
  /** When the channel has its next token, if it ran dry during this batch. */
  readonly channelReadyAt: number | null;
}

/** Bucket state by key, so the same admission math runs over a Map or over Redis hashes. */
export interface BucketStates {
  get(key: string): BucketState | undefined;
  set(key: string, state: BucketState): void;
}

/**
 * Admits a lane's jobs in order: each needs a channel token (LIM-1) and a token of its
 * (channel, contact) pair (LIM-2). A job whose pair is dry is deferred without spending the
 * channel's token, so other contacts go on. The Redis pacer runs this same algorithm in Lua.
 */
export function admitBatch(
  states: BucketStates,
  channel: { readonly key: string; readonly rule: BucketRule },
  pairKeys: readonly string[],
  pairRule: BucketRule,
  now: number,
): AdmitResult {
  let channelState = states.get(channel.key) ?? fullBucket(channel.rule, now);
  const admissions: Admission[] = [];
  let channelReadyAt: number | null = null;
  for (const pairKey of pairKeys) {
    if (channelReadyAt !== null) {
      admissions.push({ kind: 'wait' });
      continue;
    }
    const channelTake = takeTokens(channelState, channel.rule, now);
    if (!channelTake.ok) {
      channelState = channelTake.state;
      channelReadyAt = channelTake.retryAt;
      admissions.push({ kind: 'wait' });
      continue;
    }
    const pairTake = takeTokens(states.get(pairKey) ?? fullBucket(pairRule, now), pairRule, now);
    states.set(pairKey, pairTake.state);
    if (!pairTake.ok) {
      // The channel's token is not spent, so other contacts go on.
      admissions.push({ kind: 'pair', retryAt: pairTake.retryAt });
      continue;
    }
    channelState = channelTake.state;
    admissions.push({ kind: 'go' });
  }
  states.set(channel.key, channelState);
  return { admissions, channelReadyAt };
}
