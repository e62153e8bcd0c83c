// Chatbot flows as data: a trigger that decides when a flow starts, and the steps it runs.
import type { TemplateComponentParams } from '../messages.ts';

export const TRIGGER_TYPES = [
  'payload',
  'keyword',
  'pattern',
  'ad_arrival',
  'outside_hours',
  'first_message',
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export type Trigger =
  /** The first inbound message of a contact ever, or the first of each conversation. */
  | { readonly type: 'first_message'; readonly of: 'contact' | 'conversation' }
  /**
   * A keyword, any case and accents ignored: `word` (default) when the message contains it as a
   * whole word or phrase, `exact` when the message is nothing else.
   */
  | {
      readonly type: 'keyword';
      readonly keywords: readonly string[];
      readonly match?: 'word' | 'exact';
    }
  /** A regular expression tested on the message text (`flags` default `i`). */
  | { readonly type: 'pattern'; readonly pattern: string; readonly flags?: string }
  /** A tap on a reply button, list row or template quick-reply button with one of these ids. */
  | { readonly type: 'payload'; readonly payloads: readonly string[] }
  /** Any message while the channel's business calendar says closed. */
  | { readonly type: 'outside_hours' }
  /** A message that came from a Click-to-WhatsApp ad or post (a `referral`); optionally only these ad ids. */
  | { readonly type: 'ad_arrival'; readonly sourceIds?: readonly string[] };

export interface ReplyButton {
  readonly id: string;
  readonly title: string;
}

export interface ReplyList {
  /** The label of the button that opens the list. */
  readonly button: string;
  readonly sections: ReadonlyArray<{
    readonly title?: string;
    readonly rows: ReadonlyArray<{ id: string; title: string; description?: string }>;
  }>;
}

export interface ReplyTemplate {
  readonly name: string;
  readonly language: string;
  readonly components?: readonly TemplateComponentParams[];
}

/** What the bot says: text (optionally with reply buttons or a list), or a template. */
export interface ReplyContent {
  readonly text?: string;
  readonly buttons?: readonly ReplyButton[];
  readonly list?: ReplyList;
  readonly header?: string;
  readonly footer?: string;
  readonly template?: ReplyTemplate;
}

export type Step =
  | ({ readonly type: 'reply' } & ReplyContent)
  /** Asks, waits for the answer and keeps it as a contact attribute. */
  | ({
      readonly type: 'ask';
      readonly attribute: string;
      /** The answer must match this regular expression (any case), else `retry` is sent. */
      readonly validate?: string;
      readonly retry?: string;
      /** How long the answer is awaited before the question lapses (default 24 h). */
      readonly timeoutMs?: number;
    } & Omit<ReplyContent, 'template'> & { readonly text: string })
  | {
      readonly type: 'assign';
      readonly departmentId?: string;
      readonly department?: string;
    }
  | { readonly type: 'tag'; readonly add?: readonly string[]; readonly remove?: readonly string[] }
  | {
      readonly type: 'consent';
      readonly kind: 'opt_in' | 'opt_out';
      readonly purpose: 'marketing' | 'utility' | 'authentication' | 'all';
      /** OPT-2: the words the person agreed to (an opt-in needs them). */
      readonly evidenceText?: string;
    }
  | {
      readonly type: 'http';
      readonly url: string;
      readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH';
      readonly headers?: Readonly<Record<string, string>>;
      /** JSON body (POST/PUT/PATCH); string values may use `{{…}}` placeholders. */
      readonly body?: unknown;
      readonly timeoutMs?: number;
      /** Contact attributes set from the JSON response: attribute name → dotted path. */
      readonly set?: Readonly<Record<string, string>>;
      /** What a failure (timeout, non-2xx, unreadable body) does: go on (default) or stop the flow. */
      readonly onError?: 'continue' | 'stop';
    }
  | {
      readonly type: 'handoff';
      readonly text?: string;
      readonly departmentId?: string;
      readonly department?: string;
    };

export type StepType = Step['type'];

export interface FlowDefinition {
  readonly name: string;
  readonly enabled?: boolean;
  /** Lower runs first when several flows match one message (default 100). */
  readonly priority?: number;
  /** Channels the flow listens on; absent or empty: every channel of the workspace. */
  readonly channels?: readonly string[];
  /** The flow does not start again for the same contact within this time after it last started. */
  readonly cooldownMs?: number;
  readonly trigger: Trigger;
  readonly steps: readonly Step[];
}

export const DEFAULT_PRIORITY = 100;
export const DEFAULT_ASK_TIMEOUT_MS = 24 * 3_600_000;
export const DEFAULT_HTTP_TIMEOUT_MS = 5_000;
export const MAX_HTTP_TIMEOUT_MS = 30_000;
export const MAX_PATTERN_LENGTH = 500;

/** Problems a definition has beyond its shape (regexes that do not compile, empty replies …). */
export function flowProblems(flow: FlowDefinition): string[] {
  const problems: string[] = [];
  const t = flow.trigger;
  if (t.type === 'pattern') {
    const compiled = compile(t.pattern, t.flags ?? 'i');
    if (compiled === null)
      problems.push(`trigger.pattern is not a valid regular expression: /${t.pattern}/`);
  }
  if (t.type === 'keyword' && t.keywords.every((k) => normaliseText(k) === ''))
    problems.push('trigger.keywords needs at least one keyword with letters or digits');
  if (flow.steps.length === 0) problems.push('steps must hold at least one step');
  for (const [n, step] of flow.steps.entries()) {
    const where = `steps[${n}] (${step.type})`;
    if (step.type === 'reply') {
      const kinds = [step.text !== undefined, step.template !== undefined].filter(Boolean).length;
      if (kinds !== 1) problems.push(`${where}: give exactly one of text or template`);
      if (step.template && (step.buttons || step.list || step.header || step.footer))
        problems.push(`${where}: a template reply takes no buttons, list, header or footer`);
    }
    if ((step.type === 'reply' || step.type === 'ask') && step.buttons && step.list)
      problems.push(`${where}: give buttons or a list, not both`);
    if (step.type === 'ask' && step.validate !== undefined && compile(step.validate, 'i') === null)
      problems.push(`${where}: validate is not a valid regular expression`);
    if ((step.type === 'assign' || step.type === 'handoff') && step.departmentId && step.department)
      problems.push(`${where}: name the department by departmentId or department, not both`);
    if (step.type === 'assign' && !step.departmentId && !step.department)
      problems.push(`${where}: needs departmentId or department`);
    if (step.type === 'consent' && step.kind === 'opt_in' && !step.evidenceText?.trim())
      problems.push(
        `${where}: an opt-in needs evidenceText, the words the person agreed to (OPT-2)`,
      );
    if (step.type === 'http' && !/^https?:\/\/[^\s/]+/.test(step.url))
      problems.push(`${where}: url must be an http(s) URL`);
    if (step.type === 'handoff' && n !== flow.steps.length - 1)
      problems.push(`${where}: a hand-off ends the flow, so it must be the last step`);
  }
  return problems;
}

/** Compiles a user's regular expression; null when it does not compile or is too long. */
export function compile(pattern: string, flags: string): RegExp | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return null;
  try {
    return new RegExp(pattern, flags.replace(/[gy]/g, ''));
  } catch {
    return null;
  }
}

/** Lower case, accents removed, punctuation to spaces, spaces collapsed: "¡Menú!" → "menu". */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
