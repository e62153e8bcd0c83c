// What a template's send form asks for (text placeholders, a media header, URL button suffixes),
// and the template components built from the answers. Pure: the picker and its tests share it.

/** `{{1}}` or `{{name}}` placeholders of a component's text, in order, once each. */
export function placeholders(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  const seen: string[] = [];
  for (const match of text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g))
    if (match[1] && !seen.includes(match[1])) seen.push(match[1]);
  return seen;
}

export interface Slot {
  component: 'header' | 'body';
  key: string;
}

export type HeaderMediaFormat = 'image' | 'video' | 'document';

/** A URL button whose address ends in `{{1}}`: the form asks for that suffix. */
export interface UrlButton {
  /** Its position among the template's buttons (the `index` of the button component). */
  index: number;
  text: string;
  url: string;
}

/** The header's media as the agent gave it: an uploaded file's id, or a public link. */
export type HeaderMedia = { id: string; filename?: string } | { link: string };

export interface TemplateForm {
  slots: Slot[];
  headerMedia: HeaderMediaFormat | null;
  urlButtons: UrlButton[];
}

type Component = Record<string, unknown>;
const upper = (v: unknown, fallback = '') => (typeof v === 'string' ? v.toUpperCase() : fallback);

export function formOf(components: readonly Component[]): TemplateForm {
  const slots: Slot[] = [];
  let headerMedia: HeaderMediaFormat | null = null;
  const urlButtons: UrlButton[] = [];
  for (const c of components) {
    const type = upper(c.type);
    const format = upper(c.format, 'TEXT');
    if (type === 'HEADER' && format === 'TEXT')
      for (const key of placeholders(c.text)) slots.push({ component: 'header', key });
    if (type === 'HEADER' && (format === 'IMAGE' || format === 'VIDEO' || format === 'DOCUMENT'))
      headerMedia = format.toLowerCase() as HeaderMediaFormat;
    if (type === 'BODY')
      for (const key of placeholders(c.text)) slots.push({ component: 'body', key });
    if (type === 'BUTTONS' && Array.isArray(c.buttons))
      c.buttons.forEach((b: unknown, index) => {
        const button = (b && typeof b === 'object' ? b : {}) as Component;
        const url = typeof button.url === 'string' ? button.url : '';
        if (upper(button.type) === 'URL' && placeholders(url).length > 0)
          urlButtons.push({
            index,
            text: typeof button.text === 'string' ? button.text : `Button ${index + 1}`,
            url,
          });
      });
  }
  return { slots, headerMedia, urlButtons };
}

/** The address a URL button opens once its `{{1}}` is the given suffix. */
export const buttonUrl = (button: UrlButton, suffix: string): string =>
  button.url.replace(/\{\{\s*[A-Za-z0-9_]+\s*\}\}/, suffix);

export interface FormValues {
  /** `header:1`, `body:name` … → text. */
  text: Record<string, string>;
  headerMedia: HeaderMedia | null;
  /** Button index → URL suffix. */
  buttons: Record<number, string>;
}

/** Everything the form asks for has an answer. */
export function complete(form: TemplateForm, values: FormValues): boolean {
  return (
    form.slots.every((s) => (values.text[`${s.component}:${s.key}`] ?? '').trim() !== '') &&
    (form.headerMedia === null || values.headerMedia !== null) &&
    form.urlButtons.every((b) => (values.buttons[b.index] ?? '').trim() !== '')
  );
}

/** The template components of a send: header (text or media), body, then each URL button. */
export function componentsOf(form: TemplateForm, values: FormValues) {
  const named = (key: string) => !/^\d+$/.test(key);
  const textParameters = (component: 'header' | 'body') =>
    form.slots
      .filter((s) => s.component === component)
      .map((s) => ({
        type: 'text',
        text: values.text[`${s.component}:${s.key}`] ?? '',
        ...(named(s.key) ? { parameter_name: s.key } : {}),
      }));
  const header: Array<Record<string, unknown>> =
    form.headerMedia !== null && values.headerMedia !== null
      ? [
          {
            type: form.headerMedia,
            [form.headerMedia]:
              form.headerMedia === 'document' || !('filename' in values.headerMedia)
                ? values.headerMedia
                : { id: values.headerMedia.id },
          },
        ]
      : textParameters('header');
  const components: Array<Record<string, unknown>> = [
    { type: 'header', parameters: header },
    { type: 'body', parameters: textParameters('body') },
  ].filter((c) => c.parameters.length > 0);
  for (const b of form.urlButtons)
    components.push({
      type: 'button',
      sub_type: 'url',
      index: String(b.index),
      parameters: [{ type: 'text', text: values.buttons[b.index] ?? '' }],
    });
  return components;
}
