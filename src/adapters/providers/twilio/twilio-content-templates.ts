// Twilio Content templates as Parley templates: name + language ↔ ContentSid, with each one's
// WhatsApp approval status, read from the Content API's ContentAndApprovals listing.
import type { ProviderTemplate } from '../../../ports/provider.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A Content SID: `HX` and 32 hex digits. */
export const CONTENT_SID_PATTERN = /^HX[0-9a-fA-F]{32}$/;

/**
 * WhatsApp approval statuses as Twilio reports them, in TPL-8's words. `unsubmitted` content
 * was never sent to WhatsApp for approval: usable inside the window only, so not APPROVED.
 * @see https://www.twilio.com/docs/content/content-api-resources#fetch-an-approval-status
 */
export function templateStatusFromTwilio(status: string | undefined): string {
  switch ((status ?? '').toLowerCase()) {
    case 'approved':
      return 'APPROVED';
    case 'received':
    case 'pending':
      return 'PENDING';
    case 'rejected':
      return 'REJECTED';
    case 'paused':
      return 'PAUSED';
    case 'disabled':
      return 'DISABLED';
    case '':
    case 'unsubmitted':
      return 'DRAFT';
    default:
      return (status ?? '').toUpperCase();
  }
}

/**
 * The WhatsApp approval of one ContentAndApprovals record. The listing puts the WhatsApp object
 * straight into `approval_requests`; the per-content fetch nests it under `whatsapp`: both read.
 */
function whatsappApproval(record: Json): Json | undefined {
  const requests = record.approval_requests;
  if (!isObject(requests)) return undefined;
  if (isObject(requests.whatsapp)) return requests.whatsapp;
  return requests;
}

/** The first `body` of the content's types (twilio/text, twilio/card …), for transcripts (TPL-12). */
function bodyText(types: unknown): string | undefined {
  if (!isObject(types)) return undefined;
  for (const value of Object.values(types)) {
    if (isObject(value)) {
      const body = str(value.body) ?? str(value.title);
      if (body !== undefined) return body;
    }
  }
  return undefined;
}

/**
 * One ContentAndApprovals (or Content) record as a Parley template: the WhatsApp template name
 * when it was submitted for approval, else the content's friendly name; the ContentSid as the
 * provider's template id; the approval status in TPL-8's vocabulary.
 * @see https://www.twilio.com/docs/content/content-api-resources#fetch-all-content-and-approvals
 */
export function templateFromContent(record: Json): ProviderTemplate | null {
  const sid = str(record.sid);
  if (sid === undefined) return null;
  const approval = whatsappApproval(record);
  const name = str(approval?.name) ?? str(record.friendly_name);
  if (name === undefined) return null;
  const variables = isObject(record.variables) ? Object.keys(record.variables) : [];
  const body = bodyText(record.types);
  const template: { -readonly [K in keyof ProviderTemplate]: ProviderTemplate[K] } = {
    providerTemplateId: sid,
    name,
    language: str(record.language) ?? '',
    category: (str(approval?.category) ?? '').toUpperCase(),
    status: templateStatusFromTwilio(str(approval?.status)),
    components: body === undefined ? [] : [{ type: 'BODY', text: body }],
  };
  if (variables.length > 0)
    template.parameterFormat = variables.every((v) => /^\d+$/.test(v)) ? 'POSITIONAL' : 'NAMED';
  return template;
}

/** One page of a Twilio listing: its records and the next page's URL, if any. */
export function contentPage(json: unknown): { records: Json[]; next?: string } {
  if (!isObject(json)) return { records: [] };
  const meta = isObject(json.meta) ? json.meta : {};
  const key = str(meta.key) ?? 'contents';
  const list = Array.isArray(json[key]) ? (json[key] as unknown[]) : [];
  const next = str(meta.next_page_url);
  return next === undefined
    ? { records: list.filter(isObject) }
    : { records: list.filter(isObject), next };
}

/** Normalises a language code for matching: `en_US`, `en-us` and `EN-US` are one language. */
export function languageKey(language: string): string {
  return language.trim().toLowerCase().replace(/_/g, '-');
}

/**
 * The ContentSid for a template name and language among synced templates: the exact language
 * first, then the same language written differently (`en_US` / `en-US`).
 */
export function findContentSid(
  templates: readonly ProviderTemplate[],
  name: string,
  language: string,
): string | undefined {
  const named = templates.filter((t) => t.name === name && t.providerTemplateId);
  const exact = named.find((t) => t.language === language);
  const loose = exact ?? named.find((t) => languageKey(t.language) === languageKey(language));
  return loose?.providerTemplateId;
}
