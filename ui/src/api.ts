// The inbox's only way to Parley: /v1 over fetch with the session cookie and the CSRF header.

/** A problem+json answer, kept whole so screens can show `detail` and branch on `code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

let csrfToken = '';

/** The session's CSRF token, sent on every mutating request (the cookie alone is not enough). */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(body !== undefined && !(body instanceof Blob)
        ? { 'content-type': 'application/json' }
        : {}),
      ...(method !== 'GET' && csrfToken ? { 'x-csrf-token': csrfToken } : {}),
      ...headers,
    },
  };
  if (body instanceof Blob) init.body = body;
  else if (body !== undefined) init.body = JSON.stringify(body);
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Parley cannot be reached. Check the connection and retry.');
  }
  const text = await response.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const problem = (json ?? {}) as Record<string, unknown>;
    throw new ApiError(
      response.status,
      typeof problem.code === 'string' ? problem.code : `http_${response.status}`,
      typeof problem.detail === 'string'
        ? problem.detail
        : typeof problem.title === 'string'
          ? problem.title
          : `The request failed (${response.status}).`,
      problem,
    );
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>('POST', path, body ?? {}, headers),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- Shapes (as the contract names them; `normalize*` accepts the older list shape too) ----

export type Role = 'admin' | 'agent';

export interface Session {
  agent: { id: string; name: string; email: string; role: Role; departmentIds: string[] };
  workspace: { id: string; name: string };
  csrfToken: string;
}

export interface Ref {
  id: string;
  name: string;
}

export interface ConversationWindow {
  open: boolean;
  /** ms since the epoch, or null when no customer message opened one. */
  closesAt: number | null;
}

export type ConversationStatus = 'open' | 'snoozed' | 'closed';

export interface ConversationItem {
  id: string;
  contact: { id: string; name: string | null; phone: string };
  channelId: string;
  status: ConversationStatus;
  assignee: Ref | null;
  department: Ref | null;
  labels: string[];
  unread: number;
  lastMessage: { text: string; at: number; direction: 'inbound' | 'outbound' } | null;
  window: ConversationWindow;
  cost: { amount: string; currency: string } | null;
  snoozedUntil: number | null;
  /** Replies held until the customer answers (on the conversation's detail only). */
  parkedReplies: Array<{ id: string; text: string; createdAt: string | null }>;
}

export type MessageStatus =
  'pending' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'refused' | 'received' | 'held';

export interface TranscriptMedia {
  id: string;
  mime: string | null;
  url: string;
  caption: string | null;
  filename: string | null;
}

export interface TranscriptItem {
  id: string;
  kind: 'message' | 'note';
  direction: 'inbound' | 'outbound';
  type: string;
  text: string;
  status: MessageStatus;
  reason: string | null;
  /** The failure in plain words. */
  explanation: string | null;
  media: TranscriptMedia | null;
  /** The message's second and later media (a Twilio message can carry several), in order. */
  extraMedia: TranscriptMedia[];
  quotedId: string | null;
  author: string | null;
  /** The agent who wrote a note, when the server names them by id only. */
  authorId: string | null;
  at: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function toMs(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v && typeof v === 'object' ? (v as Raw) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function ref(v: unknown, fallbackId?: unknown): Ref | null {
  if (v && typeof v === 'object') {
    const r = v as Raw;
    return { id: String(r.id), name: str(r.name) ?? String(r.id) };
  }
  if (typeof fallbackId === 'string') return { id: fallbackId, name: fallbackId };
  return null;
}

export function normalizeConversation(raw: unknown): ConversationItem {
  const r = obj(raw);
  const contact = obj(r.contact);
  const window = obj(r.window);
  const last = r.lastMessage ? obj(r.lastMessage) : null;
  const status = str(r.status) ?? str(r.state) ?? 'open';
  return {
    id: String(r.id),
    contact: {
      id: str(contact.id) ?? str(r.contactId) ?? '',
      name: str(contact.name),
      phone:
        str(contact.phone) ??
        str(contact.phoneNumber) ??
        (typeof contact.waId === 'string' ? `+${contact.waId}` : ''),
    },
    channelId: String(r.channelId),
    status: (['open', 'snoozed', 'closed'].includes(status)
      ? status
      : 'open') as ConversationStatus,
    assignee: ref(r.assignee, r.assigneeId),
    department: ref(r.department, r.departmentId),
    labels: Array.isArray(r.labels) ? r.labels.map(String) : [],
    unread: typeof r.unread === 'number' ? r.unread : 0,
    lastMessage: last
      ? {
          text: str(last.text) ?? '',
          at: toMs(last.at) ?? 0,
          direction: last.direction === 'outbound' ? 'outbound' : 'inbound',
        }
      : r.lastMessageAt
        ? { text: '', at: toMs(r.lastMessageAt) ?? 0, direction: 'inbound' }
        : null,
    window: { open: window.open === true, closesAt: toMs(window.closesAt) },
    cost: r.cost ? (r.cost as ConversationItem['cost']) : null,
    snoozedUntil: toMs(r.snoozedUntil),
    parkedReplies: Array.isArray(r.parkedReplies)
      ? r.parkedReplies.map((p) => {
          const o = obj(p);
          return { id: String(o.id), text: str(o.text) ?? '', createdAt: str(o.createdAt) };
        })
      : [],
  };
}

/** A readable line for a message whose type has no text of its own. */
function describe(type: string, content: Raw): string {
  const body = obj(content[type]);
  const caption = str(body.caption);
  switch (type) {
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker':
      return caption ?? str(body.filename) ?? `(${type})`;
    case 'location':
      return `Location: ${str(body.name) ?? `${String(body.latitude)}, ${String(body.longitude)}`}`;
    case 'template':
      return `Template ${str(body.name) ?? ''}`.trim();
    case 'reaction':
      return `Reacted ${str(body.emoji) ?? ''}`;
    default:
      return `(${type})`;
  }
}

export function normalizeMessage(raw: unknown): TranscriptItem {
  const r = obj(raw);
  const type = str(r.type) ?? 'text';
  const content = obj(r.content);
  const isNote = r.kind === 'note' || type === 'note';
  const mediaRaw = r.media ? obj(r.media) : null;
  const typed = obj(content[type]);
  const mediaId = mediaRaw ? str(mediaRaw.id) : str(typed.id);
  const rendered = str(r.renderedText) ?? str(r.rendered) ?? str(r.templateText);
  const context = obj(content.context);
  return {
    id: String(r.id),
    kind: isNote ? 'note' : 'message',
    direction: r.direction === 'outbound' ? 'outbound' : 'inbound',
    type,
    text: rendered ?? str(r.text) ?? describe(type, content),
    status: (str(r.status) ?? 'received') as MessageStatus,
    reason: str(r.reason),
    explanation: str(r.explanation) ?? str(r.reasonText),
    media:
      mediaId || (mediaRaw && str(mediaRaw.url))
        ? {
            id: mediaId ?? '',
            mime:
              (mediaRaw ? (str(mediaRaw.mime) ?? str(mediaRaw.mimeType)) : null) ??
              str(typed.mime_type),
            url: (mediaRaw ? str(mediaRaw.url) : null) ?? `/v1/media/${mediaId ?? ''}`,
            caption: (mediaRaw ? str(mediaRaw.caption) : null) ?? str(typed.caption),
            filename: (mediaRaw ? str(mediaRaw.filename) : null) ?? str(typed.filename),
          }
        : null,
    extraMedia: Array.isArray(r.extraMedia)
      ? r.extraMedia.flatMap((entry) => {
          const e = obj(entry);
          const id = str(e.id);
          const url = str(e.url) ?? (id ? `/v1/media/${id}` : null);
          if (url === null) return [];
          return [
            {
              id: id ?? '',
              mime: str(e.mime) ?? str(e.mimeType) ?? str(e.contentType),
              url,
              caption: str(e.caption),
              filename: str(e.filename),
            },
          ];
        })
      : [],
    quotedId:
      str(r.quotedId) ?? str(r.quotedMessageId) ?? str(r.replyTo) ?? str(context.id) ?? null,
    author: str(obj(r.author).name) ?? str(r.authorName),
    authorId: str(r.agentId),
    at: toMs(r.at) ?? toMs(r.createdAt) ?? 0,
  };
}

export interface TemplateSummary {
  id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  effectiveStatus?: string;
  channelId: string | null;
  components: Array<Record<string, unknown>>;
  rejectionReason?: string | null;
}

export interface TemplatePreview {
  valid: boolean;
  problem: { reason: string; detail: string } | null;
  text: string;
}

export interface PurposeConsent {
  state: string;
  allowed: boolean;
  basis?: string | null;
  since?: string | null;
  reason?: string | null;
  detail?: string | null;
}

export interface Eligibility {
  window: { open: boolean; closesAt: string | number | null; freeFormAllowed: boolean };
  allowed: { freeForm: boolean; template: boolean };
  consent: Record<string, PurposeConsent>;
}
