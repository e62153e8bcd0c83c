// Row shapes of the tables as Kysely sees them (snake_case columns, ms bigints, JSON as text).

/** SQLite keeps booleans as 0/1 integers; PostgreSQL as `boolean`. Mappers turn both into booleans. */
export type DbBool = boolean | number;

export interface WorkspacesTable {
  id: string;
  name: string;
  settings: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface ConnectionsTable {
  id: string;
  workspace_id: string;
  provider: string;
  name: string;
  config: string;
  secrets_encrypted: string;
  created_at: number;
  updated_at: number;
}

export interface ChannelsTable {
  id: string;
  workspace_id: string;
  connection_id: string;
  provider_key: string;
  phone_number: string;
  waba_id: string | null;
  name: string;
  throughput_mps: number;
  environment: string;
  allow_list: string;
  created_at: number;
}

export interface ContactsTable {
  id: string;
  workspace_id: string;
  wa_id: string;
  name: string | null;
  user_id: string | null;
  attributes: string;
  tags: string;
  created_at: number;
  updated_at: number;
}

export interface CareWindowsTable {
  channel_id: string;
  contact_id: string;
  last_inbound_at: number | null;
  closed_at: number | null;
}

export interface ConversationsTable {
  id: string;
  workspace_id: string;
  channel_id: string;
  contact_id: string;
  state: string;
  assignee_id: string | null;
  created_at: number;
  last_message_at: number;
  closed_at: number | null;
}

export interface MessagesTable {
  id: string;
  workspace_id: string;
  channel_id: string;
  contact_id: string;
  conversation_id: string | null;
  direction: string;
  type: string;
  content: string;
  text: string | null;
  status: string;
  reason: string | null;
  reason_detail: string | null;
  provider_message_id: string | null;
  provider_error: string;
  idempotency_key: string | null;
  reply_to: string | null;
  created_at: number;
  updated_at: number;
  dispatched_at: number | null;
  sent_at: number | null;
  delivered_at: number | null;
  read_at: number | null;
  failed_at: number | null;
  needs_review: DbBool;
}

export interface MessageStatusEventsTable {
  id: string;
  message_id: string;
  status: string;
  at: number;
  provider_code: string | null;
  raw: string;
  received_at: number;
}

export interface WebhooksTable {
  id: string;
  connection_id: string;
  provider: string;
  received_at: number;
  headers: string;
  body: Buffer;
  url: string;
  state: string;
  error: string | null;
  processed_at: number | null;
}

export interface IdempotencyKeysTable {
  workspace_id: string;
  key: string;
  request_hash: string;
  message_id: string;
  created_at: number;
  expires_at: number;
}

export interface TemplatesTable {
  id: string;
  workspace_id: string;
  channel_id: string | null;
  /** `channel_id` or '' for workspace-wide templates: a NOT NULL column both dialects can key on. */
  channel_scope: string;
  name: string;
  language: string;
  category: string;
  status: string;
  parameter_format: string;
  components: string;
  provider_template_id: string | null;
  created_at: number;
  updated_at: number;
}

export const JOB_STATES = ['waiting', 'leased', 'dead'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobsTable {
  id: string;
  queue: string;
  key: string;
  payload: string;
  run_at: number;
  attempts: number;
  state: JobState;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
}

export interface Database {
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  connections: ConnectionsTable;
  channels: ChannelsTable;
  contacts: ContactsTable;
  care_windows: CareWindowsTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  message_status_events: MessageStatusEventsTable;
  webhooks: WebhooksTable;
  idempotency_keys: IdempotencyKeysTable;
  templates: TemplatesTable;
  jobs: JobsTable;
}
