// The template registry: templates as records with a lifecycle (TPL-8), created from the API or
// config files (TPL-1..6 checked, TPL-2 legacy categories mapped), edited within TPL-9's limits,
// submitted to a channel's provider (TPL-7), kept in step by webhooks and a periodic sync.
import {
  TEMPLATE_QUALITIES,
  TEMPLATE_STATUSES,
  applyTemplateUpdate,
  checkTemplateEdit,
  draftTemplate,
  effectiveTemplateStatus,
  type TemplateState,
  type TemplateStatus,
  type TemplateUpdate,
} from '../core/templates/lifecycle.ts';
import {
  isTemplateCategory,
  mapTemplateCategory,
  type TemplateDefinition,
} from '../core/templates/definition.ts';
import { hasErrors, lintTemplate, type TemplateFinding } from '../core/templates/lint.ts';
import { checkTemplatePushPlan, type WabaTemplateUsage } from '../core/templates/push-plan.ts';
import { checkTemplateParameters } from '../core/templates/parameters.ts';
import { renderTemplate, renderedText } from '../core/templates/render.ts';
import type { OtherNotice } from '../core/inbound.ts';
import type { TemplateBody } from '../core/messages.ts';
import { HOUR } from '../core/time.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { ChannelAddress, Provider, ProviderTemplate } from '../ports/provider.ts';
import type { Channel, Json, Store, TemplateRecord } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { PolicyError } from './policy-errors.ts';

/** What the lifecycle table keeps per template: the core state and when it was submitted. */
export interface TemplateLifecycle {
  readonly state: TemplateState;
  /** When it was last submitted to the provider (TPL-7 counts creations per hour). */
  readonly submittedAt: number | null;
}

export function isTemplateStatus(value: string): value is TemplateStatus {
  return (TEMPLATE_STATUSES as readonly string[]).includes(value);
}

/** The definition a record holds, in Meta's creation shape. */
export function definitionOf(record: TemplateRecord): TemplateDefinition {
  return {
    name: record.name,
    language: record.language,
    category: record.category,
    ...(record.parameterFormat === 'NAMED' ? { parameter_format: 'NAMED' } : {}),
    components: Array.isArray(record.components)
      ? (record.components as unknown as TemplateDefinition['components'])
      : [],
  };
}

function stateFromRecord(record: TemplateRecord): TemplateState {
  const status: TemplateStatus = isTemplateStatus(record.status)
    ? record.status === 'REINSTATED'
      ? 'APPROVED'
      : record.status
    : record.status === 'UNARCHIVED'
      ? 'APPROVED'
      : 'PENDING';
  return { ...draftTemplate(mapTemplateCategory(record.category)), status };
}

function parseLifecycle(json: Json): TemplateLifecycle | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const s = json.state;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return null;
  if (typeof s.status !== 'string' || !isTemplateStatus(s.status)) return null;
  const num = (v: Json | undefined): number | null => (typeof v === 'number' ? v : null);
  const quality =
    typeof s.quality === 'string' && (TEMPLATE_QUALITIES as readonly string[]).includes(s.quality)
      ? (s.quality as TemplateState['quality'])
      : 'UNKNOWN';
  const before =
    typeof s.statusBeforeArchive === 'string' && isTemplateStatus(s.statusBeforeArchive)
      ? s.statusBeforeArchive
      : null;
  return {
    state: {
      status: s.status,
      category:
        typeof s.category === 'string' && isTemplateCategory(s.category) ? s.category : null,
      quality,
      pauseCount: num(s.pauseCount) ?? 0,
      pausedUntil: num(s.pausedUntil),
      statusBeforeArchive: before,
      statusAt: num(s.statusAt),
      rejectionReason: typeof s.rejectionReason === 'string' ? s.rejectionReason : null,
    },
    submittedAt: num(json.submittedAt),
  };
}

/**
 * TPL-8: a template's lifecycle. When the record's status was changed without it (older code,
 * a hand edit), that status is applied as an event at the record's update time, so the two
 * never disagree.
 */
export async function lifecycleOf(
  store: Store,
  record: TemplateRecord,
): Promise<TemplateLifecycle> {
  const stored = await store.compliance.templates.getLifecycle(record.id);
  const parsed = stored ? parseLifecycle(stored.state) : null;
  if (!parsed) return { state: stateFromRecord(record), submittedAt: null };
  if (parsed.state.status === record.status || !isTemplateStatus(record.status)) return parsed;
  return {
    ...parsed,
    state: applyTemplateUpdate(parsed.state, {
      kind: 'status',
      event: record.status,
      at: Math.max(record.updatedAt, parsed.state.statusAt ?? 0),
    }),
  };
}

/** Writes a record and its lifecycle together; the record's status and category follow it. */
export async function saveTemplate(
  store: Store,
  record: Omit<TemplateRecord, 'id' | 'createdAt' | 'updatedAt'>,
  lifecycle: TemplateLifecycle,
  at: number,
): Promise<TemplateRecord> {
  const saved = await store.templates.upsert({
    ...record,
    status: lifecycle.state.status,
    category: lifecycle.state.category ?? record.category,
    at,
  });
  await store.compliance.templates.putLifecycle({
    templateId: saved.id,
    state: JSON.parse(JSON.stringify(lifecycle)) as Json,
    updatedAt: at,
  });
  return saved;
}

/** A template as the API shows it. */
export function templateView(record: TemplateRecord, lifecycle: TemplateLifecycle, now: number) {
  const s = lifecycle.state;
  return {
    id: record.id,
    channelId: record.channelId,
    name: record.name,
    language: record.language,
    category: record.category,
    status: record.status,
    /** The status sends are decided by: a pause ends by itself (TPL-8). */
    effectiveStatus: effectiveTemplateStatus(s, now),
    quality: s.quality,
    pauseCount: s.pauseCount,
    pausedUntil: s.pausedUntil === null ? null : new Date(s.pausedUntil).toISOString(),
    rejectionReason: s.rejectionReason,
    parameterFormat: record.parameterFormat,
    components: record.components,
    providerTemplateId: record.providerTemplateId,
    submittedAt:
      lifecycle.submittedAt === null ? null : new Date(lifecycle.submittedAt).toISOString(),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

/** TPL-1..6 (and TPL-3a): the definition's findings; errors refuse it, naming each rule. */
export function checkDefinition(definition: unknown): {
  readonly definition: TemplateDefinition;
  readonly findings: TemplateFinding[];
} {
  const findings = lintTemplate(definition);
  if (hasErrors(findings)) {
    const errors = findings.filter((f) => f.severity === 'error');
    throw new PolicyError(
      'template_invalid',
      errors.map((f) => `${f.rule} ${f.message}`).join('; '),
      { findings },
    );
  }
  return { definition: definition as TemplateDefinition, findings };
}

function recordFields(
  workspaceId: string,
  channelId: string | null,
  definition: TemplateDefinition,
): Omit<TemplateRecord, 'id' | 'createdAt' | 'updatedAt' | 'status'> {
  return {
    workspaceId,
    channelId,
    name: definition.name,
    language: definition.language,
    // TPL-2: legacy categories (2019 notification types, 2022 values) are stored mapped.
    category: mapTemplateCategory(definition.category) ?? definition.category,
    parameterFormat:
      definition.parameter_format?.toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL',
    components: JSON.parse(JSON.stringify(definition.components)) as Json,
    providerTemplateId: null,
  };
}

async function requireChannel(
  store: Store,
  workspaceId: string,
  channelId: string,
): Promise<Channel> {
  const channel = await store.channels.get(channelId);
  if (!channel || channel.workspaceId !== workspaceId)
    throw new PolicyError('not_found', `No channel ${channelId} in this workspace`);
  return channel;
}

export async function getTemplate(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<{ record: TemplateRecord; lifecycle: TemplateLifecycle }> {
  const record = await deps.store.compliance.templates.get(id);
  if (!record || record.workspaceId !== workspaceId)
    throw new PolicyError('not_found', `No template ${id} in this workspace`);
  return { record, lifecycle: await lifecycleOf(deps.store, record) };
}

export async function listTemplates(
  deps: AppDeps,
  workspaceId: string,
  filter: { name?: string; language?: string; status?: string; channelId?: string } = {},
) {
  const records = (await deps.store.templates.list(workspaceId)).filter(
    (r) =>
      (filter.name === undefined || r.name === filter.name) &&
      (filter.language === undefined || r.language === filter.language) &&
      (filter.status === undefined || r.status === filter.status.toUpperCase()) &&
      (filter.channelId === undefined || r.channelId === filter.channelId),
  );
  return Promise.all(
    records.map(async (record) => ({ record, lifecycle: await lifecycleOf(deps.store, record) })),
  );
}

/**
 * Creates a local template (DRAFT, TPL-8) from a definition in Meta's shape, for a channel or
 * workspace-wide; TPL-1..6 errors refuse it, warnings come back with it.
 */
export async function createTemplate(
  deps: AppDeps,
  workspaceId: string,
  input: { readonly definition: unknown; readonly channelId?: string | null },
) {
  const { definition, findings } = checkDefinition(input.definition);
  const channelId = input.channelId ?? null;
  const now = deps.clock.now();
  const record = await deps.store.transaction(async (tx) => {
    if (channelId !== null) await requireChannel(tx, workspaceId, channelId);
    const existing = await tx.templates.find(
      workspaceId,
      definition.name,
      definition.language,
      channelId,
    );
    if (existing && existing.channelId === channelId)
      throw new PolicyError(
        'conflict',
        `Template ${definition.name} (${definition.language}) already exists${channelId ? ` on channel ${channelId}` : ' workspace-wide'}: ${existing.id}`,
      );
    const fields = recordFields(workspaceId, channelId, definition);
    const lifecycle = {
      state: draftTemplate(mapTemplateCategory(fields.category)),
      submittedAt: null,
    };
    return saveTemplate(tx, { ...fields, status: 'DRAFT' }, lifecycle, now);
  });
  return { record, lifecycle: await lifecycleOf(deps.store, record), findings };
}

/** Templates as code: what declaring a definition did. */
export type DeclareOutcome = 'created' | 'updated' | 'unchanged' | 'differs_from_submitted';

/**
 * Templates as code (config files, `parley templates push`): a declared definition is created
 * when absent, replaces a DRAFT's content, and is left alone when equal; a submitted template
 * whose content differs is reported (changing it is an edit, TPL-9).
 */
export async function declareTemplate(
  deps: AppDeps,
  workspaceId: string,
  input: { readonly definition: unknown; readonly channelId?: string | null },
): Promise<{ outcome: DeclareOutcome; record: TemplateRecord; findings: TemplateFinding[] }> {
  const { definition, findings } = checkDefinition(input.definition);
  const channelId = input.channelId ?? null;
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    if (channelId !== null) await requireChannel(tx, workspaceId, channelId);
    const fields = recordFields(workspaceId, channelId, definition);
    const found = await tx.templates.find(
      workspaceId,
      definition.name,
      definition.language,
      channelId,
    );
    const existing = found && found.channelId === channelId ? found : null;
    if (!existing) {
      const lifecycle = {
        state: draftTemplate(mapTemplateCategory(fields.category)),
        submittedAt: null,
      };
      const record = await saveTemplate(tx, { ...fields, status: 'DRAFT' }, lifecycle, now);
      return { outcome: 'created' as const, record, findings };
    }
    if (sameContent(existing, fields))
      return { outcome: 'unchanged' as const, record: existing, findings };
    const lifecycle = await lifecycleOf(tx, existing);
    if (lifecycle.state.status !== 'DRAFT')
      return { outcome: 'differs_from_submitted' as const, record: existing, findings };
    const record = await saveTemplate(
      tx,
      { ...fields, status: 'DRAFT', providerTemplateId: existing.providerTemplateId },
      {
        ...lifecycle,
        state: { ...lifecycle.state, category: mapTemplateCategory(fields.category) },
      },
      now,
    );
    return { outcome: 'updated' as const, record, findings };
  });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

function sameContent(
  record: TemplateRecord,
  fields: Pick<TemplateRecord, 'category' | 'parameterFormat' | 'components'>,
): boolean {
  return (
    record.category === fields.category &&
    record.parameterFormat === fields.parameterFormat &&
    canonical(record.components) === canonical(fields.components)
  );
}

function addressOf(channel: Channel): ChannelAddress {
  return {
    channelId: channel.id,
    providerKey: channel.providerKey,
    phoneNumber: channel.phoneNumber,
    ...(channel.wabaId ? { wabaId: channel.wabaId } : {}),
  };
}

async function providerFor(deps: AppDeps, channel: Channel): Promise<Provider> {
  const connection = await deps.store.connections.get(channel.connectionId);
  if (!connection) throw new PolicyError('not_found', `Channel ${channel.id} has no connection`);
  return deps.providers.forConnection(connection);
}

/** A provider call that failed, as a precise refusal (never a 500). */
async function callProvider<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const failure = (error as { failure?: { reason?: string; providerCode?: string } }).failure;
    const code = failure?.providerCode ? ` (${failure.providerCode})` : '';
    throw new PolicyError(
      'provider_error',
      `The provider refused ${what}${code}: ${error instanceof Error ? error.message : String(error)}`,
      failure?.reason ? { providerReason: failure.reason } : {},
    );
  }
}

/**
 * TPL-9: edits a template. A DRAFT changes freely (TPL-1..6 still apply). A submitted one may
 * be edited only when APPROVED, REJECTED or PAUSED, never changing an approved template's
 * category, and an approved one at most 10 times in 30 days and once in 24 hours; the edit goes
 * to the provider and the template back to review (PENDING).
 */
export async function editTemplate(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  patch: {
    readonly category?: string;
    readonly components?: unknown[];
    readonly parameter_format?: string;
  },
) {
  const { record, lifecycle } = await getTemplate(deps, workspaceId, id);
  const current = definitionOf(record);
  const next = {
    ...current,
    ...(patch.category !== undefined ? { category: patch.category } : {}),
    ...(patch.components !== undefined ? { components: patch.components } : {}),
    ...(patch.parameter_format !== undefined ? { parameter_format: patch.parameter_format } : {}),
  };
  const { definition, findings } = checkDefinition(next);
  const fields = {
    ...recordFields(workspaceId, record.channelId, definition),
    providerTemplateId: record.providerTemplateId,
  };
  const now = deps.clock.now();

  if (lifecycle.state.status === 'DRAFT') {
    const saved = await saveTemplate(
      deps.store,
      { ...fields, status: 'DRAFT' },
      {
        ...lifecycle,
        state: { ...lifecycle.state, category: mapTemplateCategory(fields.category) },
      },
      now,
    );
    return { record: saved, lifecycle: await lifecycleOf(deps.store, saved), findings };
  }

  const edits = await deps.store.compliance.templates.listEdits(record.id);
  const verdict = checkTemplateEdit(
    lifecycle.state,
    edits,
    patch.category === undefined ? {} : { category: patch.category },
    now,
  );
  if (!verdict.allowed) throw new PolicyError('template_not_editable', `TPL-9: ${verdict.detail}`);
  if (record.channelId === null || record.providerTemplateId === null)
    throw new PolicyError(
      'template_not_editable',
      'This template was never submitted to a provider; edit it as a draft or submit it first',
    );
  const channel = await requireChannel(deps.store, workspaceId, record.channelId);
  const provider = await providerFor(deps, channel);
  const edit = provider.editTemplate?.bind(provider);
  if (!edit)
    throw new PolicyError(
      'not_supported',
      `The ${provider.kind} provider does not edit templates through Parley; edit it in the provider's console, then sync`,
    );
  const providerTemplateId = record.providerTemplateId;
  const answer = await callProvider(`the edit of ${record.name}`, () =>
    edit(addressOf(channel), providerTemplateId, {
      ...definition,
      category: fields.category,
    }),
  );
  const wasApproved = ['APPROVED', 'PAUSED'].includes(
    effectiveTemplateStatus(lifecycle.state, now),
  );
  const reviewed = applyTemplateUpdate(lifecycle.state, {
    kind: 'status',
    event: answer.status ?? 'PENDING',
    at: now,
  });
  const saved = await deps.store.transaction(async (tx) => {
    if (wasApproved) await tx.compliance.templates.recordEdit(record.id, now);
    return saveTemplate(
      tx,
      { ...fields, status: reviewed.status },
      { ...lifecycle, state: reviewed },
      now,
    );
  });
  return { record: saved, lifecycle: await lifecycleOf(deps.store, saved), findings };
}

/**
 * Deletes a template: at the provider first when it was submitted (every provider status would
 * otherwise come back with the next sync), then locally.
 */
export async function deleteTemplate(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<void> {
  const { record } = await getTemplate(deps, workspaceId, id);
  if (record.providerTemplateId !== null && record.channelId !== null) {
    const channel = await requireChannel(deps.store, workspaceId, record.channelId);
    const provider = await providerFor(deps, channel);
    const remove = provider.deleteTemplate?.bind(provider);
    if (!remove)
      throw new PolicyError(
        'not_supported',
        `The ${provider.kind} provider does not delete templates through Parley; delete it in the provider's console, then sync`,
      );
    const hsmId = record.providerTemplateId;
    await callProvider(`the deletion of ${record.name}`, () =>
      remove(addressOf(channel), { name: record.name, hsmId }),
    );
  }
  await deps.store.compliance.templates.delete(workspaceId, id);
}

/** TPL-7: what a WABA already holds and created in the last hour, from the local registry. */
async function wabaUsage(
  store: Store,
  workspaceId: string,
  channels: readonly Channel[],
  waba: string,
  now: number,
): Promise<WabaTemplateUsage> {
  const onWaba = new Set(channels.filter((c) => (c.wabaId ?? c.id) === waba).map((c) => c.id));
  const records = (await store.templates.list(workspaceId)).filter(
    (r) => r.channelId !== null && onWaba.has(r.channelId) && r.providerTemplateId !== null,
  );
  const createdAt: number[] = [];
  for (const r of records) {
    const l = await lifecycleOf(store, r);
    if (l.submittedAt !== null && now < l.submittedAt + HOUR) createdAt.push(l.submittedAt);
  }
  return { existing: records.length, createdAt };
}

/**
 * TPL-8: submits a template to a channel's provider for review. A workspace-wide draft becomes
 * that channel's template. TPL-7: refused when the WABA's cap would be passed or its hourly
 * creation limit is used up (saying when the next slot opens).
 */
export async function submitTemplate(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  input: { readonly channelId?: string },
) {
  const { record, lifecycle } = await getTemplate(deps, workspaceId, id);
  if (record.providerTemplateId !== null)
    throw new PolicyError(
      'conflict',
      `Template ${record.name} (${record.language}) was already submitted (provider id ${record.providerTemplateId}); change it with an edit`,
    );
  const channelId = record.channelId ?? input.channelId;
  if (channelId === undefined)
    throw new PolicyError(
      'invalid_request',
      'This template is workspace-wide: name the channelId whose provider (WABA) it goes to',
    );
  if (
    record.channelId !== null &&
    input.channelId !== undefined &&
    input.channelId !== record.channelId
  )
    throw new PolicyError(
      'invalid_request',
      `This template belongs to channel ${record.channelId}`,
    );
  const channel = await requireChannel(deps.store, workspaceId, channelId);
  if (record.channelId === null) {
    const taken = await deps.store.templates.find(
      workspaceId,
      record.name,
      record.language,
      channel.id,
    );
    if (taken && taken.channelId === channel.id)
      throw new PolicyError(
        'conflict',
        `Channel ${channel.id} already has template ${record.name} (${record.language}): ${taken.id}`,
      );
  }
  const provider = await providerFor(deps, channel);
  const create = provider.createTemplate?.bind(provider);
  if (!create)
    throw new PolicyError(
      'not_supported',
      `The ${provider.kind} provider cannot take template submissions`,
    );

  const now = deps.clock.now();
  const waba = channel.wabaId ?? channel.id;
  const channels = await deps.store.channels.list(workspaceId);
  const plan = checkTemplatePushPlan(
    [{ waba, name: record.name, language: record.language }],
    { [waba]: await wabaUsage(deps.store, workspaceId, channels, waba, now) },
    now,
  );
  const blocking = plan.findings[0];
  if (blocking !== undefined && (plan.wabas[0]?.createNow ?? 0) === 0)
    throw new PolicyError('conflict', `${blocking.rule}: ${blocking.message}`, {
      findings: plan.findings,
    });

  const definition = definitionOf(record);
  const created = await callProvider(`template ${record.name}`, () =>
    create(addressOf(channel), definition),
  );
  let state = applyTemplateUpdate(lifecycle.state, {
    kind: 'status',
    event: created.status ?? 'PENDING',
    at: now,
  });
  if (created.category)
    state = applyTemplateUpdate(state, {
      kind: 'category',
      newCategory: created.category,
      at: now,
    });
  const saved = await deps.store.transaction(async (tx) => {
    const out = await saveTemplate(
      tx,
      { ...record, channelId: channel.id, providerTemplateId: created.id || null },
      { state, submittedAt: now },
      now,
    );
    if (record.channelId === null) await tx.compliance.templates.delete(workspaceId, record.id);
    return out;
  });
  const after = await lifecycleOf(deps.store, saved);
  deps.events.publish(statusEvent(channel, saved, after.state.status, now));
  return { record: saved, lifecycle: after };
}

function statusEvent(
  channel: Channel,
  record: TemplateRecord,
  status: string,
  at: number,
  extra: Record<string, unknown> = {},
): DomainEvent {
  return {
    type: 'template.status',
    workspaceId: channel.workspaceId,
    at,
    data: {
      channelId: channel.id,
      templateId: record.id,
      name: record.name,
      language: record.language,
      status,
      ...extra,
    },
  };
}

export interface SyncSummary {
  readonly channelId: string;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Submitted templates the provider no longer lists (now DELETED). */
  readonly removed: number;
}

/**
 * TPL-8: reconciles a channel's templates with its provider: every provider template becomes or
 * updates the channel's record (TPL-2 categories mapped, status and category changes applied as
 * lifecycle events), and submitted templates the provider no longer lists become DELETED.
 */
export async function syncChannelTemplates(
  deps: AppDeps,
  channel: Channel,
): Promise<{ summary: SyncSummary; events: DomainEvent[] }> {
  const provider = await providerFor(deps, channel);
  if (!provider.listTemplates)
    return {
      summary: { channelId: channel.id, created: 0, updated: 0, unchanged: 0, removed: 0 },
      events: [],
    };
  const listed = await provider.listTemplates(addressOf(channel));
  const now = deps.clock.now();
  const events: DomainEvent[] = [];
  const counts = { created: 0, updated: 0, unchanged: 0, removed: 0 };
  await deps.store.transaction(async (tx) => {
    const own = (await tx.templates.list(channel.workspaceId)).filter(
      (r) => r.channelId === channel.id,
    );
    const seen = new Set<string>();
    for (const pt of listed) {
      seen.add(`${pt.name}\u0000${pt.language}`);
      const existing = own.find((r) => r.name === pt.name && r.language === pt.language) ?? null;
      const outcome = await reconcileOne(tx, channel, existing, pt, now);
      counts[outcome.kind]++;
      if (outcome.event) events.push(outcome.event);
    }
    for (const r of own) {
      if (r.providerTemplateId === null || seen.has(`${r.name}\u0000${r.language}`)) continue;
      const l = await lifecycleOf(tx, r);
      if (l.state.status === 'DELETED') continue;
      const state = applyTemplateUpdate(l.state, { kind: 'status', event: 'DELETED', at: now });
      const saved = await saveTemplate(tx, r, { ...l, state }, now);
      counts.removed++;
      events.push(statusEvent(channel, saved, 'DELETED', now, { source: 'sync' }));
    }
  });
  return { summary: { channelId: channel.id, ...counts }, events };
}

async function reconcileOne(
  store: Store,
  channel: Channel,
  existing: TemplateRecord | null,
  pt: ProviderTemplate,
  now: number,
): Promise<{ kind: 'created' | 'updated' | 'unchanged'; event: DomainEvent | null }> {
  const category = mapTemplateCategory(pt.category);
  const fields = {
    workspaceId: channel.workspaceId,
    channelId: channel.id,
    name: pt.name,
    language: pt.language,
    category: category ?? pt.category,
    parameterFormat: pt.parameterFormat?.toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL',
    components: JSON.parse(JSON.stringify(pt.components)) as Json,
    providerTemplateId: pt.providerTemplateId ?? existing?.providerTemplateId ?? null,
  };
  const lifecycle = existing
    ? await lifecycleOf(store, existing)
    : { state: draftTemplate(category), submittedAt: null };
  let state = lifecycle.state;
  const status = pt.status.toUpperCase();
  if (status !== state.status)
    state = applyTemplateUpdate(state, { kind: 'status', event: status, at: now });
  if (category !== null && category !== state.category)
    state = applyTemplateUpdate(state, { kind: 'category', newCategory: category, at: now });
  if (
    existing &&
    state === lifecycle.state &&
    existing.providerTemplateId === fields.providerTemplateId &&
    sameContent(existing, fields)
  )
    return { kind: 'unchanged', event: null };
  const saved = await saveTemplate(
    store,
    { ...fields, status: state.status },
    { ...lifecycle, state },
    now,
  );
  return {
    kind: existing ? 'updated' : 'created',
    event:
      state.status !== lifecycle.state.status || !existing
        ? statusEvent(channel, saved, state.status, now, { source: 'sync' })
        : null,
  };
}

/** The webhook fields that describe a template (TPL-8). */
export const TEMPLATE_NOTICE_FIELDS = [
  'message_template_status_update',
  'template_category_update',
  'message_template_quality_update',
] as const;

export function isTemplateNotice(field: string): boolean {
  return (TEMPLATE_NOTICE_FIELDS as readonly string[]).includes(field);
}

/**
 * TPL-8: applies a template webhook (status, category or quality) to the template of every
 * channel on that WABA, through the lifecycle (pauses counted, late events ignored), and returns
 * the `template.status` events to publish.
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/webhooks/components
 */
export async function applyTemplateNotice(
  deps: AppDeps,
  channel: Channel,
  n: OtherNotice,
): Promise<DomainEvent[]> {
  const v = (typeof n.value === 'object' && n.value !== null ? n.value : {}) as Record<
    string,
    unknown
  >;
  const str = (x: unknown) =>
    typeof x === 'string' ? x : typeof x === 'number' ? String(x) : undefined;
  const name = str(v.message_template_name);
  const language = str(v.message_template_language);
  const providerId = str(v.message_template_id);
  let update: TemplateUpdate | null = null;
  if (n.field === 'message_template_status_update' && str(v.event))
    update = {
      kind: 'status',
      event: str(v.event) ?? '',
      at: n.at,
      ...(str(v.reason) && str(v.reason) !== 'NONE' ? { reason: str(v.reason) ?? '' } : {}),
    };
  else if (n.field === 'template_category_update' && str(v.new_category))
    update = { kind: 'category', newCategory: str(v.new_category) ?? '', at: n.at };
  else if (n.field === 'message_template_quality_update' && str(v.new_quality_score))
    update = { kind: 'quality', newQuality: str(v.new_quality_score) ?? '', at: n.at };
  if (!update || !name || !language) return [];
  const applied = update;

  const events: DomainEvent[] = [];
  await deps.store.transaction(async (tx) => {
    const siblings = (await tx.channels.list(channel.workspaceId)).filter(
      (c) =>
        c.id === channel.id ||
        (c.connectionId === channel.connectionId &&
          c.wabaId !== null &&
          c.wabaId === channel.wabaId),
    );
    const done = new Set<string>();
    for (const c of siblings) {
      const record = await tx.templates.find(c.workspaceId, name, language, c.id);
      if (!record || done.has(record.id)) continue;
      if (providerId && record.providerTemplateId && record.providerTemplateId !== providerId)
        continue;
      done.add(record.id);
      const lifecycle = await lifecycleOf(tx, record);
      const state = applyTemplateUpdate(lifecycle.state, applied);
      if (state === lifecycle.state) continue;
      await saveTemplate(
        tx,
        { ...record, providerTemplateId: record.providerTemplateId ?? providerId ?? null },
        { ...lifecycle, state },
        n.at,
      );
    }
  });
  if (applied.kind === 'status')
    events.push({
      type: 'template.status',
      workspaceId: channel.workspaceId,
      at: n.at,
      data: { channelId: channel.id, name, language, status: applied.event },
    });
  else
    events.push({
      type: 'template.status',
      workspaceId: channel.workspaceId,
      at: n.at,
      data: {
        channelId: channel.id,
        name,
        language,
        ...(applied.kind === 'category'
          ? { category: applied.newCategory }
          : { quality: applied.newQuality }),
      },
    });
  return events;
}

/** TPL-10/11/12: a template rendered with given parameters, and whether a send would pass. */
export async function previewTemplate(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  components: TemplateBody['components'],
) {
  const { record } = await getTemplate(deps, workspaceId, id);
  const definition = definitionOf(record);
  const body: TemplateBody = {
    name: record.name,
    language: { code: record.language },
    ...(components ? { components } : {}),
  };
  const problem = checkTemplateParameters(definition, body);
  return {
    templateId: record.id,
    valid: problem === null,
    problem: problem === null ? null : { reason: problem.reason, detail: problem.detail },
    rendered: renderTemplate(definition, body),
    text: renderedText(definition, body),
  };
}
