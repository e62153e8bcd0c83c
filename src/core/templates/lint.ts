// Local check of template definitions before they reach a provider (TPL-1..6, TPL-3a, TPL-LINT):
// every finding names its rule and exactly what is wrong; nothing throws.
import {
  HEADER_FORMATS,
  LEGACY_CATEGORY_MAP,
  MEDIA_HEADER_FORMATS,
  OTP_TYPES,
  PARAMETER_FORMATS,
  TEMPLATE_CATEGORIES,
  charLength,
  findVariables,
  isTemplateCategory,
  isTemplateLanguage,
  mapTemplateCategory,
  suggestLanguage,
  type TemplateCategory,
  type TemplateVariable,
} from './definition.ts';

export const TEMPLATE_RULE_IDS = [
  'TPL-1',
  'TPL-2',
  'TPL-3',
  'TPL-3a',
  'TPL-4',
  'TPL-5',
  'TPL-6',
  'TPL-7',
  'TPL-LINT',
] as const;
export type TemplateRuleId = (typeof TEMPLATE_RULE_IDS)[number];

export const FINDING_SEVERITIES = ['error', 'warning'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

export interface TemplateFinding {
  readonly rule: TemplateRuleId;
  /** TPL-LINT: errors fail the lint (exit 1); warnings are advice Meta may still reject on. */
  readonly severity: FindingSeverity;
  readonly message: string;
  /** Where in the definition, e.g. `components[3].buttons[1].url`. */
  readonly path?: string;
}

/** The numbers behind TPL-1..5 (Meta's template guidelines). */
export const TEMPLATE_LIMITS = {
  nameMax: 512,
  bodyMax: 1024,
  headerTextMax: 60,
  headerVariablesMax: 1,
  footerMax: 60,
  buttonsMax: 10,
  quickRepliesMax: 10,
  urlButtonsMax: 2,
  phoneButtonsMax: 1,
  copyCodeButtonsMax: 1,
  buttonLabelMax: 25,
  urlMax: 2000,
  codeExpirationMinutesMin: 1,
  codeExpirationMinutesMax: 90,
} as const;

/**
 * TPL-LINT warning threshold for Meta's 2388293 ("too many variables for its length"). Meta does
 * not publish its ratio; we warn when the body has fewer than 2 fixed words per variable plus one,
 * which flags texts like "Hi {{1}}, {{2}} at {{3}}" and none of Meta's own examples.
 */
export const MIN_FIXED_WORDS_PER_VARIABLE = 2;

type Sink = (rule: TemplateRuleId, message: string, path?: string) => void;
interface Report {
  readonly error: Sink;
  readonly warn: Sink;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

const COMPONENT_TYPES = ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'] as const;
/** Meta component types Parley passes through without checks. */
const PASS_THROUGH_COMPONENT_TYPES = ['CAROUSEL', 'LIMITED_TIME_OFFER'] as const;
type ComponentType = (typeof COMPONENT_TYPES)[number];

/** What the per-component checks need to know about the whole template. */
interface LintContext {
  readonly category: TemplateCategory | null;
  /** null when parameter_format itself is invalid (already reported). */
  readonly format: 'POSITIONAL' | 'NAMED' | null;
}

/**
 * TPL-1..6, TPL-3a: checks one template definition (a parsed file, so any value) and lists what
 * is wrong. An empty list means Parley sees nothing Meta would reject.
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components
 */
export function lintTemplate(input: unknown): TemplateFinding[] {
  const findings: TemplateFinding[] = [];
  const sink =
    (severity: FindingSeverity): Sink =>
    (rule, message, path) =>
      findings.push(
        path === undefined ? { rule, severity, message } : { rule, severity, message, path },
      );
  const report: Report = { error: sink('error'), warn: sink('warning') };

  if (!isRecord(input)) {
    report.error(
      'TPL-LINT',
      'a template file must hold one object with name, language, category and components',
    );
    return findings;
  }
  lintName(input.name, report);
  const category = lintCategory(input.category, report);
  lintLanguage(input.language, report);
  const format = lintParameterFormat(input.parameter_format, report);
  lintComponents(input.components, { category, format }, report);
  return findings;
}

/** TPL-LINT: a lint fails (exit 1) when any finding is an error. */
export function hasErrors(findings: readonly TemplateFinding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

function lintName(name: unknown, r: Report): void {
  if (typeof name !== 'string' || name === '') {
    r.error('TPL-1', 'name is required: 1 to 512 characters of a-z, 0-9 and _', 'name');
    return;
  }
  if (charLength(name) > TEMPLATE_LIMITS.nameMax)
    r.error(
      'TPL-1',
      `name is ${charLength(name)} characters; Meta allows at most ${TEMPLATE_LIMITS.nameMax}`,
      'name',
    );
  const bad = [...new Set(Array.from(name).filter((ch) => !/[a-z0-9_]/.test(ch)))];
  if (bad.length > 0) {
    const suggestion = name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '');
    r.error(
      'TPL-1',
      `name ${quote(name)} has characters outside a-z, 0-9 and _: ${bad.map((c) => quote(c)).join(', ')}` +
        (suggestion ? ` (try ${quote(suggestion)})` : ''),
      'name',
    );
  }
}

function lintCategory(category: unknown, r: Report): TemplateCategory | null {
  const allowed = TEMPLATE_CATEGORIES.join(', ');
  if (typeof category !== 'string' || category === '') {
    r.error('TPL-2', `category is required: one of ${allowed}`, 'category');
    return null;
  }
  if (isTemplateCategory(category)) return category;
  const mapped = mapTemplateCategory(category);
  if (mapped === null) {
    r.error(
      'TPL-2',
      `category ${quote(category)} is not one of ${allowed} (nor a 2019 or 2022 value Parley can map)`,
      'category',
    );
    return null;
  }
  if (LEGACY_CATEGORY_MAP[category.trim().toUpperCase()] !== undefined)
    r.warn(
      'TPL-2',
      `category ${quote(category)} is a legacy value; Parley maps it to ${mapped} on import: write ${mapped}`,
      'category',
    );
  else r.warn('TPL-2', `category ${quote(category)} should be written ${mapped}`, 'category');
  return mapped;
}

function lintLanguage(language: unknown, r: Report): void {
  if (typeof language !== 'string' || language === '') {
    r.error('TPL-6', 'language is required: a code from Meta\'s list, e.g. "en_US"', 'language');
    return;
  }
  if (isTemplateLanguage(language)) return;
  const suggestion = suggestLanguage(language);
  r.error(
    'TPL-6',
    `language ${quote(language)} is not a template language Meta supports` +
      (suggestion ? ` (did you mean ${quote(suggestion)}?)` : ''),
    'language',
  );
}

function lintParameterFormat(value: unknown, r: Report): LintContext['format'] {
  if (value === undefined) return 'POSITIONAL';
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  if (upper === 'POSITIONAL' || upper === 'NAMED') return upper;
  r.error(
    'TPL-5',
    `parameter_format ${quote(value)} is not one of ${PARAMETER_FORMATS.join(', ')}`,
    'parameter_format',
  );
  return null;
}

function lintComponents(components: unknown, ctx: LintContext, r: Report): void {
  if (!Array.isArray(components)) {
    r.error('TPL-3', 'components must be a list holding exactly one BODY', 'components');
    return;
  }
  const positions = new Map<ComponentType, number[]>();
  components.forEach((c: unknown, i) => {
    const path = `components[${i}]`;
    if (!isRecord(c) || typeof c.type !== 'string') {
      r.error('TPL-3', `${path} needs a type: HEADER, BODY, FOOTER or BUTTONS`, path);
      return;
    }
    const type = c.type.toUpperCase();
    if (!(COMPONENT_TYPES as readonly string[]).includes(type)) {
      if (!(PASS_THROUGH_COMPONENT_TYPES as readonly string[]).includes(type))
        r.warn('TPL-3', `${path}: ${quote(c.type)} is not a component type Parley knows`, path);
      return;
    }
    const list = positions.get(type as ComponentType) ?? [];
    list.push(i);
    positions.set(type as ComponentType, list);
  });

  const bodies = positions.get('BODY') ?? [];
  if (bodies.length === 0)
    r.error('TPL-3', 'a template needs exactly one BODY; none found', 'components');
  for (const type of COMPONENT_TYPES) {
    const at = positions.get(type) ?? [];
    if (at.length > 1)
      r.error(
        'TPL-3',
        `a template may have only one ${type}; found ${at.length} (${at.map((i) => `components[${i}]`).join(', ')})`,
        `components[${at[1] ?? 0}]`,
      );
  }
  if (ctx.category === 'AUTHENTICATION' && (positions.get('BUTTONS') ?? []).length === 0)
    r.error(
      'TPL-3a',
      'an AUTHENTICATION template needs a BUTTONS component with one OTP button (otp_type COPY_CODE, ONE_TAP or ZERO_TAP)',
      'components',
    );

  for (const [type, at] of positions) {
    for (const i of at) {
      const c = components[i] as Record<string, unknown>;
      const path = `components[${i}]`;
      if (type === 'HEADER') lintHeader(c, path, ctx, r);
      else if (type === 'BODY') lintBody(c, path, ctx, r);
      else if (type === 'FOOTER') lintFooter(c, path, ctx, r);
      else lintButtons(c, path, ctx, r);
    }
  }
}

function lintHeader(c: Record<string, unknown>, path: string, ctx: LintContext, r: Report): void {
  if (ctx.category === 'AUTHENTICATION') {
    r.error(
      'TPL-3a',
      'AUTHENTICATION templates have no HEADER: Meta supplies the preset text',
      path,
    );
    return;
  }
  const format = typeof c.format === 'string' ? c.format.toUpperCase() : undefined;
  if (format === undefined || !(HEADER_FORMATS as readonly string[]).includes(format)) {
    r.error(
      'TPL-3',
      `HEADER format ${format === undefined ? 'is missing' : `${quote(c.format)} is not supported`}: use one of ${HEADER_FORMATS.join(', ')}`,
      `${path}.format`,
    );
    return;
  }
  if (format === 'TEXT') {
    if (typeof c.text !== 'string' || c.text.trim() === '') {
      r.error('TPL-3', 'a TEXT HEADER needs text', `${path}.text`);
      return;
    }
    if (charLength(c.text) > TEMPLATE_LIMITS.headerTextMax)
      r.error(
        'TPL-3',
        `HEADER text is ${charLength(c.text)} characters; Meta allows at most ${TEMPLATE_LIMITS.headerTextMax}`,
        `${path}.text`,
      );
    const vars = findVariables(c.text).filter((v) => v.kind !== 'invalid');
    const distinct = [...new Set(vars.map((v) => v.raw))];
    if (distinct.length > TEMPLATE_LIMITS.headerVariablesMax)
      r.error(
        'TPL-3',
        `HEADER text may carry at most one variable; found ${distinct.map((v) => `{{${v}}}`).join(', ')}`,
        `${path}.text`,
      );
    lintVariables(c.text, 'HEADER', path, c.example, ctx, r);
    return;
  }
  if ((MEDIA_HEADER_FORMATS as readonly string[]).includes(format)) {
    const handles = isRecord(c.example) ? c.example.header_handle : undefined;
    if (!Array.isArray(handles) || handles.length === 0)
      r.warn(
        'TPL-3',
        `${format} HEADER has no example.header_handle; Meta needs a sample upload handle when the template is created`,
        `${path}.example.header_handle`,
      );
  }
}

function lintBody(c: Record<string, unknown>, path: string, ctx: LintContext, r: Report): void {
  if (ctx.category === 'AUTHENTICATION') {
    if (c.text !== undefined)
      r.error(
        'TPL-3a',
        "AUTHENTICATION templates use Meta's preset BODY: remove text (add_security_recommendation: true adds the security advice)",
        `${path}.text`,
      );
    if (
      c.add_security_recommendation !== undefined &&
      typeof c.add_security_recommendation !== 'boolean'
    )
      r.error('TPL-3a', 'BODY add_security_recommendation must be true or false', path);
    return;
  }
  if (c.add_security_recommendation !== undefined)
    r.error(
      'TPL-3a',
      'add_security_recommendation belongs to AUTHENTICATION templates only',
      `${path}.add_security_recommendation`,
    );
  if (typeof c.text !== 'string' || c.text.trim() === '') {
    r.error('TPL-3', 'BODY needs text', `${path}.text`);
    return;
  }
  const text = c.text;
  if (charLength(text) > TEMPLATE_LIMITS.bodyMax)
    r.error(
      'TPL-3',
      `BODY text is ${charLength(text)} characters; Meta allows at most ${TEMPLATE_LIMITS.bodyMax}`,
      `${path}.text`,
    );
  const vars = lintVariables(text, 'BODY', path, c.example, ctx, r);
  if (vars.length === 0) return;
  // Meta 2388299: a variable may not open or close the body.
  const first = vars[0];
  const last = vars[vars.length - 1];
  if (first !== undefined && text.slice(0, first.start).trim() === '')
    r.error(
      'TPL-5',
      `BODY may not start with a variable ({{${first.raw}}}); add text before it`,
      `${path}.text`,
    );
  if (last !== undefined && text.slice(last.end).trim() === '')
    r.error(
      'TPL-5',
      `BODY may not end with a variable ({{${last.raw}}}); add text after it`,
      `${path}.text`,
    );
  const distinct = new Set(vars.map((v) => v.raw)).size;
  const fixedWords = text
    .replace(/\{\{[^{}]*\}\}/g, ' ')
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  const needed = MIN_FIXED_WORDS_PER_VARIABLE * distinct + 1;
  if (fixedWords < needed)
    r.warn(
      'TPL-5',
      `BODY has ${distinct} variable(s) but only ${fixedWords} fixed word(s); Meta may reject it as too many variables for its length (2388293): aim for at least ${needed}`,
      `${path}.text`,
    );
}

function lintFooter(c: Record<string, unknown>, path: string, ctx: LintContext, r: Report): void {
  if (ctx.category === 'AUTHENTICATION') {
    if (c.text !== undefined)
      r.error(
        'TPL-3a',
        "AUTHENTICATION templates use Meta's preset FOOTER: replace text with code_expiration_minutes (1 to 90)",
        `${path}.text`,
      );
    const minutes = c.code_expiration_minutes;
    if (minutes === undefined) {
      if (c.text === undefined)
        r.error(
          'TPL-3a',
          'an AUTHENTICATION FOOTER carries code_expiration_minutes (1 to 90)',
          path,
        );
    } else if (
      typeof minutes !== 'number' ||
      !Number.isInteger(minutes) ||
      minutes < TEMPLATE_LIMITS.codeExpirationMinutesMin ||
      minutes > TEMPLATE_LIMITS.codeExpirationMinutesMax
    )
      r.error(
        'TPL-3a',
        `FOOTER code_expiration_minutes is ${quote(minutes)}; it must be a whole number from 1 to 90`,
        `${path}.code_expiration_minutes`,
      );
    return;
  }
  if (c.code_expiration_minutes !== undefined)
    r.error(
      'TPL-3a',
      'code_expiration_minutes belongs to AUTHENTICATION templates only',
      `${path}.code_expiration_minutes`,
    );
  if (typeof c.text !== 'string' || c.text.trim() === '') {
    r.error('TPL-3', 'FOOTER needs text', `${path}.text`);
    return;
  }
  if (charLength(c.text) > TEMPLATE_LIMITS.footerMax)
    r.error(
      'TPL-3',
      `FOOTER text is ${charLength(c.text)} characters; Meta allows at most ${TEMPLATE_LIMITS.footerMax}`,
      `${path}.text`,
    );
  const vars = findVariables(c.text);
  if (vars.length > 0)
    r.error(
      'TPL-3',
      `FOOTER may not carry variables; found ${vars.map((v) => `{{${v.raw}}}`).join(', ')}`,
      `${path}.text`,
    );
}

const KNOWN_BUTTON_TYPES = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER', 'COPY_CODE', 'OTP'] as const;
/** Meta button types Parley passes through without checks of their own (they still count in TPL-4). */
const PASS_THROUGH_BUTTON_TYPES = ['FLOW', 'MPM', 'SPM', 'CATALOG', 'VOICE_CALL'] as const;
const ALL_BUTTON_TYPES: readonly string[] = [...KNOWN_BUTTON_TYPES, ...PASS_THROUGH_BUTTON_TYPES];
/** Buttons whose label the user sees and the business writes. */
const LABELLED_BUTTON_TYPES = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER'];

function describeButton(b: Record<string, unknown>, j: number): string {
  const type = typeof b.type === 'string' ? b.type.toUpperCase() : '?';
  return `buttons[${j}] (${type}${typeof b.text === 'string' ? ` ${quote(b.text)}` : ''})`;
}

function lintButtons(c: Record<string, unknown>, path: string, ctx: LintContext, r: Report): void {
  const buttons = c.buttons;
  if (!Array.isArray(buttons) || buttons.length === 0) {
    r.error('TPL-4', 'BUTTONS needs a non-empty buttons list', `${path}.buttons`);
    return;
  }
  if (buttons.length > TEMPLATE_LIMITS.buttonsMax)
    r.error(
      'TPL-4',
      `BUTTONS has ${buttons.length} buttons; Meta allows at most ${TEMPLATE_LIMITS.buttonsMax} in all`,
      `${path}.buttons`,
    );
  const counts = new Map<string, number>();
  const types: string[] = [];
  buttons.forEach((b: unknown, j) => {
    const bpath = `${path}.buttons[${j}]`;
    if (!isRecord(b) || typeof b.type !== 'string') {
      r.error('TPL-4', `buttons[${j}] needs a type (QUICK_REPLY, URL, PHONE_NUMBER …)`, bpath);
      types.push('?');
      return;
    }
    const type = b.type.toUpperCase();
    types.push(type);
    counts.set(type, (counts.get(type) ?? 0) + 1);
    lintButton(b, j, type, bpath, ctx, r);
  });

  const limits: ReadonlyArray<readonly [string, number]> = [
    ['QUICK_REPLY', TEMPLATE_LIMITS.quickRepliesMax],
    ['URL', TEMPLATE_LIMITS.urlButtonsMax],
    ['PHONE_NUMBER', TEMPLATE_LIMITS.phoneButtonsMax],
    ['COPY_CODE', TEMPLATE_LIMITS.copyCodeButtonsMax],
  ];
  for (const [type, max] of limits) {
    const n = counts.get(type) ?? 0;
    if (n > max)
      r.error(
        'TPL-4',
        `BUTTONS has ${n} ${type} buttons; Meta allows at most ${max}`,
        `${path}.buttons`,
      );
  }

  // Quick replies must form one group, apart from the other buttons.
  const firstQr = types.indexOf('QUICK_REPLY');
  if (firstQr >= 0) {
    const stray = types.findIndex(
      (t, j) =>
        t === 'QUICK_REPLY' &&
        j > firstQr &&
        types.slice(firstQr, j).some((x) => x !== 'QUICK_REPLY'),
    );
    if (stray >= 0) {
      const between = types.slice(firstQr, stray).findIndex((x) => x !== 'QUICK_REPLY') + firstQr;
      r.error(
        'TPL-4',
        `quick-reply buttons must be grouped together: buttons[${stray}] is a QUICK_REPLY separated from buttons[${firstQr}] by buttons[${between}] (${types[between] ?? '?'})`,
        `${path}.buttons[${stray}]`,
      );
    }
  }

  if (ctx.category === 'AUTHENTICATION') {
    const otp = types.filter((t) => t === 'OTP').length;
    if (buttons.length !== 1 || otp !== 1)
      r.error(
        'TPL-3a',
        `an AUTHENTICATION template holds exactly one OTP button; found ${buttons.length} button(s), ${otp} of them OTP`,
        `${path}.buttons`,
      );
  }
}

function lintButton(
  b: Record<string, unknown>,
  j: number,
  type: string,
  bpath: string,
  ctx: LintContext,
  r: Report,
): void {
  const name = describeButton(b, j);
  if (!ALL_BUTTON_TYPES.includes(type))
    r.warn('TPL-4', `${name}: ${quote(b.type)} is not a button type Parley knows`, bpath);
  if (LABELLED_BUTTON_TYPES.includes(type) && (typeof b.text !== 'string' || b.text.trim() === ''))
    r.error('TPL-4', `${name} needs a label (text)`, `${bpath}.text`);
  if (typeof b.text === 'string' && charLength(b.text) > TEMPLATE_LIMITS.buttonLabelMax)
    r.error(
      'TPL-4',
      `${name}: label is ${charLength(b.text)} characters; Meta allows at most ${TEMPLATE_LIMITS.buttonLabelMax}`,
      `${bpath}.text`,
    );

  switch (type) {
    case 'URL':
      lintUrlButton(b, name, bpath, ctx, r);
      break;
    case 'PHONE_NUMBER':
      if (typeof b.phone_number === 'number')
        r.error(
          'TPL-4',
          `${name}: phone_number must be text, e.g. "+15550100" (in YAML, quote it)`,
          `${bpath}.phone_number`,
        );
      else if (typeof b.phone_number !== 'string' || b.phone_number.trim() === '')
        r.error('TPL-4', `${name} needs a phone_number`, `${bpath}.phone_number`);
      break;
    case 'COPY_CODE':
      if (ctx.category !== null && ctx.category !== 'MARKETING')
        r.error(
          'TPL-4',
          `${name}: COPY_CODE buttons are allowed only in MARKETING templates (this one is ${ctx.category})`,
          bpath,
        );
      if (!hasExample(b.example))
        r.error('TPL-5', `${name} needs an example coupon code (example)`, `${bpath}.example`);
      break;
    case 'OTP':
      if (ctx.category !== null && ctx.category !== 'AUTHENTICATION') {
        r.error(
          'TPL-4',
          `${name}: OTP buttons are allowed only in AUTHENTICATION templates (this one is ${ctx.category})`,
          bpath,
        );
        break;
      }
      if (
        typeof b.otp_type !== 'string' ||
        !(OTP_TYPES as readonly string[]).includes(b.otp_type)
      ) {
        r.error(
          'TPL-3a',
          `${name}: otp_type ${b.otp_type === undefined ? 'is missing' : `${quote(b.otp_type)} is not supported`}; use one of ${OTP_TYPES.join(', ')}`,
          `${bpath}.otp_type`,
        );
        break;
      }
      if (
        b.otp_type !== 'COPY_CODE' &&
        !Array.isArray(b.supported_apps) &&
        (typeof b.package_name !== 'string' || typeof b.signature_hash !== 'string')
      )
        r.warn(
          'TPL-3a',
          `${name}: ${b.otp_type} needs the Android app (package_name and signature_hash, or supported_apps); Meta rejects it without`,
          bpath,
        );
      break;
    default:
      break;
  }
}

/** An example value: non-empty text, or a number (YAML reads an unquoted `800` as one). */
function isExampleValue(value: unknown): boolean {
  return (
    (typeof value === 'string' && value.trim() !== '') ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function hasExample(example: unknown): boolean {
  if (!Array.isArray(example)) return isExampleValue(example);
  return example.length > 0 && example.every(isExampleValue);
}

function lintUrlButton(
  b: Record<string, unknown>,
  name: string,
  bpath: string,
  ctx: LintContext,
  r: Report,
): void {
  if (typeof b.url !== 'string' || b.url.trim() === '') {
    r.error('TPL-4', `${name} needs a url`, `${bpath}.url`);
    return;
  }
  const url = b.url;
  if (charLength(url) > TEMPLATE_LIMITS.urlMax)
    r.error(
      'TPL-4',
      `${name}: url is ${charLength(url)} characters; Meta allows at most ${TEMPLATE_LIMITS.urlMax}`,
      `${bpath}.url`,
    );
  if (!/^https?:\/\//i.test(url))
    r.error('TPL-4', `${name}: url must start with https:// or http://`, `${bpath}.url`);
  const vars = findVariables(url);
  if (vars.length === 0) return;
  if (vars.length > 1)
    r.error(
      'TPL-4',
      `${name}: a URL may carry at most one variable; found ${vars.map((v) => `{{${v.raw}}}`).join(', ')}`,
      `${bpath}.url`,
    );
  const last = vars[vars.length - 1];
  if (vars.length > 1 || (last !== undefined && last.end !== url.trimEnd().length))
    r.error(
      'TPL-4',
      `${name}: the URL variable may only come at the end of the url`,
      `${bpath}.url`,
    );
  for (const v of vars) {
    const ok = v.raw === '1' || (v.kind === 'named' && ctx.format === 'NAMED');
    if (!ok)
      r.error('TPL-5', `${name}: URL variable {{${v.raw}}} must be written {{1}}`, `${bpath}.url`);
  }
  if (!hasExample(b.example))
    r.error(
      'TPL-5',
      `${name}: the URL variable {{${last?.raw ?? '1'}}} needs an example value (example: ["…"])`,
      `${bpath}.example`,
    );
}

/**
 * TPL-5 for one component's text: variable syntax, the template's parameter format, numbering
 * without gaps, touching variables, and an example value for every variable. Returns the valid
 * variables found.
 */
function lintVariables(
  text: string,
  where: 'HEADER' | 'BODY',
  path: string,
  example: unknown,
  ctx: LintContext,
  r: Report,
): TemplateVariable[] {
  const all = findVariables(text);
  for (const v of all.filter((x) => x.kind === 'invalid'))
    r.error(
      'TPL-5',
      `${where} {{${v.raw}}} is not a valid variable: use {{1}}, {{2}} … or, with parameter_format NAMED, lower_snake names of at most 20 characters of a-z and _`,
      `${path}.text`,
    );
  const vars = all.filter((v) => v.kind !== 'invalid');
  if (vars.length === 0) return vars;

  if (ctx.format !== null) {
    const wrongKind = vars.filter((v) =>
      ctx.format === 'NAMED' ? v.kind === 'positional' : v.kind === 'named',
    );
    for (const v of dedupe(wrongKind))
      r.error(
        'TPL-5',
        ctx.format === 'NAMED'
          ? `${where} uses positional variable {{${v.raw}}} but parameter_format is NAMED: use a lower_snake name`
          : `${where} uses named variable {{${v.raw}}} but parameter_format is POSITIONAL (the default): set parameter_format: NAMED or use {{1}}, {{2}} …`,
        `${path}.text`,
      );
  }

  const positional = dedupe(vars.filter((v) => v.kind === 'positional'));
  if (positional.length > 0 && ctx.format !== 'NAMED') {
    const numbers = positional.map((v) => Number(v.key)).sort((a, b) => a - b);
    const max = numbers[numbers.length - 1] ?? 0;
    const missing: number[] = [];
    for (let n = 1; n <= max; n++) if (!numbers.includes(n)) missing.push(n);
    if (numbers.includes(0))
      r.error('TPL-5', `${where} variables are numbered from {{1}}; found {{0}}`, `${path}.text`);
    if (missing.length > 0)
      r.error(
        'TPL-5',
        `${where} variables must be numbered {{1}} to {{${max}}} without gaps; missing ${missing.map((n) => `{{${n}}}`).join(', ')}`,
        `${path}.text`,
      );
  }

  for (const v of vars) {
    const after = text.slice(v.end);
    const touching = /^\s*\{\{/.exec(after);
    if (touching) {
      const next = findVariables(after)[0];
      r.error(
        'TPL-5',
        `${where} variables {{${v.raw}}} and {{${next?.raw ?? '?'}}} touch: put words or punctuation between them`,
        `${path}.text`,
      );
    }
  }

  lintExamples(vars, where, path, example, ctx, r);
  return vars;
}

function dedupe(vars: readonly TemplateVariable[]): TemplateVariable[] {
  const seen = new Set<string>();
  return vars.filter((v) => (seen.has(v.raw) ? false : (seen.add(v.raw), true)));
}

function lintExamples(
  vars: readonly TemplateVariable[],
  where: 'HEADER' | 'BODY',
  path: string,
  example: unknown,
  ctx: LintContext,
  r: Report,
): void {
  const ex = isRecord(example) ? example : {};
  const named = ctx.format === 'NAMED';
  const keys = dedupe(vars.filter((v) => v.kind === (named ? 'named' : 'positional')));
  if (keys.length === 0) return;

  if (named) {
    const field = where === 'HEADER' ? 'header_text_named_params' : 'body_text_named_params';
    const list = Array.isArray(ex[field]) ? (ex[field] as unknown[]) : [];
    const given = new Map<string, unknown>();
    for (const item of list)
      if (isRecord(item) && typeof item.param_name === 'string')
        given.set(item.param_name, item.example);
    for (const v of keys) {
      if (!isExampleValue(given.get(v.key)))
        r.error(
          'TPL-5',
          `${where} variable {{${v.key}}} needs an example value in example.${field}`,
          `${path}.example.${field}`,
        );
    }
    const unknown = [...given.keys()].filter((k) => !keys.some((v) => v.key === k));
    if (unknown.length > 0)
      r.warn(
        'TPL-5',
        `example.${field} names ${unknown.map((k) => quote(k)).join(', ')}, which ${where} does not use`,
        `${path}.example.${field}`,
      );
    return;
  }

  const field = where === 'HEADER' ? 'header_text' : 'body_text';
  const raw = ex[field];
  // header_text is one list of values; body_text is a list holding one list of values.
  const row: unknown = where === 'HEADER' ? raw : Array.isArray(raw) ? raw[0] : undefined;
  const values = Array.isArray(row) ? row : [];
  const sorted = [...keys].sort((a, b) => Number(a.key) - Number(b.key));
  for (const v of sorted) {
    if (!isExampleValue(values[Number(v.key) - 1]))
      r.error(
        'TPL-5',
        `${where} variable {{${v.key}}} needs an example value (example.${field}${where === 'BODY' ? '[0]' : ''}[${Number(v.key) - 1}])`,
        `${path}.example.${field}`,
      );
  }
  const highest = Number(sorted[sorted.length - 1]?.key ?? 0);
  if (values.length > highest)
    r.warn(
      'TPL-5',
      `example.${field} has ${values.length} values for ${highest} ${where} variable(s)`,
      `${path}.example.${field}`,
    );
}

/** One template file (or stored definition) in a set checked together. */
export interface LintItem {
  /** Where it came from, e.g. a file path; echoed in the result. */
  readonly source: string;
  readonly value: unknown;
}

export interface LintResult {
  readonly source: string;
  readonly findings: TemplateFinding[];
}

/**
 * Lints several definitions at once: each on its own, plus TPL-6 across them: a (name, language)
 * pair may be defined only once (one name may exist in many languages).
 */
export function lintTemplateSet(items: readonly LintItem[]): LintResult[] {
  const firstSeen = new Map<string, string>();
  return items.map(({ source, value }) => {
    const findings = lintTemplate(value);
    if (isRecord(value) && typeof value.name === 'string' && typeof value.language === 'string') {
      const key = `${value.name}\u0000${value.language}`;
      const earlier = firstSeen.get(key);
      if (earlier === undefined) firstSeen.set(key, source);
      else
        findings.push({
          rule: 'TPL-6',
          severity: 'error',
          message: `template ${quote(value.name)} in language ${value.language} is already defined in ${earlier}`,
          path: 'name',
        });
    }
    return { source, findings };
  });
}
