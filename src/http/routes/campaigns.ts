// /v1/campaigns: create (contacts filter or CSV), estimate, start, pause, resume, cancel,
// progress and per-recipient results; /v1/limits: the workspace's LIM-3/LIM-4 settings.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CAMPAIGN_ACTIONS, RECIPIENT_OUTCOMES } from '../../core/campaigns.ts';
import {
  actOnCampaign,
  campaignInput,
  createCampaign,
  estimateCampaign,
  getCampaign,
  listCampaigns,
  listRecipients,
  type CampaignDetail,
} from '../../app/campaigns.ts';
import {
  limitSettings,
  limitSettingsInput,
  limitSettingsView,
  updateLimitSettings,
} from '../../app/outbound-limits.ts';
import type { CampaignRecord } from '../../ports/campaign-store.ts';
import { idParams, pagingQuery } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';
import { iso } from '../views.ts';
import { policyGuard } from './policy-guard.ts';

/** A CSV audience of 200,000 lines with a few parameters each fits. */
const CAMPAIGN_BODY_LIMIT = 32 * 1024 * 1024;

export function campaignView(c: CampaignRecord) {
  return {
    id: c.id,
    name: c.name,
    channelId: c.channelId,
    template: { name: c.template.name, language: c.template.language, category: c.category },
    state: c.state,
    pauseReason: c.pauseReason,
    pauseDetail: c.pauseDetail,
    startAt: iso(c.startAt),
    deferredUntil: iso(c.deferredUntil),
    audience: c.audience,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    startedAt: iso(c.startedAt),
    finishedAt: iso(c.finishedAt),
  };
}

function detailView(d: CampaignDetail) {
  return {
    ...campaignView(d.campaign),
    progress: {
      total: d.progress.total,
      ...d.progress.byOutcome,
      skippedByReason: d.progress.skippedByReason,
      failedByReason: d.progress.failedByReason,
    },
  };
}

const recipientsQuery = pagingQuery.extend({
  outcome: z.enum(RECIPIENT_OUTCOMES).optional(),
});

export function registerCampaignRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;
  const tags = ['campaigns'];

  api.post(
    '/campaigns',
    {
      bodyLimit: CAMPAIGN_BODY_LIMIT,
      schema: {
        tags,
        summary:
          'Create a draft campaign: audience by contact tags/attributes or CSV, consent-filtered (OPT-7) with a skip report',
        body: campaignInput,
      },
    },
    async (request, reply) =>
      policyGuard(async () => {
        const created = await createCampaign(deps, request.workspaceId, request.body);
        return reply.status(201).send(detailView(created));
      }),
  );

  api.get(
    '/campaigns',
    { schema: { tags, summary: 'List campaigns, newest first', querystring: pagingQuery } },
    async (request) => {
      const page = await listCampaigns(deps, request.workspaceId, {
        limit: request.query.limit,
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
      });
      return { items: page.items.map(campaignView), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/campaigns/:id',
    { schema: { tags, summary: 'A campaign with live progress', params: idParams } },
    async (request) =>
      policyGuard(async () =>
        detailView(await getCampaign(deps, request.workspaceId, request.params.id)),
      ),
  );

  api.get(
    '/campaigns/:id/estimate',
    {
      schema: {
        tags,
        summary: 'Cost of the recipients still to send, per market and category, at today’s rates',
        params: idParams,
      },
    },
    async (request) =>
      policyGuard(() => estimateCampaign(deps, request.workspaceId, request.params.id)),
  );

  api.get(
    '/campaigns/:id/recipients',
    {
      schema: {
        tags,
        summary:
          'Per-recipient outcome (pending, queued, review, sent, delivered, read, failed, skipped)',
        params: idParams,
        querystring: recipientsQuery,
      },
    },
    async (request) =>
      policyGuard(async () => {
        const q = request.query;
        const page = await listRecipients(deps, request.workspaceId, request.params.id, {
          limit: q.limit,
          ...(q.cursor ? { cursor: q.cursor } : {}),
          ...(q.outcome ? { outcome: q.outcome } : {}),
        });
        return {
          items: page.items.map((r) => ({
            seq: r.seq,
            phoneNumber: /^\d+$/.test(r.waId) ? `+${r.waId}` : null,
            outcome: r.outcome,
            reason: r.reason,
            detail: r.detail,
            messageId: r.messageId,
            updatedAt: iso(r.updatedAt),
          })),
          nextCursor: page.nextCursor,
        };
      }),
  );

  for (const action of CAMPAIGN_ACTIONS)
    api.post(
      `/campaigns/:id/${action}`,
      {
        schema: {
          tags,
          summary: `${action[0]?.toUpperCase() ?? ''}${action.slice(1)} a campaign`,
          params: idParams,
        },
      },
      async (request) =>
        policyGuard(async () => {
          const done = await actOnCampaign(deps, request.workspaceId, request.params.id, action);
          options.onCampaignChanged?.();
          return detailView(done);
        }),
    );

  api.get(
    '/limits',
    {
      schema: {
        tags,
        summary: 'Messaging limit tiers (LIM-3) and marketing frequency cap (LIM-4)',
      },
    },
    async (request) =>
      limitSettingsView(limitSettings(await deps.store.workspaces.get(request.workspaceId))),
  );

  api.patch('/limits', { schema: { tags, body: limitSettingsInput } }, async (request) =>
    policyGuard(async () =>
      limitSettingsView(await updateLimitSettings(deps, request.workspaceId, request.body)),
    ),
  );
}
