// Bulk import of consent records from CSV (OPT-2, OPT-8): the export's column names, evidence
// columns included; every line is checked first, and the file is imported whole or not at all.
import { parse } from 'csv-parse/sync';
import {
  CONSENT_KINDS,
  WORKSPACE_REACH,
  channelReach,
  isConsentPurpose,
  isConsentSource,
  type ConsentEvent,
  type ConsentEvidence,
  type ConsentKind,
} from '../core/consent/events.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type { AppDeps } from './deps.ts';
import {
  appendConsentEvents,
  consentRecordProblem,
  phoneHash,
  signalEventId,
} from './consent-ledger.ts';
import { PolicyError } from './policy-errors.ts';
import { normaliseWaId } from './send-message.ts';

/** Columns the import reads; `phone` may also be called `contact` (the export's name). */
export const CONSENT_IMPORT_COLUMNS = [
  'phone',
  'kind',
  'purpose',
  'channel_id',
  'source',
  'at',
  'text_shown',
  'text_version',
  'business_name',
  'url',
  'message_id',
  'ip',
  'user_agent',
  'note',
  'recorded_by',
] as const;

/** Export columns that describe what only Parley records: such rows cannot be imported. */
const PARLEY_ONLY = ['implied', 'restores', 'keyword'] as const;

/** Most problems reported for one file; enough to fix a systematic mistake. */
const MAX_PROBLEMS = 50;

export interface ImportProblem {
  readonly line: number;
  readonly problem: string;
}

export interface ImportResult {
  readonly imported: number;
  /** Rows already in the ledger from an earlier import of the same records. */
  readonly unchanged: number;
  readonly contacts: number;
}

interface ParsedRow {
  readonly line: number;
  readonly waId: string;
  readonly channelId: string | null;
  readonly event: Omit<ConsentEvent, 'contact' | 'id' | 'recordedBy'>;
  readonly recordedBy: string | null;
}

function cell(row: Record<string, string>, name: string): string {
  return (row[name] ?? '').trim();
}

/**
 * OPT-2: imports a CSV of consent records into a workspace's ledger. Header names are the
 * export's (case-insensitive); `phone` (or `contact`), `purpose` and `at` are required, `kind`
 * defaults to opt_in, `source` to import, and an opt-in needs `text_shown` and `business_name`.
 * Importing the same records again changes nothing.
 */
export async function importConsentCsv(
  deps: AppDeps,
  workspaceId: string,
  csv: string,
  importer: string,
): Promise<ImportResult> {
  let records: string[][];
  try {
    records = parse(csv, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }) as string[][];
  } catch (error) {
    throw new PolicyError(
      'invalid_request',
      `The CSV cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const [header, ...body] = records;
  if (!header)
    throw new PolicyError('invalid_request', 'The CSV is empty: a header line is needed');
  const names = header.map((h) => {
    const n = h.trim().toLowerCase();
    return n === 'contact' ? 'phone' : n;
  });
  for (const required of ['phone', 'purpose', 'at'])
    if (!names.includes(required))
      throw new PolicyError(
        'invalid_request',
        `The CSV header needs a "${required}" column; it has: ${header.join(', ')}`,
      );

  const channels = new Set((await deps.store.channels.list(workspaceId)).map((c) => c.id));
  const now = deps.clock.now();
  const problems: ImportProblem[] = [];
  const rows: ParsedRow[] = [];
  body.forEach((values, i) => {
    const line = i + 2;
    const row = Object.fromEntries(names.map((n, j) => [n, values[j] ?? '']));
    const problem = parseRow(row, line, channels, now);
    if (typeof problem === 'string') problems.push({ line, problem });
    else rows.push(problem);
  });
  if (problems.length > 0)
    throw new PolicyError(
      'invalid_request',
      `${problems.length} line(s) of the CSV cannot be imported (nothing was imported); first: line ${problems[0]?.line ?? 0}: ${problems[0]?.problem ?? ''}`,
      { problems: problems.slice(0, MAX_PROBLEMS) },
    );
  if (rows.length === 0) return { imported: 0, unchanged: 0, contacts: 0 };

  const changed: DomainEvent[] = [];
  const result = await deps.store.transaction(async (tx) => {
    const byPerson = new Map<string, ParsedRow[]>();
    for (const r of rows) byPerson.set(r.waId, [...(byPerson.get(r.waId) ?? []), r]);
    let imported = 0;
    for (const [waId, personRows] of byPerson) {
      const contact = await tx.contacts.upsert({ workspaceId, waId, at: now });
      const events: ConsentEvent[] = personRows.map((r) => ({
        ...r.event,
        // Deterministic: the same record imported twice is the same event.
        id: signalEventId(
          'import',
          workspaceId,
          waId,
          r.event.kind,
          r.event.purpose,
          r.channelId ?? '',
          String(r.event.at),
          r.event.source,
          r.event.evidence.text ?? '',
          r.event.evidence.textVersion ?? '',
        ),
        contact: waId,
        recordedBy: r.recordedBy ? `${r.recordedBy} via ${importer}` : importer,
      }));
      const before = await tx.compliance.consent.listByPhoneHash(
        workspaceId,
        phoneHash(deps, waId),
      );
      const known = new Set(before.map((e) => e.id));
      const fresh = events.filter((e) => !known.has(e.id));
      imported += fresh.length;
      const event = await appendConsentEvents(deps, tx, {
        workspaceId,
        waId,
        contactId: contact.id,
        events: fresh,
      });
      if (event) changed.push(event);
    }
    return { imported, unchanged: rows.length - imported, contacts: byPerson.size };
  });
  for (const e of changed) deps.events.publish(e);
  return result;
}

function parseRow(
  row: Record<string, string>,
  line: number,
  channels: ReadonlySet<string>,
  now: number,
): ParsedRow | string {
  const phone = cell(row, 'phone');
  const waId = normaliseWaId(phone);
  if (!waId) return `phone "${phone}" is not an E.164 phone number`;
  for (const col of PARLEY_ONLY) {
    const v = cell(row, col);
    if (v !== '' && v !== 'false')
      return `${col} "${v}" marks an event only Parley records (from a message or a provider signal); it cannot be imported`;
  }
  const kind = cell(row, 'kind') || 'opt_in';
  if (!(CONSENT_KINDS as readonly string[]).includes(kind))
    return `kind "${kind}" is not one of ${CONSENT_KINDS.join(', ')}`;
  const purpose = cell(row, 'purpose');
  if (!isConsentPurpose(purpose))
    return `purpose "${purpose}" is not one of marketing, utility, authentication, all`;
  const source = cell(row, 'source') || 'import';
  if (!isConsentSource(source)) return `source "${source}" is not a known consent source`;
  const channelId = cell(row, 'channel_id') || null;
  if (channelId !== null && !channels.has(channelId))
    return `channel_id "${channelId}" is not a channel of this workspace`;
  const reach = cell(row, 'reach');
  if (reach === 'channel' && channelId === null) return 'reach is channel but channel_id is empty';
  const atText = cell(row, 'at');
  const at = Date.parse(atText);
  if (atText === '' || Number.isNaN(at))
    return `at "${atText}" is not a date and time (ISO 8601, e.g. 2026-03-01T10:00:00Z)`;

  const evidence: ConsentEvidence = Object.fromEntries(
    (
      [
        ['text', 'text_shown'],
        ['textVersion', 'text_version'],
        ['businessName', 'business_name'],
        ['url', 'url'],
        ['messageId', 'message_id'],
        ['ip', 'ip'],
        ['userAgent', 'user_agent'],
        ['note', 'note'],
      ] as const
    )
      .map(([key, col]) => [key, cell(row, col)] as const)
      .filter(([, v]) => v !== ''),
  );
  const problem = consentRecordProblem(
    { kind: kind as ConsentKind, purpose, channelId, source, at, recordedBy: '', evidence },
    now,
  );
  if (problem)
    return problem
      .replace('evidence.text', 'text_shown')
      .replace('evidence.businessName', 'business_name');
  return {
    line,
    waId,
    channelId,
    recordedBy: cell(row, 'recorded_by') || null,
    event: {
      kind: kind as ConsentKind,
      purpose,
      reach: channelId === null ? WORKSPACE_REACH : channelReach(channelId),
      source,
      at,
      implied: false,
      evidence,
    },
  };
}
