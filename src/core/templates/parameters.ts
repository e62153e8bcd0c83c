// TPL-10/TPL-11: a send request's template parameters checked against the stored definition
// before anything is queued, so Meta's 132000 / 132012 / 132005 become a precise local refusal.
import { refuse, type Refusal } from '../decision.ts';
import type { TemplateBody, TemplateComponentParams, TemplateParameter } from '../messages.ts';
import {
  MEDIA_HEADER_FORMATS,
  charLength,
  componentOf,
  findVariables,
  isNamedFormat,
  mapTemplateCategory,
  variableKeys,
  type TemplateButton,
  type TemplateDefinition,
} from './definition.ts';
import { renderTemplate } from './render.ts';
import { TEMPLATE_LIMITS } from './lint.ts';

/** Parameter kinds a text variable (header or body) accepts. */
export const TEXT_PARAMETER_TYPES = ['text', 'currency', 'date_time'] as const;

/** TPL-11: no newline or tab, and no more than 4 consecutive spaces (132012). */
export const PARAMETER_TEXT_MAX_SPACES = 4;

const fail = (detail: string): Refusal => refuse('template_params', detail);

function varLabel(key: string): string {
  return `{{${key}}}`;
}

/** TPL-11: why a text shown in a parameter would be refused, or null. */
export function parameterTextProblem(value: string): string | null {
  if (/[\n\r]/.test(value)) return 'contains a newline';
  if (value.includes('\t')) return 'contains a tab';
  if (new RegExp(` {${PARAMETER_TEXT_MAX_SPACES + 1},}`).test(value))
    return `contains more than ${PARAMETER_TEXT_MAX_SPACES} consecutive spaces`;
  return null;
}

function textual(where: string, value: unknown): Refusal | null {
  if (typeof value !== 'string' || value === '')
    return fail(`${where} needs a non-empty text value (132000)`);
  const problem = parameterTextProblem(value);
  return problem === null
    ? null
    : fail(
        `${where} ${problem}; WhatsApp refuses newlines, tabs and more than ${PARAMETER_TEXT_MAX_SPACES} consecutive spaces in parameters (132012)`,
      );
}

/** A text-variable parameter: text, currency or date_time, each with its own fields. */
function checkTextParameter(where: string, p: TemplateParameter): Refusal | null {
  switch (p.type) {
    case 'text':
      return textual(`${where} text`, p.text);
    case 'currency': {
      const c = p.currency;
      if (c === undefined || typeof c !== 'object')
        return fail(`${where} is a currency without its currency object (132000)`);
      if (typeof c.code !== 'string' || !/^[A-Z]{3}$/.test(c.code))
        return fail(`${where} currency.code must be an ISO 4217 code such as "USD" (132000)`);
      if (typeof c.amount_1000 !== 'number' || !Number.isInteger(c.amount_1000))
        return fail(
          `${where} currency.amount_1000 must be a whole number (the amount × 1000) (132000)`,
        );
      return textual(`${where} currency.fallback_value`, c.fallback_value);
    }
    case 'date_time': {
      const d = p.date_time;
      if (d === undefined || typeof d !== 'object')
        return fail(`${where} is a date_time without its date_time object (132000)`);
      return textual(`${where} date_time.fallback_value`, d.fallback_value);
    }
    default:
      return fail(
        `${where} is of type "${p.type}"; a text variable takes text, currency or date_time (132000)`,
      );
  }
}

function countMismatch(
  where: string,
  expected: readonly string[],
  given: number,
  definition: TemplateDefinition,
): Refusal {
  const list = expected.length === 0 ? '' : ` (${expected.map(varLabel).join(', ')})`;
  return fail(
    `${where}: template "${definition.name}" (${definition.language}) takes ${expected.length} parameter(s)${list}; ${given} given (132000)`,
  );
}

/** Positional or named parameters for a list of variables (header text or body). */
function checkVariables(
  where: string,
  keys: readonly string[],
  params: readonly TemplateParameter[],
  named: boolean,
  definition: TemplateDefinition,
  only?: 'text',
): Refusal | null {
  if (params.length !== keys.length) return countMismatch(where, keys, params.length, definition);
  if (named) {
    const seen = new Set<string>();
    for (const [i, p] of params.entries()) {
      const name = p.parameter_name;
      if (typeof name !== 'string')
        return fail(
          `${where} parameter ${i + 1} needs a parameter_name: template "${definition.name}" uses named variables (${keys.map(varLabel).join(', ')})`,
        );
      if (!keys.includes(name))
        return fail(
          `${where} parameter_name "${name}" is not a variable of template "${definition.name}"; expected ${keys.map(varLabel).join(', ')}`,
        );
      if (seen.has(name)) return fail(`${where} parameter_name "${name}" is given twice`);
      seen.add(name);
    }
  }
  for (const [i, p] of params.entries()) {
    const label = named ? varLabel(p.parameter_name ?? '?') : varLabel(keys[i] ?? String(i + 1));
    const at = `${where} parameter ${i + 1} (${label})`;
    if (!named && p.parameter_name !== undefined)
      return fail(
        `${at} has a parameter_name, but template "${definition.name}" uses positional variables`,
      );
    if (only === 'text' && p.type !== 'text')
      return fail(`${at} must be of type text (the code); got "${p.type}" (132000)`);
    const problem = checkTextParameter(at, p);
    if (problem) return problem;
  }
  return null;
}

function checkHeader(
  definition: TemplateDefinition,
  header: TemplateComponentParams | undefined,
  named: boolean,
): Refusal | null {
  const def = componentOf(definition, 'HEADER');
  const params = header?.parameters ?? [];
  const format = (def?.format ?? 'TEXT').toUpperCase();
  if (def === undefined || (format === 'TEXT' && findVariables(def.text ?? '').length === 0))
    return params.length === 0 ? null : countMismatch('header', [], params.length, definition);
  if (format === 'TEXT')
    return checkVariables('header', variableKeys(def.text ?? ''), params, named, definition);

  const kind = format.toLowerCase();
  if (params.length !== 1)
    return fail(
      `header: template "${definition.name}" has a ${format} header, which takes exactly one ${kind} parameter; ${params.length} given (132000)`,
    );
  const p = params[0] as TemplateParameter;
  if (p.type !== kind)
    return fail(
      `header parameter must be of type ${kind} for this ${format} header; got "${p.type}" (132000)`,
    );
  if ((MEDIA_HEADER_FORMATS as readonly string[]).includes(format)) {
    const media = p[kind] as { id?: unknown; link?: unknown } | undefined;
    if (media === undefined || typeof media !== 'object')
      return fail(`header parameter of type ${kind} needs its ${kind} object with an id or a link`);
    const hasId = typeof media.id === 'string' && media.id !== '';
    const hasLink = typeof media.link === 'string' && media.link !== '';
    if (hasId === hasLink)
      return fail(`header ${kind} needs exactly one of id (an uploaded media id) or link`);
    if (hasLink && !/^https?:\/\//i.test(media.link as string))
      return fail(`header ${kind}.link must be an http(s) URL`);
    return null;
  }
  // LOCATION
  const loc = p.location;
  if (
    loc === undefined ||
    typeof loc.latitude !== 'number' ||
    typeof loc.longitude !== 'number' ||
    Math.abs(loc.latitude) > 90 ||
    Math.abs(loc.longitude) > 180
  )
    return fail(
      'header location needs numeric latitude (within ±90) and longitude (within ±180) (132000)',
    );
  return null;
}

/** What one defined button needs at send time. */
type ButtonNeed =
  | { kind: 'none' }
  | { kind: 'optional_payload' }
  | { kind: 'text'; subType: 'url'; what: string }
  | { kind: 'coupon_code' }
  | { kind: 'unchecked' };

function buttonNeed(b: TemplateButton): ButtonNeed {
  switch (b.type.toUpperCase()) {
    case 'QUICK_REPLY':
      return { kind: 'optional_payload' };
    case 'URL':
      return findVariables(b.url ?? '').length > 0
        ? { kind: 'text', subType: 'url', what: 'the URL suffix' }
        : { kind: 'none' };
    case 'OTP':
      return { kind: 'text', subType: 'url', what: 'the one-time code' };
    case 'COPY_CODE':
      return { kind: 'coupon_code' };
    case 'PHONE_NUMBER':
      return { kind: 'none' };
    default:
      return { kind: 'unchecked' };
  }
}

function checkButton(
  definition: TemplateDefinition,
  index: number,
  def: TemplateButton,
  given: TemplateComponentParams | undefined,
): Refusal | null {
  const need = buttonNeed(def);
  const name = `button ${index} (${def.type.toUpperCase()}${def.text ? ` "${def.text}"` : ''})`;
  const params = given?.parameters ?? [];
  const subType = given?.sub_type?.toLowerCase();
  switch (need.kind) {
    case 'unchecked':
      return null;
    case 'none':
      return params.length === 0
        ? null
        : fail(`${name} takes no parameters; ${params.length} given (132000)`);
    case 'optional_payload': {
      if (given === undefined) return null;
      if (subType !== 'quick_reply')
        return fail(
          `${name} is a quick reply: its sub_type must be "quick_reply", not "${subType ?? ''}"`,
        );
      if (params.length !== 1)
        return fail(`${name} takes one payload parameter; ${params.length} given (132000)`);
      const p = params[0] as TemplateParameter;
      if (p.type !== 'payload' || typeof p.payload !== 'string' || p.payload === '')
        return fail(`${name} parameter must be of type payload with a non-empty payload (132000)`);
      return null;
    }
    case 'text': {
      if (given === undefined || params.length === 0)
        return fail(
          `${name} needs one text parameter (${need.what}) in a button component with sub_type "url" and index "${index}"; none given (132000)`,
        );
      if (subType !== need.subType)
        return fail(`${name}: sub_type must be "${need.subType}", not "${subType ?? ''}"`);
      if (params.length !== 1)
        return fail(
          `${name} takes one text parameter (${need.what}); ${params.length} given (132000)`,
        );
      const p = params[0] as TemplateParameter;
      if (p.type !== 'text')
        return fail(
          `${name} parameter must be of type text (${need.what}); got "${p.type}" (132000)`,
        );
      return textual(`${name} text`, p.text);
    }
    case 'coupon_code': {
      if (given === undefined || params.length === 0)
        return fail(
          `${name} needs one coupon_code parameter in a button component with sub_type "copy_code" and index "${index}"; none given (132000)`,
        );
      if (subType !== 'copy_code')
        return fail(`${name}: sub_type must be "copy_code", not "${subType ?? ''}"`);
      if (params.length !== 1)
        return fail(`${name} takes one coupon_code parameter; ${params.length} given (132000)`);
      const p = params[0] as TemplateParameter;
      if (p.type !== 'coupon_code' || typeof p.coupon_code !== 'string' || p.coupon_code === '')
        return fail(
          `${name} parameter must be of type coupon_code with a non-empty coupon_code (132000)`,
        );
      return textual(`${name} coupon_code`, p.coupon_code);
    }
  }
}

/**
 * TPL-10/TPL-11: checks a send request's `template` object against the stored definition:
 * the same number of parameters per component (132000), the right kinds, named parameters'
 * names, parameter texts WhatsApp accepts (132012) and a rendered body within 1024 characters.
 * Returns a `template_params` refusal naming the component and parameter, or null.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function checkTemplateParameters(
  definition: TemplateDefinition,
  template: TemplateBody,
): Refusal | null {
  if (template.name !== definition.name)
    return fail(`the request names template "${template.name}", not "${definition.name}"`);
  if (template.language.code !== definition.language)
    return fail(
      `template "${definition.name}" is checked in ${definition.language}, but the request asks for ${template.language.code}`,
    );
  const named = isNamedFormat(definition);
  const auth = mapTemplateCategory(definition.category) === 'AUTHENTICATION';

  let header: TemplateComponentParams | undefined;
  let body: TemplateComponentParams | undefined;
  const buttons = new Map<number, TemplateComponentParams>();
  for (const [i, c] of (template.components ?? []).entries()) {
    const type = typeof c.type === 'string' ? c.type.toLowerCase() : '';
    if (type === 'header' || type === 'body') {
      if ((type === 'header' ? header : body) !== undefined)
        return fail(`components[${i}]: the ${type} component is given twice`);
      if (type === 'header') header = c;
      else body = c;
    } else if (type === 'button') {
      const index = Number(c.index);
      if (c.index === undefined || !Number.isInteger(index) || index < 0)
        return fail(`components[${i}]: a button component needs an index such as "0"`);
      if (buttons.has(index)) return fail(`components[${i}]: button index ${index} is given twice`);
      buttons.set(index, c);
    } else {
      return fail(`components[${i}]: type "${c.type}" is not header, body or button`);
    }
  }

  const headerProblem = checkHeader(definition, header, named);
  if (headerProblem) return headerProblem;

  const bodyDef = componentOf(definition, 'BODY');
  const bodyParams = body?.parameters ?? [];
  const bodyProblem = auth
    ? checkVariables('body', ['1'], bodyParams, false, definition, 'text')
    : checkVariables('body', variableKeys(bodyDef?.text ?? ''), bodyParams, named, definition);
  if (bodyProblem) return bodyProblem;

  const defButtons = componentOf(definition, 'BUTTONS')?.buttons ?? [];
  for (const index of buttons.keys())
    if (index >= defButtons.length)
      return fail(
        `button index ${index} does not exist: template "${definition.name}" has ${defButtons.length} button(s)`,
      );
  for (const [index, def] of defButtons.entries()) {
    const problem = checkButton(definition, index, def, buttons.get(index));
    if (problem) return problem;
  }

  const rendered = renderTemplate(definition, template).body;
  if (charLength(rendered) > TEMPLATE_LIMITS.bodyMax)
    return fail(
      `the body is ${charLength(rendered)} characters once its parameters are filled in; WhatsApp allows at most ${TEMPLATE_LIMITS.bodyMax}`,
    );
  return null;
}
