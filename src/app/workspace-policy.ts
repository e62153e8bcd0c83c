// A workspace's consent and notification settings (OPT-4, OPT-5, OPT-6, LIM-7), kept in
// `workspaces.settings` under `consent` and `notifications`, with the rule book's defaults.
import { z } from 'zod';
import {
  CONSENT_POLICIES,
  DEFAULT_IMPLIED_LAPSE,
  type ConsentPolicy,
} from '../core/consent/ledger.ts';
import { DEFAULT_KEYWORD_SETS, type KeywordSet } from '../core/consent/keywords.ts';
import { DEFAULT_NOTIFICATION_DEDUPE_WINDOW } from '../core/templates/notification-dedupe.ts';
import { DAY, MINUTE } from '../core/time.ts';
import type { JsonObject, Workspace } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { PolicyError } from './policy-errors.ts';
import { policyCache } from './policy-cache.ts';

const keywordSet = z
  .object({
    language: z.string().min(1).max(35),
    stop: z.array(z.string().min(1).max(50)).max(100).default([]),
    start: z.array(z.string().min(1).max(50)).max(100).default([]),
  })
  .strict();

/** What a workspace may set about consent (API and stored shape). */
export const consentSettingsInput = z
  .object({
    policy: z.enum(CONSENT_POLICIES).optional(),
    impliedLapseDays: z.number().int().min(1).max(3650).optional(),
    /** Added to the default set (OPT-5): e.g. `{ language: 'en', stop: ['CANCEL', 'QUIT'] }`. */
    keywords: z.array(keywordSet).max(50).optional(),
    /** OPT-6: the one confirmation after a keyword opt-out. */
    confirmation: z
      .object({
        enabled: z.boolean().optional(),
        text: z.string().min(1).max(1024).nullable().optional(),
      })
      .strict()
      .optional(),
    /** The business name used in the default confirmation text (else the channel's name). */
    businessName: z.string().min(1).max(200).nullable().optional(),
  })
  .strict();
export type ConsentSettingsInput = z.infer<typeof consentSettingsInput>;

export const notificationSettingsInput = z
  .object({
    /** The channel `POST /v1/notifications` uses when the request names none. */
    defaultChannelId: z.string().min(1).max(100).nullable().optional(),
    /** LIM-7 suppression window for a repeated notification. */
    dedupeWindowMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .optional(),
  })
  .strict();
export type NotificationSettingsInput = z.infer<typeof notificationSettingsInput>;

export interface ConsentSettings {
  readonly policy: ConsentPolicy;
  readonly impliedLapseMs: number;
  /** The workspace's own sets, added to the defaults. */
  readonly extraKeywords: readonly KeywordSet[];
  /** Defaults first, then the workspace's own. */
  readonly keywordSets: readonly KeywordSet[];
  readonly confirmationEnabled: boolean;
  readonly confirmationText: string | null;
  readonly businessName: string | null;
}

export interface NotificationSettings {
  readonly defaultChannelId: string | null;
  readonly dedupeWindowMs: number;
}

function section(workspace: Workspace | null, key: string): unknown {
  return workspace?.settings[key] ?? {};
}

/** The workspace's consent settings; anything unset or unreadable takes the rule book's default. */
export function consentSettings(workspace: Workspace | null): ConsentSettings {
  const parsed = consentSettingsInput.safeParse(section(workspace, 'consent'));
  const s = parsed.success ? parsed.data : {};
  const extra = s.keywords ?? [];
  return {
    policy: s.policy ?? 'standard',
    impliedLapseMs:
      s.impliedLapseDays === undefined ? DEFAULT_IMPLIED_LAPSE : s.impliedLapseDays * DAY,
    extraKeywords: extra,
    keywordSets: [...DEFAULT_KEYWORD_SETS, ...extra],
    confirmationEnabled: s.confirmation?.enabled ?? true,
    confirmationText: s.confirmation?.text ?? null,
    businessName: s.businessName ?? null,
  };
}

export function notificationSettings(workspace: Workspace | null): NotificationSettings {
  const parsed = notificationSettingsInput.safeParse(section(workspace, 'notifications'));
  const s = parsed.success ? parsed.data : {};
  return {
    defaultChannelId: s.defaultChannelId ?? null,
    dedupeWindowMs:
      s.dedupeWindowMinutes === undefined
        ? DEFAULT_NOTIFICATION_DEDUPE_WINDOW
        : s.dedupeWindowMinutes * MINUTE,
  };
}

/** The settings as the API shows them. */
export function consentSettingsView(s: ConsentSettings) {
  return {
    policy: s.policy,
    impliedLapseDays: s.impliedLapseMs / DAY,
    keywords: s.extraKeywords,
    defaultKeywords: DEFAULT_KEYWORD_SETS,
    confirmation: { enabled: s.confirmationEnabled, text: s.confirmationText },
    businessName: s.businessName,
  };
}

export function notificationSettingsView(s: NotificationSettings) {
  return { defaultChannelId: s.defaultChannelId, dedupeWindowMinutes: s.dedupeWindowMs / MINUTE };
}

function merged(current: unknown, patch: Readonly<Record<string, unknown>>): JsonObject {
  const base =
    typeof current === 'object' && current !== null && !Array.isArray(current)
      ? (current as JsonObject)
      : {};
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) out[k] = v as JsonObject[string];
  return out;
}

/** Changes a workspace's consent settings (unset fields keep their value). */
export async function updateConsentSettings(
  deps: AppDeps,
  workspaceId: string,
  patch: ConsentSettingsInput,
): Promise<ConsentSettings> {
  return deps.store.transaction(async (tx) => {
    const workspace = await tx.workspaces.get(workspaceId);
    const next = merged(workspace?.settings.consent, {
      ...patch,
      ...(patch.confirmation
        ? {
            confirmation: merged(
              (workspace?.settings.consent as JsonObject | undefined)?.confirmation,
              patch.confirmation,
            ),
          }
        : {}),
    });
    const updated = await tx.compliance.workspaceSettings.update(workspaceId, { consent: next });
    policyCache(deps).forgetWorkspace(workspaceId);
    return consentSettings(updated);
  });
}

export async function updateNotificationSettings(
  deps: AppDeps,
  workspaceId: string,
  patch: NotificationSettingsInput,
): Promise<NotificationSettings> {
  return deps.store.transaction(async (tx) => {
    if (patch.defaultChannelId) {
      const channel = await tx.channels.get(patch.defaultChannelId);
      if (!channel || channel.workspaceId !== workspaceId)
        throw new PolicyError(
          'not_found',
          `No channel ${patch.defaultChannelId} in this workspace`,
        );
    }
    const workspace = await tx.workspaces.get(workspaceId);
    const next = merged(workspace?.settings.notifications, patch);
    const updated = await tx.compliance.workspaceSettings.update(workspaceId, {
      notifications: next,
    });
    policyCache(deps).forgetWorkspace(workspaceId);
    return notificationSettings(updated);
  });
}
