// A template definition in Meta's template-creation shape, its categories (with the 2019 and 2022
// legacy values, TPL-2), supported languages (TPL-6) and the variables it carries (TPL-5).

export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export const PARAMETER_FORMATS = ['POSITIONAL', 'NAMED'] as const;
export type ParameterFormat = (typeof PARAMETER_FORMATS)[number];

export const HEADER_FORMATS = ['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'] as const;
export type HeaderFormat = (typeof HEADER_FORMATS)[number];
export const MEDIA_HEADER_FORMATS = ['IMAGE', 'VIDEO', 'DOCUMENT'] as const;

export const OTP_TYPES = ['COPY_CODE', 'ONE_TAP', 'ZERO_TAP'] as const;
export type OtpType = (typeof OTP_TYPES)[number];

export interface NamedExample {
  param_name: string;
  example: string;
}

export interface ComponentExample {
  header_text?: string[];
  header_text_named_params?: NamedExample[];
  header_handle?: string[];
  body_text?: string[][];
  body_text_named_params?: NamedExample[];
  [k: string]: unknown;
}

export interface TemplateButton {
  /** QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, or another type Meta offers (FLOW, MPM …). */
  type: string;
  text?: string;
  url?: string;
  phone_number?: string;
  /** URL buttons: example values for the URL variable; COPY_CODE: an example coupon code. */
  example?: string[] | string;
  otp_type?: string;
  [k: string]: unknown;
}

export interface TemplateComponent {
  /** HEADER, BODY, FOOTER or BUTTONS (Meta also accepts lower case). */
  type: string;
  format?: string;
  text?: string;
  example?: ComponentExample;
  /** TPL-3a: authentication BODY. */
  add_security_recommendation?: boolean;
  /** TPL-3a: authentication FOOTER. */
  code_expiration_minutes?: number;
  buttons?: TemplateButton[];
  [k: string]: unknown;
}

/** One template, exactly as `POST /{waba-id}/message_templates` takes it (and GET returns it). */
export interface TemplateDefinition {
  name: string;
  language: string;
  category: string;
  parameter_format?: string;
  components: TemplateComponent[];
  [k: string]: unknown;
}

/**
 * TPL-2: the 2019 notification types (Meta SDK enum @4382861c and @571e2021, AUTO_REPLY added
 * 2019-10) all became UTILITY.
 */
export const LEGACY_CATEGORIES_2019 = [
  'ACCOUNT_UPDATE',
  'ALERT_UPDATE',
  'APPOINTMENT_UPDATE',
  'AUTO_REPLY',
  'ISSUE_RESOLUTION',
  'PAYMENT_UPDATE',
  'PERSONAL_FINANCE_UPDATE',
  'RESERVATION_UPDATE',
  'SHIPPING_UPDATE',
  'TICKET_UPDATE',
  'TRANSPORTATION_UPDATE',
] as const;

/** TPL-2: the 2022 values (Meta SDK enum @ef51980b), valid until v15.0. */
export const LEGACY_CATEGORIES_2022 = {
  TRANSACTIONAL: 'UTILITY',
  OTP: 'AUTHENTICATION',
  MARKETING: 'MARKETING',
} as const satisfies Record<string, TemplateCategory>;

/** Every legacy value and the category it maps to on import. */
export const LEGACY_CATEGORY_MAP: Readonly<Record<string, TemplateCategory>> = {
  ...Object.fromEntries(LEGACY_CATEGORIES_2019.map((c) => [c, 'UTILITY' as const])),
  ...LEGACY_CATEGORIES_2022,
};

export function isTemplateCategory(value: unknown): value is TemplateCategory {
  return typeof value === 'string' && (TEMPLATE_CATEGORIES as readonly string[]).includes(value);
}

/**
 * TPL-2: the current category for a stored or imported value: current values as they are,
 * 2019 and 2022 legacy values mapped, anything else null. Case-insensitive, since old exports
 * are not consistent about case.
 * @see https://developers.facebook.com/docs/whatsapp/updates-to-pricing/new-template-guidelines
 */
export function mapTemplateCategory(value: string): TemplateCategory | null {
  const upper = value.trim().toUpperCase();
  if (isTemplateCategory(upper)) return upper;
  return LEGACY_CATEGORY_MAP[upper] ?? null;
}

/**
 * TPL-6: language codes Meta accepts for templates (its "Supported Languages" page, May 2026).
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/supported-languages
 */
// prettier-ignore
export const TEMPLATE_LANGUAGES = [
  'af', 'sq', 'ar', 'ar_EG', 'ar_AE', 'ar_LB', 'ar_MA', 'ar_QA', 'az', 'be_BY', 'bn', 'bn_IN',
  'bg', 'ca', 'zh_CN', 'zh_HK', 'zh_TW', 'hr', 'cs', 'da', 'prs_AF', 'nl', 'nl_BE', 'en',
  'en_GB', 'en_US', 'en_AE', 'en_AU', 'en_CA', 'en_GH', 'en_IE', 'en_IN', 'en_JM', 'en_MY',
  'en_NZ', 'en_QA', 'en_SG', 'en_UG', 'en_ZA', 'et', 'fil', 'fi', 'fr', 'fr_BE', 'fr_CA',
  'fr_CH', 'fr_CI', 'fr_MA', 'ka', 'de', 'de_AT', 'de_CH', 'el', 'gu', 'ha', 'he', 'hi', 'hu',
  'id', 'ga', 'it', 'ja', 'kn', 'kk', 'rw_RW', 'ko', 'ky_KG', 'lo', 'lv', 'lt', 'mk', 'ms',
  'ml', 'mr', 'nb', 'ps_AF', 'fa', 'pl', 'pt_BR', 'pt_PT', 'pa', 'ro', 'ru', 'sr', 'si_LK',
  'sk', 'sl', 'es', 'es_AR', 'es_CL', 'es_CO', 'es_CR', 'es_DO', 'es_EC', 'es_HN', 'es_MX',
  'es_PA', 'es_PE', 'es_ES', 'es_UY', 'sw', 'sv', 'ta', 'te', 'th', 'tr', 'uk', 'ur', 'uz',
  'vi', 'zu',
] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];

const LANGUAGE_SET: ReadonlySet<string> = new Set(TEMPLATE_LANGUAGES);

export function isTemplateLanguage(code: string): code is TemplateLanguage {
  return LANGUAGE_SET.has(code);
}

/** A likely intended code for a near miss (`en-US` → `en_US`, `EN_us` → `en_US`), or null. */
export function suggestLanguage(code: string): TemplateLanguage | null {
  const [lang = '', region] = code.trim().replace('-', '_').split('_');
  const candidate =
    region === undefined ? lang.toLowerCase() : `${lang.toLowerCase()}_${region.toUpperCase()}`;
  return isTemplateLanguage(candidate) && candidate !== code ? candidate : null;
}

/** One `{{…}}` occurrence in a component's text. */
export interface TemplateVariable {
  /** What is between the braces, as written. */
  readonly raw: string;
  readonly kind: 'positional' | 'named' | 'invalid';
  /** Positional: the number; named: the name. */
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

const VARIABLE_RE = /\{\{([^{}]*)\}\}/g;
/** TPL-5: named variables are lower snake case, at most 20 characters of a-z and _. */
export const NAMED_VARIABLE_RE = /^[a-z_]{1,20}$/;

/** TPL-5: the variables in a text, in order of appearance (repeats included). */
export function findVariables(text: string): TemplateVariable[] {
  return [...text.matchAll(VARIABLE_RE)].map((m) => {
    const raw = m[1] ?? '';
    const start = m.index;
    const end = start + m[0].length;
    if (/^[0-9]+$/.test(raw))
      return { raw, kind: 'positional', key: String(Number(raw)), start, end };
    if (NAMED_VARIABLE_RE.test(raw)) return { raw, kind: 'named', key: raw, start, end };
    return { raw, kind: 'invalid', key: raw, start, end };
  });
}

/** The distinct variable keys of a text, positional ones in numeric order, named in first-use order. */
export function variableKeys(text: string): string[] {
  const vars = findVariables(text).filter((v) => v.kind !== 'invalid');
  const keys = [...new Set(vars.map((v) => v.key))];
  return vars.every((v) => v.kind === 'positional')
    ? keys.sort((a, b) => Number(a) - Number(b))
    : keys;
}

/** Characters as Parley counts them for WhatsApp's limits: code points, as in messages.ts. */
export function charLength(text: string): number {
  return Array.from(text).length;
}

/** Finds the one component of a type (case-insensitive), if any. */
export function componentOf(
  definition: Pick<TemplateDefinition, 'components'>,
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS',
): TemplateComponent | undefined {
  return definition.components.find((c) => c.type.toUpperCase() === type);
}

export function isNamedFormat(definition: Pick<TemplateDefinition, 'parameter_format'>): boolean {
  return definition.parameter_format?.toUpperCase() === 'NAMED';
}
