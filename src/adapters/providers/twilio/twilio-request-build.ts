// Parley's outbound content as the form fields of Twilio's Messages API (text, media, location,
// Content templates); what Twilio cannot send on WhatsApp is refused before any request.
import { refuse, type Refusal } from '../../../core/decision.ts';
import type {
  MediaBody,
  TemplateBody,
  TemplateComponentParams,
  TemplateParameter,
} from '../../../core/messages.ts';
import type { SendRequest } from '../../../ports/provider.ts';

/** Twilio's own cap on `Body`, below WhatsApp's 4,096 characters (LIM-6). */
export const TWILIO_BODY_LIMIT = 1600;

/** The `whatsapp:+E164` address Twilio uses for a WhatsApp user or sender. */
export function whatsappAddress(number: string): string {
  if (number.startsWith('whatsapp:')) return number;
  return `whatsapp:+${number.replace(/^\+/, '')}`;
}

/** The wa_id (E.164 digits) inside a Twilio address such as `whatsapp:+15551230000`. */
export function waIdOf(address: string): string {
  return address.replace(/^whatsapp:/, '').replace(/^\+/, '');
}

export interface TwilioSendOptions {
  /** A Messaging Service to send through; `From` still names the channel's sender. */
  readonly messagingServiceSid?: string;
  /** Where Twilio posts this message's status callbacks. */
  readonly statusCallback?: string;
  /** The ContentSid (`HX…`) of a template send, resolved by the caller from name + language. */
  readonly contentSid?: string;
}

export type TwilioForm = ReadonlyArray<readonly [string, string]>;

const ORDER: Readonly<Record<string, number>> = { header: 0, body: 1, button: 2, buttons: 2 };

function parameterValue(p: TemplateParameter): string | undefined {
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
    case 'image':
    case 'video':
    case 'document': {
      const media = p[p.type];
      return media?.link ?? media?.id;
    }
    default:
      return typeof p.text === 'string' ? p.text : undefined;
  }
}

/**
 * A template's parameters as Twilio `ContentVariables`. Content templates number their
 * variables once across the whole content, so positional parameters are numbered from 1 through
 * the header, then the body, then the buttons (by index); named parameters keep their names.
 * @see https://www.twilio.com/docs/content/using-variables-with-content-api
 */
export function contentVariables(template: TemplateBody): Record<string, string> {
  const components = [...(template.components ?? [])]
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        (ORDER[a.c.type.toLowerCase()] ?? 3) - (ORDER[b.c.type.toLowerCase()] ?? 3) ||
        Number(a.c.index ?? 0) - Number(b.c.index ?? 0) ||
        a.i - b.i,
    )
    .map(({ c }): TemplateComponentParams => c);
  const variables: Record<string, string> = {};
  let position = 0;
  for (const component of components) {
    for (const parameter of component.parameters ?? []) {
      const value = parameterValue(parameter) ?? '';
      if (parameter.parameter_name) variables[parameter.parameter_name] = value;
      else variables[String(++position)] = value;
    }
  }
  return variables;
}

/**
 * Media go by public URL on Twilio (no upload ids); an image's or video's caption travels as
 * `Body`. A document goes without caption and filename: Twilio does not carry either for WhatsApp
 * documents, so a `Body` beside one is left out (the send path notes it in `reasonDetail`).
 * @see https://www.twilio.com/docs/whatsapp/guidance-whatsapp-media-messages
 */
function mediaFields(type: string, media: MediaBody): Array<[string, string]> | Refusal {
  if (media.link === undefined)
    return refuse(
      'invalid_request',
      `${type}: Twilio sends media by public URL (link); uploaded media ids are not supported`,
    );
  const fields: Array<[string, string]> = [];
  if (type !== 'document' && media.caption !== undefined && media.caption !== '')
    fields.push(['Body', media.caption]);
  fields.push(['MediaUrl', media.link]);
  return fields;
}

function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'allowed' in value;
}

/**
 * The form fields of `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` for one send, or a
 * refusal for what Twilio cannot carry on WhatsApp (interactive messages, contacts and reactions
 * are sent through Content templates there, never free-form).
 * @see https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 * @see https://www.twilio.com/docs/whatsapp/api#sending-location-messages-with-whatsapp
 */
export function buildTwilioMessageForm(
  request: SendRequest,
  options: TwilioSendOptions = {},
): TwilioForm | Refusal {
  const fields: Array<[string, string]> = [
    ['To', whatsappAddress(request.to)],
    ['From', whatsappAddress(request.channel.providerKey)],
  ];
  if (options.messagingServiceSid)
    fields.push(['MessagingServiceSid', options.messagingServiceSid]);
  const content = request.content;
  switch (content.type) {
    case 'text': {
      const length = Array.from(content.text.body).length;
      if (length > TWILIO_BODY_LIMIT)
        return refuse(
          'invalid_request',
          `text.body is ${length} characters; Twilio sends at most ${TWILIO_BODY_LIMIT} per message`,
        );
      fields.push(['Body', content.text.body]);
      break;
    }
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const media = (content as unknown as Record<string, MediaBody>)[content.type];
      const more = mediaFields(content.type, media ?? {});
      if (isRefusal(more)) return more;
      fields.push(...more);
      break;
    }
    case 'location': {
      const { latitude, longitude, name, address } = content.location;
      const label = name ?? address ?? '';
      fields.push(['Body', label === '' ? `${latitude}, ${longitude}` : label]);
      fields.push(['PersistentAction', `geo:${latitude},${longitude}${label ? `|${label}` : ''}`]);
      break;
    }
    case 'template': {
      if (!options.contentSid)
        return refuse(
          'template_not_approved',
          `no Twilio Content template (ContentSid) for ${content.template.name} (${content.template.language.code}): sync the connection's templates`,
        );
      fields.push(['ContentSid', options.contentSid]);
      const variables = contentVariables(content.template);
      if (Object.keys(variables).length > 0)
        fields.push(['ContentVariables', JSON.stringify(variables)]);
      break;
    }
    case 'interactive':
    case 'contacts':
    case 'reaction':
      return refuse(
        'invalid_request',
        `Twilio does not send free-form ${content.type} messages on WhatsApp: use a Content template (twilio/quick-reply, twilio/list-picker, twilio/card)`,
      );
  }
  if (options.statusCallback) fields.push(['StatusCallback', options.statusCallback]);
  return fields;
}
