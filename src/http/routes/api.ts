// The /v1 API: every route is scoped to the workspace of the caller's API key.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { JsonObject } from '../../ports/store.ts';
import {
  AdminError,
  connectionView,
  createApiKey,
  createChannel,
  createConnection,
  getChannel,
  getConnection,
  updateConnection,
} from '../../app/admin.ts';
import { NotFound, getEligibility, getMessage } from '../../app/queries.ts';
import { sendMessage } from '../../app/send-message.ts';
import { mediaGroupContents, sendMediaGroup } from '../../app/send-media-group.ts';
import { markUploadsUsed, resolveExtraUploads, resolveUploads } from '../../app/graph-media.ts';
import {
  assignConversation,
  closeConversation,
  getInboxConversation,
  reopenConversation,
} from '../../app/inbox.ts';
import { inboxGuard } from './inbox-guard.ts';
import { ApiProblem, problem, sendProblem } from '../problem.ts';
import {
  contactsQuery,
  createApiKeyBody,
  createChannelBody,
  createConnectionBody,
  eligibilityQuery,
  idParams,
  idempotencyHeader,
  sendMessageBody,
  updateChannelBody,
  updateConnectionBody,
  updateConversationBody,
} from '../schemas.ts';
import type { HttpOptions } from '../server.ts';
import { purposeConsentView } from './consent.ts';
import {
  apiKeyView,
  channelView,
  contactView,
  conversationView,
  iso,
  messageView,
  statusView,
  windowView,
} from '../views.ts';

/** Turns the app layer's typed errors into problems (the mapping itself lives in problem.ts). */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AdminError) throw new ApiProblem(error.code, error.message);
    if (error instanceof NotFound) throw new ApiProblem('not_found', error.message);
    throw error;
  }
}

export interface ApiRouteHooks {
  /** A key was revoked: forget any cached authentication for it. */
  readonly onApiKeyRevoked: (keyId: string) => void;
}

export function registerApiRoutes(
  app: FastifyInstance,
  options: HttpOptions,
  hooks: ApiRouteHooks,
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;

  // Messages
  api.post(
    '/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message (policy-checked, queued, idempotent)',
        body: sendMessageBody,
        headers: idempotencyHeader,
      },
    },
    async (request, reply) => {
      const { channelId, to, replyTo, ...rest } = request.body;
      const { extraMedia, ...body } = { extraMedia: undefined, ...rest };
      // Media named by the id of a Parley upload goes out as its link (LIM-6 checked again).
      const resolved = await resolveUploads(deps, request.workspaceId, body);
      if (resolved.kind === 'invalid') throw new ApiProblem('invalid_request', resolved.detail);
      const extras =
        extraMedia === undefined
          ? undefined
          : await resolveExtraUploads(deps, request.workspaceId, body.type, extraMedia);
      if (extras?.kind === 'invalid') throw new ApiProblem('invalid_request', extras.detail);
      if (extras !== undefined) {
        const group = mediaGroupContents(resolved.content, extras.extras);
        if (!Array.isArray(group)) throw new ApiProblem('invalid_request', group.detail);
      }
      // Only a valid request records the uploads it links to (retention keeps them).
      const gone = await markUploadsUsed(deps, [
        ...resolved.uploadIds,
        ...(extras?.uploadIds ?? []),
      ]);
      if (gone) throw new ApiProblem('invalid_request', gone);
      const input = {
        workspaceId: request.workspaceId,
        channelId,
        to,
        replyTo,
        content: resolved.content,
        ...(request.agent ? { agentId: request.agent.id } : {}),
        idempotencyKey: request.headers['idempotency-key'],
      };
      if (extras !== undefined) {
        const group = await sendMediaGroup(deps, input, extras.extras);
        if (group.kind === 'invalid') throw new ApiProblem(group.code, group.detail);
        const messages = group.messages.map((o) => messageView(o.message));
        if (group.messages.every((o) => o.replayed)) reply.header('Idempotent-Replayed', 'true');
        const first = group.first;
        if (first.kind === 'refused')
          return sendProblem(
            reply,
            problem(
              first.message.reason ?? 'invalid_request',
              first.message.reasonDetail ?? 'refused',
              {
                messageId: first.message.id,
                message: messageView(first.message),
              },
            ),
          );
        options.onMessageQueued();
        return reply.status(first.replayed ? 200 : 202).send({
          ...messageView(first.message),
          messages,
          ...(group.incomplete ? { incomplete: group.incomplete } : {}),
        });
      }
      const outcome = await sendMessage(deps, input);
      if (outcome.kind === 'invalid') throw new ApiProblem(outcome.code, outcome.detail);
      if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
      if (outcome.kind === 'refused') {
        const m = outcome.message;
        return sendProblem(
          reply,
          problem(m.reason ?? 'invalid_request', m.reasonDetail ?? 'refused', {
            messageId: m.id,
            message: messageView(m),
          }),
        );
      }
      options.onMessageQueued();
      return reply.status(outcome.replayed ? 200 : 202).send(messageView(outcome.message));
    },
  );

  api.get(
    '/messages/:id',
    {
      schema: {
        tags: ['messages'],
        summary: 'A message with its full status history',
        params: idParams,
      },
    },
    async (request) =>
      guard(async () => {
        const { message, statuses } = await getMessage(
          deps,
          request.workspaceId,
          request.params.id,
        );
        return { ...messageView(message), statuses: statuses.map(statusView) };
      }),
  );

  // Conversations (the inbox's list, transcript and actions are in routes/inbox.ts)
  api.patch(
    '/conversations/:id',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Assign, close or reopen',
        params: idParams,
        body: updateConversationBody,
      },
    },
    async (request) =>
      inboxGuard(async () => {
        // The inbox's use cases, so assignment and closing emit their events here too.
        const { workspaceId } = request;
        const id = request.params.id;
        const by = request.agent?.id ?? null;
        let updated = await getInboxConversation(deps, workspaceId, id);
        const b = request.body;
        if (b.assigneeId !== undefined)
          updated = await assignConversation(deps, {
            workspaceId,
            conversationId: id,
            agentId: b.assigneeId,
            byAgentId: by,
          });
        if (b.state === 'closed') updated = await closeConversation(deps, workspaceId, id, by);
        if (b.state === 'open') updated = await reopenConversation(deps, workspaceId, id, by);
        return conversationView(updated);
      }),
  );

  // Contacts
  api.get(
    '/contacts',
    { schema: { tags: ['contacts'], querystring: contactsQuery } },
    async (request) => {
      const page = await deps.store.contacts.list({
        workspaceId: request.workspaceId,
        limit: request.query.limit,
        cursor: request.query.cursor,
        search: request.query.search,
      });
      return { items: page.items.map(contactView), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/contacts/:id/eligibility',
    {
      schema: {
        tags: ['contacts'],
        summary: 'May free-form be sent now, and until when; templates allowed',
        params: idParams,
        querystring: eligibilityQuery,
      },
    },
    async (request) =>
      guard(async () => {
        const e = await getEligibility(
          deps,
          request.workspaceId,
          request.params.id,
          request.query.channel,
        );
        return {
          contactId: e.contact.id,
          channelId: e.channel.id,
          lastInboundAt: iso(e.lastInboundAt),
          window: windowView(e),
          allowed: { freeForm: e.freeFormAllowed, template: e.templatesAllowed },
          prices: e.prices,
          consent: purposeConsentView(e.consent),
        };
      }),
  );

  // Connections
  api.get('/connections', { schema: { tags: ['connections'] } }, async (request) => ({
    items: (await deps.store.connections.list(request.workspaceId)).map((c) =>
      connectionView(deps, c),
    ),
  }));
  api.post(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Add provider credentials (secrets are write-only)',
        body: createConnectionBody,
      },
    },
    async (request, reply) =>
      guard(async () => {
        const b = request.body;
        const c = await createConnection(deps, {
          workspaceId: request.workspaceId,
          provider: b.provider,
          name: b.name,
          config: (b.config ?? {}) as JsonObject,
          secrets: b.secrets,
        });
        return reply.status(201).send(connectionView(deps, c));
      }),
  );
  api.get(
    '/connections/:id',
    { schema: { tags: ['connections'], params: idParams } },
    async (request) =>
      guard(async () =>
        connectionView(deps, await getConnection(deps, request.workspaceId, request.params.id)),
      ),
  );
  api.patch(
    '/connections/:id',
    { schema: { tags: ['connections'], params: idParams, body: updateConnectionBody } },
    async (request) =>
      guard(async () => {
        const b = request.body;
        const c = await updateConnection(deps, request.workspaceId, request.params.id, {
          name: b.name,
          config: b.config as JsonObject | undefined,
          secrets: b.secrets,
        });
        return connectionView(deps, c);
      }),
  );

  // Channels
  api.get('/channels', { schema: { tags: ['channels'] } }, async (request) => ({
    items: (await deps.store.channels.list(request.workspaceId)).map(channelView),
  }));
  api.post(
    '/channels',
    { schema: { tags: ['channels'], summary: 'Add a business number', body: createChannelBody } },
    async (request, reply) =>
      guard(async () =>
        reply
          .status(201)
          .send(
            channelView(
              await createChannel(deps, { workspaceId: request.workspaceId, ...request.body }),
            ),
          ),
      ),
  );
  api.get('/channels/:id', { schema: { tags: ['channels'], params: idParams } }, async (request) =>
    guard(async () => channelView(await getChannel(deps, request.workspaceId, request.params.id))),
  );
  api.patch(
    '/channels/:id',
    { schema: { tags: ['channels'], params: idParams, body: updateChannelBody } },
    async (request) =>
      guard(async () => {
        await getChannel(deps, request.workspaceId, request.params.id);
        const b = request.body;
        const updated = await deps.store.channels.update(request.params.id, {
          ...b,
          ...(b.allowList ? { allowList: b.allowList.map((n) => n.replace(/^\+/, '')) } : {}),
        });
        if (!updated) throw new NotFound(`No channel ${request.params.id}`);
        return channelView(updated);
      }),
  );

  // API keys
  api.get('/api-keys', { schema: { tags: ['api-keys'] } }, async (request) => ({
    items: (await deps.store.apiKeys.list(request.workspaceId)).map(apiKeyView),
  }));
  api.post(
    '/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Create a key; the key is shown only in this response',
        body: createApiKeyBody,
      },
    },
    async (request, reply) => {
      const { key, record } = await createApiKey(deps, request.workspaceId, request.body.name);
      return reply.status(201).send({ ...apiKeyView(record), key });
    },
  );
  api.delete(
    '/api-keys/:id',
    { schema: { tags: ['api-keys'], params: idParams } },
    async (request, reply) => {
      const revoked = await deps.store.apiKeys.revoke(
        request.workspaceId,
        request.params.id,
        deps.clock.now(),
      );
      if (!revoked)
        throw new ApiProblem('not_found', `No API key ${request.params.id} in this workspace`);
      hooks.onApiKeyRevoked(request.params.id);
      return reply.status(204).send();
    },
  );
}
