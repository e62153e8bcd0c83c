// The sandbox's template book: demo templates in Meta's own shape, and the checks WhatsApp makes
// when a template message is sent (TPL-9 status, TPL-10/11 parameters).
import type {
  TemplateBody,
  TemplateComponentParams,
  TemplateParameter,
} from '../../../core/messages.ts';

/** TPL-8: the statuses a template can have on WhatsApp's side (DRAFT is Parley-local). */
export const SANDBOX_TEMPLATE_STATUSES = [
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
export type SandboxTemplateStatus = (typeof SANDBOX_TEMPLATE_STATUSES)[number];

export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** One button of a template definition (Meta's creation shape). */
export interface TemplateButtonDef {
  readonly type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER' | 'COPY_CODE' | 'OTP';
  readonly text?: string;
  readonly url?: string;
  readonly phone_number?: string;
  readonly otp_type?: 'COPY_CODE' | 'ONE_TAP' | 'ZERO_TAP';
  readonly example?: unknown;
}

/** One component of a template definition (Meta's creation shape, upper-case types). */
export interface TemplateComponentDef {
  readonly type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS';
  readonly format?: 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION';
  readonly text?: string;
  readonly add_security_recommendation?: boolean;
  readonly code_expiration_minutes?: number;
  readonly buttons?: readonly TemplateButtonDef[];
  readonly example?: unknown;
}

/** A template as WhatsApp keeps it for a WABA (the shape `GET /{waba-id}/message_templates` lists). */
export interface SandboxTemplate {
  /** Meta template ids are numeric strings. */
  readonly id: string;
  readonly name: string;
  readonly language: string;
  readonly category: TemplateCategory;
  readonly status: SandboxTemplateStatus;
  readonly parameter_format: 'POSITIONAL' | 'NAMED';
  readonly components: readonly TemplateComponentDef[];
}

export type TemplateDefinition = Omit<SandboxTemplate, 'id' | 'status' | 'parameter_format'> & {
  readonly parameter_format?: 'POSITIONAL' | 'NAMED';
};

/** Demo templates every sandbox WABA starts with, all APPROVED. */
export const DEMO_TEMPLATES: readonly TemplateDefinition[] = [
  {
    // Meta seeds every new WABA with this one.
    name: 'hello_world',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Hello World' },
      {
        type: 'BODY',
        text: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.',
      },
      { type: 'FOOTER', text: 'WhatsApp Business Platform sample message' },
    ],
  },
  {
    name: 'order_update',
    language: 'en',
    category: 'UTILITY',
    components: [
      {
        type: 'BODY',
        text: 'Hi {{1}}, your order #{{2}} is now {{3}}. Reply here if you have any questions.',
        example: { body_text: [['Amelia', '48213', 'out for delivery']] },
      },
      { type: 'FOOTER', text: 'Parley Demo Shop' },
    ],
  },
  {
    name: 'order_update',
    language: 'de',
    category: 'UTILITY',
    components: [
      {
        type: 'BODY',
        text: 'Hallo {{1}}, Ihre Bestellung #{{2}} ist jetzt {{3}}. Antworten Sie hier, wenn Sie Fragen haben.',
        example: { body_text: [['Jonas', '48213', 'unterwegs']] },
      },
    ],
  },
  {
    name: 'order_update',
    language: 'pt_BR',
    category: 'UTILITY',
    components: [
      {
        type: 'BODY',
        text: 'Olá {{1}}, seu pedido #{{2}} está {{3}}. Responda aqui se tiver alguma dúvida.',
        example: { body_text: [['Camila', '48213', 'a caminho']] },
      },
    ],
  },
  {
    name: 'appointment_reminder',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Appointment reminder' },
      {
        type: 'BODY',
        text: 'Hi {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. Tap a button below to confirm or reschedule.',
        example: { body_text: [['Priya', 'Tuesday 3 March', '10:30']] },
      },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Confirm' },
          { type: 'QUICK_REPLY', text: 'Reschedule' },
        ],
      },
    ],
  },
  {
    name: 'delivery_update',
    language: 'en_GB',
    category: 'UTILITY',
    parameter_format: 'NAMED',
    components: [
      {
        type: 'BODY',
        text: 'Hi {{customer_name}}, parcel {{tracking_number}} will arrive on {{delivery_date}}.',
        example: {
          body_text_named_params: [
            { param_name: 'customer_name', example: 'Oliver' },
            { param_name: 'tracking_number', example: 'PX-20931' },
            { param_name: 'delivery_date', example: '14 March' },
          ],
        },
      },
    ],
  },
  {
    name: 'welcome_offer',
    language: 'en',
    category: 'MARKETING',
    components: [
      {
        type: 'BODY',
        text: 'Welcome to Parley Demo Shop, {{1}}! Enjoy {{2}} off your first order this week.',
        example: { body_text: [['Sofia', '15%']] },
      },
      { type: 'FOOTER', text: 'Reply STOP to opt out' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'URL', text: 'Shop now', url: 'https://shop.example.com/new' },
          { type: 'QUICK_REPLY', text: 'Stop promotions' },
        ],
      },
    ],
  },
  {
    name: 'spring_sale',
    language: 'es',
    category: 'MARKETING',
    components: [
      {
        type: 'HEADER',
        format: 'IMAGE',
        example: { header_handle: ['4::aW1hZ2UvanBlZw==:ARb_demo'] },
      },
      {
        type: 'BODY',
        text: '¡Hola {{1}}! Nuestra rebaja de primavera empieza hoy: hasta {{2}} de descuento.',
        example: { body_text: [['Lucía', '30%']] },
      },
    ],
  },
  {
    name: 'verification_code',
    language: 'en',
    category: 'AUTHENTICATION',
    components: [
      { type: 'BODY', add_security_recommendation: true },
      { type: 'FOOTER', code_expiration_minutes: 10 },
      { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }] },
    ],
  },
];

/** A reason WhatsApp refuses a template message, with Meta's code. */
export interface TemplateProblem {
  readonly code: number;
  readonly details: string;
}

const MEDIA_FORMATS = ['IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'] as const;

function positionalVariables(text: string): number {
  const seen = new Set<string>();
  for (const m of text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) seen.add(m[1] ?? '');
  return seen.size;
}

function namedVariables(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)) {
    const name = m[1] ?? '';
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

function paramsOf(
  sent: readonly TemplateComponentParams[],
  type: string,
  index?: number,
): readonly TemplateParameter[] {
  const c = sent.find(
    (s) =>
      s.type.toLowerCase() === type && (index === undefined || Number(s.index ?? -1) === index),
  );
  return c?.parameters ?? [];
}

function countProblem(where: string, given: number, expected: number): TemplateProblem {
  return {
    code: 132000,
    details: `${where}: number of localizable_params (${given}) does not match the expected number of params (${expected})`,
  };
}

/** TPL-11: WhatsApp refuses text parameters with newlines, tabs or more than 4 consecutive spaces. */
function badText(params: readonly TemplateParameter[]): TemplateProblem | null {
  for (const p of params) {
    if (p.type === 'text' && typeof p.text === 'string' && /[\n\t]| {5,}/.test(p.text))
      return {
        code: 132012,
        details: 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces',
      };
  }
  return null;
}

/**
 * TPL-10/TPL-11: checks a template message's parameters against the approved definition,
 * as WhatsApp does when it accepts the send. Null when they match.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function checkTemplateParameters(
  template: SandboxTemplate,
  sent: TemplateBody,
): TemplateProblem | null {
  const given = sent.components ?? [];
  for (const def of template.components) {
    if (def.type === 'HEADER') {
      const params = paramsOf(given, 'header');
      if (def.format && (MEDIA_FORMATS as readonly string[]).includes(def.format)) {
        if (params.length !== 1) return countProblem('header', params.length, 1);
        const kind = params[0]?.type ?? '';
        if (kind.toUpperCase() !== def.format)
          return {
            code: 132012,
            details: `header: Format mismatch, expected ${def.format}, received ${kind.toUpperCase() || 'UNKNOWN'}`,
          };
      } else {
        const expected =
          positionalVariables(def.text ?? '') + namedVariables(def.text ?? '').length;
        if (params.length !== expected) return countProblem('header', params.length, expected);
      }
      const problem = badText(params);
      if (problem) return problem;
    } else if (def.type === 'BODY') {
      const params = paramsOf(given, 'body');
      if (template.category === 'AUTHENTICATION') {
        // the one-time code is the body's only parameter
        if (params.length !== 1) return countProblem('body', params.length, 1);
      } else if (template.parameter_format === 'NAMED') {
        const expected = namedVariables(def.text ?? '');
        if (params.length !== expected.length)
          return countProblem('body', params.length, expected.length);
        const names = params.map((p) => p.parameter_name ?? '');
        const missing = expected.filter((n) => !names.includes(n));
        if (missing.length > 0)
          return {
            code: 132000,
            details: `body: parameter_name ${missing.map((n) => `'${n}'`).join(', ')} missing; the template expects ${expected.join(', ')}`,
          };
      } else {
        const expected = positionalVariables(def.text ?? '');
        if (params.length !== expected) return countProblem('body', params.length, expected);
      }
      for (const p of params) {
        if (!['text', 'currency', 'date_time'].includes(p.type))
          return {
            code: 132012,
            details: `body: parameter of type ${p.type} is not allowed; use text, currency or date_time`,
          };
      }
      const problem = badText(params);
      if (problem) return problem;
    } else if (def.type === 'BUTTONS') {
      for (const [index, button] of (def.buttons ?? []).entries()) {
        const needsParam =
          (button.type === 'URL' && /\{\{/.test(button.url ?? '')) ||
          button.type === 'OTP' ||
          button.type === 'COPY_CODE';
        if (!needsParam) continue;
        const params = paramsOf(given, 'button', index);
        if (params.length !== 1) return countProblem(`button[${index}]`, params.length, 1);
      }
    }
  }
  return null;
}

/** Meta's codes for a template that may not be sent (TPL-9), or null when it is APPROVED. */
export function templateStatusProblem(
  template: SandboxTemplate | undefined,
  name: string,
  language: string,
): TemplateProblem | null {
  if (!template)
    return { code: 132001, details: `template name (${name}) does not exist in ${language}` };
  switch (template.status) {
    case 'APPROVED':
      return null;
    case 'PAUSED':
      return {
        code: 132015,
        details: `Template ${name} (${language}) is paused due to low quality so it cannot be sent in a template message.`,
      };
    case 'DISABLED':
      return {
        code: 132016,
        details: `Template ${name} (${language}) has been paused too many times due to low quality and is now permanently disabled.`,
      };
    default:
      return {
        code: 132001,
        details: `template name (${name}) is not approved in ${language} (status ${template.status})`,
      };
  }
}
