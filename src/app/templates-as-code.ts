// Templates as code: a folder of template files (or a config file's list) kept in step with the
// registry and a channel's provider — declare (config), push (submit and edit), pull (write
// files from the provider's templates).
import { relative } from 'node:path';
import { lintTemplateSet, type TemplateFinding } from '../core/templates/lint.ts';
import type { TemplateDefinition } from '../core/templates/definition.ts';
import type { Channel } from '../ports/store.ts';
import { ConfigError } from './config.ts';
import type { AppDeps } from './deps.ts';
import { PolicyError } from './policy-errors.ts';
import { readTemplateSources, writeTemplateFiles } from './template-files.ts';
import {
  declareTemplate,
  definitionOf,
  editTemplate,
  lifecycleOf,
  submitTemplate,
  syncChannelTemplates,
  type SyncSummary,
} from './template-registry.ts';

/** One template file with its lint findings (parse failures included). */
export interface CheckedTemplate {
  readonly file: string;
  readonly value: unknown;
  readonly findings: readonly TemplateFinding[];
}

/** Reads and lints a file or folder (TPL-1..6, and duplicates across files). */
export async function checkTemplatePath(path: string): Promise<CheckedTemplate[]> {
  const sources = await readTemplateSources(path);
  const items = sources.flatMap((s) =>
    s.parsed.ok ? [{ source: s.file, value: s.parsed.value }] : [],
  );
  const linted = new Map(lintTemplateSet(items).map((r) => [r.source, r.findings]));
  return sources.map((s) =>
    s.parsed.ok
      ? { file: s.file, value: s.parsed.value, findings: linted.get(s.file) ?? [] }
      : { file: s.file, value: null, findings: [s.parsed.finding] },
  );
}

function errorsOf(checked: readonly CheckedTemplate[]): string[] {
  return checked.flatMap((c) =>
    c.findings
      .filter((f) => f.severity === 'error')
      .map((f) => `${relative('.', c.file) || c.file}: ${f.rule} ${f.message}`),
  );
}

/** A config file's `templates`: a folder or file path, or a list of definitions. */
export type DeclaredTemplates = string | ReadonlyArray<Readonly<Record<string, unknown>>>;

/**
 * Config files: declared templates are created (DRAFT) when absent and a draft's content follows
 * the file; a submitted template that differs is left alone and reported (push edits it). Any
 * TPL error stops the start with every finding listed. List items may name a `channel` (by name).
 */
export async function applyDeclaredTemplates(
  deps: AppDeps,
  workspaceId: string,
  declared: DeclaredTemplates,
  channels: readonly Channel[],
): Promise<void> {
  const items: Array<{ where: string; definition: unknown; channelId: string | null }> = [];
  if (typeof declared === 'string') {
    let checked: CheckedTemplate[];
    try {
      checked = await checkTemplatePath(declared);
    } catch (error) {
      throw new ConfigError(
        `templates: cannot read ${declared}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const errors = errorsOf(checked);
    if (errors.length > 0)
      throw new ConfigError(
        `templates under ${declared} break the template rules:\n  ${errors.join('\n  ')}`,
      );
    for (const c of checked) items.push({ where: c.file, definition: c.value, channelId: null });
  } else {
    for (const [i, item] of declared.entries()) {
      const { channel: channelName, ...definition } = item;
      let channelId: string | null = null;
      if (channelName !== undefined) {
        const channel = channels.find((c) => c.name === channelName);
        if (!channel)
          throw new ConfigError(
            `templates[${i}]: no declared channel named ${JSON.stringify(channelName)}`,
          );
        channelId = channel.id;
      }
      items.push({ where: `templates[${i}]`, definition, channelId });
    }
  }
  for (const item of items) {
    try {
      const { outcome, record } = await declareTemplate(deps, workspaceId, item);
      if (outcome === 'differs_from_submitted')
        deps.log.warn(
          { template: record.name, language: record.language },
          `${item.where}: differs from the submitted template; run parley templates push to edit it`,
        );
    } catch (error) {
      if (error instanceof PolicyError) throw new ConfigError(`${item.where}: ${error.message}`);
      throw error;
    }
  }
}

export type PushOutcome = 'submitted' | 'edited' | 'unchanged' | 'held' | 'refused' | 'invalid';

export interface PushLine {
  readonly file: string;
  readonly name: string;
  readonly language: string;
  readonly outcome: PushOutcome;
  /** The template's status after the push (PENDING, APPROVED …), when there is one. */
  readonly status: string | null;
  readonly detail: string;
}

export interface PushReport {
  readonly lines: PushLine[];
  /** Lines that mean the folder and the provider still differ for a reason to fix. */
  readonly errors: number;
}

/**
 * `parley templates push`: lints every file (any TPL error: nothing is pushed), then per
 * template: new or never submitted → submitted for review; differing from the submitted one →
 * edited (TPL-9 limits apply); equal → unchanged. TPL-7: past the WABA's hourly creation limit
 * the rest are held (pushed by a later run); past its cap they are refused.
 */
export async function pushTemplates(
  deps: AppDeps,
  input: { readonly workspaceId: string; readonly channel: Channel; readonly path: string },
): Promise<PushReport> {
  const checked = await checkTemplatePath(input.path);
  const lines: PushLine[] = [];
  const invalid = checked.filter((c) => c.findings.some((f) => f.severity === 'error'));
  if (invalid.length > 0) {
    for (const c of invalid)
      for (const f of c.findings.filter((x) => x.severity === 'error'))
        lines.push({
          file: c.file,
          name: nameOf(c.value),
          language: languageOf(c.value),
          outcome: 'invalid',
          status: null,
          detail: `${f.rule} ${f.message}`,
        });
    return { lines, errors: lines.length };
  }

  for (const c of checked) {
    const definition = c.value as TemplateDefinition;
    const line = (outcome: PushOutcome, status: string | null, detail: string): void => {
      lines.push({
        file: c.file,
        name: definition.name,
        language: definition.language,
        outcome,
        status,
        detail,
      });
    };
    try {
      const declared = await declareTemplate(deps, input.workspaceId, {
        definition,
        channelId: input.channel.id,
      });
      const lifecycle = await lifecycleOf(deps.store, declared.record);
      if (declared.outcome === 'differs_from_submitted') {
        const edited = await editTemplate(deps, input.workspaceId, declared.record.id, {
          category: definition.category,
          components: definition.components,
          parameter_format: definition.parameter_format ?? 'POSITIONAL',
        });
        line('edited', edited.record.status, 'the edit went to review (TPL-9)');
      } else if (
        lifecycle.state.status === 'DRAFT' &&
        declared.record.providerTemplateId === null
      ) {
        const submitted = await submitTemplate(deps, input.workspaceId, declared.record.id, {});
        line(
          'submitted',
          submitted.record.status,
          `submitted for review (provider id ${submitted.record.providerTemplateId ?? '?'})`,
        );
      } else {
        line('unchanged', declared.record.status, 'the provider has this content');
      }
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      const findings = (error.extensions.findings ?? []) as TemplateFinding[];
      const paced = findings.length > 0 && findings.every((f) => f.severity === 'warning');
      line(paced ? 'held' : 'refused', null, error.message);
    }
  }
  return {
    lines,
    errors: lines.filter((l) => l.outcome === 'refused' || l.outcome === 'invalid').length,
  };
}

function nameOf(value: unknown): string {
  const v = value as { name?: unknown } | null;
  return typeof v?.name === 'string' ? v.name : '?';
}

function languageOf(value: unknown): string {
  const v = value as { language?: unknown } | null;
  return typeof v?.language === 'string' ? v.language : '?';
}

/**
 * `parley templates pull`: syncs the channel with its provider, then writes every template it
 * holds (deleted ones aside) as `name.language.json` in Meta's creation shape.
 */
export async function pullTemplates(
  deps: AppDeps,
  input: { readonly channel: Channel; readonly path: string },
): Promise<{ readonly files: string[]; readonly sync: SyncSummary }> {
  const { summary, events } = await syncChannelTemplates(deps, input.channel);
  for (const e of events) deps.events.publish(e);
  const records = (await deps.store.templates.list(input.channel.workspaceId)).filter(
    (r) =>
      r.channelId === input.channel.id &&
      !['DELETED', 'PENDING_DELETION', 'DRAFT'].includes(r.status),
  );
  const files = await writeTemplateFiles(input.path, records.map(definitionOf));
  return { files, sync: summary };
}
