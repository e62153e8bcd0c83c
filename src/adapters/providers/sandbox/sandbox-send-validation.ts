// Validation of a Cloud API send body, as WhatsApp does it before accepting a message (error 100).
import {
  checkOutboundLimits,
  OUTBOUND_TYPES,
  type OutboundContent,
} from '../../../core/messages.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Digits of a phone number as WhatsApp keys users (`wa_id`). */
export const digitsOf = (phone: string): string => phone.replace(/[^\d]/g, '');

export type Validated =
  | {
      readonly ok: true;
      readonly to: string;
      readonly input: string;
      readonly content: OutboundContent;
      readonly replyTo: string | null;
      readonly callbackData: string | null;
    }
  | { readonly ok: false; readonly details: string };

/** Shape checks Meta makes before anything else; messages.ts limits run after them. */
function shapeProblem(type: string, payload: unknown): string | null {
  const str = (v: unknown) => typeof v === 'string';
  const optStr = (v: unknown) => v === undefined || typeof v === 'string';
  if (type === 'contacts') {
    if (!Array.isArray(payload)) return 'The parameter contacts must be an array.';
    for (const [i, c] of payload.entries())
      if (!isObject(c) || !isObject(c.name) || !str(c.name.formatted_name))
        return `The parameter contacts[${i}]['name']['formatted_name'] is required.`;
    return null;
  }
  if (!isObject(payload)) return `The parameter ${type} is required.`;
  switch (type) {
    case 'text':
      return str(payload.body) ? null : "The parameter text['body'] is required.";
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return optStr(payload.id) &&
        optStr(payload.link) &&
        optStr(payload.caption) &&
        optStr(payload.filename)
        ? null
        : `Param ${type}['id'], ['link'], ['caption'] and ['filename'] must be strings.`;
    case 'location':
      return typeof payload.latitude === 'number' && typeof payload.longitude === 'number'
        ? null
        : "The parameters location['latitude'] and location['longitude'] are required numbers.";
    case 'reaction':
      return str(payload.message_id) && str(payload.emoji)
        ? null
        : "The parameters reaction['message_id'] and reaction['emoji'] are required.";
    case 'interactive': {
      if (!str(payload.type)) return "The parameter interactive['type'] is required.";
      if (!isObject(payload.action)) return "The parameter interactive['action'] is required.";
      for (const part of ['header', 'body', 'footer'] as const) {
        const p = payload[part];
        if (p !== undefined && (!isObject(p) || !optStr(p.text)))
          return `Param interactive['${part}'] must be an object with a text string.`;
      }
      const { buttons, sections } = payload.action;
      if (buttons !== undefined) {
        if (!Array.isArray(buttons))
          return "Param interactive['action']['buttons'] must be an array.";
        for (const b of buttons)
          if (!isObject(b) || !isObject(b.reply) || !str(b.reply.id) || !str(b.reply.title))
            return "Each reply button needs reply['id'] and reply['title'].";
      }
      if (sections !== undefined) {
        if (!Array.isArray(sections))
          return "Param interactive['action']['sections'] must be an array.";
        for (const s of sections) {
          if (!isObject(s) || !Array.isArray(s.rows) || !optStr(s.title))
            return 'Each list section needs a rows array.';
          for (const r of s.rows)
            if (!isObject(r) || !str(r.id) || !str(r.title) || !optStr(r.description))
              return "Each list row needs ['id'] and ['title'].";
        }
      }
      if (!optStr(payload.action.button))
        return "Param interactive['action']['button'] must be a string.";
      return null;
    }
    case 'template': {
      if (!str(payload.name)) return "The parameter template['name'] is required.";
      if (!isObject(payload.language) || !str(payload.language.code))
        return "The parameter template['language']['code'] is required.";
      const components = payload.components;
      if (components === undefined) return null;
      if (!Array.isArray(components)) return "Param template['components'] must be an array.";
      for (const c of components) {
        if (!isObject(c) || !str(c.type)) return "Each template component needs a 'type'.";
        if (c.parameters !== undefined && !Array.isArray(c.parameters))
          return "Param template['components'][]['parameters'] must be an array.";
        for (const p of (c.parameters as unknown[] | undefined) ?? [])
          if (!isObject(p) || !str(p.type)) return "Each template parameter needs a 'type'.";
      }
      return null;
    }
    default:
      return null;
  }
}

/**
 * Validates a `POST /{phone-number-id}/messages` body as the Cloud API does: envelope, recipient,
 * type, the type's object, then WhatsApp's limits (LIM-6). A problem is Meta's error 100.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 */
export function validateSendBody(body: unknown): Validated {
  const bad = (details: string): Validated => ({ ok: false, details });
  if (!isObject(body)) return bad('The request body must be a JSON object.');
  if (body.messaging_product !== 'whatsapp')
    return bad("The parameter messaging_product is required and must be 'whatsapp'.");
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual')
    return bad(
      `recipient_type ${JSON.stringify(body.recipient_type)} is not supported by the sandbox; use 'individual'.`,
    );
  const input = typeof body.to === 'string' ? body.to.trim() : '';
  if (input === '') return bad('The parameter to is required.');
  if (!/^\+?[\d\s().-]+$/.test(input) || !/^\d{7,15}$/.test(digitsOf(input)))
    return bad(`Parameter to ('${input}') is not a valid phone number.`);
  // The Cloud API treats a missing type as text.
  const type = body.type ?? 'text';
  if (typeof type !== 'string' || !(OUTBOUND_TYPES as readonly string[]).includes(type))
    return bad(
      `Param type must be one of {${OUTBOUND_TYPES.join(', ')}}; got ${JSON.stringify(type)}.`,
    );
  const payload = body[type];
  const problem = shapeProblem(type, payload);
  if (problem) return bad(problem);
  const content = { type, [type]: payload } as unknown as OutboundContent;
  const refusal = checkOutboundLimits(content);
  if (refusal) return bad(refusal.detail);
  let replyTo: string | null = null;
  if (body.context !== undefined) {
    if (!isObject(body.context) || typeof body.context.message_id !== 'string')
      return bad("The parameter context['message_id'] must be a string.");
    replyTo = body.context.message_id;
  }
  const callback = body.biz_opaque_callback_data;
  if (callback !== undefined && (typeof callback !== 'string' || callback.length > 512))
    return bad('Param biz_opaque_callback_data must be a string of at most 512 characters.');
  return {
    ok: true,
    to: digitsOf(input),
    input,
    content,
    replyTo,
    callbackData: typeof callback === 'string' ? callback : null,
  };
}
