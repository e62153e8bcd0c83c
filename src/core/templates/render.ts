// TPL-12: the text a user saw for a template message, rebuilt from the stored definition and the
// send request's parameters, so an inbox transcript shows it.
import type { TemplateBody, TemplateComponentParams, TemplateParameter } from '../messages.ts';
import {
  componentOf,
  findVariables,
  isNamedFormat,
  mapTemplateCategory,
  type TemplateDefinition,
} from './definition.ts';

export interface RenderedTemplate {
  readonly header?: string;
  readonly body: string;
  readonly footer?: string;
  /** Button labels, in the definition's order. */
  readonly buttons: string[];
}

/** Meta's preset English texts for AUTHENTICATION templates (TPL-3a). */
export const AUTHENTICATION_PRESET = {
  body: (code: string) => `${code} is your verification code.`,
  securityRecommendation: 'For your security, do not share this code.',
  footer: (minutes: number) => `This code expires in ${minutes} minutes.`,
  copyCodeLabel: 'Copy code',
  couponLabel: 'Copy offer code',
} as const;

/** The text a parameter shows: text as is, currency and date/time by their fallback value. */
export function parameterText(p: TemplateParameter): string | undefined {
  switch (p.type) {
    case 'text':
      return p.text;
    case 'currency':
      return p.currency?.fallback_value;
    case 'date_time':
      return p.date_time?.fallback_value;
    case 'payload':
      return p.payload;
    case 'coupon_code':
      return p.coupon_code;
    default:
      return undefined;
  }
}

/** The request's component of a type (`header`, `body`), case-insensitive. */
export function requestComponent(
  template: TemplateBody,
  type: 'header' | 'body',
): TemplateComponentParams | undefined {
  return template.components?.find((c) => c.type.toLowerCase() === type);
}

/**
 * Replaces `{{1}}` / `{{name}}` with the parameters' texts; a variable with no parameter stays
 * as written, so a transcript never hides that something was missing.
 */
export function substitute(
  text: string,
  params: readonly TemplateParameter[],
  named: boolean,
): string {
  let out = '';
  let from = 0;
  for (const v of findVariables(text)) {
    let value: string | undefined;
    out += text.slice(from, v.start);
    if (named) {
      const p = params.find((x) => x.parameter_name === v.key);
      value = p === undefined ? undefined : parameterText(p);
    } else if (v.kind === 'positional') {
      const p = params[Number(v.key) - 1];
      value = p === undefined ? undefined : parameterText(p);
    }
    out += value ?? text.slice(v.start, v.end);
    from = v.end;
  }
  return out + text.slice(from);
}

function mediaHeader(format: string, params: readonly TemplateParameter[]): string {
  const kind = format.toLowerCase();
  const p = params[0];
  if (kind === 'location') {
    const loc = p?.location;
    const label = [loc?.name, loc?.address].filter((x) => x !== undefined && x !== '').join(', ');
    return label ? `[location: ${label}]` : '[location]';
  }
  const media = p?.[kind] as { filename?: string } | undefined;
  return media?.filename ? `[${kind}: ${media.filename}]` : `[${kind}]`;
}

/**
 * TPL-12: renders a template message as the user saw it: header (media as `[image]` …), body
 * with every variable filled, footer and button labels. AUTHENTICATION templates use Meta's
 * preset English text.
 * @see https://developers.facebook.com/docs/whatsapp/business-management-api/authentication-templates
 */
export function renderTemplate(
  definition: TemplateDefinition,
  template: TemplateBody,
): RenderedTemplate {
  const named = isNamedFormat(definition);
  const headerParams = requestComponent(template, 'header')?.parameters ?? [];
  const bodyParams = requestComponent(template, 'body')?.parameters ?? [];
  const auth = mapTemplateCategory(definition.category) === 'AUTHENTICATION';

  let header: string | undefined;
  const headerDef = componentOf(definition, 'HEADER');
  if (headerDef !== undefined) {
    const format = (headerDef.format ?? 'TEXT').toUpperCase();
    header =
      format === 'TEXT'
        ? substitute(headerDef.text ?? '', headerParams, named)
        : mediaHeader(format, headerParams);
  }

  const bodyDef = componentOf(definition, 'BODY');
  let body: string;
  if (auth) {
    const code = bodyParams[0] === undefined ? undefined : parameterText(bodyParams[0]);
    body = AUTHENTICATION_PRESET.body(code ?? '{{1}}');
    if (bodyDef?.add_security_recommendation === true)
      body += ` ${AUTHENTICATION_PRESET.securityRecommendation}`;
  } else {
    body = substitute(bodyDef?.text ?? '', bodyParams, named);
  }

  const footerDef = componentOf(definition, 'FOOTER');
  let footer: string | undefined;
  if (footerDef !== undefined) {
    if (typeof footerDef.code_expiration_minutes === 'number')
      footer = AUTHENTICATION_PRESET.footer(footerDef.code_expiration_minutes);
    else if (footerDef.text !== undefined) footer = footerDef.text;
  }

  const buttons = (componentOf(definition, 'BUTTONS')?.buttons ?? []).map((b) => {
    const type = b.type.toUpperCase();
    if (b.text !== undefined && b.text !== '') return b.text;
    if (type === 'OTP') return AUTHENTICATION_PRESET.copyCodeLabel;
    if (type === 'COPY_CODE') return AUTHENTICATION_PRESET.couponLabel;
    return type.toLowerCase();
  });

  return {
    ...(header === undefined ? {} : { header }),
    body,
    ...(footer === undefined ? {} : { footer }),
    buttons,
  };
}

/** A rendered template as one transcript text: header, body, footer, then `[Button]` lines. */
export function formatRenderedTemplate(rendered: RenderedTemplate): string {
  return [
    rendered.header,
    rendered.body,
    rendered.footer,
    ...rendered.buttons.map((label) => `[${label}]`),
  ]
    .filter((line): line is string => line !== undefined && line !== '')
    .join('\n');
}

/** TPL-12: the text the user saw, ready to store with the message for its transcript. */
export function renderedText(definition: TemplateDefinition, template: TemplateBody): string {
  return formatRenderedTemplate(renderTemplate(definition, template));
}
