// The inbox's durable facts: agents and their sessions, departments, the inbox-only columns of
// conversations (department, snooze, labels, read mark), notes, canned responses, parked replies.
import type { CareWindowRecord, Contact, Conversation, JsonObject, Page } from './store.ts';

export const AGENT_ROLES = ['admin', 'agent'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export const AGENT_STATES = ['invited', 'active', 'disabled'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface Agent {
  id: string;
  workspaceId: string;
  /** Lower-cased; unique across the deployment (login names no workspace). */
  email: string;
  name: string;
  role: AgentRole;
  state: AgentState;
  /** `scrypt$N$r$p$salt$hash` (base64url parts); null until an invite is accepted. */
  passwordHash: string | null;
  departmentIds: string[];
  createdAt: number;
  updatedAt: number;
}

export interface AgentSession {
  id: string;
  /** SHA-256 hex of the cookie value; the value itself is never stored. */
  tokenHash: string;
  agentId: string;
  workspaceId: string;
  /** Echoed by the browser in X-CSRF-Token on every mutating request. */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export const AGENT_TOKEN_KINDS = ['invite', 'reset'] as const;
export type AgentTokenKind = (typeof AGENT_TOKEN_KINDS)[number];

/** A single-use invite or password-reset token (stored hashed). */
export interface AgentToken {
  tokenHash: string;
  kind: AgentTokenKind;
  agentId: string;
  workspaceId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface Department {
  id: string;
  workspaceId: string;
  name: string;
  createdAt: number;
}

/** What only the inbox keeps about a conversation. */
export interface ConversationInboxFields {
  departmentId: string | null;
  /** Snoozed while this lies in the future; a customer message clears it. */
  snoozedUntil: number | null;
  labels: string[];
  /** An agent opened the conversation at this time: inbound messages after it are unread. */
  readAt: number | null;
  /** The agent who closed it (null: closed by an API key or automation, or open). */
  closedBy: string | null;
  /** Its department when it was closed. */
  closedDepartmentId: string | null;
}

export type InboxConversation = Conversation & ConversationInboxFields;

export const INBOX_STATUSES = ['open', 'snoozed', 'closed'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

export interface InboxFilter {
  workspaceId: string;
  /** Snooze is judged against this instant (no timer has to wake anything up). */
  now: number;
  channelId?: string;
  contactId?: string;
  /** The stored state, regardless of snooze (the older `state` filter of the API). */
  state?: 'open' | 'closed';
  /** null: unassigned. */
  assigneeId?: string | null;
  departmentId?: string;
  status?: InboxStatus;
  /** Matches the contact's name (any case) or number. */
  search?: string;
  limit: number;
  cursor?: string;
}

export interface LastMessage {
  text: string | null;
  type: string;
  at: number;
  direction: 'inbound' | 'outbound';
}

/** The sums of a conversation's or contact's priced messages, per currency. */
export interface CostSum {
  currency: string;
  micros: number;
}

export interface ConversationNote {
  id: string;
  workspaceId: string;
  conversationId: string;
  agentId: string | null;
  text: string;
  createdAt: number;
}

export interface CannedResponse {
  id: string;
  workspaceId: string;
  shortcut: string;
  text: string;
  createdAt: number;
  updatedAt: number;
}

export const PARKED_STATES = ['held', 'sent', 'cancelled'] as const;
export type ParkedState = (typeof PARKED_STATES)[number];

export interface ParkedReply {
  id: string;
  workspaceId: string;
  conversationId: string;
  channelId: string;
  contactId: string;
  agentId: string | null;
  text: string;
  state: ParkedState;
  reengagementMessageId: string | null;
  /** The message the held reply became once the customer answered. */
  messageId: string | null;
  createdAt: number;
  releasedAt: number | null;
}

/** One conversation's figures for the response-time report. */
export interface ResponseTimeRow {
  conversationId: string;
  assigneeId: string | null;
  departmentId: string | null;
  createdAt: number;
  firstInboundAt: number | null;
  firstResponseAt: number | null;
  /** The agent who sent that first reply from the inbox (null: an API key, automation, a campaign). */
  firstResponseAgentId: string | null;
  /** The conversation's department when an agent sent that first reply. */
  firstResponseDepartmentId: string | null;
  closedAt: number | null;
  closedBy: string | null;
  closedDepartmentId: string | null;
}

export interface InboxStore {
  agents: {
    create(input: Omit<Agent, 'id' | 'createdAt' | 'updatedAt'> & { at: number }): Promise<Agent>;
    get(id: string): Promise<Agent | null>;
    findByEmail(email: string): Promise<Agent | null>;
    list(workspaceId: string): Promise<Agent[]>;
    update(
      id: string,
      patch: Partial<Pick<Agent, 'name' | 'role' | 'state' | 'passwordHash' | 'departmentIds'>>,
      at: number,
    ): Promise<Agent | null>;
    delete(id: string): Promise<boolean>;
  };
  sessions: {
    create(input: Omit<AgentSession, 'id'>): Promise<AgentSession>;
    findByHash(tokenHash: string): Promise<AgentSession | null>;
    delete(id: string): Promise<void>;
    deleteForAgent(agentId: string): Promise<void>;
  };
  tokens: {
    create(input: Omit<AgentToken, 'usedAt'>): Promise<AgentToken>;
    findByHash(tokenHash: string): Promise<AgentToken | null>;
    /** Marks a token used; false when it was used already (a second use loses the race). */
    use(tokenHash: string, at: number): Promise<boolean>;
  };
  /** Failed login attempts per key (email + address), for the login rate limit across nodes. */
  attempts: {
    record(key: string, at: number): Promise<void>;
    count(key: string, since: number): Promise<number>;
    purge(before: number): Promise<void>;
  };
  departments: {
    create(input: { workspaceId: string; name: string; at: number }): Promise<Department>;
    get(id: string): Promise<Department | null>;
    list(workspaceId: string): Promise<Department[]>;
    rename(id: string, name: string): Promise<Department | null>;
    /** Deletes it and unsets it on the workspace's conversations. */
    delete(id: string): Promise<boolean>;
  };
  conversations: {
    get(id: string): Promise<InboxConversation | null>;
    list(filter: InboxFilter): Promise<Page<InboxConversation>>;
    update(
      id: string,
      patch: Partial<
        Pick<
          InboxConversation,
          | 'state'
          | 'assigneeId'
          | 'closedAt'
          | 'departmentId'
          | 'snoozedUntil'
          | 'labels'
          | 'readAt'
          | 'closedBy'
          | 'closedDepartmentId'
        >
      >,
    ): Promise<InboxConversation | null>;
    /** Clears a snooze on the open conversation of (channel, contact), if any. */
    wake(channelId: string, contactId: string): Promise<string | null>;
    unreadCounts(
      items: readonly { id: string; readAt: number | null }[],
    ): Promise<Map<string, number>>;
    lastMessages(ids: readonly string[]): Promise<Map<string, LastMessage>>;
    costs(ids: readonly string[]): Promise<Map<string, CostSum[]>>;
    /** The contacts of a page, by id. */
    contacts(ids: readonly string[]): Promise<Map<string, Contact>>;
    /** Care windows of a page, keyed `channelId:contactId`. */
    windows(
      pairs: readonly { channelId: string; contactId: string }[],
    ): Promise<Map<string, CareWindowRecord>>;
    /**
     * Records the agent who sent an outbound message and the conversation's department at this
     * instant (report attribution).
     */
    attributeReply(messageId: string, agentId: string): Promise<void>;
    responseTimes(workspaceId: string, from: number, to: number): Promise<ResponseTimeRow[]>;
  };
  contacts: {
    update(
      id: string,
      patch: Partial<Pick<Contact, 'name' | 'attributes' | 'tags'>>,
      at: number,
    ): Promise<Contact | null>;
    cost(workspaceId: string, contactId: string): Promise<CostSum[]>;
    /** The latest ad / referral the contact arrived from (the `referral` of an inbound message). */
    entryPoint(
      workspaceId: string,
      contactId: string,
    ): Promise<{ at: number; referral: JsonObject } | null>;
  };
  notes: {
    create(input: Omit<ConversationNote, 'id'>): Promise<ConversationNote>;
    /** Oldest first, createdAt in (after, until]. */
    list(conversationId: string, after: number, until: number): Promise<ConversationNote[]>;
  };
  canned: {
    create(input: {
      workspaceId: string;
      shortcut: string;
      text: string;
      at: number;
    }): Promise<CannedResponse>;
    get(id: string): Promise<CannedResponse | null>;
    list(workspaceId: string): Promise<CannedResponse[]>;
    update(
      id: string,
      patch: Partial<Pick<CannedResponse, 'shortcut' | 'text'>>,
      at: number,
    ): Promise<CannedResponse | null>;
    delete(id: string): Promise<boolean>;
  };
  parked: {
    create(
      input: Omit<ParkedReply, 'id' | 'messageId' | 'releasedAt' | 'state'>,
    ): Promise<ParkedReply>;
    get(id: string): Promise<ParkedReply | null>;
    listHeld(channelId: string, contactId: string): Promise<ParkedReply[]>;
    listForConversation(conversationId: string): Promise<ParkedReply[]>;
    /** held → sent or cancelled; false when it was no longer held. */
    settle(
      id: string,
      state: Exclude<ParkedState, 'held'>,
      at: number,
      messageId: string | null,
    ): Promise<boolean>;
    setReengagement(id: string, messageId: string): Promise<void>;
  };
}
