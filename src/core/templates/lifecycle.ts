// A template's status over time (TPL-8): which webhook events move which state, pause counting,
// and what that means for sending and editing (TPL-9). Time is always passed in.
import { ALLOW, refuse, type Decision } from '../decision.ts';
import { DAY, HOUR } from '../time.ts';
import { mapTemplateCategory, type TemplateCategory } from './definition.ts';

/**
 * TPL-8: every state Parley knows. DRAFT is local (never submitted). REINSTATED is listed because
 * Meta reports it, but the event returns a template to APPROVED.
 */
export const TEMPLATE_STATUSES = [
  'DRAFT',
  'PENDING',
  'APPROVED',
  'REJECTED',
  'PAUSED',
  'DISABLED',
  'IN_APPEAL',
  'FLAGGED',
  'REINSTATED',
  'LIMIT_EXCEEDED',
  'PENDING_DELETION',
  'DELETED',
  'ARCHIVED',
  'LOCKED',
] as const;
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

/** `message_template_status_update` event values. */
export const TEMPLATE_STATUS_EVENTS = [
  'APPROVED',
  'REJECTED',
  'PENDING',
  'PAUSED',
  'DISABLED',
  'FLAGGED',
  'REINSTATED',
  'PENDING_DELETION',
  'IN_APPEAL',
  'LOCKED',
  'ARCHIVED',
  'UNARCHIVED',
  'LIMIT_EXCEEDED',
  'DELETED',
] as const;
export type TemplateStatusEvent = (typeof TEMPLATE_STATUS_EVENTS)[number];

export const TEMPLATE_QUALITIES = ['GREEN', 'YELLOW', 'RED', 'UNKNOWN'] as const;
export type TemplateQuality = (typeof TEMPLATE_QUALITIES)[number];

/** TPL-8: the first pause lasts 3 h, the second 6 h; the third pause disables the template. */
export const PAUSE_DURATIONS = [3 * HOUR, 6 * HOUR] as const;
export const PAUSES_BEFORE_DISABLED = PAUSE_DURATIONS.length + 1;

export interface TemplateState {
  readonly status: TemplateStatus;
  readonly category: TemplateCategory | null;
  readonly quality: TemplateQuality;
  /** How many times Meta paused it (a third pause disables it). */
  readonly pauseCount: number;
  /** When the current pause ends; null when not paused. */
  readonly pausedUntil: number | null;
  /** What UNARCHIVED returns to. */
  readonly statusBeforeArchive: TemplateStatus | null;
  /** Provider time of the latest status event applied; older events arriving late are ignored. */
  readonly statusAt: number | null;
  /** Meta's rejection reason (INVALID_FORMAT, PROMOTIONAL …), if rejected. */
  readonly rejectionReason: string | null;
}

/** A new local template: DRAFT until it is submitted. */
export function draftTemplate(category: TemplateCategory | null = null): TemplateState {
  return {
    status: 'DRAFT',
    category,
    quality: 'UNKNOWN',
    pauseCount: 0,
    pausedUntil: null,
    statusBeforeArchive: null,
    statusAt: null,
    rejectionReason: null,
  };
}

/** What a provider reports about a template: by webhook, or found by the periodic sync. */
export type TemplateUpdate =
  | {
      readonly kind: 'status';
      readonly event: string;
      readonly at: number;
      readonly reason?: string;
    }
  | { readonly kind: 'category'; readonly newCategory: string; readonly at: number }
  | { readonly kind: 'quality'; readonly newQuality: string; readonly at: number };

function isStatusEvent(value: string): value is TemplateStatusEvent {
  return (TEMPLATE_STATUS_EVENTS as readonly string[]).includes(value);
}

/**
 * TPL-8: applies one provider update. Status events move the status (the provider is the source
 * of truth); PAUSED counts pauses (3 h, then 6 h, then DISABLED); a late event older than the
 * status already applied changes nothing; a repeated PAUSED during the same pause is not a new
 * pause. Category (`template_category_update`) and quality updates change only those fields.
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/template-quality
 */
export function applyTemplateUpdate(state: TemplateState, update: TemplateUpdate): TemplateState {
  if (update.kind === 'category') {
    const category = mapTemplateCategory(update.newCategory);
    return category === null ? state : { ...state, category };
  }
  if (update.kind === 'quality') {
    const quality = update.newQuality.toUpperCase();
    return (TEMPLATE_QUALITIES as readonly string[]).includes(quality)
      ? { ...state, quality: quality as TemplateQuality }
      : state;
  }
  const event = update.event.toUpperCase();
  if (!isStatusEvent(event)) return state;
  if (state.statusAt !== null && update.at < state.statusAt) return state;
  const base = { ...state, statusAt: update.at };

  switch (event) {
    case 'PAUSED': {
      const samePause =
        state.status === 'PAUSED' && state.pausedUntil !== null && update.at < state.pausedUntil;
      if (samePause) return state;
      const pauseCount = state.pauseCount + 1;
      const duration = PAUSE_DURATIONS[pauseCount - 1];
      if (duration === undefined)
        return { ...base, status: 'DISABLED', pauseCount, pausedUntil: null };
      return { ...base, status: 'PAUSED', pauseCount, pausedUntil: update.at + duration };
    }
    case 'REINSTATED':
    case 'APPROVED':
      return { ...base, status: 'APPROVED', pausedUntil: null, rejectionReason: null };
    case 'REJECTED':
      return {
        ...base,
        status: 'REJECTED',
        pausedUntil: null,
        rejectionReason: update.reason ?? null,
      };
    case 'ARCHIVED':
      return {
        ...base,
        status: 'ARCHIVED',
        statusBeforeArchive: state.status === 'ARCHIVED' ? state.statusBeforeArchive : state.status,
      };
    case 'UNARCHIVED':
      return {
        ...base,
        status: state.statusBeforeArchive ?? 'APPROVED',
        statusBeforeArchive: null,
      };
    default:
      return {
        ...base,
        status: event,
        pausedUntil: event === 'DISABLED' ? null : state.pausedUntil,
      };
  }
}

/** A pause ends by itself: once `pausedUntil` has passed the template is APPROVED again. */
export function effectiveTemplateStatus(state: TemplateState, now: number): TemplateStatus {
  if (state.status === 'PAUSED' && state.pausedUntil !== null && now >= state.pausedUntil)
    return 'APPROVED';
  return state.status;
}

/**
 * TPL-9: only APPROVED templates may be sent: paused → `template_paused` (132015), disabled →
 * `template_disabled` (132016), anything else → `template_not_approved` (132001).
 */
export function templateSendDecision(state: TemplateState, now: number): Decision {
  const status = effectiveTemplateStatus(state, now);
  if (status === 'APPROVED') return ALLOW;
  if (status === 'PAUSED')
    return refuse(
      'template_paused',
      `The template is paused for low quality until ${new Date(state.pausedUntil ?? now).toISOString()} (pause ${state.pauseCount}; a ${ordinal(PAUSES_BEFORE_DISABLED)} pause disables it) (132015).`,
    );
  if (status === 'DISABLED')
    return refuse(
      'template_disabled',
      'The template was disabled after repeated pauses for low quality (132016).',
    );
  return refuse(
    'template_not_approved',
    `The template is ${status}, not APPROVED: only approved templates can be sent (132001).`,
  );
}

function ordinal(n: number): string {
  return n === 1 ? 'first' : n === 2 ? 'second' : n === 3 ? 'third' : `${n}th`;
}

/** TPL-9: statuses in which Meta accepts an edit. */
export const EDITABLE_STATUSES = ['APPROVED', 'REJECTED', 'PAUSED'] as const;

/** TPL-9: an approved template allows 10 edits per 30 days and 1 per 24 h. */
export const TEMPLATE_EDIT_LIMITS = [
  { max: 10, window: 30 * DAY, label: '10 edits per 30 days' },
  { max: 1, window: DAY, label: '1 edit per 24 hours' },
] as const;

/** The earliest instant another edit of an approved template is allowed (≤ now when it is). */
export function nextEditAllowedAt(previousEdits: readonly number[], now: number): number {
  let next = now;
  for (const limit of TEMPLATE_EDIT_LIMITS) {
    const recent = previousEdits
      .filter((t) => t <= now && now < t + limit.window)
      .sort((a, b) => a - b);
    if (recent.length >= limit.max) {
      // Room opens when the oldest edit that keeps the count at the limit leaves the window.
      const opener = recent[recent.length - limit.max] as number;
      next = Math.max(next, opener + limit.window);
    }
  }
  return next;
}

/**
 * TPL-9: may this template be edited now? Only APPROVED, REJECTED or PAUSED templates; an
 * approved template keeps its category; approved templates allow 10 edits per 30 days and
 * 1 per 24 h (`previousEdits`: instants of earlier edits while approved).
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates#edit-a-message-template
 */
export function checkTemplateEdit(
  state: TemplateState,
  previousEdits: readonly number[],
  change: { readonly category?: string },
  now: number,
): Decision {
  const status = effectiveTemplateStatus(state, now);
  if (!(EDITABLE_STATUSES as readonly string[]).includes(status))
    return refuse(
      'invalid_request',
      `Only APPROVED, REJECTED or PAUSED templates can be edited; this one is ${status}.`,
    );
  if (status === 'REJECTED') return ALLOW;
  if (change.category !== undefined) {
    const wanted = mapTemplateCategory(change.category);
    if (wanted !== state.category)
      return refuse(
        'invalid_request',
        `An approved template's category cannot be changed (it is ${state.category ?? 'unknown'}; ${change.category} was asked): create a new template instead.`,
      );
  }
  const next = nextEditAllowedAt(previousEdits, now);
  if (next > now) {
    const hit = TEMPLATE_EDIT_LIMITS.find(
      (l) => previousEdits.filter((t) => t <= now && now < t + l.window).length >= l.max,
    );
    return refuse(
      'invalid_request',
      `Approved templates allow ${hit?.label ?? 'a limited number of edits'}; the next edit is possible from ${new Date(next).toISOString()}.`,
    );
  }
  return ALLOW;
}
