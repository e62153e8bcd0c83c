// `parley consent import FILE.csv` and `parley consent export [--contact PHONE] [--format csv|json]`:
// the consent ledger in and out of the configured store, with its evidence (OPT-2, OPT-8).
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ParleyConfig } from '../app/config.ts';
import { importConsentCsv } from '../app/consent-import.ts';
import {
  CONSENT_EXPORT_FORMATS,
  exportEvents,
  renderConsentExport,
  type ConsentExportFormat,
} from '../app/consent-ledger.ts';
import { PolicyError } from '../app/policy-errors.ts';
import {
  CommandError,
  chooseWorkspace,
  processIo,
  withParley,
  type CommandIo,
} from './cli-context.ts';

export interface ConsentImportOptions {
  readonly file: string;
  readonly workspace?: string;
}

export interface ConsentExportOptions {
  readonly contact?: string;
  readonly format?: string;
  readonly workspace?: string;
  /** A file to write; stdout when absent. */
  readonly output?: string;
}

/** Prints a known problem (exit 1); anything else is a bug and goes up. */
function failed(io: CommandIo, command: string, error: unknown): number {
  if (error instanceof CommandError || error instanceof PolicyError) {
    io.err(`parley consent ${command}: ${error.message}`);
    if (error instanceof PolicyError) {
      const problems = error.extensions.problems;
      if (Array.isArray(problems))
        for (const p of problems as Array<{ line: number; problem: string }>)
          io.err(`  line ${p.line}: ${p.problem}`);
    }
    return 1;
  }
  throw error;
}

/** Imports a CSV of consent records: every line or none (exit 1, each bad line printed). */
export async function runConsentImport(
  options: ConsentImportOptions,
  io: CommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  let csv: string;
  try {
    csv = await readFile(options.file, 'utf8');
  } catch (e) {
    io.err(`parley consent import: cannot read ${options.file}: ${(e as Error).message}`);
    return 1;
  }
  try {
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      const result = await importConsentCsv(
        deps,
        workspace.id,
        csv,
        `import:${basename(options.file)} (parley consent import)`,
      );
      io.err(
        `${options.file}: ${result.imported} event(s) imported for ${result.contacts} contact(s) into ${workspace.name}; ${result.unchanged} already in the ledger`,
      );
      return 0;
    }, config);
  } catch (error) {
    return failed(io, 'import', error);
  }
}

/** Writes the ledger (one person's or the workspace's) as CSV or JSON. */
export async function runConsentExport(
  options: ConsentExportOptions,
  io: CommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  const format = (options.format ?? 'csv').toLowerCase();
  if (!(CONSENT_EXPORT_FORMATS as readonly string[]).includes(format)) {
    io.err(`parley consent export: --format must be ${CONSENT_EXPORT_FORMATS.join(' or ')}`);
    return 1;
  }
  try {
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      const events = await exportEvents(deps, workspace.id, {
        ...(options.contact !== undefined ? { phone: options.contact } : {}),
      });
      const text = renderConsentExport(events, format as ConsentExportFormat);
      if (options.output !== undefined) await writeFile(options.output, text, 'utf8');
      else io.out(text.replace(/\r?\n$/, ''));
      io.err(`${events.length} ledger event(s) exported from ${workspace.name}`);
      return 0;
    }, config);
  } catch (error) {
    return failed(io, 'export', error);
  }
}

export function registerConsentCommand(program: Command, io: CommandIo = processIo): Command {
  const consent = program
    .command('consent')
    .description('the consent ledger in and out, with its evidence (OPT-2, OPT-8)');
  consent
    .command('import')
    .description('import consent records from CSV (the export’s columns); all lines or none')
    .argument('<file>', 'a CSV file with a header line: phone, purpose, at, kind, evidence …')
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .action(async (file: string, opts: { workspace?: string }) => {
      process.exitCode = await runConsentImport({ file, ...opts }, io);
    });
  consent
    .command('export')
    .description('export the ledger as CSV or JSON, for one contact or the whole workspace')
    .option('--contact <phone>', 'only this phone number’s events (found even after erasure)')
    .option('--format <csv|json>', 'output format', 'csv')
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .option('--output <file>', 'write to a file instead of stdout')
    .action(async (opts: ConsentExportOptions) => {
      process.exitCode = await runConsentExport(opts, io);
    });
  return consent;
}
