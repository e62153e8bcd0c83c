// POST /v1/notifications: a template notification for a business system (channel choice,
// consent, template checks, LIM-7 duplicate suppression, Idempotency-Key), and its settings.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendNotification } from '../../app/notifications.ts';
import {
  notificationSettings,
  notificationSettingsInput,
  notificationSettingsView,
  updateNotificationSettings,
} from '../../app/workspace-policy.ts';
import { problem, sendProblem } from '../problem.ts';
import type { HttpOptions } from '../server.ts';
import { iso, messageView } from '../views.ts';
import { policyGuard } from './policy-guard.ts';

const id = z.string().min(1).max(100);

const notificationBody = z
  .object({
    to: z.string().min(6).max(20).describe('Recipient phone number, E.164 with or without +'),
    channelId: id
      .optional()
      .describe('The channel to send from; default: the workspace default, or its only channel'),
    template: z
      .object({
        name: z.string().min(1).max(512),
        language: z.object({
          code: z.string().min(2).max(20),
          policy: z.literal('deterministic').optional(),
        }),
        components: z
          .array(
            z.object({
              type: z.enum(['header', 'body', 'button', 'footer']),
              sub_type: z.string().max(40).optional(),
              index: z.union([z.string().max(3), z.number().int().min(0).max(99)]).optional(),
              parameters: z
                .array(z.object({ type: z.string().min(1).max(40) }).loose())
                .max(100)
                .optional(),
            }),
          )
          .max(20)
          .optional(),
      })
      .strict(),
  })
  .strict();

const idempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(200).optional(),
});

export function registerNotificationRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;
  const tags = ['notifications'];

  api.post(
    '/notifications',
    {
      schema: {
        tags,
        summary:
          'Send a template notification; the same one within the window is not sent twice (LIM-7)',
        body: notificationBody,
        headers: idempotencyHeader,
      },
    },
    async (request, reply) =>
      policyGuard(async () => {
        const b = request.body;
        const key = request.headers['idempotency-key'];
        const outcome = await sendNotification(deps, {
          workspaceId: request.workspaceId,
          to: b.to,
          template: b.template,
          ...(b.channelId !== undefined ? { channelId: b.channelId } : {}),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        });
        const m = outcome.message;
        if (outcome.kind === 'duplicate')
          return reply.status(200).send({
            messageId: m.id,
            duplicate: true,
            suppressedUntil: iso(outcome.suppressedUntil),
            message: messageView(m),
          });
        if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
        if (outcome.kind === 'refused')
          return sendProblem(
            reply,
            problem(m.reason ?? 'invalid_request', m.reasonDetail ?? 'refused', {
              messageId: m.id,
              message: messageView(m),
            }),
          );
        options.onMessageQueued();
        return reply
          .status(outcome.replayed ? 200 : 202)
          .send({ messageId: m.id, duplicate: false, message: messageView(m) });
      }),
  );

  api.get(
    '/notifications/settings',
    { schema: { tags, summary: 'Default channel and duplicate window (LIM-7)' } },
    async (request) =>
      notificationSettingsView(
        notificationSettings(await deps.store.workspaces.get(request.workspaceId)),
      ),
  );

  api.patch(
    '/notifications/settings',
    { schema: { tags, body: notificationSettingsInput } },
    async (request) =>
      policyGuard(async () =>
        notificationSettingsView(
          await updateNotificationSettings(deps, request.workspaceId, request.body),
        ),
      ),
  );
}
