// What chatbot automation keeps durably: flow definitions, runs (a waiting question survives a
// restart), the inbound messages already handled (each starts at most one run), channel calendars.
import type { RunStatus } from '../core/automation/step-machine.ts';
import type { Json, JsonObject } from './store.ts';

export const AUTOMATION_SOURCES = ['api', 'config'] as const;
export type AutomationSource = (typeof AUTOMATION_SOURCES)[number];

export interface AutomationRecord {
  id: string;
  workspaceId: string;
  /** Unique per workspace: declared flows are matched by name. */
  name: string;
  /** The whole definition as given (trigger, steps, options), validated before it is stored. */
  definition: JsonObject;
  source: AutomationSource;
  createdAt: number;
  updatedAt: number;
}

export interface AutomationRunRecord {
  id: string;
  workspaceId: string;
  automationId: string;
  /** The definition the run started with: editing a flow never changes a run under way. */
  definition: JsonObject;
  channelId: string;
  contactId: string;
  conversationId: string;
  /** The inbound message that started it. */
  messageId: string;
  status: RunStatus;
  step: number;
  waitingUntil: number | null;
  reason: string | null;
  /** What happened, step by step (sent message ids, HTTP outcomes …). */
  log: Json[];
  startedAt: number;
  updatedAt: number;
}

export type NewAutomationRun = Omit<AutomationRunRecord, 'id' | 'updatedAt'>;

export interface AutomationStore {
  flows: {
    /** False (nothing stored) when the workspace already has a flow of that name. */
    create(input: Omit<AutomationRecord, 'id' | 'updatedAt'>): Promise<AutomationRecord | null>;
    get(workspaceId: string, id: string): Promise<AutomationRecord | null>;
    findByName(workspaceId: string, name: string): Promise<AutomationRecord | null>;
    /** Oldest first (creation order breaks ties between equal priorities). */
    list(workspaceId: string): Promise<AutomationRecord[]>;
    /** Null when absent, or when the new name is taken by another flow. */
    update(
      workspaceId: string,
      id: string,
      patch: Pick<AutomationRecord, 'name' | 'definition' | 'source'>,
      at: number,
    ): Promise<AutomationRecord | null>;
    delete(workspaceId: string, id: string): Promise<boolean>;
  };

  runs: {
    create(input: NewAutomationRun): Promise<AutomationRunRecord>;
    get(id: string): Promise<AutomationRunRecord | null>;
    update(
      id: string,
      patch: Partial<
        Pick<AutomationRunRecord, 'status' | 'step' | 'waitingUntil' | 'reason' | 'log'>
      >,
      at: number,
    ): Promise<AutomationRunRecord | null>;
    /** Runs of a conversation, newest first. */
    listByConversation(conversationId: string): Promise<AutomationRunRecord[]>;
    /** Runs of a flow, newest first. */
    listByAutomation(
      workspaceId: string,
      automationId: string,
      limit: number,
    ): Promise<AutomationRunRecord[]>;
    /** When this flow last started for this contact (cooldown), or null. */
    lastStartFor(automationId: string, contactId: string): Promise<number | null>;
  };

  /**
   * Claims an inbound message for automation: true the first time, false for a duplicate (a
   * re-delivered event, a second node), so each inbound message is handled once.
   */
  claimInbound(workspaceId: string, messageId: string, at: number): Promise<boolean>;

  /** True when the conversation has an inbound message before `before` other than `messageId`. */
  hasEarlierInbound(
    conversationIds: readonly string[],
    messageId: string,
    before: number,
  ): Promise<boolean>;

  /**
   * True when someone other than the bot wrote in this conversation since `since` (an agent or
   * an API client took over): an outbound free-form message, not refused, not keyed
   * `automation:`. Templates (campaigns, notifications, re-engagement) do not take a
   * conversation over: the customer's answer to one may still start a flow.
   */
  humanSentSince(conversationId: string, since: number): Promise<boolean>;

  calendars: {
    get(channelId: string): Promise<JsonObject | null>;
    put(input: {
      workspaceId: string;
      channelId: string;
      calendar: JsonObject;
      at: number;
    }): Promise<void>;
    delete(channelId: string): Promise<boolean>;
  };
}
