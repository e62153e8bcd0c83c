// /v1/templates: the template registry (CRUD, lint, submit, sync, preview), scoped to the
// caller's workspace. Definitions are Meta's creation shape, checked against TPL-1..6.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { lintTemplate, hasErrors } from '../../core/templates/lint.ts';
import type { TemplateBody } from '../../core/messages.ts';
import {
  createTemplate,
  deleteTemplate,
  editTemplate,
  getTemplate,
  listTemplates,
  previewTemplate,
  submitTemplate,
  syncChannelTemplates,
  templateView,
} from '../../app/template-registry.ts';
import { PolicyError } from '../../app/policy-errors.ts';
import type { HttpOptions } from '../server.ts';
import { policyGuard } from './policy-guard.ts';

const id = z.string().min(1).max(100);
const idParams = z.object({ id });

/** A definition in Meta's creation shape; the TPL rules check it, so it is kept loose here. */
const definitionBody = z
  .object({
    name: z.unknown().describe('TPL-1: 1–512 characters of a-z, 0-9 and _'),
    language: z.unknown().describe("TPL-6: a language code from Meta's list, e.g. en_US"),
    category: z
      .unknown()
      .describe('TPL-2: MARKETING, UTILITY or AUTHENTICATION (legacy values are mapped)'),
    parameter_format: z.unknown().optional(),
    components: z.unknown().describe('TPL-3: HEADER, BODY, FOOTER, BUTTONS'),
  })
  .loose();

const createBody = definitionBody.extend({
  channelId: id
    .optional()
    .describe('The channel (and so the WABA) the template belongs to; absent: workspace-wide'),
});

const editBody = z
  .object({
    category: z.string().min(1).max(40).optional(),
    parameter_format: z.enum(['POSITIONAL', 'NAMED', 'positional', 'named']).optional(),
    components: z.array(z.record(z.string(), z.unknown())).min(1).max(10).optional(),
  })
  .strict()
  .refine(
    (b) => Object.keys(b).length > 0,
    'name at least one of category, components, parameter_format',
  );

const listQuery = z.object({
  name: z.string().max(512).optional(),
  language: z.string().max(20).optional(),
  status: z.string().max(40).optional(),
  channel: id.optional(),
});

const componentParams = z.array(
  z
    .object({
      type: z.enum(['header', 'body', 'button', 'footer']),
      sub_type: z.string().max(40).optional(),
      index: z.union([z.string().max(3), z.number().int().min(0).max(99)]).optional(),
      parameters: z
        .array(z.object({ type: z.string().min(1).max(40) }).loose())
        .max(100)
        .optional(),
    })
    .strict(),
);

const previewBody = z.object({ components: componentParams.max(20).optional() }).strict();
const submitBody = z.object({ channelId: id.optional() }).strict();
const syncBody = z.object({ channelId: id.optional() }).strict();

export function registerTemplateRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;
  const tags = ['templates'];

  api.get(
    '/templates',
    { schema: { tags, summary: 'Templates of the workspace', querystring: listQuery } },
    async (request) => {
      const q = request.query;
      const items = await listTemplates(deps, request.workspaceId, {
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.language !== undefined ? { language: q.language } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.channel !== undefined ? { channelId: q.channel } : {}),
      });
      const now = deps.clock.now();
      return { items: items.map((t) => templateView(t.record, t.lifecycle, now)) };
    },
  );

  api.post(
    '/templates',
    {
      schema: {
        tags,
        summary: 'Create a template (DRAFT) from a definition in Meta’s creation shape',
        body: createBody,
      },
    },
    async (request, reply) =>
      policyGuard(async () => {
        const { channelId, ...definition } = request.body;
        const created = await createTemplate(deps, request.workspaceId, {
          definition,
          channelId: channelId ?? null,
        });
        return reply.status(201).send({
          ...templateView(created.record, created.lifecycle, deps.clock.now()),
          findings: created.findings,
        });
      }),
  );

  api.post(
    '/templates/lint',
    {
      schema: {
        tags,
        summary: 'Check a definition against the TPL rules without storing it',
        body: definitionBody,
      },
    },
    (request) => {
      const findings = lintTemplate(request.body);
      return { valid: !hasErrors(findings), findings };
    },
  );

  api.post(
    '/templates/sync',
    {
      schema: {
        tags,
        summary: 'Reconcile templates with the provider now (TPL-8), one channel or all',
        body: syncBody,
      },
    },
    async (request) =>
      policyGuard(async () => {
        const all = await deps.store.channels.list(request.workspaceId);
        const wanted = request.body.channelId;
        const channels = wanted === undefined ? all : all.filter((c) => c.id === wanted);
        if (wanted !== undefined && channels.length === 0)
          throw new PolicyError('not_found', `No channel ${wanted} in this workspace`);
        const items = [];
        for (const channel of channels) {
          try {
            const { summary, events } = await syncChannelTemplates(deps, channel);
            for (const e of events) deps.events.publish(e);
            items.push({ ...summary, error: null });
          } catch (error) {
            items.push({
              channelId: channel.id,
              created: 0,
              updated: 0,
              unchanged: 0,
              removed: 0,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }
        return { items };
      }),
  );

  api.get('/templates/:id', { schema: { tags, params: idParams } }, async (request) =>
    policyGuard(async () => {
      const t = await getTemplate(deps, request.workspaceId, request.params.id);
      return templateView(t.record, t.lifecycle, deps.clock.now());
    }),
  );

  api.patch(
    '/templates/:id',
    {
      schema: {
        tags,
        summary: 'Edit a template (drafts freely; submitted ones within TPL-9’s limits)',
        params: idParams,
        body: editBody,
      },
    },
    async (request) =>
      policyGuard(async () => {
        const b = request.body;
        const edited = await editTemplate(deps, request.workspaceId, request.params.id, {
          ...(b.category !== undefined ? { category: b.category } : {}),
          ...(b.components !== undefined ? { components: b.components } : {}),
          ...(b.parameter_format !== undefined
            ? { parameter_format: b.parameter_format.toUpperCase() }
            : {}),
        });
        return {
          ...templateView(edited.record, edited.lifecycle, deps.clock.now()),
          findings: edited.findings,
        };
      }),
  );

  api.delete(
    '/templates/:id',
    { schema: { tags, summary: 'Delete (at the provider too)', params: idParams } },
    async (request, reply) =>
      policyGuard(async () => {
        await deleteTemplate(deps, request.workspaceId, request.params.id);
        return reply.status(204).send();
      }),
  );

  api.post(
    '/templates/:id/submit',
    {
      schema: {
        tags,
        summary: 'Submit to the channel’s provider for review (TPL-7 limits apply)',
        params: idParams,
        body: submitBody,
      },
    },
    async (request, reply) =>
      policyGuard(async () => {
        const submitted = await submitTemplate(deps, request.workspaceId, request.params.id, {
          ...(request.body.channelId !== undefined ? { channelId: request.body.channelId } : {}),
        });
        return reply
          .status(202)
          .send(templateView(submitted.record, submitted.lifecycle, deps.clock.now()));
      }),
  );

  api.post(
    '/templates/:id/preview',
    {
      schema: {
        tags,
        summary: 'Render with given parameters (TPL-12) and check them (TPL-10/11)',
        params: idParams,
        body: previewBody,
      },
    },
    async (request) =>
      policyGuard(() =>
        previewTemplate(
          deps,
          request.workspaceId,
          request.params.id,
          request.body.components as TemplateBody['components'],
        ),
      ),
  );
}
