// Outbound message content in the Cloud API's own per-type shapes, and WhatsApp's limits (LIM-6).
import { refuse, type Refusal } from './decision.ts';

export const OUTBOUND_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'reaction',
  'template',
] as const;
export type OutboundType = (typeof OUTBOUND_TYPES)[number];

export const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export interface TextBody {
  body: string;
  preview_url?: boolean;
}
export interface MediaBody {
  id?: string;
  link?: string;
  caption?: string;
  filename?: string;
}
export interface LocationBody {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}
export interface ContactCard {
  name: { formatted_name: string; [k: string]: unknown };
  [k: string]: unknown;
}
export interface ReactionBody {
  message_id: string;
  emoji: string;
}
export interface InteractiveBody {
  type: string;
  header?: { type: string; text?: string; [k: string]: unknown };
  body?: { text: string };
  footer?: { text: string };
  action: {
    buttons?: Array<{ type: string; reply: { id: string; title: string } }>;
    button?: string;
    sections?: Array<{
      title?: string;
      rows: Array<{ id: string; title: string; description?: string }>;
    }>;
    [k: string]: unknown;
  };
}
export interface TemplateParameter {
  type: string;
  parameter_name?: string;
  text?: string;
  payload?: string;
  coupon_code?: string;
  currency?: { fallback_value: string; code: string; amount_1000: number };
  date_time?: { fallback_value: string };
  image?: MediaBody;
  video?: MediaBody;
  document?: MediaBody;
  location?: LocationBody;
  [k: string]: unknown;
}
export interface TemplateComponentParams {
  type: string;
  sub_type?: string;
  index?: string | number;
  parameters?: TemplateParameter[];
}
export interface TemplateBody {
  name: string;
  language: { code: string; policy?: string };
  components?: TemplateComponentParams[];
}

export type OutboundContent =
  | { type: 'text'; text: TextBody }
  | { type: 'image'; image: MediaBody }
  | { type: 'video'; video: MediaBody }
  | { type: 'audio'; audio: MediaBody }
  | { type: 'document'; document: MediaBody }
  | { type: 'sticker'; sticker: MediaBody }
  | { type: 'location'; location: LocationBody }
  | { type: 'contacts'; contacts: ContactCard[] }
  | { type: 'interactive'; interactive: InteractiveBody }
  | { type: 'reaction'; reaction: ReactionBody }
  | { type: 'template'; template: TemplateBody };

/** CSW-3: everything but a template is free-form. */
export function isFreeForm(content: { type: string }): boolean {
  return content.type !== 'template';
}

/** LIM-6 and the interactive limits, checked before anything is queued. */
export const LIMITS = {
  textBody: 4096,
  caption: 1024,
  replyButtonsMin: 1,
  replyButtonsMax: 3,
  replyButtonTitle: 20,
  replyButtonId: 256,
  interactiveBody: 1024,
  headerText: 60,
  footerText: 60,
  listButton: 20,
  listSections: 10,
  listRows: 10,
  sectionTitle: 24,
  rowId: 200,
  rowTitle: 24,
  rowDescription: 72,
} as const;

function tooLong(what: string, value: string | undefined, max: number): Refusal | null {
  if (value === undefined) return null;
  // WhatsApp counts Unicode code points: an emoji is one character, not two UTF-16 units.
  const length = Array.from(value).length;
  return length > max
    ? refuse('invalid_request', `${what} is ${length} characters; WhatsApp allows at most ${max}`)
    : null;
}

/**
 * LIM-6: checks one outbound message against WhatsApp's limits; null when it may go.
 * Lengths count Unicode code points, so an emoji counts once.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages
 */
export function checkOutboundLimits(content: OutboundContent): Refusal | null {
  switch (content.type) {
    case 'text':
      if (content.text.body.trim() === '')
        return refuse('invalid_request', 'text.body must not be empty');
      if (content.text.preview_url && !/https?:\/\//.test(content.text.body))
        return refuse(
          'invalid_request',
          'text.preview_url needs a URL starting with http:// or https:// in the body',
        );
      return tooLong('text.body', content.text.body, LIMITS.textBody);
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const media = (content as Record<string, unknown>)[content.type] as MediaBody;
      if ((media.id === undefined) === (media.link === undefined))
        return refuse('invalid_request', `${content.type} needs exactly one of id or link`);
      if (media.link !== undefined && !/^https?:\/\//.test(media.link))
        return refuse('invalid_request', `${content.type}.link must be an http(s) URL`);
      if ((content.type === 'audio' || content.type === 'sticker') && media.caption !== undefined)
        return refuse('invalid_request', `${content.type} messages take no caption`);
      if (content.type !== 'document' && media.filename !== undefined)
        return refuse('invalid_request', `only document messages take a filename`);
      return tooLong(`${content.type}.caption`, media.caption, LIMITS.caption);
    }
    case 'location': {
      const { latitude, longitude } = content.location;
      if (latitude < -90 || latitude > 90 || longitude < -180 || longitude > 180)
        return refuse(
          'invalid_request',
          'location latitude must be within ±90 and longitude within ±180',
        );
      return null;
    }
    case 'contacts':
      return content.contacts.length === 0
        ? refuse('invalid_request', 'contacts must hold at least one contact')
        : null;
    case 'reaction':
      return null;
    case 'interactive':
      return checkInteractive(content.interactive);
    case 'template':
      return null;
  }
}

function checkInteractive(i: InteractiveBody): Refusal | null {
  const common =
    tooLong('interactive.body.text', i.body?.text, LIMITS.interactiveBody) ??
    tooLong('interactive.header.text', i.header?.text, LIMITS.headerText) ??
    tooLong('interactive.footer.text', i.footer?.text, LIMITS.footerText);
  if (common) return common;
  if (i.type === 'button') {
    const buttons = i.action.buttons ?? [];
    if (buttons.length < LIMITS.replyButtonsMin || buttons.length > LIMITS.replyButtonsMax)
      return refuse(
        'invalid_request',
        `reply buttons: ${buttons.length} given; WhatsApp allows 1 to 3`,
      );
    const titles = new Set<string>();
    for (const [n, b] of buttons.entries()) {
      const problem =
        tooLong(
          `interactive.action.buttons[${n}].reply.title`,
          b.reply.title,
          LIMITS.replyButtonTitle,
        ) ?? tooLong(`interactive.action.buttons[${n}].reply.id`, b.reply.id, LIMITS.replyButtonId);
      if (problem) return problem;
      if (titles.has(b.reply.title))
        return refuse('invalid_request', `reply button title "${b.reply.title}" is not unique`);
      titles.add(b.reply.title);
    }
    return null;
  }
  if (i.type === 'list') {
    const sections = i.action.sections ?? [];
    if (i.action.button === undefined)
      return refuse('invalid_request', 'interactive list needs action.button');
    const tooLongButton = tooLong('interactive.action.button', i.action.button, LIMITS.listButton);
    if (tooLongButton) return tooLongButton;
    if (sections.length === 0 || sections.length > LIMITS.listSections)
      return refuse(
        'invalid_request',
        `list sections: ${sections.length} given; WhatsApp allows 1 to 10`,
      );
    const rows = sections.reduce((n, s) => n + s.rows.length, 0);
    if (rows === 0 || rows > LIMITS.listRows)
      return refuse('invalid_request', `list rows: ${rows} given in all; WhatsApp allows 1 to 10`);
    for (const [n, s] of sections.entries()) {
      if (sections.length > 1 && !s.title)
        return refuse(
          'invalid_request',
          `interactive.action.sections[${n}].title is required when there are several sections`,
        );
      const problem = tooLong(
        `interactive.action.sections[${n}].title`,
        s.title,
        LIMITS.sectionTitle,
      );
      if (problem) return problem;
      for (const [m, r] of s.rows.entries()) {
        const where = `interactive.action.sections[${n}].rows[${m}]`;
        const rowProblem =
          tooLong(`${where}.id`, r.id, LIMITS.rowId) ??
          tooLong(`${where}.title`, r.title, LIMITS.rowTitle) ??
          tooLong(`${where}.description`, r.description, LIMITS.rowDescription);
        if (rowProblem) return rowProblem;
      }
    }
  }
  return null;
}

const KB = 1024;
// Meta writes "5 MB"; reading it as MiB is the more permissive choice, so Parley never refuses
// locally a file WhatsApp would take (an oversized one still fails there with 131053).
const MB = 1024 * KB;

/** LIM-6: the MIME types WhatsApp takes per media type (null: any) and the largest file. */
export const MEDIA_FILE_RULES: Readonly<
  Record<MediaType, { readonly mimeTypes: readonly string[] | null; readonly maxBytes: number }>
> = {
  image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
  audio: {
    mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'],
    maxBytes: 16 * MB,
  },
  video: { mimeTypes: ['video/mp4', 'video/3gpp'], maxBytes: 16 * MB },
  document: { mimeTypes: null, maxBytes: 100 * MB },
  sticker: { mimeTypes: ['image/webp'], maxBytes: 100 * KB },
};
/** LIM-6: an animated sticker may be larger than a static one. */
export const ANIMATED_STICKER_MAX_BYTES = 500 * KB;

/**
 * LIM-6: checks a media file before it is uploaded or sent by link; null when WhatsApp takes it.
 * `mimeType` may carry parameters (`audio/ogg; codecs=opus`): ogg audio must be Opus.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
 */
export function checkMediaFile(
  type: MediaType,
  file: { readonly mimeType: string; readonly bytes: number; readonly animated?: boolean },
): Refusal | null {
  const rule = MEDIA_FILE_RULES[type];
  const [base = '', ...params] = file.mimeType
    .toLowerCase()
    .split(';')
    .map((p) => p.trim());
  if (rule.mimeTypes !== null && !rule.mimeTypes.includes(base))
    return refuse(
      'invalid_request',
      `${type} files must be ${rule.mimeTypes.join(', ')}; got ${file.mimeType}`,
    );
  const codecs = params.find((p) => p.startsWith('codecs='));
  if (base === 'audio/ogg' && codecs !== undefined && !/opus/.test(codecs))
    return refuse('invalid_request', `ogg audio must use the Opus codec; got ${file.mimeType}`);
  const max = type === 'sticker' && file.animated ? ANIMATED_STICKER_MAX_BYTES : rule.maxBytes;
  return file.bytes > max
    ? refuse(
        'invalid_request',
        `${type} file is ${file.bytes} bytes; WhatsApp allows at most ${max} (${max / KB} KB)`,
      )
    : null;
}

/** A short human-readable summary of outbound content, for transcripts and previews. */
export function summarise(content: OutboundContent): string {
  switch (content.type) {
    case 'text':
      return content.text.body;
    case 'location':
      return (
        content.location.name ?? `📍 ${content.location.latitude}, ${content.location.longitude}`
      );
    case 'contacts':
      return content.contacts.map((c) => c.name.formatted_name).join(', ');
    case 'interactive':
      return content.interactive.body?.text ?? '';
    case 'reaction':
      return content.reaction.emoji;
    case 'template':
      return `[template ${content.template.name}/${content.template.language.code}]`;
    default: {
      const media = (content as Record<string, unknown>)[content.type] as MediaBody;
      return media.caption ?? `[${content.type}]`;
    }
  }
}
