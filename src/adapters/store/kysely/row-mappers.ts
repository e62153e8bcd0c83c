// Rows to the port's records: JSON text parsed, 0/1 or boolean to boolean, snake_case to camelCase.
import type { Selectable } from 'kysely';
import type { MessageStatus, ProviderStatus } from '../../../core/message-status.ts';
import type { ReasonCode } from '../../../core/reason-codes.ts';
import type { ProviderKind } from '../../../ports/provider.ts';
import type {
  ApiKey,
  CareWindowRecord,
  Channel,
  ChannelEnvironment,
  Connection,
  Contact,
  Conversation,
  ConversationState,
  Direction,
  IdempotencyRecord,
  Json,
  JsonObject,
  MessageRecord,
  StatusEventRecord,
  TemplateRecord,
  WebhookRecord,
  WebhookState,
  Workspace,
} from '../../../ports/store.ts';
import type {
  ApiKeysTable,
  CareWindowsTable,
  ChannelsTable,
  ConnectionsTable,
  ContactsTable,
  ConversationsTable,
  DbBool,
  IdempotencyKeysTable,
  MessageStatusEventsTable,
  MessagesTable,
  TemplatesTable,
  WebhooksTable,
  WorkspacesTable,
} from './database-schema.ts';

/** JSON as stored: `undefined` (not JSON) is kept as null so a column never holds invalid text. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Parses stored JSON; callers narrow to the shape the column was written with. */
export function fromJsonText(text: string): Json {
  return JSON.parse(text) as Json;
}

export function fromDbBool(value: DbBool): boolean {
  return value === true || value === 1;
}

export function toWorkspace(row: Selectable<WorkspacesTable>): Workspace {
  return {
    id: row.id,
    name: row.name,
    settings: fromJsonText(row.settings) as JsonObject,
    createdAt: row.created_at,
  };
}

export function toApiKey(row: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    prefix: row.prefix,
    keyHash: row.key_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function toConnection(row: Selectable<ConnectionsTable>): Connection {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    provider: row.provider as ProviderKind,
    name: row.name,
    config: fromJsonText(row.config) as JsonObject,
    secretsEncrypted: row.secrets_encrypted,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toChannel(row: Selectable<ChannelsTable>): Channel {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    connectionId: row.connection_id,
    providerKey: row.provider_key,
    phoneNumber: row.phone_number,
    wabaId: row.waba_id,
    name: row.name,
    throughputMps: row.throughput_mps,
    environment: row.environment as ChannelEnvironment,
    allowList: fromJsonText(row.allow_list) as string[],
    createdAt: row.created_at,
  };
}

export function toContact(row: Selectable<ContactsTable>): Contact {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    waId: row.wa_id,
    name: row.name,
    userId: row.user_id,
    attributes: fromJsonText(row.attributes) as JsonObject,
    tags: fromJsonText(row.tags) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toCareWindow(row: Selectable<CareWindowsTable>): CareWindowRecord {
  return {
    channelId: row.channel_id,
    contactId: row.contact_id,
    lastInboundAt: row.last_inbound_at,
    closedAt: row.closed_at,
  };
}

export function toConversation(row: Selectable<ConversationsTable>): Conversation {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    channelId: row.channel_id,
    contactId: row.contact_id,
    state: row.state as ConversationState,
    assigneeId: row.assignee_id,
    createdAt: row.created_at,
    lastMessageAt: row.last_message_at,
    closedAt: row.closed_at,
  };
}

export function toMessage(row: Selectable<MessagesTable>): MessageRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    channelId: row.channel_id,
    contactId: row.contact_id,
    conversationId: row.conversation_id,
    direction: row.direction as Direction,
    type: row.type,
    content: fromJsonText(row.content),
    text: row.text,
    status: row.status as MessageStatus,
    reason: row.reason as ReasonCode | null,
    reasonDetail: row.reason_detail,
    providerMessageId: row.provider_message_id,
    providerError: fromJsonText(row.provider_error),
    idempotencyKey: row.idempotency_key,
    replyTo: row.reply_to,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    dispatchedAt: row.dispatched_at,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    readAt: row.read_at,
    failedAt: row.failed_at,
    needsReview: fromDbBool(row.needs_review),
  };
}

export function toStatusEvent(row: Selectable<MessageStatusEventsTable>): StatusEventRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    status: row.status as ProviderStatus,
    at: row.at,
    providerCode: row.provider_code,
    raw: fromJsonText(row.raw),
    receivedAt: row.received_at,
  };
}

export function toWebhook(row: Selectable<WebhooksTable>): WebhookRecord {
  return {
    id: row.id,
    connectionId: row.connection_id,
    provider: row.provider as ProviderKind,
    receivedAt: row.received_at,
    headers: fromJsonText(row.headers) as Record<string, string>,
    body: row.body,
    url: row.url,
    state: row.state as WebhookState,
    error: row.error,
    processedAt: row.processed_at,
  };
}

export function toIdempotency(row: Selectable<IdempotencyKeysTable>): IdempotencyRecord {
  return {
    workspaceId: row.workspace_id,
    key: row.key,
    requestHash: row.request_hash,
    messageId: row.message_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export function toTemplate(row: Selectable<TemplatesTable>): TemplateRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    channelId: row.channel_id,
    name: row.name,
    language: row.language,
    category: row.category,
    status: row.status,
    parameterFormat: row.parameter_format,
    components: fromJsonText(row.components),
    providerTemplateId: row.provider_template_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
