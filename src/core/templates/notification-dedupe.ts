// LIM-7: the same notification (template + parameters) to the same contact is sent once per
// window, across all channels of a workspace. The key is canonical so equal requests collide.
import type { TemplateComponentParams, TemplateParameter } from '../messages.ts';
import { MINUTE } from '../time.ts';

/** LIM-7: default suppression window for a repeated notification. */
export const DEFAULT_NOTIFICATION_DEDUPE_WINDOW = 10 * MINUTE;

const COMPONENT_ORDER: Readonly<Record<string, number>> = { header: 0, body: 1, button: 2 };

/** JSON with object keys sorted at every level, so key order in a request never matters. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function canonicalParameters(params: readonly TemplateParameter[]): TemplateParameter[] {
  // Named parameters are matched by name, so their order carries no meaning; positional order does.
  const named = params.length > 0 && params.every((p) => typeof p.parameter_name === 'string');
  return named
    ? [...params].sort((a, b) => ((a.parameter_name ?? '') < (b.parameter_name ?? '') ? -1 : 1))
    : [...params];
}

/**
 * LIM-7: a canonical key for "this template with these parameters to this contact": the
 * contact's digits (so `+44 7700 900123` and `447700900123` match), name, language, and the
 * components ordered header, body, buttons by index, with keys sorted. Channel is deliberately
 * not part of it: duplicates are suppressed across the workspace's channels.
 */
export function notificationDedupeKey(
  contact: string,
  templateName: string,
  language: string,
  parameters: readonly TemplateComponentParams[] | undefined,
): string {
  const components = (parameters ?? [])
    .map((c) => ({
      type: c.type.toLowerCase(),
      sub_type: c.sub_type?.toLowerCase(),
      index: c.index === undefined ? undefined : String(Number(c.index)),
      parameters: canonicalParameters(c.parameters ?? []),
    }))
    .filter((c) => c.parameters.length > 0)
    .sort(
      (a, b) =>
        (COMPONENT_ORDER[a.type] ?? 3) - (COMPONENT_ORDER[b.type] ?? 3) ||
        Number(a.index ?? 0) - Number(b.index ?? 0) ||
        (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
    );
  return canonicalJson(['lim7.v1', contact.replace(/\D/g, ''), templateName, language, components]);
}

/**
 * LIM-7: true when the same notification was sent less than `windowMs` ago (half-open: at
 * exactly `sentAt + windowMs` it may go again).
 */
export function isDuplicateNotification(
  lastSentAt: number | null | undefined,
  now: number,
  windowMs: number = DEFAULT_NOTIFICATION_DEDUPE_WINDOW,
): boolean {
  return lastSentAt !== null && lastSentAt !== undefined && now < lastSentAt + windowMs;
}

/** LIM-7: until when a notification sent at `sentAt` suppresses its repeats. */
export function notificationDedupeUntil(
  sentAt: number,
  windowMs: number = DEFAULT_NOTIFICATION_DEDUPE_WINDOW,
): number {
  return sentAt + windowMs;
}
