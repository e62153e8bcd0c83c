// `parley rates import FILE.csv [--workspace ID|NAME]`: loads a rate card into the store the
// running Parley uses (which picks it up at its next rating) and re-prices the ledger under it.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { importRateCard } from '../app/billing/billing-queries.ts';
import { loadConfig, type ParleyConfig } from '../app/config.ts';
import { openStore } from '../app/container.ts';
import type { Store } from '../ports/store.ts';

export interface RatesCommandIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: RatesCommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export interface RatesImportOptions {
  readonly file: string;
  /** Workspace id or name; may be left out when the store has one workspace. */
  readonly workspace?: string;
  /** A label for the import (default: the file's name). */
  readonly name?: string;
}

async function chooseWorkspace(
  store: Store,
  wanted: string | undefined,
): Promise<{ id: string; name: string } | string> {
  const workspaces = await store.workspaces.list();
  if (wanted !== undefined) {
    const found = workspaces.find((w) => w.id === wanted || w.name === wanted);
    return (
      found ??
      `no workspace "${wanted}" (known: ${workspaces.map((w) => w.name).join(', ') || 'none'})`
    );
  }
  const [only, ...others] = workspaces;
  if (only === undefined) return 'the store has no workspace yet: start Parley once first';
  if (others.length > 0)
    return `the store has ${workspaces.length} workspaces: choose one with --workspace (${workspaces.map((w) => w.name).join(', ')})`;
  return only;
}

/**
 * Imports a rate card CSV into a workspace. Exit code 0, or 1 when the file cannot be read, the
 * workspace is unclear, or the card has problems (each printed as FILE:LINE: message; nothing
 * is imported then).
 */
export async function runRatesImport(
  options: RatesImportOptions,
  io: RatesCommandIo = processIo,
  config: ParleyConfig = loadConfig(),
): Promise<number> {
  let csv: string;
  try {
    csv = await readFile(options.file, 'utf8');
  } catch (e) {
    io.err(`parley rates import: cannot read ${options.file}: ${(e as Error).message}`);
    return 1;
  }
  const store = await openStore(config);
  try {
    await store.migrate();
    const workspace = await chooseWorkspace(store, options.workspace);
    if (typeof workspace === 'string') {
      io.err(`parley rates import: ${workspace}`);
      return 1;
    }
    const outcome = await importRateCard(
      { store, clock: { now: () => Date.now() } },
      workspace.id,
      {
        name: options.name ?? basename(options.file),
        csv,
      },
    );
    if (!outcome.ok) {
      for (const p of outcome.problems) io.err(`${options.file}:${p.line}: ${p.message}`);
      io.err(`parley rates import: ${options.file} was not imported`);
      return 1;
    }
    io.out(
      `imported ${outcome.record.rows} rate${outcome.record.rows === 1 ? '' : 's'} from ${outcome.record.name} into workspace "${workspace.name}"; re-priced ${outcome.repriced} WABA${outcome.repriced === 1 ? '' : 's'}`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** Adds `parley rates import` to the program. */
export function registerRatesCommand(program: Command, io: RatesCommandIo = processIo): Command {
  const rates = program.command('rates').description('rate cards of the running store');
  rates
    .command('import')
    .argument('<file>', 'rate card CSV: effective_from,market,category,currency,rate,volume_from')
    .option('--workspace <id-or-name>', 'the workspace (needed when the store has several)')
    .option('--name <label>', 'a label for this import (default: the file name)')
    .description('load a rate card into the store and re-price the ledger under it')
    .action(async (file: string, opts: { workspace?: string; name?: string }) => {
      process.exitCode = await runRatesImport({ file, ...opts }, io);
    });
  return rates;
}
