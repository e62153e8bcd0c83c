// Template files (templates as code): one template per file, JSON or YAML, in Meta's creation
// shape; found under a folder, parsed with exact errors, and written back by `pull`.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { TemplateFinding } from '../core/templates/lint.ts';
import type { TemplateDefinition } from '../core/templates/definition.ts';

export const TEMPLATE_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

export function isTemplateFile(name: string): boolean {
  return (TEMPLATE_FILE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** Template files under a folder, depth first, sorted, skipping hidden folders and node_modules. */
export async function templateFiles(dir: string): Promise<string[]> {
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

export type ParsedTemplateFile =
  { ok: true; value: unknown } | { ok: false; finding: TemplateFinding };

function unparsable(message: string): ParsedTemplateFile {
  return { ok: false, finding: { rule: 'TPL-LINT', severity: 'error', message } };
}

/** The yaml package appends a code frame after the first line; keep the one-line reason. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
}

/** JSON files as JSON (exact error positions), everything else as YAML (a superset of JSON). */
export function parseTemplateFile(file: string, text: string): ParsedTemplateFile {
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

/** One template file read: its parsed value, or why it could not be read. */
export interface TemplateSource {
  readonly file: string;
  readonly parsed: ParsedTemplateFile;
}

/** Reads a template file, or every template file under a folder. Throws when the path is unreadable. */
export async function readTemplateSources(path: string): Promise<TemplateSource[]> {
  const info = await stat(path);
  const files = info.isDirectory() ? await templateFiles(path) : [path];
  const out: TemplateSource[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      out.push({
        file,
        parsed: unparsable(
          `could not read the file: ${e instanceof Error ? e.message : String(e)}`,
        ),
      });
      continue;
    }
    out.push({ file, parsed: parseTemplateFile(file, text) });
  }
  return out;
}

/** A file name for a template: `name.language.json` (names and codes are file-safe by TPL-1/6). */
export function templateFileName(t: Pick<TemplateDefinition, 'name' | 'language'>): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
  return `${safe(t.name)}.${safe(t.language)}.json`;
}

/** Writes definitions as JSON files into a folder (created if needed); returns the paths. */
export async function writeTemplateFiles(
  dir: string,
  definitions: readonly TemplateDefinition[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const d of definitions) {
    const path = join(dir, templateFileName(d));
    await writeFile(path, JSON.stringify(d, null, 2) + '\n', 'utf8');
    paths.push(path);
  }
  return paths;
}
