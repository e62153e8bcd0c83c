// What every template send is checked against before it is queued (and again at dispatch):
// template status (TPL-9), parameters (TPL-10/11) and consent for the template's category
// (OPT-7); and the rendered text stored with the message (TPL-12).
import type { ConsentEvent, MessagePurpose } from '../core/consent/events.ts';
import { consentDecision, type ConsentDecision } from '../core/consent/ledger.ts';
import { refuse, type Refusal } from '../core/decision.ts';
import type { TemplateBody } from '../core/messages.ts';
import { templateSendDecision } from '../core/templates/lifecycle.ts';
import { checkTemplateParameters } from '../core/templates/parameters.ts';
import { renderedText } from '../core/templates/render.ts';
import type { Channel, Store } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { readLedger } from './consent-ledger.ts';
import { policyCache } from './policy-cache.ts';
import { definitionOf, lifecycleOf } from './template-registry.ts';
import { consentSettings, type ConsentSettings } from './workspace-policy.ts';

/** A template's purpose for consent; `unknown` when Parley has no local definition of it. */
export type TemplatePurpose = MessagePurpose | 'unknown';

export interface TemplateSendCheck {
  readonly decision: { readonly allowed: true; readonly warning?: string } | Refusal;
  /** TPL-12: the text the user sees, when the template is known locally. */
  readonly renderedText: string | null;
  readonly purpose: TemplatePurpose;
}

/**
 * The purpose a send of an unknown template (no local definition: the provider answers 132001
 * late if it does not exist) is checked as. Under `strict` it must prove an explicit opt-in
 * for the most demanding purpose, marketing; otherwise it is checked as utility, so a STOP or an
 * opt-out of every purpose still refuses it, and a template the provider does know is not held
 * back only because it was not synced yet.
 */
export function unknownTemplatePurpose(settings: ConsentSettings): MessagePurpose {
  return settings.policy === 'strict' ? 'marketing' : 'utility';
}

/** OPT-7: the consent part of the check, for a purpose at a channel. */
export function templateConsentDecision(
  ledger: readonly ConsentEvent[],
  purpose: TemplatePurpose,
  channelId: string,
  settings: ConsentSettings,
  now: number,
): ConsentDecision {
  const checkedAs = purpose === 'unknown' ? unknownTemplatePurpose(settings) : purpose;
  const decision = consentDecision(ledger, {
    purpose: checkedAs,
    channelId,
    now,
    policy: settings.policy,
    impliedLapseMs: settings.impliedLapseMs,
  });
  if (decision.allowed || purpose !== 'unknown') return decision;
  return refuse(
    decision.reason,
    `${decision.detail} (Parley has no local definition of this template, so its category is unknown and it was checked as ${checkedAs} under the ${settings.policy} policy; sync or declare the template)`,
  );
}

/**
 * TPL-9, TPL-10/11, OPT-7 for one template send from a channel to a wa_id, in that order: a
 * known template must be APPROVED (a pause ends by itself) and get matching parameters; then
 * the contact's consent for the template's category is checked under the workspace policy.
 */
export async function checkTemplateSend(
  deps: Pick<AppDeps, 'secretBox' | 'lookups'>,
  store: Store,
  channel: Channel,
  waId: string,
  template: TemplateBody,
  now: number,
): Promise<TemplateSendCheck> {
  const record = await store.templates.find(
    channel.workspaceId,
    template.name,
    template.language.code,
    channel.id,
  );
  let purpose: TemplatePurpose = 'unknown';
  let text: string | null = null;
  if (record) {
    const lifecycle = await lifecycleOf(store, record);
    const status = templateSendDecision(lifecycle.state, now);
    if (!status.allowed)
      return {
        decision: refuse(
          status.reason,
          `Template ${template.name} (${template.language.code}): ${status.detail}`,
        ),
        renderedText: null,
        purpose,
      };
    const definition = definitionOf(record);
    const params = checkTemplateParameters(definition, template);
    if (params) return { decision: params, renderedText: null, purpose };
    text = renderedText(definition, template);
    const category = lifecycle.state.category ?? record.category;
    purpose = ['MARKETING', 'UTILITY', 'AUTHENTICATION'].includes(category.toUpperCase())
      ? (category.toLowerCase() as MessagePurpose)
      : 'unknown';
  }
  const [workspace, ledger] = await Promise.all([
    policyCache(deps).workspace(store, channel.workspaceId),
    readLedger(deps, store, channel.workspaceId, waId),
  ]);
  const settings = consentSettings(workspace);
  const decision = templateConsentDecision(ledger, purpose, channel.id, settings, now);
  return { decision, renderedText: text, purpose };
}
