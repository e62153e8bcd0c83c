// LIM-3/4/5 applied to a template send: the workspace's limit settings (kept in
// `workspaces.settings.limits`), the check before a template is queued and again at dispatch, and
// the records that later checks count (who was reached, which marketing went out).
import { z } from 'zod';
import { isWindowOpen, type CareWindowState } from '../core/care-window.ts';
import type { Refusal } from '../core/decision.ts';
import {
  MARKETING_HOLD_OFF,
  MESSAGING_LIMIT_WINDOW,
  marketBlockDecision,
  marketingCapDecision,
  messagingLimitDecision,
  messagingLimitScope,
  type MarketingCap,
  type MessagingTier,
} from '../core/outbound-limits.ts';
import { HOUR } from '../core/time.ts';
import type { Channel, JsonObject, Store, Workspace } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { countryOfNumber } from './pricing/recipient-country.ts';
import { policyCache } from './policy-cache.ts';
import { PolicyError } from './policy-errors.ts';
import type { TemplatePurpose } from './template-send-policy.ts';

const tier = z.union([
  z.literal(250),
  z.literal(1_000),
  z.literal(2_000),
  z.literal(10_000),
  z.literal(100_000),
  z.null(),
]);

/** What a workspace may set about its outbound limits (API and stored shape). */
export const limitSettingsInput = z
  .object({
    /**
     * LIM-3: the messaging limit tier WhatsApp Manager shows, per WABA (the portfolio's limit is
     * shared by its WABAs; set the same tier on each). null: unlimited.
     */
    messagingTiers: z.record(z.string().min(1).max(100), tier).optional(),
    /** LIM-3: the tier of any WABA not listed (default: unlimited, i.e. not enforced). */
    defaultMessagingTier: tier.optional(),
    /** LIM-4: at most `max` marketing templates per contact per `windowHours` (null: off). */
    marketingCap: z
      .object({
        max: z.number().int().min(1).max(1000),
        windowHours: z
          .number()
          .int()
          .min(1)
          .max(24 * 90),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();
export type LimitSettingsInput = z.infer<typeof limitSettingsInput>;

export interface LimitSettings {
  readonly messagingTiers: Readonly<Record<string, MessagingTier>>;
  readonly defaultMessagingTier: MessagingTier;
  readonly marketingCap: MarketingCap | null;
}

export function limitSettings(workspace: Workspace | null): LimitSettings {
  const parsed = limitSettingsInput.safeParse(workspace?.settings.limits ?? {});
  const s = parsed.success ? parsed.data : {};
  return {
    messagingTiers: s.messagingTiers ?? {},
    defaultMessagingTier: s.defaultMessagingTier ?? null,
    marketingCap: s.marketingCap
      ? { max: s.marketingCap.max, windowMs: s.marketingCap.windowHours * HOUR }
      : null,
  };
}

export function limitSettingsView(s: LimitSettings) {
  return {
    messagingTiers: s.messagingTiers,
    defaultMessagingTier: s.defaultMessagingTier,
    marketingCap: s.marketingCap
      ? { max: s.marketingCap.max, windowHours: Math.round(s.marketingCap.windowMs / HOUR) }
      : null,
  };
}

/** Changes a workspace's limit settings (unset fields keep their value). */
export async function updateLimitSettings(
  deps: AppDeps,
  workspaceId: string,
  patch: LimitSettingsInput,
): Promise<LimitSettings> {
  const workspace = await deps.store.workspaces.get(workspaceId);
  if (!workspace) throw new PolicyError('not_found', `No workspace ${workspaceId}`);
  const current = (workspace.settings.limits ?? {}) as JsonObject;
  const next = JSON.parse(
    JSON.stringify({
      ...current,
      ...patch,
      ...(patch.messagingTiers
        ? {
            messagingTiers: {
              ...((current.messagingTiers ?? {}) as JsonObject),
              ...patch.messagingTiers,
            },
          }
        : {}),
    }),
  ) as JsonObject;
  const updated = await deps.store.compliance.workspaceSettings.update(workspaceId, {
    limits: next,
  });
  policyCache(deps).forgetWorkspace(workspaceId);
  return limitSettings(updated);
}

/** The tier that applies to a channel's WABA (or to the channel itself when it has none). */
export function tierFor(settings: LimitSettings, channel: Channel): MessagingTier {
  const key = channel.wabaId ?? channel.id;
  return key in settings.messagingTiers
    ? (settings.messagingTiers[key] ?? null)
    : settings.defaultMessagingTier;
}

export type LimitCheck =
  | {
      readonly allowed: true;
      /** LIM-3: the send reaches the user outside a care window (recorded when queued). */
      readonly reachScope: string | null;
      readonly marketing: boolean;
    }
  | (Refusal & { readonly retryAt?: number });

/**
 * LIM-5, LIM-4 and LIM-3 for one template send now, in that order. At dispatch (`atDispatch`)
 * the workspace frequency cap is not counted again (this very message is already in the
 * history); the 131049 hold-off, the US block and the messaging limit are.
 * @see https://developers.facebook.com/docs/whatsapp/messaging-limits
 */
export async function checkSendLimits(
  deps: Pick<AppDeps, 'lookups'>,
  store: Store,
  input: {
    readonly channel: Channel;
    readonly contactId: string;
    readonly waId: string;
    readonly purpose: TemplatePurpose;
    readonly now: number;
    readonly atDispatch?: boolean;
    /** The care window the caller already read in this transaction (NO_WINDOW for none). */
    readonly window?: CareWindowState;
  },
): Promise<LimitCheck> {
  const { channel, waId, purpose, now } = input;
  const marketing = purpose === 'marketing';
  const blocked = marketBlockDecision(countryOfNumber(waId), purpose, now);
  if (!blocked.allowed) return blocked;
  const settings = limitSettings(await policyCache(deps).workspace(store, channel.workspaceId));
  if (marketing) {
    const cap = input.atDispatch ? null : settings.marketingCap;
    const lookBack = Math.max(MARKETING_HOLD_OFF, cap?.windowMs ?? 0);
    const history = await store.outreach.marketing.history(
      channel.workspaceId,
      waId,
      now - lookBack,
    );
    const capped = marketingCapDecision(history, cap, now);
    if (!capped.allowed) return capped;
  }
  const window = input.window ?? (await store.windows.get(channel.id, input.contactId));
  if (window && isWindowOpen(window, now)) return { allowed: true, reachScope: null, marketing };
  const scope = messagingLimitScope(channel, now);
  const tier = tierFor(settings, channel);
  if (tier === null) return { allowed: true, reachScope: scope, marketing };
  const reach = await store.outreach.reach.get(
    channel.workspaceId,
    scope,
    waId,
    now - MESSAGING_LIMIT_WINDOW,
  );
  const decision = messagingLimitDecision(reach, tier, now);
  if (!decision.allowed) return decision;
  return { allowed: true, reachScope: scope, marketing };
}

/** What later checks count: this user reached in the scope, and a marketing template sent. */
export async function recordSendLimits(
  store: Store,
  input: {
    readonly workspaceId: string;
    readonly waId: string;
    readonly messageId: string;
    readonly now: number;
  },
  check: Extract<LimitCheck, { allowed: true }>,
): Promise<void> {
  if (check.reachScope !== null)
    await store.outreach.reach.record(input.workspaceId, check.reachScope, input.waId, input.now);
  if (check.marketing)
    await store.outreach.marketing.record(
      input.workspaceId,
      input.waId,
      'sent',
      input.now,
      input.messageId,
    );
}
