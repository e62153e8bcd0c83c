// A user changed their WhatsApp number (`system` message `user_changed_number`, PROVIDERS.md B.4):
// the contact's history, care windows and consent move to the new number, and the transcript
// says so. The old number may later belong to someone else, who must inherit nothing.
import type { ConsentEvent } from '../core/consent/events.ts';
import type { InboundMessage } from '../core/inbound.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { Channel, Contact, MessageRecord, Store } from '../ports/store.ts';
import { appendConsentEvents, readLedger, signalEventId } from './consent-ledger.ts';
import type { AppDeps } from './deps.ts';
import { normaliseWaId } from './send-message.ts';

/** The new number a `user_changed_number` notice names, or null for any other message. */
export function changedNumberOf(
  m: Pick<InboundMessage, 'type' | 'content' | 'from'>,
): string | null {
  if (m.type !== 'system') return null;
  const c = (typeof m.content === 'object' && m.content !== null ? m.content : {}) as Record<
    string,
    unknown
  >;
  if (c.type !== 'user_changed_number' || typeof c.wa_id !== 'string') return null;
  const waId = normaliseWaId(c.wa_id);
  return waId !== null && waId !== m.from ? waId : null;
}

/** What the transcript shows for the notice. */
export function numberChangeText(fromWaId: string, toWaId: string): string {
  return `The customer changed their WhatsApp number from +${fromWaId} to +${toWaId}. Their history, service window and consent now belong to the new number.`;
}

/**
 * The consent ledger is append-only and read by a keyed hash of the number, so the old number's
 * events are carried over as copies for the new number (same kind, purpose, reach, source and
 * time, with the change as evidence) rather than rewritten. Replays copy nothing twice.
 */
async function carryConsent(
  deps: AppDeps,
  tx: Store,
  input: { workspaceId: string; from: string; to: string; contactId: string; messageId: string },
): Promise<DomainEvent | null> {
  const ledger = await readLedger(deps, tx, input.workspaceId, input.from);
  if (ledger.length === 0) return null;
  const idOf = (id: string) => signalEventId('number-change', input.messageId, id);
  const events: ConsentEvent[] = ledger.map((e) => ({
    id: idOf(e.id),
    contact: input.to,
    kind: e.kind,
    purpose: e.purpose,
    reach: e.reach,
    source: e.source,
    at: e.at,
    recordedBy: e.recordedBy,
    implied: e.implied,
    ...(e.restores ? { restores: e.restores.map(idOf) } : {}),
    evidence: {
      ...e.evidence,
      note: `carried over from +${input.from} when the user changed number (event ${e.id})${e.evidence.note ? `; ${e.evidence.note}` : ''}`,
    },
  }));
  return appendConsentEvents(deps, tx, {
    workspaceId: input.workspaceId,
    waId: input.to,
    contactId: input.contactId,
    events,
  });
}

/**
 * Inside the transaction that stored a `user_changed_number` notice: when the new number has no
 * contact yet, the contact itself takes the new number (its id, and so every message,
 * conversation and window, stays); when it has one, the old contact's messages, conversations
 * and windows move to it. Consent is carried over, the change is recorded once per notice, and
 * the notice's transcript line says what happened.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components#messages-object
 */
export async function applyNumberChange(
  deps: AppDeps,
  tx: Store,
  channel: Channel,
  contact: Contact,
  message: MessageRecord,
  inbound: Pick<InboundMessage, 'type' | 'content' | 'from' | 'at'>,
): Promise<DomainEvent[]> {
  const to = changedNumberOf(inbound);
  if (to === null) return [];
  if (await tx.providerRecords.numberChanges.findByMessage(message.id)) return [];
  const existing = await tx.contacts.findByWaId(channel.workspaceId, to);
  let target: Contact;
  if (existing && existing.id !== contact.id) {
    await tx.providerRecords.numberChanges.moveHistory(contact.id, existing.id, inbound.at);
    target = existing;
  } else {
    await tx.providerRecords.numberChanges.renumberContact(contact.id, to, inbound.at);
    target = { ...contact, waId: to };
  }
  await tx.providerRecords.numberChanges.record({
    workspaceId: channel.workspaceId,
    fromContactId: contact.id,
    toContactId: target.id,
    fromWaId: contact.waId,
    toWaId: to,
    messageId: message.id,
    at: inbound.at,
  });
  await tx.messages.update(
    message.id,
    { text: numberChangeText(contact.waId, to) },
    deps.clock.now(),
  );
  const consent = await carryConsent(deps, tx, {
    workspaceId: channel.workspaceId,
    from: contact.waId,
    to,
    contactId: target.id,
    messageId: message.id,
  });
  return consent ? [consent] : [];
}
