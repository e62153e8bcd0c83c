// /v1/automations (chatbot flows: CRUD and recent runs), a conversation's bot runs, and the
// business hours of a channel that `outside_hours` triggers read.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { businessCalendarSchema, flowDefinitionSchema } from '../../app/automation/flow-schema.ts';
import {
  createFlow,
  deleteBusinessHours,
  deleteFlow,
  flowView,
  getBusinessHours,
  getFlow,
  setBusinessHours,
  updateFlow,
} from '../../app/automation/flows.ts';
import { PolicyError } from '../../app/policy-errors.ts';
import type { AutomationRunRecord } from '../../ports/automation-store.ts';
import type { HttpOptions } from '../server.ts';
import { iso } from '../views.ts';
import { idParams } from '../schemas.ts';
import { policyGuard } from './policy-guard.ts';

function runView(run: AutomationRunRecord) {
  return {
    id: run.id,
    automationId: run.automationId,
    automation: typeof run.definition.name === 'string' ? run.definition.name : null,
    conversationId: run.conversationId,
    contactId: run.contactId,
    channelId: run.channelId,
    messageId: run.messageId,
    status: run.status,
    step: run.step,
    waitingUntil: iso(run.waitingUntil),
    reason: run.reason,
    log: run.log,
    startedAt: iso(run.startedAt),
    updatedAt: iso(run.updatedAt),
  };
}

export function registerAutomationRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;
  const tags = ['automations'];

  api.get(
    '/automations',
    { schema: { tags, summary: 'Chatbot flows of the workspace, in creation order' } },
    async (request) => ({
      items: (await deps.store.automations.flows.list(request.workspaceId)).map(flowView),
    }),
  );

  api.post(
    '/automations',
    {
      schema: {
        tags,
        summary: 'Create a flow (trigger and steps); nothing is stored unless it is all valid',
        body: flowDefinitionSchema,
      },
    },
    async (request, reply) =>
      policyGuard(async () =>
        reply.status(201).send(flowView(await createFlow(deps, request.workspaceId, request.body))),
      ),
  );

  api.get('/automations/:id', { schema: { tags, params: idParams } }, async (request) =>
    policyGuard(async () => flowView(await getFlow(deps, request.workspaceId, request.params.id))),
  );

  api.patch(
    '/automations/:id',
    {
      schema: {
        tags,
        summary: 'Replace some top-level fields; the result must be a valid flow',
        params: idParams,
        body: flowDefinitionSchema.partial(),
      },
    },
    async (request) =>
      policyGuard(async () =>
        flowView(await updateFlow(deps, request.workspaceId, request.params.id, request.body)),
      ),
  );

  api.delete(
    '/automations/:id',
    { schema: { tags, summary: 'Delete a flow (runs under way finish)', params: idParams } },
    async (request, reply) =>
      policyGuard(async () => {
        await deleteFlow(deps, request.workspaceId, request.params.id);
        return reply.status(204).send();
      }),
  );

  api.get(
    '/automations/:id/runs',
    {
      schema: {
        tags,
        summary: 'Recent runs of a flow, newest first, with what each step did',
        params: idParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
    },
    async (request) =>
      policyGuard(async () => {
        const flow = await getFlow(deps, request.workspaceId, request.params.id);
        const runs = await deps.store.automations.runs.listByAutomation(
          request.workspaceId,
          flow.id,
          request.query.limit,
        );
        return { items: runs.map(runView) };
      }),
  );

  api.get(
    '/conversations/:id/automation-runs',
    {
      schema: {
        tags,
        summary: 'Bot runs in a conversation, newest first (handed off, waiting, stopped …)',
        params: idParams,
      },
    },
    async (request) =>
      policyGuard(async () => {
        const conversation = await deps.store.conversations.get(request.params.id);
        if (!conversation || conversation.workspaceId !== request.workspaceId)
          throw new PolicyError(
            'not_found',
            `No conversation ${request.params.id} in this workspace`,
          );
        const runs = await deps.store.automations.runs.listByConversation(conversation.id);
        return { items: runs.map(runView) };
      }),
  );

  api.get(
    '/channels/:id/business-hours',
    { schema: { tags, summary: "A channel's business calendar", params: idParams } },
    async (request) =>
      policyGuard(async () => {
        const calendar = await getBusinessHours(deps, request.workspaceId, request.params.id);
        if (!calendar)
          throw new PolicyError('not_found', `Channel ${request.params.id} has no business hours`);
        return calendar;
      }),
  );

  api.put(
    '/channels/:id/business-hours',
    {
      schema: {
        tags,
        summary: 'Set weekly hours (IANA zone) and holidays of a channel',
        params: idParams,
        body: businessCalendarSchema,
      },
    },
    async (request) =>
      policyGuard(async () =>
        setBusinessHours(deps, request.workspaceId, request.params.id, request.body),
      ),
  );

  api.delete(
    '/channels/:id/business-hours',
    { schema: { tags, params: idParams } },
    async (request, reply) =>
      policyGuard(async () => {
        await deleteBusinessHours(deps, request.workspaceId, request.params.id);
        return reply.status(204).send();
      }),
  );
}
