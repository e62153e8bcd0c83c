// window.closing (a configurable lead time before a care window's 24 hours end) and
// window.closed (when they end), found by scanning windows by end time. Each scan range is
// claimed by moving a shared cursor, so with several nodes each event is emitted by one node.
import { WINDOW_LENGTH } from '../core/care-window.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { EndingWindow } from '../ports/event-webhook-store.ts';
import type { AppDeps } from './deps.ts';

export const WINDOW_SCAN_LIMIT = 2_000;

type WindowEventType = 'window.closing' | 'window.closed';

/**
 * Emits the window events due at the clock's `now`: closing for windows ending in
 * (last scan, now + leadMs], closed for windows ending in (last scan, now]. The first scan
 * starts from now: windows that ended before Parley first ran get no event. Returns how many.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows
 */
export async function emitWindowEvents(deps: AppDeps, leadMs: number): Promise<number> {
  const now = deps.clock.now();
  let emitted = 0;
  // Several pages when a busy minute ends more windows than one scan takes.
  for (let i = 0; i < 50; i++) {
    const closing = await scan(deps, 'window.closing', now + leadMs, now, leadMs);
    const closed = await scan(deps, 'window.closed', now, now, leadMs);
    emitted += closing.count + closed.count;
    if (!closing.more && !closed.more) break;
  }
  return emitted;
}

async function scan(
  deps: AppDeps,
  type: WindowEventType,
  upTo: number,
  now: number,
  leadMs: number,
): Promise<{ count: number; more: boolean }> {
  const schedules = deps.store.eventWebhooks.schedules;
  let cursor = await schedules.get(type);
  if (cursor === null) {
    await schedules.advance(type, null, now);
    cursor = await schedules.get(type);
    if (cursor === null) return { count: 0, more: false };
  }
  if (upTo <= cursor) return { count: 0, more: false };
  const rows = await schedules.windowsEnding(cursor, upTo, WINDOW_LENGTH, WINDOW_SCAN_LIMIT);
  let next = upTo;
  let due = rows;
  const first = rows[0];
  const last = rows[rows.length - 1];
  const full = rows.length === WINDOW_SCAN_LIMIT;
  if (full && first && last && first.endsAt !== last.endsAt) {
    // Windows ending in the page's last millisecond may continue past it: leave them all to the
    // next scan so none is skipped.
    next = last.endsAt - 1;
    due = rows.filter((r) => r.endsAt < last.endsAt);
  } else if (full && last) {
    next = last.endsAt;
  }
  if (!(await schedules.advance(type, cursor, next))) return { count: 0, more: false };
  for (const window of due) deps.events.publish(await windowEvent(deps, type, window, leadMs));
  return { count: due.length, more: next < upTo };
}

async function windowEvent(
  deps: AppDeps,
  type: WindowEventType,
  window: EndingWindow,
  leadMs: number,
): Promise<DomainEvent> {
  const conversation = await deps.store.conversations.findOpen(window.channelId, window.contactId);
  return {
    type,
    workspaceId: window.workspaceId,
    at: type === 'window.closed' ? window.endsAt : Math.max(window.endsAt - leadMs, 0),
    data: {
      channelId: window.channelId,
      contactId: window.contactId,
      ...(conversation ? { conversationId: conversation.id } : {}),
      closesAt: new Date(window.endsAt).toISOString(),
      ...(window.lastInboundAt !== null
        ? { lastInboundAt: new Date(window.lastInboundAt).toISOString() }
        : {}),
    },
  };
}
