// Which stored webhooks may be processed side by side: those about different users. Webhooks that
// share a user stay in one lane in arrival order (statuses after their message, one
// conversation's events in order); a webhook whose users are unknown is processed alone.
import type { InboundEvent } from './inbound.ts';

/**
 * The users a webhook's events are about, as ordering keys; null when one of its events names
 * none (an account-level notice, a status without its recipient): such a webhook orders against
 * everything.
 */
export function orderingKeysOf(events: readonly InboundEvent[]): string[] | null {
  const keys: string[] = [];
  for (const e of events) {
    if (e.kind === 'message') {
      keys.push(userKey(e.from));
      // A number change moves the contact to the new number: both are touched.
      const c = e.content as { type?: unknown; wa_id?: unknown } | null;
      if (e.type === 'system' && typeof c?.wa_id === 'string') keys.push(userKey(c.wa_id));
    } else if (e.kind === 'status' && e.recipient) keys.push(userKey(e.recipient));
    else return null;
  }
  return keys;
}

/** Digits only, so `+1 555…` in one provider's status and `1555…` in a message meet. */
function userKey(waId: string): string {
  const digits = waId.replace(/\D/g, '');
  return `user:${digits === '' ? waId : digits}`;
}

export interface LanePlan {
  /** Indices into the input, per lane, ascending (arrival order). Empty lanes are left out. */
  readonly lanes: number[][];
  /** How many of the input (a prefix) the plan covers; the rest waits for the next round. */
  readonly taken: number;
}

/**
 * Splits a prefix of pending webhooks (their ordering keys, oldest first) into at most `lanes`
 * lanes of at most `perLane` each, so that webhooks sharing a key share a lane. The prefix stops
 * before a webhook with unknown keys; such a webhook at the front is a round of its own.
 */
export function planLanes(
  keys: readonly (readonly string[] | null)[],
  lanes: number,
  perLane: number,
): LanePlan {
  if (keys.length === 0) return { lanes: [], taken: 0 };
  if (keys[0] === null) return { lanes: [[0]], taken: 1 };

  // A webhook joins the lane that already holds one of its keys, else the least loaded lane; one
  // whose lane is full ends the round there (it and everything after it wait).
  const laneOfKey = new Map<string, number>();
  const count = Math.max(1, lanes);
  const load = new Array<number>(count).fill(0);
  const out: number[][] = Array.from({ length: count }, () => []);
  let taken = 0;
  for (; taken < keys.length; taken++) {
    const own = keys[taken];
    if (!own) break; // unknown keys: it waits for a round of its own
    const joined = new Set<number>();
    for (const k of own) {
      const lane = laneOfKey.get(k);
      if (lane !== undefined) joined.add(lane);
    }
    // Keys already split across two lanes cannot be joined this round: stop before it.
    if (joined.size > 1) break;
    let lane: number;
    if (joined.size === 1) lane = [...joined][0] as number;
    else lane = load.indexOf(Math.min(...load));
    if ((load[lane] as number) >= perLane) break;
    load[lane] = (load[lane] as number) + 1;
    out[lane]?.push(taken);
    for (const k of own) laneOfKey.set(k, lane);
  }
  return { lanes: out.filter((l) => l.length > 0), taken };
}
