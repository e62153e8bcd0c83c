// May the business send free-form now, and until when? (CSW-1..4 brought together for callers.)
import {
  isWindowOpen,
  windowClosesAt,
  DEFAULT_DISPATCH_MARGIN,
  WINDOW_LENGTH,
  type CareWindowState,
} from './care-window.ts';
import { ALLOW, refuse, type Decision } from './decision.ts';
import { SECOND } from './time.ts';

export interface Eligibility {
  readonly windowOpen: boolean;
  /** When the care window closes (or closed); null if the contact never wrote. */
  readonly windowClosesAt: number | null;
  /** Free-form may be queued until this instant (close minus the dispatch margin). */
  readonly freeFormUntil: number | null;
  readonly freeFormAllowed: boolean;
  /** CSW-3: templates may be sent at any time (consent and template status are checked separately). */
  readonly templatesAllowed: boolean;
}

export function eligibility(
  state: CareWindowState,
  now: number,
  margin = DEFAULT_DISPATCH_MARGIN,
): Eligibility {
  const closes = windowClosesAt(state);
  const open = isWindowOpen(state, now);
  const freeFormUntil = closes === null ? null : closes - margin;
  return {
    windowOpen: open,
    windowClosesAt: closes,
    freeFormUntil,
    freeFormAllowed: freeFormUntil !== null && now < freeFormUntil,
    templatesAllowed: true,
  };
}

/**
 * CSW-3/CSW-4: the decision for one message kind, at request time or at dispatch time.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows
 */
export function decideSend(
  state: CareWindowState,
  freeForm: boolean,
  now: number,
  margin = DEFAULT_DISPATCH_MARGIN,
): Decision {
  if (!freeForm) return ALLOW;
  const e = eligibility(state, now, margin);
  if (e.freeFormAllowed) return ALLOW;
  if (e.windowClosesAt === null || state.lastInboundAt === null)
    return refuse(
      'window_closed',
      'The contact has never written to this number: only a template can start the conversation.',
    );
  const at = new Date(e.windowClosesAt).toISOString();
  // Still open but inside the margin: the message could not reach the provider in time (CSW-4).
  if (e.windowOpen)
    return refuse(
      'window_closed',
      `The customer service window closes at ${at}, within the ${margin / SECOND} s dispatch margin: send a template.`,
    );
  const why =
    e.windowClosesAt === state.lastInboundAt + WINDOW_LENGTH
      ? '24 h after the contact last wrote'
      : 'WhatsApp reported it closed for a message sent then';
  return refuse(
    'window_closed',
    `The customer service window closed at ${at} (${why}): send a template.`,
  );
}
