// `parley templates lint PATH`: checks template files (JSON or YAML, one template each, in Meta's
// creation shape) against the TPL rules; one line per finding, exit 1 on any error finding.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { lintTemplateSet, type LintItem, type TemplateFinding } from '../core/templates/index.ts';

/** Where the command writes: stdout gets one line per finding, stderr the summary and problems. */
export interface TemplatesCommandIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: TemplatesCommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export const TEMPLATE_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

function isTemplateFile(name: string): boolean {
  return (TEMPLATE_FILE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** Template files under a folder, depth first, sorted, skipping hidden folders and node_modules. */
async function templateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules')
        files.push(...(await templateFiles(path)));
    } else if (entry.isFile() && isTemplateFile(entry.name)) files.push(path);
  }
  return files;
}

type Parsed = { ok: true; value: unknown } | { ok: false; finding: TemplateFinding };

function unparsable(message: string): Parsed {
  return { ok: false, finding: { rule: 'TPL-LINT', severity: 'error', message } };
}

/** The yaml package appends a code frame after the first line; keep the one-line reason. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
}

/** JSON files as JSON (exact error positions), everything else as YAML (a superset of JSON). */
export function parseTemplateFile(file: string, text: string): Parsed {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (e) {
      return unparsable(
        `could not parse the file as JSON: ${firstLine(e instanceof Error ? e.message : String(e))}`,
      );
    }
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.length === 0) return { ok: true, value: null };
  if (docs.length > 1)
    return unparsable(
      `the file holds ${docs.length} YAML documents; a template file holds exactly one template`,
    );
  const doc = docs[0];
  const error = doc?.errors[0];
  if (error !== undefined)
    return unparsable(`could not parse the file as YAML: ${firstLine(error.message)}`);
  return { ok: true, value: doc?.toJS() as unknown };
}

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

/** Adds `parley templates lint PATH` to the program; the exit code goes to `process.exitCode`. */
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
  return templates;
}
