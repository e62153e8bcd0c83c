// What start does before serving: upsert declared resources (config file), ensure the admin API
// key, and, only on a brand-new unconfigured SQLite data dir (or --demo), create the demo.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Channel, Workspace } from '../ports/store.ts';
import {
  createApiKey,
  createChannel,
  createConnection,
  createWorkspace,
  ensureApiKey,
} from './admin.ts';
import type { ConfigFile, ParleyConfig } from './config.ts';
import { ensureAgent, hashPassword } from './agents.ts';
import type { AppDeps } from './deps.ts';
import { applyDeclaredTemplates } from './templates-as-code.ts';
import { applyDeclaredAutomations, setBusinessHours } from './automation/flows.ts';

export const DEMO_WORKSPACE = 'Demo workspace';
const DEMO_KEY_FILE = 'demo-api-key';
const DEMO_PASSWORD_FILE = 'demo-admin-password';
export const DEMO_ADMIN_EMAIL = 'admin@demo.parley.local';

export interface DemoSetup {
  readonly workspace: Workspace;
  readonly channel: Channel;
  readonly apiKey: string;
  /** The demo's admin agent, to sign in to the inbox at `/`. */
  readonly login: { readonly email: string; readonly password: string };
  readonly created: boolean;
}

/**
 * Demo data only on a brand-new SQLite data dir with no configuration (or when it is already the
 * demo's data dir), or when asked for with --demo; never in a configured or PostgreSQL deployment.
 */
export function shouldRunDemo(input: {
  unconfigured: boolean;
  brandNew: boolean;
  hasDemo: boolean;
  forced: boolean;
}): boolean {
  return input.forced || (input.unconfigured && (input.brandNew || input.hasDemo));
}

/**
 * Declared workspaces, connections and channels are created when absent (matched by name);
 * declared templates are created as drafts or follow their files while still drafts.
 */
export async function applyConfigFile(deps: AppDeps, file: ConfigFile): Promise<void> {
  for (const declared of file.workspaces ?? []) {
    const workspace =
      (await deps.store.workspaces.list()).find((w) => w.name === declared.name) ??
      (await createWorkspace(deps, declared.name));
    for (const [n, key] of (declared.apiKeys ?? []).entries())
      await ensureApiKey(deps, workspace.id, key, `declared key ${n + 1}`);
    for (const agent of declared.agents ?? [])
      await ensureAgent(deps, { workspaceId: workspace.id, ...agent });
    const connections = await deps.store.connections.list(workspace.id);
    for (const dc of declared.connections ?? []) {
      const connection =
        connections.find((c) => c.name === dc.name) ??
        (await createConnection(deps, {
          workspaceId: workspace.id,
          provider: dc.provider,
          name: dc.name,
          config: (dc.config ?? {}) as never,
          secrets: dc.secrets,
        }));
      for (const { businessHours, ...ch } of dc.channels ?? []) {
        const channel =
          (await deps.store.channels.findByProviderKey(connection.id, ch.providerKey)) ??
          (await createChannel(deps, {
            workspaceId: workspace.id,
            connectionId: connection.id,
            ...ch,
          }));
        if (businessHours) await setBusinessHours(deps, workspace.id, channel.id, businessHours);
      }
    }
    if (declared.templates !== undefined)
      await applyDeclaredTemplates(
        deps,
        workspace.id,
        declared.templates,
        await deps.store.channels.list(workspace.id),
      );
    if (declared.automations !== undefined)
      await applyDeclaredAutomations(deps, workspace.id, declared.automations);
  }
}

/** PARLEY_ADMIN_API_KEY: a key with this value exists, in the first workspace (created if none). */
export async function ensureAdminKey(deps: AppDeps, key: string): Promise<Workspace> {
  const workspace =
    (await deps.store.workspaces.list())[0] ?? (await createWorkspace(deps, 'Default workspace'));
  await ensureApiKey(deps, workspace.id, key, 'PARLEY_ADMIN_API_KEY');
  return workspace;
}

/**
 * The demo: a workspace with one sandbox channel. Its API key is kept in the data dir so every
 * start can print it again (the store keeps only its hash).
 */
export async function ensureDemo(deps: AppDeps, config: ParleyConfig): Promise<DemoSetup> {
  const keyFile = join(config.dataDir, DEMO_KEY_FILE);
  const existing = (await deps.store.workspaces.list()).find((w) => w.settings.demo === true);
  if (existing && existsSync(keyFile)) {
    const channel = (await deps.store.channels.list(existing.id))[0];
    if (channel)
      return {
        workspace: existing,
        channel,
        apiKey: readFileSync(keyFile, 'utf8').trim(),
        login: await ensureDemoAdmin(deps, config, existing.id),
        created: false,
      };
  }
  const workspace =
    existing ??
    (await deps.store.workspaces.create({ name: DEMO_WORKSPACE, settings: { demo: true } }));
  const connection = await createConnection(deps, {
    workspaceId: workspace.id,
    provider: 'sandbox',
    name: 'Sandbox',
  });
  const channel = await createChannel(deps, {
    workspaceId: workspace.id,
    connectionId: connection.id,
    name: 'Parley Demo Shop',
    providerKey: '106540352242922',
    phoneNumber: '15550783881',
    wabaId: '102290129340398',
  });
  const { key } = await createApiKey(deps, workspace.id, 'demo');
  writeFileSync(keyFile, key + '\n', { mode: 0o600 });
  const login = await ensureDemoAdmin(deps, config, workspace.id);
  return { workspace, channel, apiKey: key, login, created: true };
}

/**
 * The demo's admin agent. Like the API key, its password is kept in the data dir so every start
 * can print it again (the store keeps only the scrypt hash).
 */
async function ensureDemoAdmin(
  deps: AppDeps,
  config: ParleyConfig,
  workspaceId: string,
): Promise<{ email: string; password: string }> {
  const file = join(config.dataDir, DEMO_PASSWORD_FILE);
  const known = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  const password = known || randomBytes(9).toString('base64url');
  if (!known) writeFileSync(file, password + '\n', { mode: 0o600 });
  const agent = await deps.store.inbox.agents.findByEmail(DEMO_ADMIN_EMAIL);
  if (!agent)
    await ensureAgent(deps, {
      workspaceId,
      email: DEMO_ADMIN_EMAIL,
      name: 'Demo admin',
      role: 'admin',
      password,
    });
  else if (!known)
    // The password file was lost: the printed password must work, so it is set again.
    await deps.store.inbox.agents.update(
      agent.id,
      { passwordHash: await hashPassword(password), state: 'active' },
      deps.clock.now(),
    );
  return { email: DEMO_ADMIN_EMAIL, password };
}
