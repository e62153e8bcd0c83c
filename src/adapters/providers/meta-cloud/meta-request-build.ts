// The exact Cloud API JSON for every outbound message type (Meta, 360dialog and compatible providers).
import type {
  InteractiveBody,
  MediaBody,
  MediaType,
  OutboundContent,
  TemplateBody,
  TemplateComponentParams,
  TemplateParameter,
} from '../../../core/messages.ts';
import type { SendRequest } from '../../../ports/provider.ts';

type Json = Record<string, unknown>;

/** Copies a value without `undefined` members, so the JSON sent is exactly what was meant. */
function clean<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => clean(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, clean(v)]),
    ) as T;
  }
  return value;
}

/**
 * A media object holds exactly one of `id` (uploaded media) or `link`; only image, video and
 * document take a caption, and only document takes a filename.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#media-object
 */
function mediaObject(type: MediaType, media: MediaBody): Json {
  const out: Json = media.id !== undefined ? { id: media.id } : { link: media.link };
  if (media.caption !== undefined && (type === 'image' || type === 'video' || type === 'document'))
    out.caption = media.caption;
  if (media.filename !== undefined && type === 'document') out.filename = media.filename;
  return out;
}

function interactiveObject(interactive: InteractiveBody): Json {
  return clean({ ...interactive });
}

/** Template parameters go as given (every kind Meta knows), with `undefined` members removed. */
function templateParameter(parameter: TemplateParameter): Json {
  return clean({ ...parameter });
}

/**
 * Template components in Meta's send shape: lowercase `type`/`sub_type` (definitions use upper
 * case) and `index` as a string ("0", "1" …), as the Cloud API expects.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
 */
function templateComponent(component: TemplateComponentParams): Json {
  return clean({
    type: component.type.toLowerCase(),
    sub_type: component.sub_type?.toLowerCase(),
    index: component.index === undefined ? undefined : String(component.index),
    parameters: component.parameters?.map(templateParameter),
  });
}

function templateObject(template: TemplateBody): Json {
  return clean({
    name: template.name,
    // `policy: "deterministic"` is legacy and optional on the live API: sent only when asked for.
    language: { code: template.language.code, policy: template.language.policy },
    components: template.components?.map(templateComponent),
  });
}

function payloadOf(content: OutboundContent): unknown {
  switch (content.type) {
    case 'text':
      return clean({ body: content.text.body, preview_url: content.text.preview_url });
    case 'image':
      return mediaObject('image', content.image);
    case 'video':
      return mediaObject('video', content.video);
    case 'audio':
      return mediaObject('audio', content.audio);
    case 'document':
      return mediaObject('document', content.document);
    case 'sticker':
      return mediaObject('sticker', content.sticker);
    case 'location':
      return clean({
        latitude: content.location.latitude,
        longitude: content.location.longitude,
        name: content.location.name,
        address: content.location.address,
      });
    case 'contacts':
      return clean(content.contacts);
    case 'interactive':
      return interactiveObject(content.interactive);
    case 'reaction':
      // An empty emoji removes the reaction.
      return { message_id: content.reaction.message_id, emoji: content.reaction.emoji };
    case 'template':
      return templateObject(content.template);
  }
}

/**
 * The body of `POST /{phone-number-id}/messages` (360dialog: `POST /messages`) for one message:
 * `messaging_product`, `recipient_type`, `to`, `type`, the type's object, `context.message_id` for a
 * reply and `biz_opaque_callback_data` (echoed back in status webhooks).
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 */
export function buildMetaMessageBody(request: SendRequest): Record<string, unknown> {
  const { content } = request;
  const body: Json = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: request.to,
    type: content.type,
    [content.type]: payloadOf(content),
  };
  if (request.replyTo !== undefined) body.context = { message_id: request.replyTo };
  if (request.callbackData !== undefined) body.biz_opaque_callback_data = request.callbackData;
  return body;
}

/**
 * Marks an inbound message read (blue ticks) through the same `/messages` endpoint.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/guides/mark-message-as-read
 */
export function buildMarkReadBody(providerMessageId: string): Record<string, unknown> {
  return { messaging_product: 'whatsapp', status: 'read', message_id: providerMessageId };
}
