// What users and providers signal about consent, written to the ledger (OPT-4, OPT-5, OPT-6):
// inbound messages (an implied utility opt-in, or a stop/start keyword with its one
// confirmation), Meta's `user_preferences` webhook, and sends that failed with 131050.
import { opensWindow } from '../core/care-window.ts';
import type { ConsentEvent } from '../core/consent/events.ts';
import { eventsInForce } from '../core/consent/ledger.ts';
import {
  consentEventsForInbound,
  marketingStoppedEvent,
  optOutConfirmationText,
  shouldConfirmOptOut,
  userPreferencesEvents,
} from '../core/consent/signals.ts';
import { matchKeyword } from '../core/consent/keywords.ts';
import type { OtherNotice } from '../core/inbound.ts';
import { DAY } from '../core/time.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { Channel, Contact, MessageRecord, Store } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { appendConsentEvents, readLedger, signalEventId } from './consent-ledger.ts';
import { sendMessage } from './send-message.ts';
import { policyCache } from './policy-cache.ts';
import { consentSettings } from './workspace-policy.ts';

/**
 * OPT-4: an implied opt-in is written at most this often per (contact, number); the lapse then
 * counts from the recorded one, so consent lapses up to this much early, never late.
 */
export const IMPLIED_OPT_IN_REFRESH = DAY;

/** Inbound types that carry something the user typed or tapped (a keyword can only be text). */
function keywordText(message: MessageRecord): string | null {
  return message.type === 'text' || message.type === 'button' ? message.text : null;
}

/**
 * OPT-4/5/6, inside the transaction that stores an inbound message: a stop or start keyword
 * writes its ledger event (and a keyword stop queues its one confirmation through the normal
 * send path); any other message that opens the care window implies a utility opt-in at that
 * number. Returns the `consent.changed` event to publish after commit.
 */
export async function recordInboundConsent(
  deps: AppDeps,
  store: Store,
  channel: Channel,
  contact: Contact,
  message: MessageRecord,
): Promise<DomainEvent[]> {
  if (!opensWindow(message.type)) return [];
  const cache = policyCache(deps);
  const settings = consentSettings(await cache.workspace(store, channel.workspaceId));
  const text = keywordText(message);
  const keyword = text !== null && matchKeyword(text, settings.keywordSets) !== null;
  const impliedKey = `${channel.workspaceId}\n${channel.id}\n${contact.waId}`;
  const at = message.createdAt;
  // The common case, another message from someone whose implied opt-in is fresh: nothing to
  // write, and no need to read their ledger. (Should this transaction roll back after the cache
  // learnt of its event, the cache errs towards refusing: no implied opt-in until the next day.)
  const knownImplied = cache.impliedAt(impliedKey);
  if (
    !keyword &&
    knownImplied !== undefined &&
    at >= knownImplied &&
    at - knownImplied < IMPLIED_OPT_IN_REFRESH
  )
    return [];
  const ledger = await readLedger(deps, store, channel.workspaceId, contact.waId);
  const ctx = {
    id: signalEventId('inbound', message.id),
    contact: contact.waId,
    channelId: channel.id,
    at,
    ...(message.providerMessageId ? { messageId: message.providerMessageId } : {}),
  };
  let events = consentEventsForInbound(text, ctx, ledger, settings.keywordSets);
  const recent = recentImplied(ledger, channel.id, at);
  if (recent !== null) cache.rememberImplied(impliedKey, recent);
  if (events.length === 1 && events[0]?.implied === true) {
    if (recent !== null) events = [];
    else cache.rememberImplied(impliedKey, at);
  }
  const changed = await appendConsentEvents(deps, store, {
    workspaceId: channel.workspaceId,
    waId: contact.waId,
    contactId: contact.id,
    events,
  });
  const stop = events.find((e) => e.kind === 'opt_out');
  if (stop && settings.confirmationEnabled && shouldConfirmOptOut(stop, [...ledger, stop]))
    await sendConfirmation(
      deps,
      channel,
      contact,
      message,
      settings.confirmationText ?? optOutConfirmationText(settings.businessName ?? channel.name),
    );
  return changed ? [changed] : [];
}

/** The time of an implied opt-in at this number recorded less than a refresh period before `at`. */
function recentImplied(
  ledger: readonly ConsentEvent[],
  channelId: string,
  at: number,
): number | null {
  let found: number | null = null;
  for (const e of eventsInForce(ledger, at))
    if (
      e.implied &&
      e.kind === 'opt_in' &&
      e.reach.kind === 'channel' &&
      e.reach.channelId === channelId &&
      at - e.at < IMPLIED_OPT_IN_REFRESH
    )
      found = Math.max(found ?? e.at, e.at);
  return found;
}

/**
 * OPT-6: the one confirmation of a keyword opt-out: free-form (the user just wrote, so the care
 * window is open), through the normal policy path, keyed so it can only ever be queued once.
 */
async function sendConfirmation(
  deps: AppDeps,
  channel: Channel,
  contact: Contact,
  message: MessageRecord,
  text: string,
): Promise<void> {
  const outcome = await sendMessage(deps, {
    workspaceId: channel.workspaceId,
    channelId: channel.id,
    to: contact.waId,
    content: { type: 'text', text: { body: text } },
    idempotencyKey: `opt-out-confirmation:${message.id}`,
  });
  if (outcome.kind !== 'queued')
    deps.log.warn(
      { messageId: message.id, outcome: outcome.kind },
      'the opt-out confirmation was not queued',
    );
}

/**
 * OPT-5: Meta's `user_preferences` webhook: `stop` opts the user out of marketing
 * workspace-wide, `resume` reverses the provider's marketing stops. Replays record nothing new.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/user_preferences
 */
export async function recordUserPreferences(
  deps: AppDeps,
  channel: Channel,
  n: OtherNotice,
): Promise<DomainEvent[]> {
  const value = (typeof n.value === 'object' && n.value !== null ? n.value : {}) as {
    user_preferences?: unknown;
  };
  const list = Array.isArray(value.user_preferences) ? value.user_preferences : [];
  const out: DomainEvent[] = [];
  await deps.store.transaction(async (tx) => {
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const p = item as Record<string, unknown>;
      const waId = typeof p.wa_id === 'string' ? p.wa_id.replace(/\D/g, '') : '';
      const pref = typeof p.value === 'string' ? p.value : '';
      if (!/^\d{7,15}$/.test(waId) || pref === '') continue;
      const at =
        typeof p.timestamp === 'number' || typeof p.timestamp === 'string'
          ? Number(p.timestamp) * 1000 || n.at
          : n.at;
      // No contact is created for a preference alone: the ledger is read by number.
      const contact = await tx.contacts.findByWaId(channel.workspaceId, waId);
      const ledger = await readLedger(deps, tx, channel.workspaceId, waId);
      const events = userPreferencesEvents(
        pref,
        {
          id: signalEventId('user_preferences', channel.workspaceId, waId, pref, String(at)),
          contact: waId,
          channelId: channel.id,
          at,
        },
        ledger,
        typeof p.detail === 'string' ? p.detail : undefined,
      );
      const changed = await appendConsentEvents(deps, tx, {
        workspaceId: channel.workspaceId,
        waId,
        contactId: contact?.id ?? null,
        events,
      });
      if (changed) out.push(changed);
    }
  });
  return out;
}

/** The provider code a failed message carries (`providerError.code`), if any. */
function providerCode(message: MessageRecord): string | null {
  const e = message.providerError;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return null;
  const code = e.code;
  return typeof code === 'number' || typeof code === 'string' ? String(code) : null;
}

/**
 * OPT-5: a send that failed with 131050 ("user stopped marketing messages"), reported in the
 * HTTP answer or by a late `failed` status, records a marketing opt-out, workspace-wide, with
 * the failed message as evidence (once per message).
 */
export async function recordMarketingStopped(deps: AppDeps, messageId: string): Promise<void> {
  const changed = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.get(messageId);
    if (message?.status !== 'failed' || providerCode(message) !== '131050') return null;
    const contact = await tx.contacts.get(message.contactId);
    if (!contact) return null;
    const event = marketingStoppedEvent({
      id: signalEventId('131050', message.id),
      contact: contact.waId,
      channelId: message.channelId,
      at: message.failedAt ?? deps.clock.now(),
      ...(message.providerMessageId ? { messageId: message.providerMessageId } : {}),
    });
    return appendConsentEvents(deps, tx, {
      workspaceId: message.workspaceId,
      waId: contact.waId,
      contactId: contact.id,
      events: [event],
    });
  });
  if (changed) deps.events.publish(changed);
}

/**
 * Subscribes to `message.failed` for 131050. Work runs after the publisher returns; `idle()`
 * resolves once everything started so far has finished (tests, shutdown).
 */
export function subscribeConsentSignals(deps: AppDeps): { idle(): Promise<void>; stop(): void } {
  const running = new Set<Promise<void>>();
  // Local only: the node where the failure was stored records it, once for all nodes.
  const unsubscribe = deps.events.subscribe(
    (event) => {
      // A withdrawn message never reached WhatsApp: no 131050 to read (a cancel sends thousands).
      if (event.type !== 'message.failed' || event.data.withdrawn === true) return;
      const messageId = event.data.messageId;
      if (typeof messageId !== 'string') return;
      const work = recordMarketingStopped(deps, messageId)
        .catch((error: unknown) => {
          deps.log.error({ err: error, messageId }, 'recording a 131050 opt-out failed');
        })
        .finally(() => running.delete(work));
      running.add(work);
    },
    { localOnly: true },
  );
  return {
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    stop: unsubscribe,
  };
}
