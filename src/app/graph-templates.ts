// Cloud-API-compatible templates: `GET|POST|DELETE /{waba-id}/message_templates` over Parley's
// template registry (TPL-1..6 checked, TPL-7 limits, submitted for review through the provider).
import type { Channel, TemplateRecord } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { PolicyError } from './policy-errors.ts';
import {
  createTemplate,
  deleteTemplate,
  listTemplates,
  submitTemplate,
} from './template-registry.ts';

/**
 * The numbers of the WABA a Cloud API path names: by its WABA id, or by the Parley connection
 * id — only among the caller's workspace's channels. Empty when nothing matches.
 */
export async function findGraphWaba(
  deps: AppDeps,
  workspaceId: string,
  node: string,
): Promise<Channel[]> {
  const channels = await deps.store.channels.list(workspaceId);
  const byWaba = channels.filter((c) => c.wabaId === node);
  return byWaba.length > 0 ? byWaba : channels.filter((c) => c.connectionId === node);
}

/** The id Meta clients see for a template: the provider's (hsm id) once submitted. */
export const graphTemplateId = (record: TemplateRecord): string =>
  record.providerTemplateId ?? record.id;

/** Meta's template object. */
export function graphTemplateView(record: TemplateRecord, rejectionReason: string | null) {
  return {
    name: record.name,
    ...(record.parameterFormat === 'NAMED' ? { parameter_format: 'NAMED' } : {}),
    components: record.components,
    language: record.language,
    status: record.status,
    category: record.category,
    id: graphTemplateId(record),
    ...(record.status === 'REJECTED' ? { rejected_reason: rejectionReason ?? 'NONE' } : {}),
  };
}

export interface GraphTemplateFilter {
  readonly name?: string;
  readonly status?: string;
  readonly language?: string;
  readonly category?: string;
}

/**
 * The WABA's templates in a stable order (name, language, id). Local drafts are not on the WABA
 * and stay out; a template held by several numbers of the WABA is listed once.
 * @see https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates/
 */
export async function listWabaTemplates(
  deps: AppDeps,
  workspaceId: string,
  channels: readonly Channel[],
  filter: GraphTemplateFilter,
) {
  const onWaba = new Set(channels.map((c) => c.id));
  const seen = new Set<string>();
  const items = (await listTemplates(deps, workspaceId))
    .filter(
      ({ record }) =>
        record.channelId !== null &&
        onWaba.has(record.channelId) &&
        record.status !== 'DRAFT' &&
        (filter.name === undefined || record.name === filter.name) &&
        (filter.language === undefined || record.language === filter.language) &&
        (filter.status === undefined || record.status === filter.status.toUpperCase()) &&
        (filter.category === undefined || record.category === filter.category.toUpperCase()),
    )
    .sort(
      (a, b) =>
        a.record.name.localeCompare(b.record.name) ||
        a.record.language.localeCompare(b.record.language) ||
        a.record.id.localeCompare(b.record.id),
    )
    .filter(({ record }) => {
      const key = `${record.name}\u0000${record.language}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return items.map(({ record, lifecycle }) =>
    graphTemplateView(record, lifecycle.state.rejectionReason),
  );
}

/**
 * `POST /{waba-id}/message_templates`: created in the registry and submitted for review at once,
 * like Meta's own creation; a submission the provider or TPL-7 refuses leaves nothing behind.
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
 */
export async function createWabaTemplate(
  deps: AppDeps,
  workspaceId: string,
  channel: Channel,
  definition: unknown,
) {
  const created = await createTemplate(deps, workspaceId, {
    definition,
    channelId: channel.id,
  });
  try {
    const submitted = await submitTemplate(deps, workspaceId, created.record.id, {});
    return {
      id: graphTemplateId(submitted.record),
      status: submitted.lifecycle.state.status,
      category: submitted.record.category,
    };
  } catch (error) {
    await deps.store.compliance.templates.delete(workspaceId, created.record.id);
    throw error;
  }
}

/**
 * `DELETE /{waba-id}/message_templates?name=…[&hsm_id=…]`: every language of the name, or only
 * the one with that id; at the provider first, then in the registry.
 */
export async function deleteWabaTemplates(
  deps: AppDeps,
  workspaceId: string,
  channels: readonly Channel[],
  target: { readonly name: string; readonly hsmId?: string },
): Promise<number> {
  const onWaba = new Set(channels.map((c) => c.id));
  const matches = (await listTemplates(deps, workspaceId, { name: target.name })).filter(
    ({ record }) =>
      record.channelId !== null &&
      onWaba.has(record.channelId) &&
      (target.hsmId === undefined || graphTemplateId(record) === target.hsmId),
  );
  if (matches.length === 0)
    throw new PolicyError(
      'not_found',
      `No template named ${target.name}${target.hsmId !== undefined ? ` with id ${target.hsmId}` : ''} on this WhatsApp Business Account`,
    );
  for (const { record } of matches) await deleteTemplate(deps, workspaceId, record.id);
  return matches.length;
}
