// Workspaces, API keys, provider connections and channels: what an operator sets up.
// Connection secrets are sealed before they reach the store and never come back out.
import { randomBytes } from 'node:crypto';
import { DEFAULT_THROUGHPUT } from '../core/rate-limit.ts';
import type { ProviderKind } from '../ports/provider.ts';
import type {
  Channel,
  ChannelEnvironment,
  Connection,
  JsonObject,
  Workspace,
} from '../ports/store.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './api-keys.ts';
import type { AppDeps } from './deps.ts';

/** Secrets each provider needs; generated ones are created when not given. */
const REQUIRED_SECRETS: Readonly<Record<ProviderKind, readonly string[]>> = {
  sandbox: [],
  meta: ['accessToken', 'appSecret', 'verifyToken'],
  '360dialog': ['apiKey'],
  cloud: ['token'],
  // Plus an Auth Token or an API key sid and secret (checked in createConnection).
  twilio: ['accountSid'],
};
const GENERATED_SECRETS: Readonly<Partial<Record<ProviderKind, readonly string[]>>> = {
  sandbox: ['appSecret'],
  '360dialog': ['webhookSecret'],
  cloud: ['verifyToken'],
};

export class AdminError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectionView {
  id: string;
  provider: ProviderKind;
  name: string;
  config: JsonObject;
  /** Which secrets are set; their values are write-only. */
  secretsSet: string[];
  webhookUrl: string;
  createdAt: number;
  updatedAt: number;
}

export async function createWorkspace(deps: AppDeps, name: string): Promise<Workspace> {
  return deps.store.workspaces.create({ name, settings: {} });
}

/** Creates an API key; the plain key is returned once and only its hash is stored. */
export async function createApiKey(
  deps: AppDeps,
  workspaceId: string,
  name: string,
  plain = generateApiKey(),
) {
  const record = await deps.store.apiKeys.create({
    workspaceId,
    name,
    prefix: displayPrefix(plain),
    keyHash: hashApiKey(plain),
  });
  return { key: plain, record };
}

/** PARLEY_ADMIN_API_KEY: make sure a key with exactly this value exists (for automation). */
export async function ensureApiKey(
  deps: AppDeps,
  workspaceId: string,
  plain: string,
  name: string,
): Promise<void> {
  if (await deps.store.apiKeys.findByHash(hashApiKey(plain))) return;
  await createApiKey(deps, workspaceId, name, plain);
}

export function connectionView(deps: AppDeps, c: Connection): ConnectionView {
  const secrets = deps.secretBox.open(c.secretsEncrypted);
  const ingress = c.provider === 'sandbox' ? 'meta' : c.provider;
  return {
    id: c.id,
    provider: c.provider,
    name: c.name,
    config: c.config,
    secretsSet: Object.keys(secrets).sort(),
    webhookUrl: `${deps.publicUrl}/webhooks/${ingress}/${c.id}`,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export async function createConnection(
  deps: AppDeps,
  input: {
    workspaceId: string;
    provider: ProviderKind;
    name: string;
    config?: JsonObject;
    secrets?: Record<string, string>;
  },
): Promise<Connection> {
  const secrets = { ...(input.secrets ?? {}) };
  const missing = REQUIRED_SECRETS[input.provider].filter((k) => !secrets[k]);
  if (missing.length > 0)
    throw new AdminError(
      'invalid_request',
      `A ${input.provider} connection needs secrets: ${missing.join(', ')}`,
    );
  if (
    input.provider === 'twilio' &&
    !secrets.authToken &&
    !(secrets.apiKeySid && secrets.apiKeySecret)
  )
    throw new AdminError(
      'invalid_request',
      'A twilio connection needs secrets: authToken (which also verifies webhooks), or apiKeySid and apiKeySecret',
    );
  for (const k of GENERATED_SECRETS[input.provider] ?? [])
    secrets[k] ??= randomBytes(24).toString('base64url');
  if (input.provider === 'cloud' && typeof input.config?.baseUrl !== 'string')
    throw new AdminError('invalid_request', 'A cloud connection needs config.baseUrl');
  return deps.store.connections.create({
    workspaceId: input.workspaceId,
    provider: input.provider,
    name: input.name,
    config: input.config ?? {},
    secretsEncrypted: deps.secretBox.seal(secrets),
  });
}

export async function getConnection(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<Connection> {
  const c = await deps.store.connections.get(id);
  if (!c || c.workspaceId !== workspaceId)
    throw new AdminError('not_found', `No connection ${id} in this workspace`);
  return c;
}

export async function updateConnection(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  patch: { name?: string; config?: JsonObject; secrets?: Record<string, string> },
): Promise<Connection> {
  const current = await getConnection(deps, workspaceId, id);
  const secrets = patch.secrets
    ? { ...deps.secretBox.open(current.secretsEncrypted), ...patch.secrets }
    : undefined;
  const updated = await deps.store.connections.update(id, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.config !== undefined ? { config: patch.config } : {}),
    ...(secrets ? { secretsEncrypted: deps.secretBox.seal(secrets) } : {}),
  });
  deps.providers.evict(id);
  deps.lookups.forget();
  if (!updated) throw new AdminError('not_found', `No connection ${id} in this workspace`);
  return updated;
}

export async function createChannel(
  deps: AppDeps,
  input: {
    workspaceId: string;
    connectionId: string;
    name: string;
    providerKey: string;
    phoneNumber: string;
    wabaId?: string | null;
    throughputMps?: number;
    environment?: ChannelEnvironment;
    allowList?: string[];
  },
): Promise<Channel> {
  const connection = await getConnection(deps, input.workspaceId, input.connectionId);
  // Twilio addresses a WhatsApp sender as whatsapp:+E164, and its webhooks route by exactly that.
  if (connection.provider === 'twilio' && !/^whatsapp:\+[1-9]\d{6,14}$/.test(input.providerKey))
    throw new AdminError(
      'invalid_request',
      `A Twilio channel's providerKey is its WhatsApp sender as whatsapp:+E164 (e.g. whatsapp:+15551234567), not "${input.providerKey}"`,
    );
  if (await deps.store.channels.findByProviderKey(input.connectionId, input.providerKey))
    throw new AdminError(
      'conflict',
      `Connection ${input.connectionId} already has a channel for ${input.providerKey}`,
    );
  const channel = await deps.store.channels.create({
    workspaceId: input.workspaceId,
    connectionId: input.connectionId,
    name: input.name,
    providerKey: input.providerKey,
    phoneNumber: input.phoneNumber.replace(/^\+/, ''),
    wabaId: input.wabaId ?? null,
    throughputMps: input.throughputMps ?? DEFAULT_THROUGHPUT,
    environment: input.environment ?? 'production',
    allowList: (input.allowList ?? []).map((n) => n.replace(/^\+/, '')),
  });
  deps.lookups.forget(); // a webhook for this number may have been cached as unroutable
  return channel;
}

export async function getChannel(deps: AppDeps, workspaceId: string, id: string): Promise<Channel> {
  const c = await deps.store.channels.get(id);
  if (!c || c.workspaceId !== workspaceId)
    throw new AdminError('not_found', `No channel ${id} in this workspace`);
  return c;
}
