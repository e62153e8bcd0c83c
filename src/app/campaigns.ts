// Campaigns: an audience (contacts by tags and attributes, or a CSV with per-recipient template
// parameters) filtered by consent (OPT-7) and LIM-5 with a report of who was skipped and why; a
// cost estimate with the workspace's rate card; start, pause, resume, cancel; progress and
// per-recipient outcomes. The runner (run-campaign.ts) feeds recipients into the send path.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { isWindowOpen } from '../core/care-window.ts';
import {
  transition,
  type CampaignAction,
  type RecipientOutcome,
  type SkipReason,
} from '../core/campaigns.ts';
import { marketBlockDecision } from '../core/outbound-limits.ts';
import { eraOn } from '../core/pricing/eras.ts';
import { DEFAULT_TIME_ZONE, ZoneCalendar } from '../core/pricing/local-calendar.ts';
import { marketOf } from '../core/pricing/markets.ts';
import { formatMicros } from '../core/pricing/money.ts';
import type { RateCategory } from '../core/pricing/categories.ts';
import type { TemplateComponentParams, TemplateBody } from '../core/messages.ts';
import type { TemplateDefinition } from '../core/templates/definition.ts';
import { checkTemplateParameters } from '../core/templates/parameters.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type {
  CampaignProgress,
  CampaignRecord,
  NewRecipient,
  RecipientResult,
} from '../ports/campaign-store.ts';
import type { Channel, Json, JsonObject, Page, Store } from '../ports/store.ts';
import { wabaOf } from './billing/ledger.ts';
import { workspaceRateCard } from './billing/rate-cards.ts';
import { readLedger } from './consent-ledger.ts';
import type { AppDeps } from './deps.ts';
import { failedEvent } from './deliver-outbound.ts';
import { countryOfNumber } from './pricing/recipient-country.ts';
import { policyCache } from './policy-cache.ts';
import { PolicyError } from './policy-errors.ts';
import { normaliseWaId } from './send-message.ts';
import { templateConsentDecision, type TemplatePurpose } from './template-send-policy.ts';
import { definitionOf, lifecycleOf } from './template-registry.ts';
import { consentSettings } from './workspace-policy.ts';

/** The most recipients one campaign may have (one CSV upload or one contact filter). */
export const MAX_RECIPIENTS = 200_000;

const componentParams = z.object({
  type: z.enum(['header', 'body', 'button', 'footer']),
  sub_type: z.string().max(40).optional(),
  index: z.union([z.string().max(3), z.number().int().min(0).max(99)]).optional(),
  parameters: z
    .array(z.object({ type: z.string().min(1).max(40) }).loose())
    .max(100)
    .optional(),
});

const attributeValue = z.union([z.string().max(500), z.number(), z.boolean()]);

export const campaignInput = z
  .object({
    name: z.string().min(1).max(200),
    channelId: z.string().min(1).max(100).optional(),
    template: z
      .object({
        name: z.string().min(1).max(512),
        language: z.object({ code: z.string().min(2).max(20) }).strict(),
        components: z.array(componentParams).max(20).optional(),
      })
      .strict()
      .describe('The template; components apply to every recipient without their own'),
    audience: z.union([
      z
        .object({
          tags: z.array(z.string().min(1).max(100)).max(50).optional(),
          attributes: z.record(z.string().min(1).max(100), attributeValue).optional(),
        })
        .strict()
        .describe('Contacts having every tag and every attribute value given'),
      z
        .object({
          csv: z
            .string()
            .min(1)
            .describe(
              'A header with `phone` and parameter columns (`body.1`, `header.1`, `button.0`, or `body.<name>` for named templates), one recipient per line',
            ),
          invalidLines: z
            .enum(['reject', 'skip'])
            .optional()
            .describe('reject (default): any bad line refuses the whole file; skip: report them'),
        })
        .strict(),
    ]),
    startAt: z.iso.datetime({ offset: true }).optional().describe('Schedule: not before this'),
  })
  .strict();
export type CampaignInput = z.infer<typeof campaignInput>;

/** One line of a CSV that cannot become a recipient. */
export interface LineProblem {
  readonly line: number;
  /** The line's phone field as written (kept on the skipped recipient). */
  readonly phone?: string;
  readonly reason: SkipReason;
  readonly problem: string;
}

interface Candidate {
  readonly waId: string;
  readonly components: TemplateComponentParams[] | null;
  readonly skip?: { readonly reason: SkipReason; readonly detail: string };
}

/** The channel a campaign goes out on (explicit, or the workspace's only one). */
async function pickChannel(
  store: Store,
  workspaceId: string,
  channelId: string | undefined,
): Promise<Channel> {
  if (channelId !== undefined) {
    const channel = await store.channels.get(channelId);
    if (!channel || channel.workspaceId !== workspaceId)
      throw new PolicyError('not_found', `No channel ${channelId} in this workspace`);
    return channel;
  }
  const channels = await store.channels.list(workspaceId);
  const only = channels.length === 1 ? channels[0] : undefined;
  if (only) return only;
  throw new PolicyError(
    'invalid_request',
    channels.length === 0
      ? 'This workspace has no channel to send from'
      : `This workspace has ${channels.length} channels: name a channelId`,
  );
}

const PARAM_COLUMN = /^(header|body)\.([1-9]\d{0,2}|[a-z_]{1,20})$|^button\.(\d{1,2})$/;
const PHONE_COLUMNS = ['phone', 'wa_id', 'to'];

/**
 * The components of one CSV line: text parameters for the header and body in column order
 * (positional `body.1`, `body.2` … or named `body.first_name`), and a URL button suffix per
 * `button.N` column.
 */
function lineComponents(
  columns: readonly { readonly name: string; readonly index: number }[],
  values: readonly string[],
): TemplateComponentParams[] {
  const header: TemplateComponentParams = { type: 'header', parameters: [] };
  const body: TemplateComponentParams = { type: 'body', parameters: [] };
  const buttons: TemplateComponentParams[] = [];
  for (const { name, index } of columns) {
    const m = PARAM_COLUMN.exec(name);
    if (!m) continue;
    const text = values[index] ?? '';
    if (m[3] !== undefined) {
      buttons.push({
        type: 'button',
        sub_type: 'url',
        index: m[3],
        parameters: [{ type: 'text', text }],
      });
      continue;
    }
    const key = m[2] ?? '';
    const parameter = /^\d+$/.test(key)
      ? { type: 'text', text }
      : { type: 'text', parameter_name: key, text };
    (m[1] === 'header' ? header : body).parameters?.push(parameter);
  }
  // Positional columns may come in any order in the file: sort by their number.
  const byNumber = (c: TemplateComponentParams, component: string) => {
    const numbered = columns
      .map((col) => ({ col, m: PARAM_COLUMN.exec(col.name) }))
      .filter((x) => x.m?.[1] === component && /^\d+$/.test(x.m[2] ?? ''));
    if (numbered.length !== c.parameters?.length) return c;
    const order = numbered.map((x) => Number(x.m?.[2]));
    const params = c.parameters.map((p, i) => ({ p, n: order[i] ?? 0 }));
    params.sort((a, b) => a.n - b.n);
    return { ...c, parameters: params.map((x) => x.p) };
  };
  const out: TemplateComponentParams[] = [];
  if (header.parameters?.length) out.push(byNumber(header, 'header'));
  if (body.parameters?.length) out.push(byNumber(body, 'body'));
  return [...out, ...buttons];
}

/** CSV audience: one candidate per line, or the problems that make it a bad file. */
export function parseAudienceCsv(
  csv: string,
  template: { name: string; language: string; definition: TemplateDefinition | null },
): { candidates: Candidate[]; problems: LineProblem[] } {
  let rows: string[][];
  try {
    rows = parse(csv, {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    }) as string[][];
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    throw new PolicyError(
      'invalid_request',
      `The CSV cannot be read: ${(error as Error).message}`,
      {
        problems: [{ line, reason: 'invalid_params', problem: (error as Error).message }],
      },
    );
  }
  const [head, ...lines] = rows;
  if (!head) throw new PolicyError('invalid_request', 'The CSV is empty: it needs a header line');
  const names = head.map((h) => h.trim().toLowerCase());
  const phoneAt = names.findIndex((n) => PHONE_COLUMNS.includes(n));
  const unknown = names.filter((n, i) => i !== phoneAt && !PARAM_COLUMN.test(n));
  if (phoneAt < 0 || unknown.length > 0)
    throw new PolicyError(
      'invalid_request',
      phoneAt < 0
        ? 'The CSV header needs a phone column (phone, wa_id or to)'
        : `Unknown CSV columns: ${unknown.join(', ')} (use body.1, header.1, button.0 or body.<name>)`,
      { problems: [{ line: 1, reason: 'invalid_params', problem: 'bad header' }] },
    );
  if (lines.length > MAX_RECIPIENTS)
    throw new PolicyError(
      'invalid_request',
      `The CSV has ${lines.length} recipients; a campaign takes at most ${MAX_RECIPIENTS}`,
    );
  const paramColumns = names
    .map((name, index) => ({ name, index }))
    .filter((c) => c.index !== phoneAt);
  const candidates: Candidate[] = [];
  const problems: LineProblem[] = [];
  lines.forEach((values, i) => {
    const line = i + 2;
    if (values.length !== names.length) {
      const raw = values[phoneAt] ?? '';
      problems.push({
        line,
        phone: normaliseWaId(raw) ?? raw,
        reason: 'invalid_params',
        problem: `${values.length} fields where the header has ${names.length}`,
      });
      return;
    }
    const phone = values[phoneAt] ?? '';
    const waId = normaliseWaId(phone);
    if (!waId) {
      problems.push({
        line,
        phone,
        reason: 'invalid_phone',
        problem: `"${phone}" is not an E.164 number`,
      });
      return;
    }
    const components = paramColumns.length > 0 ? lineComponents(paramColumns, values) : null;
    if (template.definition) {
      const body: TemplateBody = {
        name: template.name,
        language: { code: template.language },
        ...(components ? { components } : {}),
      };
      const refusal = checkTemplateParameters(template.definition, body);
      if (refusal) {
        problems.push({ line, phone: waId, reason: 'invalid_params', problem: refusal.detail });
        return;
      }
    }
    candidates.push({ waId, components });
  });
  return { candidates, problems };
}

function matchesFilter(
  contact: { tags: string[]; attributes: JsonObject },
  tags: readonly string[],
  attributes: Readonly<Record<string, string | number | boolean>>,
): boolean {
  return (
    tags.every((t) => contact.tags.includes(t)) &&
    Object.entries(attributes).every(([k, v]) => contact.attributes[k] === v)
  );
}

async function contactAudience(
  store: Store,
  workspaceId: string,
  tags: readonly string[],
  attributes: Readonly<Record<string, string | number | boolean>>,
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.contacts.list({
      workspaceId,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    for (const c of page.items)
      if (matchesFilter(c, tags, attributes)) out.push({ waId: c.waId, components: null });
    if (out.length > MAX_RECIPIENTS)
      throw new PolicyError(
        'invalid_request',
        `The filter matches more than ${MAX_RECIPIENTS} contacts; narrow it`,
      );
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

function purposeOf(category: string | null): TemplatePurpose {
  const c = category?.toLowerCase();
  return c === 'marketing' || c === 'utility' || c === 'authentication' ? c : 'unknown';
}

/**
 * Creates a draft campaign with its whole audience: duplicates are skipped, and so are
 * recipients without consent for the template's category (OPT-7) and US numbers for marketing
 * (LIM-5), each with its reason. A bad CSV creates nothing unless `invalidLines: 'skip'`.
 */
export async function createCampaign(
  deps: AppDeps,
  workspaceId: string,
  input: CampaignInput,
): Promise<CampaignDetail> {
  const { store, clock } = deps;
  const now = clock.now();
  const channel = await pickChannel(store, workspaceId, input.channelId);
  const language = input.template.language.code;
  const record = await store.templates.find(workspaceId, input.template.name, language, channel.id);
  if (!record)
    throw new PolicyError(
      'not_found',
      `No template ${input.template.name} (${language}) for this channel: create, declare or sync it first`,
    );
  const lifecycle = await lifecycleOf(store, record);
  const category = (lifecycle.state.category ?? record.category).toLowerCase();
  const definition = definitionOf(record);
  const shared = input.template.components ?? null;

  let candidates: Candidate[];
  let audience: JsonObject;
  if ('csv' in input.audience) {
    const parsed = parseAudienceCsv(input.audience.csv, {
      name: record.name,
      language,
      // Lines with their own parameters are checked line by line; the shared ones below.
      definition,
    });
    if (parsed.problems.length > 0 && input.audience.invalidLines !== 'skip')
      throw new PolicyError(
        'invalid_request',
        `${parsed.problems.length} line(s) of the CSV cannot be sent; nothing was created (fix them, or pass invalidLines: "skip")`,
        { problems: parsed.problems.slice(0, 1000) },
      );
    candidates = [
      ...parsed.candidates,
      ...parsed.problems.map((p) => ({
        waId: (p.phone ?? '').slice(0, 40) || `line:${p.line}`,
        components: null,
        skip: { reason: p.reason, detail: `line ${p.line}: ${p.problem}` },
      })),
    ];
    audience = { kind: 'csv', lines: parsed.candidates.length + parsed.problems.length };
  } else {
    const tags = input.audience.tags ?? [];
    const attributes = input.audience.attributes ?? {};
    candidates = await contactAudience(store, workspaceId, tags, attributes);
    audience = JSON.parse(JSON.stringify({ kind: 'contacts', tags, attributes })) as JsonObject;
  }
  // Recipients without their own parameters use the shared ones: check those once.
  if (candidates.some((c) => c.components === null && !c.skip)) {
    const refusal = checkTemplateParameters(definition, {
      name: record.name,
      language: { code: language },
      ...(shared ? { components: shared } : {}),
    });
    if (refusal) throw new PolicyError('invalid_request', `template.components: ${refusal.detail}`);
  }

  const purpose = purposeOf(category);
  const settings = consentSettings(await policyCache(deps).workspace(store, workspaceId));
  const seen = new Set<string>();
  const recipients: NewRecipient[] = [];
  for (const [i, c] of candidates.entries()) {
    const seq = i + 1;
    const skip = (reason: SkipReason, detail: string | null): NewRecipient => ({
      seq,
      waId: c.waId,
      components: (c.components as unknown as Json) ?? null,
      state: 'skipped',
      reason,
      detail,
    });
    if (c.skip) {
      recipients.push(skip(c.skip.reason, c.skip.detail));
      continue;
    }
    if (seen.has(c.waId)) {
      recipients.push(skip('duplicate', 'The number is already in this campaign'));
      continue;
    }
    seen.add(c.waId);
    const blocked = marketBlockDecision(countryOfNumber(c.waId), purpose, now);
    if (!blocked.allowed) {
      recipients.push(skip('market_blocked', blocked.detail));
      continue;
    }
    const ledger = await readLedger(deps, store, workspaceId, c.waId);
    const consent = templateConsentDecision(ledger, purpose, channel.id, settings, now);
    if (!consent.allowed) {
      recipients.push(
        skip(consent.reason === 'opted_out' ? 'opted_out' : 'not_opted_in', consent.detail),
      );
      continue;
    }
    recipients.push({
      seq,
      waId: c.waId,
      components: (c.components as unknown as Json) ?? null,
      state: 'pending',
      reason: null,
      detail: null,
    });
  }

  const startAt = input.startAt === undefined ? null : Date.parse(input.startAt);
  const created = await store.transaction((tx) =>
    tx.outreach.campaigns.create(
      {
        workspaceId,
        channelId: channel.id,
        name: input.name,
        template: { name: record.name, language, components: (shared as unknown as Json) ?? null },
        category,
        state: 'draft',
        pauseReason: null,
        pauseDetail: null,
        startAt,
        deferredUntil: null,
        audience,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
      },
      recipients,
    ),
  );
  return detail(store, created);
}

export interface CampaignDetail {
  readonly campaign: CampaignRecord;
  readonly progress: CampaignProgress;
}

async function detail(store: Store, campaign: CampaignRecord): Promise<CampaignDetail> {
  return { campaign, progress: await store.outreach.recipients.progress(campaign.id) };
}

async function mustGet(store: Store, workspaceId: string, id: string): Promise<CampaignRecord> {
  const campaign = await store.outreach.campaigns.get(workspaceId, id);
  if (!campaign) throw new PolicyError('not_found', `No campaign ${id} in this workspace`);
  return campaign;
}

export async function getCampaign(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<CampaignDetail> {
  return detail(deps.store, await mustGet(deps.store, workspaceId, id));
}

export async function listCampaigns(
  deps: AppDeps,
  workspaceId: string,
  input: { limit: number; cursor?: string },
): Promise<Page<CampaignRecord>> {
  return deps.store.outreach.campaigns.list(workspaceId, input);
}

export async function listRecipients(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  input: { limit: number; cursor?: string; outcome?: RecipientOutcome },
): Promise<Page<RecipientResult>> {
  await mustGet(deps.store, workspaceId, id);
  return deps.store.outreach.recipients.list(id, input);
}

/** The `campaign.progress` event for a campaign as it is now. */
export function progressEvent(
  campaign: CampaignRecord,
  progress: CampaignProgress,
  at: number,
): DomainEvent {
  return {
    type: 'campaign.progress',
    workspaceId: campaign.workspaceId,
    at,
    data: {
      campaignId: campaign.id,
      name: campaign.name,
      state: campaign.state,
      pauseReason: campaign.pauseReason,
      deferredUntil: campaign.deferredUntil,
      total: progress.total,
      ...progress.byOutcome,
      skippedByReason: progress.skippedByReason,
      failedByReason: progress.failedByReason,
    },
  };
}

export async function publishProgress(deps: AppDeps, campaign: CampaignRecord): Promise<void> {
  const progress = await deps.store.outreach.recipients.progress(campaign.id);
  deps.events.publish(progressEvent(campaign, progress, deps.clock.now()));
}

/** start, pause, resume or cancel, as the state machine allows (a refused move is a 409). */
export async function actOnCampaign(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  action: CampaignAction,
): Promise<CampaignDetail> {
  const { store, clock } = deps;
  const now = clock.now();
  const campaign = await mustGet(store, workspaceId, id);
  const moved = transition(campaign.state, action, campaign.startAt, now);
  if (!moved.ok) throw new PolicyError('conflict', moved.detail, { state: campaign.state });
  const { changed: updated, withdrawn } = await store.transaction(async (tx) => {
    // A cancel waits for the runners' batches under way, then withdraws what they queued.
    if (action === 'cancel') await tx.outreach.campaigns.holdForChange(id);
    const changed = await tx.outreach.campaigns.update(
      id,
      [campaign.state],
      {
        state: moved.state,
        ...(action === 'pause' ? { pauseReason: 'manual', pauseDetail: null } : {}),
        ...(action === 'resume' ? { pauseReason: null, pauseDetail: null } : {}),
        ...(moved.state === 'running' && campaign.startedAt === null ? { startedAt: now } : {}),
        ...(action === 'cancel' ? { finishedAt: now } : {}),
      },
      now,
    );
    if (changed && action === 'cancel') {
      await tx.outreach.recipients.skipRemaining(id, 'cancelled', now);
      // Queued messages no dispatcher has claimed yet are taken back; claimed ones go out.
      const withdrawn = await tx.outreach.recipients.withdrawQueued(
        id,
        `Withdrawn: campaign "${campaign.name}" was cancelled before this message was handed to the provider`,
        now,
      );
      // Their jobs still in the store's queue go too (with Redis: those the outbound relay has
      // not moved to BullMQ yet); any other is a no-op, as the dispatcher only sends pending ones.
      for (const message of withdrawn) await tx.jobs.complete(message.id);
      return { changed, withdrawn };
    }
    return { changed, withdrawn: [] };
  });
  if (!updated)
    throw new PolicyError(
      'conflict',
      `The campaign changed meanwhile; it is no longer ${campaign.state}`,
    );
  // Once committed, each withdrawn message announces that it will not go out, as a failure at
  // dispatch does: open inboxes refresh it and event webhooks hear of it.
  // `withdrawn` also lets dispatchers drop the jobs they hold for them before spending a token.
  for (const message of withdrawn) {
    const event = failedEvent(message, now);
    deps.events.publish({ ...event, data: { ...event.data, withdrawn: true } });
  }
  await publishProgress(deps, updated);
  return detail(store, updated);
}

export interface EstimateLine {
  readonly market: string;
  readonly category: string;
  readonly recipients: number;
  /** Free because the care window is open and the era makes this category free in it (PMP-2). */
  readonly free: number;
  readonly billable: number;
  /** No rate for the market on the card, or no market for the number (PRC-5: never 0). */
  readonly unpriced: number;
  readonly amount: string;
  readonly currency: string;
}

export interface CampaignEstimate {
  readonly campaignId: string;
  readonly era: string;
  readonly recipients: number;
  readonly lines: EstimateLine[];
  readonly totals: { readonly currency: string; readonly amount: string }[];
  /** True while the workspace has no imported rate card: the bundled sample's prices. */
  readonly illustrativeRates: boolean;
  readonly notes: string[];
}

/**
 * What the recipients still to send would cost if delivered now: per market and category, the
 * rate card row in force today (before volume tiers: an upper bound where tiers lower the rate),
 * minus those free inside an open care window in this era.
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 */
export async function estimateCampaign(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<CampaignEstimate> {
  const { store, clock } = deps;
  const now = clock.now();
  const campaign = await mustGet(store, workspaceId, id);
  const channel = await store.channels.get(campaign.channelId);
  const waba = channel ? wabaOf(channel) : campaign.channelId;
  const account = await store.billing.account(workspaceId, waba);
  const day = new ZoneCalendar(account?.timeZone ?? DEFAULT_TIME_ZONE).dayOf(now);
  const era = eraOn(day.date);
  const { card, illustrative } = await workspaceRateCard(store, workspaceId);
  const category = (
    purposeOf(campaign.category) === 'unknown' ? 'marketing' : (campaign.category ?? 'marketing')
  ) as RateCategory;
  const rows = await store.outreach.recipients.estimateRows(id);
  const lines = new Map<
    string,
    {
      market: string;
      recipients: number;
      free: number;
      billable: number;
      unpriced: number;
      micros: number;
      currency: string;
    }
  >();
  for (const row of rows) {
    const country = countryOfNumber(row.waId);
    const market = country === null ? 'unknown' : marketOf(country, day.date);
    let line = lines.get(market);
    if (!line) {
      line = {
        market,
        recipients: 0,
        free: 0,
        billable: 0,
        unpriced: 0,
        micros: 0,
        currency: card.currencyFor(market),
      };
      lines.set(market, line);
    }
    line.recipients++;
    const open = isWindowOpen({ lastInboundAt: row.lastInboundAt, closedAt: row.closedAt }, now);
    if (open && (era.freeInCareWindow.includes(category) || era.alwaysFree.includes(category))) {
      line.free++;
      continue;
    }
    const rate = country === null ? null : card.rateFor(market, category, day.date, 0);
    if (!rate) {
      line.unpriced++;
      continue;
    }
    line.billable++;
    line.micros += rate.micros;
    line.currency = rate.currency;
  }
  const totals = new Map<string, number>();
  for (const l of lines.values()) totals.set(l.currency, (totals.get(l.currency) ?? 0) + l.micros);
  return {
    campaignId: id,
    era: era.id,
    recipients: rows.length,
    lines: [...lines.values()]
      .sort((a, b) => b.recipients - a.recipients || a.market.localeCompare(b.market))
      .map((l) => ({
        market: l.market,
        category,
        recipients: l.recipients,
        free: l.free,
        billable: l.billable,
        unpriced: l.unpriced,
        amount: formatMicros(l.micros),
        currency: l.currency,
      })),
    totals: [...totals.entries()].map(([currency, micros]) => ({
      currency,
      amount: formatMicros(micros),
    })),
    illustrativeRates: illustrative,
    notes: [
      'Counts recipients still to send; skipped ones cost nothing.',
      'Uses the first volume tier of each rate (an upper bound where tiers lower the rate) and does not foresee free entry point windows.',
      ...(era.unit === 'conversation'
        ? [
            'This era charges per conversation: a recipient with an open conversation of this category would cost nothing more.',
          ]
        : []),
    ],
  };
}
