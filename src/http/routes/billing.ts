// /v1/billing: rate cards (CSV in and out), usage by month (JSON or CSV), the usage log and the
// priced lines in `parley rate`'s formats, reconciliation with the provider, WABA accounts.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isValidTimeZone } from '../../core/pricing/local-calendar.ts';
import { parseDecimalMicros } from '../../core/pricing/money.ts';
import {
  currentMonth,
  importRateCard,
  isMonth,
  ledgerLines,
  listAccounts,
  rateCardCsv,
  rateCardsView,
  reconcile,
  updateAccount,
  usageCsv,
  usageLog,
  usageReport,
} from '../../app/billing/billing-queries.ts';
import { ApiProblem } from '../problem.ts';
import type { HttpOptions } from '../server.ts';
import { iso } from '../views.ts';

const month = z
  .string()
  .refine(isMonth, { message: 'month must be YYYY-MM' })
  .optional()
  .describe('YYYY-MM; the current month (UTC) when absent');
const format = (values: readonly [string, ...string[]]) => z.enum(values).optional();
const waba = z.string().min(1).max(100);
const amount = z.string().refine((s) => typeof parseDecimalMicros(s) === 'number', {
  message: 'amount must be a non-negative decimal with at most 6 decimals',
});

const accountBody = z
  .object({
    timeZone: z
      .string()
      .refine(isValidTimeZone, { message: 'timeZone must be an IANA time zone' })
      .nullable()
      .optional(),
    monthlyBudget: z
      .object({ amount, currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be ISO 4217') })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

async function sendLines(reply: FastifyReply, lines: AsyncIterable<string>): Promise<FastifyReply> {
  // Small enough to collect: a month of a busy WABA is a few megabytes of lines.
  let text = '';
  for await (const line of lines) text += line;
  return reply.type('application/x-ndjson; charset=utf-8').send(text);
}

export function registerBillingRoutes(app: FastifyInstance, options: HttpOptions): void {
  const deps = options.deps;
  // A child scope: text/csv is understood by the rate card upload only.
  void app.register((scope, _opts, done) => {
    // (Other /v1 routes may have taught the whole scope text/csv already.)
    if (!scope.hasContentTypeParser('text/csv'))
      scope.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, next) => {
        next(null, body);
      });
    const api = scope.withTypeProvider<ZodTypeProvider>();

    api.post(
      '/billing/rate-cards',
      {
        schema: {
          tags: ['billing'],
          summary:
            'Import a rate card (text/csv: effective_from,market,category,currency,rate,volume_from)',
          querystring: z.object({ name: z.string().min(1).max(200).optional() }),
        },
      },
      async (request, reply) => {
        if (typeof request.body !== 'string')
          throw new ApiProblem(
            'unsupported_media_type',
            `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here; send the rate card as text/csv`,
          );
        const outcome = await importRateCard(deps, request.workspaceId, {
          name: request.query.name ?? 'rate-card.csv',
          csv: request.body,
        });
        if (!outcome.ok)
          throw new ApiProblem(
            'invalid_rate_card',
            outcome.problems.map((p) => `line ${p.line}: ${p.message}`).join('; '),
            { problems: outcome.problems },
          );
        return reply.status(201).send({
          id: outcome.record.id,
          name: outcome.record.name,
          rows: outcome.record.rows,
          importedAt: iso(outcome.record.importedAt),
          repricedWabas: outcome.repriced,
        });
      },
    );

    api.get(
      '/billing/rate-cards',
      {
        schema: {
          tags: ['billing'],
          summary: 'Imported rate cards, or (format=csv) the card in force as CSV',
          querystring: z.object({ format: format(['json', 'csv']) }),
        },
      },
      async (request, reply) => {
        if (request.query.format === 'csv')
          return reply
            .type('text/csv; charset=utf-8')
            .send(await rateCardCsv(deps, request.workspaceId));
        const view = await rateCardsView(deps, request.workspaceId);
        return {
          illustrative: view.illustrative,
          rows: view.rows,
          items: view.imports.map((i) => ({ ...i, importedAt: iso(i.importedAt) })),
        };
      },
    );

    api.get(
      '/billing/usage',
      {
        schema: {
          tags: ['billing'],
          summary:
            'Delivered messages and charges of a month by channel, category, market and pricing type (format=csv for a CSV export)',
          querystring: z.object({ month, format: format(['json', 'csv']) }),
        },
      },
      async (request, reply) => {
        const m = request.query.month ?? currentMonth(deps.clock.now());
        if (request.query.format === 'csv')
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="usage-${m}.csv"`)
            .send(await usageCsv(deps, request.workspaceId, m));
        return usageReport(deps, request.workspaceId, m);
      },
    );

    api.get(
      '/billing/usage/events',
      {
        schema: {
          tags: ['billing'],
          summary:
            'The usage event log (the input of parley rate), JSON lines; a month includes the earlier events it depends on',
          querystring: z.object({ month }),
        },
      },
      async (request, reply) =>
        sendLines(reply, usageLog(deps, request.workspaceId, request.query.month)),
    );

    api.get(
      '/billing/ledger',
      {
        schema: {
          tags: ['billing'],
          summary: "Priced deliveries and totals, JSON lines in parley rate's output format",
          querystring: z.object({ month }),
        },
      },
      async (request, reply) =>
        sendLines(reply, ledgerLines(deps, request.workspaceId, request.query.month)),
    );

    api.get(
      '/billing/reconciliation',
      {
        schema: {
          tags: ['billing'],
          summary:
            "Deliveries where the provider's pricing/conversation disagree with Parley's figures",
          querystring: z.object({
            month,
            limit: z.coerce.number().int().min(1).max(10_000).default(500),
          }),
        },
      },
      async (request) => {
        const m = request.query.month ?? currentMonth(deps.clock.now());
        const r = await reconcile(deps, request.workspaceId, m, request.query.limit);
        return { ...r, items: r.items.map((i) => ({ ...i, at: iso(i.at) })) };
      },
    );

    api.get(
      '/billing/accounts',
      { schema: { tags: ['billing'], summary: 'WABAs billed: time zone and monthly budget' } },
      async (request) => ({ items: await listAccounts(deps, request.workspaceId) }),
    );

    api.patch(
      '/billing/accounts/:waba',
      {
        schema: {
          tags: ['billing'],
          summary:
            "Set a WABA's billing time zone (re-rates its ledger) and monthly budget (billing.threshold)",
          params: z.object({ waba }),
          body: accountBody,
        },
      },
      async (request) => {
        const b = request.body;
        const budget = b.monthlyBudget;
        const outcome = await updateAccount(deps, request.workspaceId, request.params.waba, {
          ...(b.timeZone !== undefined ? { timeZone: b.timeZone } : {}),
          ...(budget !== undefined
            ? {
                monthlyBudget:
                  budget === null
                    ? null
                    : {
                        micros: parseDecimalMicros(budget.amount) as number,
                        currency: budget.currency,
                      },
              }
            : {}),
        });
        if (outcome.kind === 'not_found')
          throw new ApiProblem(
            'not_found',
            `No WABA ${request.params.waba} among this workspace's channels`,
          );
        if (outcome.kind === 'invalid') throw new ApiProblem('validation_failed', outcome.detail);
        return outcome.account;
      },
    );
    done();
  });
}
