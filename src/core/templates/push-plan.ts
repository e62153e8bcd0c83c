// TPL-7: limits that apply when pushing templates to a provider, not to one file: templates
// created per WABA per hour, and templates per WABA.
import { HOUR } from '../time.ts';
import type { TemplateFinding } from './lint.ts';

export interface TemplatePushLimits {
  /** Meta: at most 100 templates created per WABA per hour. */
  readonly perHour: number;
  /** Templates a WABA may hold (2388019 past it); 250 unless the business has a higher cap. */
  readonly perWaba: number;
}

export const DEFAULT_TEMPLATE_PUSH_LIMITS: TemplatePushLimits = { perHour: 100, perWaba: 250 };

/** One template (a name in one language) the push would create. */
export interface PushCreation {
  readonly waba: string;
  readonly name: string;
  readonly language: string;
}

/** What the provider already holds for a WABA. */
export interface WabaTemplateUsage {
  /** Templates that exist now (every name × language). */
  readonly existing: number;
  /** Creation instants of templates, at least those of the last hour. */
  readonly createdAt: readonly number[];
}

export interface WabaPushCheck {
  readonly waba: string;
  readonly toCreate: number;
  readonly existing: number;
  readonly createdLastHour: number;
  /** How many of this push's creations may go now without breaking either limit. */
  readonly createNow: number;
  /** When the hourly limit next frees a slot, if it holds some creations back; else null. */
  readonly nextSlotAt: number | null;
}

export interface PushPlanCheck {
  readonly wabas: WabaPushCheck[];
  /** Errors: the WABA cap would be passed. Warnings: the hourly limit holds creations back. */
  readonly findings: TemplateFinding[];
}

/**
 * TPL-7: checks a push plan against Meta's creation rate (per WABA per hour, counted over the
 * last hour, half-open) and the per-WABA cap (2388019). Passing the cap is an error; the hourly
 * limit only paces (a warning saying how many go now and when the next slot opens).
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
 */
export function checkTemplatePushPlan(
  creations: readonly PushCreation[],
  usage: Readonly<Record<string, WabaTemplateUsage | undefined>>,
  now: number,
  limits: TemplatePushLimits = DEFAULT_TEMPLATE_PUSH_LIMITS,
): PushPlanCheck {
  const perWaba = new Map<string, number>();
  for (const c of creations) perWaba.set(c.waba, (perWaba.get(c.waba) ?? 0) + 1);

  const findings: TemplateFinding[] = [];
  const wabas: WabaPushCheck[] = [];
  for (const [waba, toCreate] of perWaba) {
    const u = usage[waba] ?? { existing: 0, createdAt: [] };
    const recent = u.createdAt.filter((t) => t <= now && now < t + HOUR).sort((a, b) => a - b);
    const hourRoom = Math.max(0, limits.perHour - recent.length);
    const capRoom = Math.max(0, limits.perWaba - u.existing);
    const createNow = Math.min(toCreate, hourRoom, capRoom);
    const heldByHour = Math.min(toCreate, capRoom) > hourRoom;
    const nextSlotAt = heldByHour ? (recent[0] ?? now) + HOUR : null;

    if (u.existing + toCreate > limits.perWaba)
      findings.push({
        rule: 'TPL-7',
        severity: 'error',
        message: `WABA ${waba}: ${u.existing} templates exist and this push creates ${toCreate}; the WABA may hold at most ${limits.perWaba} (Meta error 2388019): ${capRoom} can be created`,
      });
    if (heldByHour)
      findings.push({
        rule: 'TPL-7',
        severity: 'warning',
        message: `WABA ${waba}: ${recent.length} templates were created in the last hour and this push creates ${toCreate}; Meta allows ${limits.perHour} per hour: ${createNow} now, the next from ${new Date(nextSlotAt ?? now).toISOString()}`,
      });
    wabas.push({
      waba,
      toCreate,
      existing: u.existing,
      createdLastHour: recent.length,
      createNow,
      nextSlotAt,
    });
  }
  return { wabas, findings };
}
