// The customer service window (WHATSAPP_RULES.md §2, CSW-1..5): per (business number, contact).
import type { InboundEvent } from './inbound.ts';
import { DAY, MINUTE } from './time.ts';

export const WINDOW_LENGTH = DAY;
/** CSW-4: free-form is not handed to the provider this close to the window's end. */
export const DEFAULT_DISPATCH_MARGIN = MINUTE;

/** CSW-1: inbound message types sent by the user that open or restart the window. */
export const WINDOW_OPENING_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'button',
  'interactive',
  'reaction',
  'order',
  'call',
] as const;

/**
 * CSW-1: whether a user's inbound message of this type opens or restarts the window.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows
 */
export function opensWindow(inboundType: string): boolean {
  return (WINDOW_OPENING_TYPES as readonly string[]).includes(inboundType);
}

/** What Parley knows about one (channel, contact) pair's window. */
export interface CareWindowState {
  /** Provider time of the latest user message that opens the window (CSW-1), if any. */
  readonly lastInboundAt: number | null;
  /** Set when a late 131047/63016 proved the window closed (CSW-5). */
  readonly closedAt: number | null;
}

export const NO_WINDOW: CareWindowState = { lastInboundAt: null, closedAt: null };

/** CSW-1/CSW-2: a user message restarts the full 24 hours; an older, late-arriving one changes nothing. */
export function recordInbound(state: CareWindowState, at: number): CareWindowState {
  if (state.lastInboundAt !== null && state.lastInboundAt >= at) return state;
  return {
    lastInboundAt: at,
    closedAt: state.closedAt !== null && state.closedAt > at ? state.closedAt : null,
  };
}

/**
 * CSW-1/CSW-2: folds one normalised webhook event into the window. Only a user message of an
 * opening type counts; `system` notices, `unsupported` stubs, status updates (which report the
 * business's own messages, templates included) and other notices leave it as it was.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows
 */
export function windowAfterEvent(state: CareWindowState, event: InboundEvent): CareWindowState {
  return event.kind === 'message' && opensWindow(event.type)
    ? recordInbound(state, event.at)
    : state;
}

/** CSW-2: the instant the window closes (half-open: open at t, closed at t + 24 h), or null if never opened. */
export function windowClosesAt(state: CareWindowState): number | null {
  if (state.lastInboundAt === null) return null;
  const natural = state.lastInboundAt + WINDOW_LENGTH;
  return state.closedAt !== null && state.closedAt < natural ? state.closedAt : natural;
}

/** CSW-3: free-form messages may be sent only while the window is open. */
export function isWindowOpen(state: CareWindowState, now: number): boolean {
  const closes = windowClosesAt(state);
  return closes !== null && now < closes;
}

/** CSW-4: at dispatch, free-form needs the window open for at least the safety margin. */
export function mayDispatchFreeForm(
  state: CareWindowState,
  now: number,
  margin = DEFAULT_DISPATCH_MARGIN,
): boolean {
  return isWindowOpen(state, now + margin);
}

/**
 * CSW-5: a late window-closed failure closes the window only if the failed message was
 * free-form and no inbound message is newer than its send time. Of several such failures the
 * latest send time is kept: it is the strongest proof, since only a user message newer than it
 * may reopen the window (an older one that arrives late must not).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function closeOnLateWindowFailure(
  state: CareWindowState,
  failed: { readonly freeForm: boolean; readonly sentAt: number; readonly failedAt: number },
): CareWindowState {
  if (!failed.freeForm) return state;
  if (state.lastInboundAt !== null && state.lastInboundAt > failed.sentAt) return state;
  if (state.closedAt !== null && state.closedAt >= failed.sentAt) return state;
  return { ...state, closedAt: failed.sentAt };
}
