// What the store-backed commands share: a Parley built from the configuration (not started), and
// the workspace or channel a command means, chosen by id or name.
import { loadConfig, type ParleyConfig } from '../app/config.ts';
import { createParley } from '../app/container.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Channel, Workspace } from '../ports/store.ts';

/** Where a command writes: stdout gets results, stderr the summary and problems. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A problem the user must fix (wrong workspace, unknown channel …): printed, exit 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Runs `work` against the configured store and providers (no HTTP listener, no workers). */
export async function withParley<T>(
  work: (deps: AppDeps) => Promise<T>,
  config: ParleyConfig = loadConfig(),
): Promise<T> {
  const parley = await createParley(config);
  try {
    return await work(parley.deps);
  } finally {
    await parley.stop();
  }
}

/** The workspace by id or name; the only one when none is named. */
export async function chooseWorkspace(
  deps: AppDeps,
  wanted: string | undefined,
): Promise<Workspace> {
  const workspaces = await deps.store.workspaces.list();
  const names = workspaces.map((w) => w.name).join(', ') || 'none';
  if (wanted !== undefined) {
    const found = workspaces.find((w) => w.id === wanted || w.name === wanted);
    if (!found) throw new CommandError(`no workspace "${wanted}" (known: ${names})`);
    return found;
  }
  const [only, ...others] = workspaces;
  if (only === undefined)
    throw new CommandError('the store has no workspace yet: start Parley once first');
  if (others.length > 0)
    throw new CommandError(
      `the store has ${workspaces.length} workspaces: choose one with --workspace (${names})`,
    );
  return only;
}

/** The channel by id, name or provider key; the workspace's only one when none is named. */
export async function chooseChannel(
  deps: AppDeps,
  workspace: Workspace,
  wanted: string | undefined,
): Promise<Channel> {
  const channels = await deps.store.channels.list(workspace.id);
  const names = channels.map((c) => `${c.name} (${c.id})`).join(', ') || 'none';
  if (wanted !== undefined) {
    const found = channels.find(
      (c) => c.id === wanted || c.name === wanted || c.providerKey === wanted,
    );
    if (!found)
      throw new CommandError(`no channel "${wanted}" in ${workspace.name} (known: ${names})`);
    return found;
  }
  const [only, ...others] = channels;
  if (only === undefined) throw new CommandError(`${workspace.name} has no channel`);
  if (others.length > 0)
    throw new CommandError(
      `${workspace.name} has ${channels.length} channels: choose one with --channel (${names})`,
    );
  return only;
}
