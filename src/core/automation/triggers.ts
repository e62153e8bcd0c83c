// Which flow an inbound message starts: trigger matching and the order flows are tried in.
import {
  DEFAULT_PRIORITY,
  TRIGGER_TYPES,
  compile,
  normaliseText,
  type FlowDefinition,
  type Trigger,
} from './flow.ts';

/** What the matcher needs to know about one inbound message (the app reads it from the store). */
export interface InboundFacts {
  readonly channelId: string;
  /** Readable text: the body, a caption, a tapped button's title. */
  readonly text: string | null;
  /** Id of a tapped reply button or list row, or a template quick-reply payload. */
  readonly payload: string | null;
  /** The `referral` of a Click-to-WhatsApp ad or post (FEP-1), when the message carries one. */
  readonly referral: { readonly sourceId: string | null } | null;
  readonly firstOfContact: boolean;
  readonly firstOfConversation: boolean;
  /** True / false from the channel's calendar; null when the channel has none. */
  readonly open: boolean | null;
}

/** True when `trigger` fires for this message. */
export function matches(trigger: Trigger, facts: InboundFacts): boolean {
  switch (trigger.type) {
    case 'first_message':
      return trigger.of === 'contact' ? facts.firstOfContact : facts.firstOfConversation;
    case 'keyword': {
      if (facts.text === null) return false;
      const text = normaliseText(facts.text);
      return trigger.keywords.some((k) => {
        const keyword = normaliseText(k);
        if (keyword === '') return false;
        if (trigger.match === 'exact') return text === keyword;
        return ` ${text} `.includes(` ${keyword} `);
      });
    }
    case 'pattern':
      return (
        facts.text !== null &&
        (compile(trigger.pattern, trigger.flags ?? 'i')?.test(facts.text) ?? false)
      );
    case 'payload':
      return facts.payload !== null && trigger.payloads.includes(facts.payload);
    case 'outside_hours':
      return facts.open === false;
    case 'ad_arrival':
      return (
        facts.referral !== null &&
        (trigger.sourceIds === undefined ||
          trigger.sourceIds.length === 0 ||
          (facts.referral.sourceId !== null && trigger.sourceIds.includes(facts.referral.sourceId)))
      );
  }
}

export interface Candidate<F extends FlowDefinition = FlowDefinition> {
  readonly flow: F;
  /** Creation order, the last tie-breaker. */
  readonly order: number;
}

/**
 * The flows this message could start, best first. Flows are tried by `priority` (lower first),
 * then by how specific their trigger is (a tapped button, a keyword, a pattern, an ad, outside
 * hours, a first message), then in creation order; disabled flows and flows of other channels
 * never run.
 */
export function matchingFlows<F extends FlowDefinition>(
  candidates: readonly Candidate<F>[],
  facts: InboundFacts,
): F[] {
  return candidates
    .filter(
      (c) =>
        c.flow.enabled !== false &&
        (c.flow.channels === undefined ||
          c.flow.channels.length === 0 ||
          c.flow.channels.includes(facts.channelId)),
    )
    .sort(
      (a, b) =>
        (a.flow.priority ?? DEFAULT_PRIORITY) - (b.flow.priority ?? DEFAULT_PRIORITY) ||
        TRIGGER_TYPES.indexOf(a.flow.trigger.type) - TRIGGER_TYPES.indexOf(b.flow.trigger.type) ||
        a.order - b.order,
    )
    .filter((c) => matches(c.flow.trigger, facts))
    .map((c) => c.flow);
}

/** The flow this message starts (the best of `matchingFlows`), or null. */
export function selectFlow<F extends FlowDefinition>(
  candidates: readonly Candidate<F>[],
  facts: InboundFacts,
): F | null {
  return matchingFlows(candidates, facts)[0] ?? null;
}
