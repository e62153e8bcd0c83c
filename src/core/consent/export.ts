// OPT-8: the consent ledger as flat records with a stable column list, for CSV and JSON audits.
import type { ConsentEvent } from './events.ts';

/** The export's columns, in order. Append new columns at the end: auditors' tools rely on order. */
export const CONSENT_EXPORT_COLUMNS = [
  'event_id',
  'contact',
  'at',
  'kind',
  'purpose',
  'reach',
  'channel_id',
  'source',
  'implied',
  'restores',
  'recorded_by',
  'text_shown',
  'text_version',
  'business_name',
  'url',
  'message_id',
  'ip',
  'user_agent',
  'keyword',
  'received_on',
  'note',
] as const;
export type ConsentExportColumn = (typeof CONSENT_EXPORT_COLUMNS)[number];
export type ConsentExportRow = Readonly<Record<ConsentExportColumn, string>>;

/**
 * OPT-8: one flat record per ledger event, every value a string (empty when unknown), times as
 * ISO 8601 UTC, ordered by time then id so two exports of the same ledger are identical.
 */
export function consentExportRows(events: readonly ConsentEvent[]): ConsentExportRow[] {
  return [...events]
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => ({
      event_id: e.id,
      contact: e.contact,
      at: new Date(e.at).toISOString(),
      kind: e.kind,
      purpose: e.purpose,
      reach: e.reach.kind,
      channel_id: e.reach.kind === 'channel' ? e.reach.channelId : '',
      source: e.source,
      implied: e.implied ? 'true' : 'false',
      restores: (e.restores ?? []).join(' '),
      recorded_by: e.recordedBy,
      text_shown: e.evidence.text ?? '',
      text_version: e.evidence.textVersion ?? '',
      business_name: e.evidence.businessName ?? '',
      url: e.evidence.url ?? '',
      message_id: e.evidence.messageId ?? '',
      ip: e.evidence.ip ?? '',
      user_agent: e.evidence.userAgent ?? '',
      keyword: e.evidence.keyword ?? '',
      received_on: e.evidence.channelId ?? '',
      note: e.evidence.note ?? '',
    }));
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** OPT-8: the export as RFC 4180 CSV (header line first, CRLF line ends). */
export function consentExportCsv(events: readonly ConsentEvent[]): string {
  const lines = [CONSENT_EXPORT_COLUMNS.join(',')];
  for (const row of consentExportRows(events))
    lines.push(CONSENT_EXPORT_COLUMNS.map((c) => csvField(row[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
