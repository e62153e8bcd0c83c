// Read models for the API and the inbox: conversations, transcripts, messages with their status
// history, and the eligibility of a contact on a channel. Every read is scoped to one workspace.
import { NO_WINDOW } from '../core/care-window.ts';
import { eligibility, type Eligibility } from '../core/eligibility.ts';
import type {
  Contact,
  Conversation,
  ConversationFilter,
  MessageRecord,
  Page,
  StatusEventRecord,
} from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { templatePrices } from './billing/quote.ts';
import { channelConsent } from './consent-ledger.ts';

export class NotFound extends Error {}

export interface ConversationSummary {
  conversation: Conversation;
  contact: Contact | null;
  window: Eligibility;
}

export async function listConversations(
  deps: AppDeps,
  filter: ConversationFilter,
): Promise<Page<ConversationSummary>> {
  const page = await deps.store.conversations.list(filter);
  const now = deps.clock.now();
  const items = await Promise.all(
    page.items.map(async (conversation) => {
      const [contact, window] = await Promise.all([
        deps.store.contacts.get(conversation.contactId),
        deps.store.windows.get(conversation.channelId, conversation.contactId),
      ]);
      return {
        conversation,
        contact,
        window: eligibility(window ?? NO_WINDOW, now, deps.policy.dispatchMarginMs),
      };
    }),
  );
  return { items, nextCursor: page.nextCursor };
}

export async function getConversation(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<ConversationSummary> {
  const conversation = await deps.store.conversations.get(id);
  if (!conversation || conversation.workspaceId !== workspaceId)
    throw new NotFound(`No conversation ${id} in this workspace`);
  const contact = await deps.store.contacts.get(conversation.contactId);
  const window = await deps.store.windows.get(conversation.channelId, conversation.contactId);
  return {
    conversation,
    contact,
    window: eligibility(window ?? NO_WINDOW, deps.clock.now(), deps.policy.dispatchMarginMs),
  };
}

export async function getTranscript(
  deps: AppDeps,
  workspaceId: string,
  conversationId: string,
  paging: { limit: number; cursor?: string },
): Promise<Page<MessageRecord>> {
  await getConversation(deps, workspaceId, conversationId);
  return deps.store.messages.listByConversation(conversationId, paging);
}

export async function getMessage(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<{ message: MessageRecord; statuses: StatusEventRecord[] }> {
  const message = await deps.store.messages.get(id);
  if (!message || message.workspaceId !== workspaceId)
    throw new NotFound(`No message ${id} in this workspace`);
  return { message, statuses: await deps.store.statusEvents.list(id) };
}

export async function getContact(deps: AppDeps, workspaceId: string, id: string): Promise<Contact> {
  const contact = await deps.store.contacts.get(id);
  if (!contact || contact.workspaceId !== workspaceId)
    throw new NotFound(`No contact ${id} in this workspace`);
  return contact;
}

/** May the business send free-form to this contact on this channel now, and until when? */
export async function getEligibility(
  deps: AppDeps,
  workspaceId: string,
  contactId: string,
  channelId: string,
) {
  const contact = await getContact(deps, workspaceId, contactId);
  const channel = await deps.store.channels.get(channelId);
  if (!channel || channel.workspaceId !== workspaceId)
    throw new NotFound(`No channel ${channelId} in this workspace`);
  const window = (await deps.store.windows.get(channel.id, contact.id)) ?? NO_WINDOW;
  const now = deps.clock.now();
  return {
    contact,
    channel,
    lastInboundAt: window.lastInboundAt,
    // What a template of each category would cost delivered now (null: unpriced, PRC-5).
    prices: await templatePrices(deps.store, channel, contact, deps.clock.now()),
    ...eligibility(window, now, deps.policy.dispatchMarginMs),
    // OPT-7: may a template of each purpose be sent now, and why not.
    consent: await channelConsent(deps, contact, channel, now),
  };
}
