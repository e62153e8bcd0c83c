// The inbox API: the conversation list with its row fields, conversation actions, the transcript
// with notes, canned responses, the contact panel, response-time reports and the live stream.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addNote,
  assignConversation,
  cancelParked,
  closeConversation,
  costView,
  getInboxRow,
  listInbox,
  markConversationRead,
  parkReply,
  reopenConversation,
  responseTimes,
  setLabels,
  snoozeConversation,
  transcriptWithNotes,
  type InboxRow,
} from '../../app/inbox.ts';
import { uploadIdOfLink } from '../../app/graph-media.ts';
import type { AppDeps } from '../../app/deps.ts';
import { getContact } from '../../app/queries.ts';
import { InboxError } from '../../app/agents.ts';
import type { DomainEvent } from '../../ports/event-bus.ts';
import {
  INBOX_STATUSES,
  type CannedResponse,
  type ConversationNote,
  type InboxConversation,
  type ParkedReply,
} from '../../ports/inbox-store.ts';
import { ApiProblem } from '../problem.ts';
import { idParams, pagingQuery, templateComponents } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';
import { contactView, conversationView, iso, messageView } from '../views.ts';
import { inboxGuard } from './inbox-guard.ts';

const id = z.string().min(1).max(100);
const label = z.string().trim().min(1).max(64);
/** An instant as ISO-8601 or epoch milliseconds. */
const instant = z.union([
  z.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);
const instantQuery = z.union([
  z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

export const inboxQuery = pagingQuery.extend({
  assignee: z.string().max(100).optional().describe('"me", "none" (unassigned) or an agent id'),
  department: id.optional(),
  channel: id.optional(),
  contact: id.optional(),
  status: z.enum(INBOX_STATUSES).optional(),
  state: z.enum(['open', 'closed']).optional().describe('The stored state, snoozed or not'),
  q: z.string().trim().max(200).optional().describe('Contact name or number'),
});

function rowView(r: InboxRow) {
  const c = r.conversation;
  return {
    ...conversationView(c),
    status: r.status,
    contact: r.contact ? { ...contactView(r.contact), phone: `+${r.contact.waId}` } : null,
    assignee: r.assignee ? { id: r.assignee.id, name: r.assignee.name } : null,
    department: r.department ? { id: r.department.id, name: r.department.name } : null,
    labels: c.labels,
    unread: r.unread,
    lastMessage: r.lastMessage
      ? {
          text: r.lastMessage.text,
          type: r.lastMessage.type,
          at: r.lastMessage.at,
          direction: r.lastMessage.direction,
        }
      : null,
    // Epoch ms, so the list can count down ("closes in 3 h 12 m") without parsing dates.
    window: {
      open: r.window.windowOpen,
      closesAt: r.window.windowClosesAt,
      freeFormAllowed: r.window.freeFormAllowed,
      freeFormUntil: r.window.freeFormUntil,
      templatesAllowed: r.window.templatesAllowed,
    },
    cost: costView(r.cost),
    snoozedUntil: c.snoozedUntil,
  };
}

function conversationFields(c: InboxConversation) {
  return {
    ...conversationView(c),
    departmentId: c.departmentId,
    labels: c.labels,
    snoozedUntil: c.snoozedUntil,
    readAt: c.readAt,
  };
}

function noteView(n: ConversationNote) {
  return {
    kind: 'note' as const,
    id: n.id,
    conversationId: n.conversationId,
    agentId: n.agentId,
    text: n.text,
    createdAt: iso(n.createdAt),
  };
}

function parkedView(p: ParkedReply) {
  return {
    id: p.id,
    conversationId: p.conversationId,
    agentId: p.agentId,
    text: p.text,
    state: p.state,
    reengagementMessageId: p.reengagementMessageId,
    messageId: p.messageId,
    createdAt: iso(p.createdAt),
    releasedAt: iso(p.releasedAt),
  };
}

const cannedView = (c: CannedResponse) => ({
  id: c.id,
  shortcut: c.shortcut,
  text: c.text,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
});

const byAgent = (request: FastifyRequest): string | null => request.agent?.id ?? null;

export function registerInboxRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;

  api.get(
    '/conversations',
    {
      schema: {
        tags: ['conversations'],
        summary: 'The inbox: conversations, newest activity first, with filters and search',
        querystring: inboxQuery,
      },
    },
    async (request) => {
      const q = request.query;
      let assigneeId: string | null | undefined;
      if (q.assignee === 'me') {
        if (!request.agent)
          throw new ApiProblem(
            'invalid_request',
            'assignee=me needs an agent session, not an API key',
          );
        assigneeId = request.agent.id;
      } else if (q.assignee !== undefined) assigneeId = q.assignee === 'none' ? null : q.assignee;
      const page = await listInbox(deps, {
        workspaceId: request.workspaceId,
        ...(q.channel !== undefined ? { channelId: q.channel } : {}),
        ...(q.contact !== undefined ? { contactId: q.contact } : {}),
        ...(q.department !== undefined ? { departmentId: q.department } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(assigneeId !== undefined ? { assigneeId } : {}),
        ...(q.q ? { search: q.q } : {}),
        limit: q.limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
      return { items: page.items.map(rowView), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/conversations/:id',
    { schema: { tags: ['conversations'], params: idParams } },
    async (request) =>
      inboxGuard(async () => {
        const row = await getInboxRow(deps, request.workspaceId, request.params.id);
        const parked = await deps.store.inbox.parked.listForConversation(row.conversation.id);
        return {
          ...rowView(row),
          parkedReplies: parked.filter((p) => p.state === 'held').map(parkedView),
        };
      }),
  );

  api.get(
    '/conversations/:id/messages',
    {
      schema: {
        tags: ['conversations'],
        summary: 'The transcript, oldest first, with internal notes (kind "note") in place',
        params: idParams,
        querystring: pagingQuery,
      },
    },
    async (request) =>
      inboxGuard(async () => {
        const page = await transcriptWithNotes(deps, request.workspaceId, request.params.id, {
          limit: request.query.limit,
          ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
        });
        return {
          items: page.items.map((item) =>
            item.kind === 'note'
              ? noteView(item.note)
              : {
                  kind: 'message' as const,
                  ...messageView(item.message),
                  quotedMessageId: item.message.replyTo,
                  media: mediaOf(deps, item.message.type, item.message.content),
                  extraMedia: extraMediaOf(item.message.type, item.message.content),
                },
          ),
          nextCursor: page.nextCursor,
        };
      }),
  );

  api.post(
    '/conversations/:id/assign',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Assign or transfer to an agent and/or a department (null unassigns)',
        params: idParams,
        body: z
          .object({ agentId: id.nullable().optional(), departmentId: id.nullable().optional() })
          .strict(),
      },
    },
    async (request) =>
      inboxGuard(async () =>
        conversationFields(
          await assignConversation(deps, {
            workspaceId: request.workspaceId,
            conversationId: request.params.id,
            ...request.body,
            byAgentId: byAgent(request),
          }),
        ),
      ),
  );

  api.post(
    '/conversations/:id/close',
    { schema: { tags: ['conversations'], params: idParams } },
    async (request) =>
      inboxGuard(async () =>
        conversationFields(
          await closeConversation(deps, request.workspaceId, request.params.id, byAgent(request)),
        ),
      ),
  );
  api.post(
    '/conversations/:id/reopen',
    { schema: { tags: ['conversations'], params: idParams } },
    async (request) =>
      inboxGuard(async () =>
        conversationFields(
          await reopenConversation(deps, request.workspaceId, request.params.id, byAgent(request)),
        ),
      ),
  );
  api.post(
    '/conversations/:id/snooze',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Hide from the open queue until a time, or until the customer writes',
        params: idParams,
        body: z.object({ until: instant }).strict(),
      },
    },
    async (request) =>
      inboxGuard(async () =>
        conversationFields(
          await snoozeConversation(
            deps,
            request.workspaceId,
            request.params.id,
            request.body.until,
            byAgent(request),
          ),
        ),
      ),
  );
  api.put(
    '/conversations/:id/labels',
    {
      schema: {
        tags: ['conversations'],
        params: idParams,
        body: z.object({ labels: z.array(label).max(50) }).strict(),
      },
    },
    async (request) =>
      inboxGuard(async () =>
        conversationFields(
          await setLabels(deps, request.workspaceId, request.params.id, request.body.labels),
        ),
      ),
  );
  api.post(
    '/conversations/:id/read',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Reset unread and mark the latest customer message read on WhatsApp',
        params: idParams,
      },
    },
    async (request) =>
      inboxGuard(async () => markConversationRead(deps, request.workspaceId, request.params.id)),
  );
  api.post(
    '/conversations/:id/notes',
    {
      schema: {
        tags: ['conversations'],
        summary: 'An internal note (never sent to the customer)',
        params: idParams,
        body: z.object({ text: z.string().trim().min(1).max(4096) }).strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () =>
        reply.status(201).send(
          noteView(
            await addNote(deps, {
              workspaceId: request.workspaceId,
              conversationId: request.params.id,
              agentId: byAgent(request),
              text: request.body.text,
            }),
          ),
        ),
      ),
  );
  api.post(
    '/conversations/:id/park',
    {
      schema: {
        tags: ['conversations'],
        summary:
          'Hold a reply until the customer answers; optionally send a re-engagement template now',
        params: idParams,
        body: z
          .object({
            text: z.string().trim().min(1).max(4096),
            reengagement: z
              .object({
                templateId: id,
                parameters: z
                  .union([
                    z.array(z.string().max(1024)).max(50),
                    z.record(z.string().max(100), z.string().max(1024)),
                  ])
                  .optional(),
                components: templateComponents
                  .optional()
                  .describe('As /v1/messages takes them: media header, URL buttons, text'),
              })
              .strict()
              .optional(),
          })
          .strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () => {
        const { parked, reengagement } = await parkReply(
          deps,
          {
            workspaceId: request.workspaceId,
            conversationId: request.params.id,
            agentId: byAgent(request),
            text: request.body.text,
            ...(request.body.reengagement ? { reengagement: request.body.reengagement } : {}),
          },
          options.onMessageQueued,
        );
        return reply.status(201).send({
          ...parkedView(parked),
          reengagement: reengagement ? messageView(reengagement) : null,
        });
      }),
  );
  api.delete(
    '/parked-replies/:id',
    { schema: { tags: ['conversations'], summary: 'Cancel a held reply', params: idParams } },
    async (request, reply) =>
      inboxGuard(async () => {
        await cancelParked(deps, request.workspaceId, request.params.id);
        return reply.status(204).send();
      }),
  );

  // Canned responses
  const cannedBody = z
    .object({ shortcut: z.string().trim().min(1).max(64), text: z.string().min(1).max(4096) })
    .strict();
  const ownCanned = async (workspaceId: string, cannedId: string) => {
    const c = await deps.store.inbox.canned.get(cannedId);
    if (!c || c.workspaceId !== workspaceId)
      throw new InboxError('not_found', `No canned response ${cannedId} in this workspace`);
    return c;
  };
  const shortcutFree = async (workspaceId: string, shortcut: string, except?: string) => {
    const taken = (await deps.store.inbox.canned.list(workspaceId)).some(
      (c) => c.shortcut === shortcut && c.id !== except,
    );
    if (taken) throw new InboxError('conflict', `The shortcut ${shortcut} is taken`);
  };
  api.get('/canned-responses', { schema: { tags: ['canned-responses'] } }, async (request) => ({
    items: (await deps.store.inbox.canned.list(request.workspaceId)).map(cannedView),
  }));
  api.post(
    '/canned-responses',
    { schema: { tags: ['canned-responses'], body: cannedBody } },
    async (request, reply) =>
      inboxGuard(async () => {
        await shortcutFree(request.workspaceId, request.body.shortcut);
        const c = await deps.store.inbox.canned.create({
          workspaceId: request.workspaceId,
          ...request.body,
          at: deps.clock.now(),
        });
        return reply.status(201).send(cannedView(c));
      }),
  );
  api.patch(
    '/canned-responses/:id',
    { schema: { tags: ['canned-responses'], params: idParams, body: cannedBody.partial() } },
    async (request) =>
      inboxGuard(async () => {
        await ownCanned(request.workspaceId, request.params.id);
        if (request.body.shortcut !== undefined)
          await shortcutFree(request.workspaceId, request.body.shortcut, request.params.id);
        const c = await deps.store.inbox.canned.update(
          request.params.id,
          request.body,
          deps.clock.now(),
        );
        if (!c) throw new InboxError('not_found', `No canned response ${request.params.id}`);
        return cannedView(c);
      }),
  );
  api.delete(
    '/canned-responses/:id',
    { schema: { tags: ['canned-responses'], params: idParams } },
    async (request, reply) =>
      inboxGuard(async () => {
        await ownCanned(request.workspaceId, request.params.id);
        await deps.store.inbox.canned.delete(request.params.id);
        return reply.status(204).send();
      }),
  );

  // Contact panel
  api.get(
    '/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        summary: 'A contact with attributes, tags, entry point (ad referral) and cost so far',
        params: idParams,
      },
    },
    async (request) =>
      inboxGuard(async () => {
        const contact = await getContact(deps, request.workspaceId, request.params.id);
        const [costs, entry] = await Promise.all([
          deps.store.inbox.contacts.cost(request.workspaceId, contact.id),
          deps.store.inbox.contacts.entryPoint(request.workspaceId, contact.id),
        ]);
        return {
          ...contactView(contact),
          phone: `+${contact.waId}`,
          entryPoint: entry ? { at: iso(entry.at), referral: entry.referral } : null,
          cost: costView(costs),
          costs: costs.map((c) => costView([c])),
        };
      }),
  );
  api.patch(
    '/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        params: idParams,
        body: z
          .object({
            name: z.string().trim().min(1).max(200).nullable().optional(),
            attributes: z
              .record(
                z.string().min(1).max(100),
                z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]),
              )
              .optional(),
            tags: z.array(label).max(100).optional(),
          })
          .strict(),
      },
    },
    async (request) =>
      inboxGuard(async () => {
        await getContact(deps, request.workspaceId, request.params.id);
        const b = request.body;
        const updated = await deps.store.inbox.contacts.update(
          request.params.id,
          {
            ...(b.name !== undefined ? { name: b.name } : {}),
            ...(b.attributes !== undefined ? { attributes: b.attributes } : {}),
            ...(b.tags !== undefined ? { tags: [...new Set(b.tags)] } : {}),
          },
          deps.clock.now(),
        );
        if (!updated) throw new InboxError('not_found', `No contact ${request.params.id}`);
        return contactView(updated);
      }),
  );

  // Reports
  api.get(
    '/reports/response-times',
    {
      schema: {
        tags: ['reports'],
        summary: 'First-response and resolution times per agent and department',
        querystring: z.object({ from: instantQuery, to: instantQuery }),
      },
    },
    async (request) => {
      const { from, to } = request.query;
      if (to <= from) throw new ApiProblem('invalid_request', 'to must be after from');
      const report = await responseTimes(deps, request.workspaceId, from, to);
      return { from: iso(from), to: iso(to), ...report };
    },
  );

  // Live updates
  api.get(
    '/stream',
    {
      schema: {
        tags: ['events'],
        summary: "Server-Sent Events of the workspace's domain events, with heartbeats",
      },
    },
    (request, reply) => {
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Proxies (nginx) would otherwise buffer the stream.
        'x-accel-buffering': 'no',
      });
      raw.write(': connected\nretry: 3000\n\n');
      const send = (event: DomainEvent) => {
        if (event.workspaceId !== request.workspaceId) return;
        raw.write(
          `event: ${event.type}\ndata: ${JSON.stringify({ ...event.data, at: event.at })}\n\n`,
        );
      };
      const unsubscribe = deps.events.subscribe(send);
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const end = () => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      request.raw.on('close', end);
      raw.on('close', end);
    },
  );
}

export const HEARTBEAT_MS = 15_000;

/**
 * The second and later media of an inbound message (Twilio's MediaUrl1..N), Parley's copies from
 * `content.extraMedia`, each shaped like `media`; empty for a message with one media or none.
 */
function extraMediaOf(type: string, content: unknown) {
  if (!['image', 'video', 'audio', 'document', 'sticker'].includes(type)) return [];
  const body = content && typeof content === 'object' && !Array.isArray(content) ? content : {};
  const listed = (body as Record<string, unknown>).extraMedia;
  if (!Array.isArray(listed)) return [];
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return listed.flatMap((entry: unknown) => {
    if (!entry || typeof entry !== 'object') return [];
    const copy = entry as Record<string, unknown>;
    const id = str(copy.id);
    if (id === null) return [];
    return [
      {
        id,
        state: str(copy.state),
        mime: str(copy.contentType),
        url: str(copy.url) ?? `/v1/media/${encodeURIComponent(id)}`,
        caption: null,
        filename: str(copy.filename),
      },
    ];
  });
}

/**
 * Media of a transcript message: inbound media points at Parley's copy (`content.media`, served
 * under /v1/media/:id); outbound media names the provider id or link it was sent with, except an
 * upload's link, which carries its token: the agent's browser gets the upload under /v1/media/:id.
 */
function mediaOf(deps: AppDeps, type: string, content: unknown) {
  if (!['image', 'video', 'audio', 'document', 'sticker'].includes(type)) return null;
  const record = (v: unknown): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const body = record(content);
  const copy = record(body.media);
  const sent = record(body[type] ?? record(body.content)[type]);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const link = str(sent.link);
  const upload = link === null ? null : uploadIdOfLink(deps, link);
  if (upload !== null)
    return {
      id: upload,
      state: null,
      mime: null,
      url: `/v1/media/${encodeURIComponent(upload)}`,
      caption: str(sent.caption),
      filename: str(sent.filename),
    };
  return {
    id: str(copy.id) ?? str(sent.id),
    state: str(copy.state),
    mime: str(copy.contentType) ?? str(sent.mime_type),
    url: str(copy.url) ?? str(sent.link),
    caption: str(sent.caption),
    filename: str(sent.filename),
  };
}
