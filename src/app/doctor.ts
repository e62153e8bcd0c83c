// `parley doctor`: checks configuration, database, queue, unrouted webhooks and every provider
// connection, each finding saying what to fix.
import type { ConnectionCheck } from '../ports/provider.ts';
import type { ParleyConfig } from './config.ts';
import type { AppDeps } from './deps.ts';
import { outboundBacklog } from './deliver-outbound.ts';
import { recentHealthFindings } from './connection-check.ts';

export interface DoctorFinding extends ConnectionCheck {
  readonly area: string;
}

export async function diagnose(deps: AppDeps, config: ParleyConfig): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  const add = (area: string, check: ConnectionCheck) => findings.push({ area, ...check });

  add('config', {
    check: 'configuration',
    ok: true,
    detail: `${config.configPath ? `config file ${config.configPath}` : 'no config file'}; public URL ${config.publicUrl}`,
  });
  add('config', {
    check: 'public URL',
    ok: !/\/\/(127\.|localhost)/.test(config.publicUrl),
    detail: `providers call ${config.publicUrl}`,
    fix: 'set PARLEY_PUBLIC_URL to the https address providers can reach (needed for real providers, not the sandbox)',
  });
  try {
    await deps.store.ping();
    add('database', {
      check: 'database',
      ok: true,
      detail: `${deps.store.dialect} reachable, migrations applied`,
    });
  } catch (error) {
    add('database', {
      check: 'database',
      ok: false,
      detail: (error as Error).message,
      fix: 'check PARLEY_DATABASE_URL and that the server runs',
    });
    return findings;
  }
  const queued = await outboundBacklog(deps);
  add('queue', {
    check: 'outbound queue',
    ok: true,
    detail: `${queued} message(s) waiting or in flight`,
  });
  const pending = await deps.store.webhooks.countByState('received');
  add('queue', {
    check: 'webhook backlog',
    ok: pending < 1_000,
    detail: `${pending} webhook(s) stored but not processed`,
    fix: 'start Parley so its workers process them',
  });
  const unrouted = await deps.store.webhooks.countByState('unrouted');
  add('webhooks', {
    check: 'unrouted webhooks',
    ok: unrouted === 0,
    detail: `${unrouted} webhook(s) arrived for phone numbers with no channel`,
    fix: 'add a channel whose providerKey is the phone_number_id in those webhooks, or remove the number from the provider app',
  });
  const failed = await deps.store.webhooks.countByState('failed');
  add('webhooks', {
    check: 'failed webhooks',
    ok: failed === 0,
    detail: `${failed} webhook(s) could not be processed`,
    fix: 'see the log for their errors',
  });

  for (const workspace of await deps.store.workspaces.list()) {
    const channels = await deps.store.channels.list(workspace.id);
    for (const connection of await deps.store.connections.list(workspace.id)) {
      const area = `${workspace.name} / ${connection.name} (${connection.provider})`;
      let provider;
      try {
        provider = deps.providers.forConnection(connection);
      } catch (error) {
        add(area, {
          check: 'credentials',
          ok: false,
          detail: (error as Error).message,
          fix: 'update the connection',
        });
        continue;
      }
      if (!provider.checkConnection) {
        add(area, { check: 'provider', ok: true, detail: 'no remote checks for this provider' });
        continue;
      }
      const mine = channels.filter((c) => c.connectionId === connection.id);
      const targets = mine.length > 0 ? mine : [undefined];
      for (const channel of targets) {
        try {
          const checks = await provider.checkConnection(
            channel && {
              channelId: channel.id,
              providerKey: channel.providerKey,
              phoneNumber: channel.phoneNumber,
              wabaId: channel.wabaId ?? undefined,
            },
          );
          for (const c of checks) add(channel ? `${area} +${channel.phoneNumber}` : area, c);
        } catch (error) {
          add(area, {
            check: 'provider reachable',
            ok: false,
            detail: (error as Error).message,
            fix: 'check the network and the connection settings',
          });
        }
      }
    }
  }
  // What providers reported lately (expired token, restrictions, quality, pauses), with fixes.
  findings.push(...(await recentHealthFindings(deps, findings)));
  return findings;
}
