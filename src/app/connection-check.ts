// Checking a provider connection on demand (token, webhook subscription, number registration,
// quality) and registering Parley's webhook with providers that take it by API (360dialog).
import type { ConnectionCheck } from '../ports/provider.ts';
import type { Connection } from '../ports/store.ts';
import { connectionView } from './admin.ts';
import type { AppDeps } from './deps.ts';

export interface ConnectionCheckFinding extends ConnectionCheck {
  /** The number the check concerns, or null for the connection as a whole. */
  readonly channelId: string | null;
}

export interface ConnectionCheckReport {
  readonly connectionId: string;
  readonly provider: string;
  readonly ok: boolean;
  readonly checks: ConnectionCheckFinding[];
}

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Runs the provider's own checks for the connection, once per channel on it (or once for the
 * connection when it has none). Every finding that is not ok says what to fix; a provider that
 * cannot be reached is a finding too, never an exception.
 */
export async function checkConnection(
  deps: AppDeps,
  connection: Connection,
): Promise<ConnectionCheckReport> {
  const checks: ConnectionCheckFinding[] = [];
  const report = (): ConnectionCheckReport => ({
    connectionId: connection.id,
    provider: connection.provider,
    ok: checks.every((c) => c.ok),
    checks,
  });
  let provider;
  try {
    provider = deps.providers.forConnection(connection);
  } catch (error) {
    checks.push({
      channelId: null,
      check: 'credentials',
      ok: false,
      detail: describe(error),
      fix: 'Save the connection’s secrets again with PATCH /v1/connections/{id}.',
    });
    return report();
  }
  if (!provider.checkConnection) {
    checks.push({
      channelId: null,
      check: 'provider',
      ok: true,
      detail: `no remote checks for ${connection.provider} connections`,
    });
    return report();
  }
  const channels = (await deps.store.channels.list(connection.workspaceId)).filter(
    (c) => c.connectionId === connection.id,
  );
  const targets = channels.length > 0 ? channels : [null];
  for (const channel of targets) {
    try {
      const found = await provider.checkConnection(
        channel
          ? {
              channelId: channel.id,
              providerKey: channel.providerKey,
              phoneNumber: channel.phoneNumber,
              ...(channel.wabaId ? { wabaId: channel.wabaId } : {}),
            }
          : undefined,
      );
      for (const c of found) checks.push({ channelId: channel?.id ?? null, ...c });
    } catch (error) {
      checks.push({
        channelId: channel?.id ?? null,
        check: 'provider reachable',
        ok: false,
        detail: describe(error),
        fix: 'Check the network and the connection’s base URL, then run the check again.',
      });
    }
  }
  return report();
}

export type WebhookRegistration =
  | {
      readonly kind: 'registered';
      readonly webhookUrl: string;
      readonly checks: ConnectionCheckFinding[];
    }
  | { readonly kind: 'unsupported'; readonly detail: string }
  | { readonly kind: 'failed'; readonly detail: string };

/**
 * Registers this connection's ingress URL with the provider: for 360dialog
 * `POST /v1/configs/webhook` with the secret header Parley then requires on every delivery. The
 * provider's own reading of the configuration is checked right after.
 * @see https://docs.360dialog.com/docs/waba-messaging/webhook
 */
export async function registerWebhook(
  deps: AppDeps,
  connection: Connection,
): Promise<WebhookRegistration> {
  const provider = deps.providers.forConnection(connection);
  const { webhookUrl } = connectionView(deps, connection);
  if (!provider.registerWebhook)
    return {
      kind: 'unsupported',
      detail:
        connection.provider === 'meta' || connection.provider === 'cloud'
          ? `${connection.provider} webhooks are set in the provider's dashboard (Meta: App › WhatsApp › Configuration): callback URL ${webhookUrl} and this connection's verify token`
          : `${connection.provider} connections do not register webhooks by API; point the provider at ${webhookUrl}`,
    };
  try {
    await provider.registerWebhook(webhookUrl);
  } catch (error) {
    return { kind: 'failed', detail: describe(error) };
  }
  const { checks } = await checkConnection(deps, connection);
  return { kind: 'registered', webhookUrl, checks };
}

/** How far back `parley doctor` looks for account-health problems. */
export const RECENT_HEALTH_MS = 24 * 60 * 60_000;

/**
 * Account-health problems (warning or critical) of the last day as findings, newest first, each
 * with its fix. A credentials failure is left out when a live token check has just passed (the
 * token was replaced since).
 */
export async function recentHealthProblems(
  deps: AppDeps,
  connection: Connection,
  options: { tokenOk?: boolean; limit?: number } = {},
): Promise<ConnectionCheck[]> {
  const since = deps.clock.now() - RECENT_HEALTH_MS;
  const page = await deps.store.providerRecords.health.list({
    workspaceId: connection.workspaceId,
    connectionId: connection.id,
    limit: 50,
  });
  return page.items
    .filter((e) => e.at >= since && e.severity !== 'info')
    .filter((e) => !(e.kind === 'auth_failed' && options.tokenOk))
    .slice(0, options.limit ?? 10)
    .map((e) => ({
      check: `account health (${e.kind})`,
      ok: false,
      detail: `${new Date(e.at).toISOString()}: ${e.detail}`,
      ...(e.fix ? { fix: e.fix } : {}),
    }));
}

/**
 * `parley doctor`: recent account-health problems of every connection, after the live checks
 * (whose token results tell whether a credentials failure is still current).
 */
export async function recentHealthFindings(
  deps: AppDeps,
  live: readonly { readonly area: string; readonly check: string; readonly ok: boolean }[],
): Promise<Array<ConnectionCheck & { readonly area: string }>> {
  const out: Array<ConnectionCheck & { readonly area: string }> = [];
  for (const workspace of await deps.store.workspaces.list()) {
    for (const connection of await deps.store.connections.list(workspace.id)) {
      // The area names doctor gives a connection (its numbers add " +<phone>").
      const area = `${workspace.name} / ${connection.name} (${connection.provider})`;
      const tokenOk = live.some((f) => f.area.startsWith(area) && f.check === 'token' && f.ok);
      for (const problem of await recentHealthProblems(deps, connection, { tokenOk }))
        out.push({ area, ...problem });
    }
  }
  return out;
}
