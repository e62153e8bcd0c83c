// Managing flows and business calendars: create, change, delete, declare from the config file.
// Nothing is stored unless the whole definition is valid.
import { calendarProblems, type BusinessCalendar } from '../../core/automation/business-hours.ts';
import { flowProblems, type FlowDefinition } from '../../core/automation/flow.ts';
import type { AutomationRecord, AutomationSource } from '../../ports/automation-store.ts';
import type { JsonObject } from '../../ports/store.ts';
import type { AppDeps } from '../deps.ts';
import { PolicyError } from '../policy-errors.ts';
import { ConfigError } from '../config.ts';
import {
  businessCalendarSchema,
  flowDefinitionSchema,
  type BusinessCalendarInput,
  type FlowInput,
} from './flow-schema.ts';

/** A stored flow as the API shows it. */
export function flowView(record: AutomationRecord) {
  const definition = record.definition as unknown as FlowDefinition;
  return {
    id: record.id,
    name: record.name,
    enabled: definition.enabled !== false,
    priority: definition.priority ?? 100,
    channels: definition.channels ?? [],
    cooldownMs: definition.cooldownMs ?? 0,
    trigger: definition.trigger,
    steps: definition.steps,
    source: record.source,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

/** Parses and checks a whole definition; throws `automation_invalid` listing every problem. */
async function validated(deps: AppDeps, workspaceId: string, input: unknown): Promise<FlowInput> {
  const parsed = flowDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || '(definition)'}: ${i.message}`,
    );
    throw new PolicyError('automation_invalid', problems.join('; '), { problems });
  }
  const flow = parsed.data;
  const problems = flowProblems(flow);
  if (flow.channels?.length) {
    const own = new Set((await deps.store.channels.list(workspaceId)).map((c) => c.id));
    for (const channelId of flow.channels)
      if (!own.has(channelId)) problems.push(`channels: no channel ${channelId} in this workspace`);
  }
  const departmentIds = flow.steps.flatMap((s) =>
    (s.type === 'assign' || s.type === 'handoff') && s.departmentId ? [s.departmentId] : [],
  );
  if (departmentIds.length > 0) {
    const own = new Set((await deps.store.inbox.departments.list(workspaceId)).map((d) => d.id));
    for (const departmentId of departmentIds)
      if (!own.has(departmentId))
        problems.push(`steps: no department ${departmentId} in this workspace`);
  }
  if (problems.length > 0)
    throw new PolicyError('automation_invalid', problems.join('; '), { problems });
  return flow;
}

function definitionJson(flow: FlowInput): JsonObject {
  return JSON.parse(JSON.stringify(flow)) as JsonObject;
}

export async function createFlow(
  deps: AppDeps,
  workspaceId: string,
  input: unknown,
  source: AutomationSource = 'api',
): Promise<AutomationRecord> {
  const flow = await validated(deps, workspaceId, input);
  const created = await deps.store.automations.flows.create({
    workspaceId,
    name: flow.name,
    definition: definitionJson(flow),
    source,
    createdAt: deps.clock.now(),
  });
  if (!created)
    throw new PolicyError('conflict', `An automation named "${flow.name}" already exists`);
  return created;
}

export async function getFlow(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<AutomationRecord> {
  const flow = await deps.store.automations.flows.get(workspaceId, id);
  if (!flow) throw new PolicyError('not_found', `No automation ${id} in this workspace`);
  return flow;
}

/** Replaces the given top-level fields; the result must be a valid definition as a whole. */
export async function updateFlow(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  patch: Readonly<Record<string, unknown>>,
  source: AutomationSource = 'api',
): Promise<AutomationRecord> {
  const current = await getFlow(deps, workspaceId, id);
  const flow = await validated(deps, workspaceId, { ...current.definition, ...patch });
  const updated = await deps.store.automations.flows.update(
    workspaceId,
    id,
    { name: flow.name, definition: definitionJson(flow), source },
    deps.clock.now(),
  );
  if (!updated)
    throw new PolicyError('conflict', `An automation named "${flow.name}" already exists`);
  return updated;
}

export async function deleteFlow(deps: AppDeps, workspaceId: string, id: string): Promise<void> {
  if (!(await deps.store.automations.flows.delete(workspaceId, id)))
    throw new PolicyError('not_found', `No automation ${id} in this workspace`);
}

/** Declared flows (config file) are created, or replaced when their definition changed. */
export async function applyDeclaredAutomations(
  deps: AppDeps,
  workspaceId: string,
  declared: readonly unknown[],
): Promise<void> {
  const channels = await deps.store.channels.list(workspaceId);
  // A config file knows its channels by name or number, not by the ids Parley gave them.
  const channelId = (ref: string): string =>
    channels.find(
      (c) =>
        c.id === ref ||
        c.name === ref ||
        c.providerKey === ref ||
        c.phoneNumber === ref.replace(/^\+/, ''),
    )?.id ?? ref;
  // Every declared flow is checked before any is written: a bad file changes nothing.
  const flows: FlowInput[] = [];
  for (const [n, input] of declared.entries()) {
    const given = input as { channels?: unknown; name?: unknown };
    flows.push(
      await validated(deps, workspaceId, {
        ...(input as object),
        ...(Array.isArray(given.channels)
          ? {
              channels: (given.channels as unknown[]).map((c) =>
                typeof c === 'string' ? channelId(c) : c,
              ),
            }
          : {}),
      }).catch((error: unknown) => {
        if (!(error instanceof PolicyError)) throw error;
        throw new ConfigError(`automations[${n}] "${String(given.name)}": ${error.message}`);
      }),
    );
  }
  for (const flow of flows) {
    const existing = await deps.store.automations.flows.findByName(workspaceId, flow.name);
    const definition = definitionJson(flow);
    if (!existing) await createFlow(deps, workspaceId, flow, 'config');
    // The file says the whole definition: fields it dropped are dropped, not kept.
    else if (JSON.stringify(existing.definition) !== JSON.stringify(definition))
      await deps.store.automations.flows.update(
        workspaceId,
        existing.id,
        { name: flow.name, definition, source: 'config' },
        deps.clock.now(),
      );
  }
}

async function ownChannel(deps: AppDeps, workspaceId: string, channelId: string): Promise<void> {
  const channel = await deps.store.channels.get(channelId);
  if (!channel || channel.workspaceId !== workspaceId)
    throw new PolicyError('not_found', `No channel ${channelId} in this workspace`);
}

export async function getBusinessHours(
  deps: AppDeps,
  workspaceId: string,
  channelId: string,
): Promise<BusinessCalendar | null> {
  await ownChannel(deps, workspaceId, channelId);
  return (await deps.store.automations.calendars.get(
    channelId,
  )) as unknown as BusinessCalendar | null;
}

export async function setBusinessHours(
  deps: AppDeps,
  workspaceId: string,
  channelId: string,
  input: unknown,
): Promise<BusinessCalendar> {
  await ownChannel(deps, workspaceId, channelId);
  const parsed = businessCalendarSchema.safeParse(input);
  const problems = parsed.success
    ? calendarProblems(parsed.data)
    : parsed.error.issues.map((i) => `${i.path.join('.') || '(calendar)'}: ${i.message}`);
  if (!parsed.success || problems.length > 0)
    throw new PolicyError('automation_invalid', problems.join('; '), { problems });
  const calendar: BusinessCalendarInput = parsed.data;
  const current = await deps.store.automations.calendars.get(channelId);
  if (JSON.stringify(current) === JSON.stringify(calendar)) return calendar; // a restart, unchanged
  await deps.store.automations.calendars.put({
    workspaceId,
    channelId,
    calendar: JSON.parse(JSON.stringify(calendar)) as JsonObject,
    at: deps.clock.now(),
  });
  return calendar;
}

export async function deleteBusinessHours(
  deps: AppDeps,
  workspaceId: string,
  channelId: string,
): Promise<void> {
  await ownChannel(deps, workspaceId, channelId);
  if (!(await deps.store.automations.calendars.delete(channelId)))
    throw new PolicyError('not_found', `Channel ${channelId} has no business hours`);
}
