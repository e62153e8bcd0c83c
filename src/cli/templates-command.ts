// `parley templates lint|push|pull PATH`: lint checks template files (JSON or YAML, one template
// each, in Meta's creation shape) against the TPL rules, one line per finding, exit 1 on any error
// finding; push and pull keep a folder in step with a channel's provider (templates as code).
import { readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { lintTemplateSet, type LintItem, type TemplateFinding } from '../core/templates/index.ts';
import {
  TEMPLATE_FILE_EXTENSIONS,
  parseTemplateFile,
  templateFiles,
} from '../app/template-files.ts';
import type { ParleyConfig } from '../app/config.ts';
import { PolicyError } from '../app/policy-errors.ts';
import { pullTemplates, pushTemplates } from '../app/templates-as-code.ts';
import { CommandError, chooseChannel, chooseWorkspace, withParley } from './cli-context.ts';

/** Where the command writes: stdout gets one line per finding, stderr the summary and problems. */
export interface TemplatesCommandIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: TemplatesCommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export { TEMPLATE_FILE_EXTENSIONS, parseTemplateFile };

/** `FILE: RULE-ID message`, warnings marked as such. */
export function formatFinding(file: string, f: TemplateFinding): string {
  return `${file}: ${f.rule} ${f.severity === 'warning' ? 'warning: ' : ''}${f.message}`;
}

/**
 * Lints a template file or every template file under a folder. Returns the exit code: 1 if any
 * finding is an error, 0 otherwise, 2 when the path cannot be read or holds no template files.
 */
export async function lintPath(path: string, io: TemplatesCommandIo = processIo): Promise<number> {
  let files: string[];
  try {
    const info = await stat(path);
    files = info.isDirectory() ? await templateFiles(path) : [path];
  } catch (e) {
    io.err(
      `parley templates lint: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
    return 2;
  }
  if (files.length === 0) {
    io.err(
      `parley templates lint: no template files (${TEMPLATE_FILE_EXTENSIONS.join(', ')}) under ${path}`,
    );
    return 2;
  }

  const parseFindings = new Map<string, TemplateFinding[]>();
  const items: LintItem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      parseFindings.set(file, [
        {
          rule: 'TPL-LINT',
          severity: 'error',
          message: `could not read the file: ${e instanceof Error ? e.message : String(e)}`,
        },
      ]);
      continue;
    }
    const parsed = parseTemplateFile(file, text);
    if (parsed.ok) items.push({ source: file, value: parsed.value });
    else parseFindings.set(file, [parsed.finding]);
  }
  const linted = new Map(lintTemplateSet(items).map((r) => [r.source, r.findings]));

  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    for (const f of parseFindings.get(file) ?? linted.get(file) ?? []) {
      io.out(formatFinding(file, f));
      if (f.severity === 'error') errors++;
      else warnings++;
    }
  }
  const where =
    files.length === 1
      ? (files[0] ?? path)
      : `${files.length} files under ${relative('.', path) || '.'}`;
  io.err(`${where}: ${errors} error(s), ${warnings} warning(s)`);
  return errors > 0 ? 1 : 0;
}

export interface TemplatesSyncOptions {
  readonly path: string;
  readonly channel?: string;
  readonly workspace?: string;
}

function commandFailed(io: TemplatesCommandIo, command: string, error: unknown): number {
  if (error instanceof CommandError || error instanceof PolicyError) {
    io.err(`parley templates ${command}: ${error.message}`);
    return 1;
  }
  throw error;
}

/**
 * `parley templates push PATH`: lints the files (any error: nothing is pushed), then submits new
 * templates to the channel's provider and edits changed ones (TPL-7, TPL-9 apply). One line per
 * template, `FILE: name (language) outcome STATUS — detail`; exit 1 when any was refused.
 */
export async function pushPath(
  options: TemplatesSyncOptions,
  io: TemplatesCommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  try {
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      const channel = await chooseChannel(deps, workspace, options.channel);
      const connection = await deps.store.connections.get(channel.connectionId);
      if (connection?.provider === 'sandbox')
        throw new CommandError(
          `channel ${channel.name} is a sandbox channel: its templates live in the running server; submit them with POST /v1/templates/{id}/submit`,
        );
      const report = await pushTemplates(deps, {
        workspaceId: workspace.id,
        channel,
        path: options.path,
      });
      for (const l of report.lines)
        io.out(
          `${l.file}: ${l.name} (${l.language}) ${l.outcome}${l.status ? ` ${l.status}` : ''} — ${l.detail}`,
        );
      io.err(
        `${report.lines.length} template(s) to ${channel.name}: ${report.errors} refused or invalid`,
      );
      return report.errors > 0 ? 1 : 0;
    }, config);
  } catch (error) {
    return commandFailed(io, 'push', error);
  }
}

/** `parley templates pull PATH`: the provider's templates of a channel, one JSON file each. */
export async function pullPath(
  options: TemplatesSyncOptions,
  io: TemplatesCommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  try {
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      const channel = await chooseChannel(deps, workspace, options.channel);
      const { files } = await pullTemplates(deps, { channel, path: options.path });
      for (const f of files) io.out(f);
      io.err(`${files.length} template file(s) written to ${options.path} from ${channel.name}`);
      return 0;
    }, config);
  } catch (error) {
    return commandFailed(io, 'pull', error);
  }
}

/** Adds `parley templates lint|push|pull` to the program; the exit code goes to `process.exitCode`. */
export function registerTemplatesCommand(
  program: Command,
  io: TemplatesCommandIo = processIo,
): Command {
  const templates = program
    .command('templates')
    .description("templates as code: template files in the shape of Meta's creation request");
  templates
    .command('lint')
    .description('check template files against the TPL rules; exit 1 on any error finding')
    .argument('<path>', 'a template file (JSON or YAML) or a folder of them')
    .action(async (path: string) => {
      process.exitCode = await lintPath(path, io);
    });
  templates
    .command('push')
    .description("submit new and changed template files to a channel's provider (TPL-7, TPL-9)")
    .argument('<path>', 'a template file or a folder of them')
    .option('--channel <id|name>', 'the channel whose provider (WABA) gets them')
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .action(async (path: string, opts: { channel?: string; workspace?: string }) => {
      process.exitCode = await pushPath({ path, ...opts }, io);
    });
  templates
    .command('pull')
    .description("write a channel's provider templates into a folder, one JSON file each")
    .argument('<path>', 'the folder to write into (created if needed)')
    .option('--channel <id|name>', 'the channel whose provider templates are pulled')
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .action(async (path: string, opts: { channel?: string; workspace?: string }) => {
      process.exitCode = await pullPath({ path, ...opts }, io);
    });
  return templates;
}
