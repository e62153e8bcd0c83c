// The consent ledger over HTTP (OPT-1..8): a contact's ledger and current consent, recording an
// event with its evidence, CSV import, CSV/JSON export, the workspace policy, and erasure.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONSENT_KINDS, CONSENT_PURPOSES, CONSENT_SOURCES } from '../../core/consent/events.ts';
import {
  CONSENT_EXPORT_FORMATS,
  contactConsent,
  eraseContact,
  exportEvents,
  recordConsent,
  renderConsentExport,
  type PurposeConsent,
} from '../../app/consent-ledger.ts';
import { importConsentCsv } from '../../app/consent-import.ts';
import { getContact } from '../../app/queries.ts';
import {
  consentSettings,
  consentSettingsInput,
  consentSettingsView,
  updateConsentSettings,
} from '../../app/workspace-policy.ts';
import type { ConsentEventRecord } from '../../ports/compliance-store.ts';
import { PolicyError } from '../../app/policy-errors.ts';
import type { HttpOptions } from '../server.ts';
import { iso } from '../views.ts';
import { policyGuard } from './policy-guard.ts';

const id = z.string().min(1).max(100);
const idParams = z.object({ id });

const evidence = z
  .object({
    text: z.string().max(10_000).optional().describe('The exact consent text shown'),
    textVersion: z.string().max(200).optional(),
    businessName: z.string().max(200).optional().describe('The business name the person saw'),
    url: z.string().max(2000).optional().describe('The page consent was given on'),
    messageId: z.string().max(200).optional(),
    ip: z.string().max(100).optional(),
    userAgent: z.string().max(1000).optional(),
    note: z.string().max(2000).optional(),
  })
  .strict();

const recordBody = z
  .object({
    kind: z.enum(CONSENT_KINDS),
    purpose: z.enum(CONSENT_PURPOSES),
    channelId: id
      .nullable()
      .optional()
      .describe('One number (channel) of the workspace; absent or null: the whole workspace'),
    source: z.enum(CONSENT_SOURCES).default('api'),
    at: z.iso.datetime({ offset: true }).optional().describe('When; default now'),
    recordedBy: z.string().min(1).max(200).optional().describe('Who recorded it (a person)'),
    evidence: evidence.default({}),
  })
  .strict();

const exportQuery = z.object({
  format: z.enum(CONSENT_EXPORT_FORMATS).default('csv'),
  contact: z.string().min(6).max(20).optional().describe('A phone number: only that person'),
});

/** A ledger event as the API shows it. */
export function consentEventView(e: ConsentEventRecord) {
  return {
    id: e.id,
    contactId: e.contactId,
    contact: e.contact,
    kind: e.kind,
    purpose: e.purpose,
    reach: e.reach.kind,
    channelId: e.reach.kind === 'channel' ? e.reach.channelId : null,
    source: e.source,
    at: iso(e.at),
    recordedBy: e.recordedBy,
    implied: e.implied,
    restores: e.restores ?? [],
    evidence: e.evidence,
    recordedAt: iso(e.recordedAt),
  };
}

/** Consent per purpose (eligibility and the contact's consent), keyed by purpose. */
export function purposeConsentView(items: readonly PurposeConsent[]) {
  return Object.fromEntries(
    items.map((p) => [
      p.purpose,
      {
        state: p.state,
        basis: p.basis,
        allowed: p.allowed,
        decidedBy: p.decidedBy,
        eventId: p.eventId,
        since: iso(p.since),
        expiresAt: iso(p.expiresAt),
        reason: p.reason,
        detail: p.detail,
      },
    ]),
  );
}

export function registerConsentRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;
  const tags = ['consent'];
  // Bulk import takes the CSV itself as the body.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });

  api.get(
    '/contacts/:id/consent',
    {
      schema: {
        tags,
        summary: 'The contact’s consent ledger and current consent per channel and purpose',
        params: idParams,
      },
    },
    async (request) =>
      policyGuard(async () => {
        const contact = await getContactOr404(request.workspaceId, request.params.id);
        const overview = await contactConsent(deps, request.workspaceId, contact);
        return {
          contactId: contact.id,
          policy: overview.policy,
          events: overview.events.map(consentEventView),
          channels: overview.channels.map((c) => ({
            channelId: c.channelId,
            purposes: purposeConsentView(c.purposes),
          })),
        };
      }),
  );

  api.post(
    '/contacts/:id/consent',
    {
      schema: {
        tags,
        summary: 'Record an opt-in or opt-out with its evidence (append-only)',
        params: idParams,
        body: recordBody,
      },
    },
    async (request, reply) =>
      policyGuard(async () => {
        const contact = await getContactOr404(request.workspaceId, request.params.id);
        const b = request.body;
        const by = `api-key:${request.apiKeyId}`;
        const event = await recordConsent(deps, request.workspaceId, contact, {
          kind: b.kind,
          purpose: b.purpose,
          channelId: b.channelId ?? null,
          source: b.source,
          ...(b.at !== undefined ? { at: Date.parse(b.at) } : {}),
          recordedBy: b.recordedBy ? `${b.recordedBy} via ${by}` : by,
          evidence: b.evidence,
        });
        return reply.status(201).send(consentEventView(event));
      }),
  );

  api.post(
    '/contacts/:id/erase',
    {
      schema: {
        tags,
        summary:
          'Data-subject erasure: personal data and message content go; the ledger keeps its proof under a keyed hash',
        params: idParams,
      },
    },
    async (request) =>
      policyGuard(() => eraseContact(deps, request.workspaceId, request.params.id)),
  );

  api.get(
    '/consent/export',
    {
      schema: {
        tags,
        summary: 'The ledger as CSV or JSON, for one person or the workspace (OPT-8)',
        querystring: exportQuery,
      },
    },
    async (request, reply) =>
      policyGuard(async () => {
        const q = request.query;
        const events = await exportEvents(deps, request.workspaceId, {
          ...(q.contact !== undefined ? { phone: q.contact } : {}),
        });
        const body = renderConsentExport(events, q.format);
        return reply
          .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="consent-ledger.${q.format}"`)
          .send(body);
      }),
  );

  api.post(
    '/consent/import',
    {
      // A list of many thousand consents is larger than an API call's usual limit.
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        tags,
        summary:
          'Import consent records from CSV (text/csv; the export’s columns): all lines or none',
      },
    },
    async (request) =>
      policyGuard(async () => {
        if (typeof request.body !== 'string')
          throw new PolicyError(
            'invalid_request',
            'Send the CSV itself with Content-Type: text/csv',
          );
        return importConsentCsv(
          deps,
          request.workspaceId,
          request.body,
          `import by api-key:${request.apiKeyId}`,
        );
      }),
  );

  api.get(
    '/consent/policy',
    { schema: { tags, summary: 'The workspace’s consent policy (OPT-4/5/6)' } },
    async (request) =>
      consentSettingsView(consentSettings(await deps.store.workspaces.get(request.workspaceId))),
  );

  api.patch(
    '/consent/policy',
    {
      schema: {
        tags,
        summary:
          'Set the policy (standard, strict, permissive), implied lapse, keywords, confirmation',
        body: consentSettingsInput,
      },
    },
    async (request) =>
      consentSettingsView(await updateConsentSettings(deps, request.workspaceId, request.body)),
  );

  async function getContactOr404(workspaceId: string, contactId: string) {
    try {
      return await getContact(deps, workspaceId, contactId);
    } catch {
      throw new PolicyError('not_found', `No contact ${contactId} in this workspace`);
    }
  }
}
