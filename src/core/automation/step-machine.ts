// The step machine of one flow run: where it is, what an outcome does to it, how an answer is
// read, and what a bot reply becomes as an outbound message. Side effects stay in the app.
import type { OutboundContent } from '../messages.ts';
import { compile, type ReplyContent, type Step } from './flow.ts';

export const RUN_STATUSES = [
  'running',
  'waiting',
  'completed',
  'handed_off',
  'stopped',
  'failed',
  'lapsed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run still holds the conversation while running or waiting for an answer. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['running', 'waiting'];

export interface RunCursor {
  /** Index of the step to run next (or being waited on). */
  readonly step: number;
  readonly status: RunStatus;
  /** While waiting: when the question lapses. */
  readonly waitingUntil: number | null;
  /** Why a run stopped or failed, in plain words. */
  readonly reason: string | null;
}

/** What executing one step led to. */
export type StepOutcome =
  | { readonly kind: 'next' }
  | { readonly kind: 'wait'; readonly until: number }
  | { readonly kind: 'handoff' }
  | { readonly kind: 'fail'; readonly reason: string };

export const START: RunCursor = { step: 0, status: 'running', waitingUntil: null, reason: null };

export function isActive(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** The cursor after the current step ended with `outcome`. */
export function advance(
  steps: readonly Step[],
  cursor: RunCursor,
  outcome: StepOutcome,
): RunCursor {
  switch (outcome.kind) {
    case 'next':
      return cursor.step + 1 >= steps.length
        ? { step: cursor.step + 1, status: 'completed', waitingUntil: null, reason: null }
        : { step: cursor.step + 1, status: 'running', waitingUntil: null, reason: null };
    case 'wait':
      return { step: cursor.step, status: 'waiting', waitingUntil: outcome.until, reason: null };
    case 'handoff':
      return { step: cursor.step + 1, status: 'handed_off', waitingUntil: null, reason: null };
    case 'fail':
      return { step: cursor.step, status: 'failed', waitingUntil: null, reason: outcome.reason };
  }
}

/** A waiting run whose question has lapsed no longer takes the customer's next message. */
export function hasLapsed(cursor: RunCursor, now: number): boolean {
  return cursor.status === 'waiting' && cursor.waitingUntil !== null && now >= cursor.waitingUntil;
}

/** The customer's answer to an `ask` step: a tapped option's id, else the text. */
export type Answer =
  { readonly accepted: true; readonly value: string } | { readonly accepted: false };

export function readAnswer(
  step: Extract<Step, { type: 'ask' }>,
  reply: { readonly text: string | null; readonly payload: string | null },
): Answer {
  const value = (reply.payload ?? reply.text ?? '').trim();
  if (value === '') return { accepted: false };
  if (step.validate !== undefined && !(compile(step.validate, 'i')?.test(value) ?? false))
    return { accepted: false };
  return { accepted: true, value };
}

/** What `{{…}}` placeholders may name. */
export interface PlaceholderValues {
  readonly contact: { readonly name: string | null; readonly phone: string };
  readonly attributes: Readonly<Record<string, unknown>>;
}

/**
 * Fills `{{contact.name}}`, `{{contact.phone}}` and `{{attributes.KEY}}`; an unknown or empty
 * value becomes an empty string, never the placeholder itself.
 */
export function fill(text: string, values: PlaceholderValues): string {
  return text.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, path: string) => {
    const [head, ...rest] = path.split('.');
    const key = rest.join('.');
    let value: unknown;
    if (head === 'contact')
      value = key === 'phone' ? `+${values.contact.phone}` : values.contact.name;
    else if (head === 'attributes') value = values.attributes[key];
    if (value === null || value === undefined) return '';
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value) ?? '';
  });
}

/** Fills placeholders in every string of a JSON value (a request body). */
export function fillDeep(value: unknown, values: PlaceholderValues): unknown {
  if (typeof value === 'string') return fill(value, values);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, values));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fillDeep(v, values)]),
    );
  return value;
}

/** The value at a dotted path (`order.items.0.status`) of a JSON document, or undefined. */
export function pick(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * A bot reply as the Cloud API message it is sent as: text, interactive reply buttons or list
 * (interactive needs a body, which is the text), or a template.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages
 */
export function replyMessage(reply: ReplyContent, values: PlaceholderValues): OutboundContent {
  if (reply.template)
    return {
      type: 'template',
      template: {
        name: reply.template.name,
        language: { code: reply.template.language },
        ...(reply.template.components
          ? {
              components: reply.template.components.map((c) => ({
                ...c,
                ...(c.parameters
                  ? {
                      parameters: c.parameters.map((p) =>
                        typeof p.text === 'string' ? { ...p, text: fill(p.text, values) } : p,
                      ),
                    }
                  : {}),
              })),
            }
          : {}),
      },
    };
  const text = fill(reply.text ?? '', values);
  if (!reply.buttons && !reply.list) return { type: 'text', text: { body: text } };
  const decoration = {
    ...(reply.header ? { header: { type: 'text', text: fill(reply.header, values) } } : {}),
    body: { text },
    ...(reply.footer ? { footer: { text: fill(reply.footer, values) } } : {}),
  };
  if (reply.buttons)
    return {
      type: 'interactive',
      interactive: {
        type: 'button',
        ...decoration,
        action: {
          buttons: reply.buttons.map((b) => ({
            type: 'reply',
            reply: { id: b.id, title: fill(b.title, values) },
          })),
        },
      },
    };
  const list = reply.list;
  return {
    type: 'interactive',
    interactive: {
      type: 'list',
      ...decoration,
      action: {
        button: list?.button ?? '',
        sections: (list?.sections ?? []).map((s) => ({
          ...(s.title ? { title: s.title } : {}),
          rows: s.rows.map((r) => ({ ...r })),
        })),
      },
    },
  };
}
