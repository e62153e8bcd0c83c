// The ledger's evidence (OPT-2) and its export for audits (OPT-8).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONSENT_SOURCES,
  WORKSPACE_REACH,
  channelReach,
  isConsentSource,
  type ConsentEvent,
} from './events.ts';
import { CONSENT_EXPORT_COLUMNS, consentExportCsv, consentExportRows } from './export.ts';

const webForm: ConsentEvent = {
  id: 'e2',
  contact: '447700900123',
  kind: 'opt_in',
  purpose: 'marketing',
  reach: channelReach('C1'),
  source: 'web_form',
  at: Date.parse('2026-06-01T10:00:00Z'),
  recordedBy: 'api-key:k1',
  implied: false,
  evidence: {
    text: 'Yes, send me offers from Acme on WhatsApp, "weekly"',
    textVersion: 'v3',
    businessName: 'Acme Ltd',
    url: 'https://acme.example/signup',
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0',
  },
};
const stop: ConsentEvent = {
  id: 'e1',
  contact: '447700900123',
  kind: 'opt_out',
  purpose: 'all',
  reach: WORKSPACE_REACH,
  source: 'inbound_message',
  at: Date.parse('2026-05-01T08:00:00Z'),
  recordedBy: 'system',
  implied: false,
  evidence: { messageId: 'wamid.X', keyword: 'STOP', channelId: 'C1' },
};

describe('consent export', () => {
  it('OPT-2: the sources of a valid record, plus the provider signals of OPT-5', () => {
    for (const s of [
      'inbound_message',
      'web_form',
      'checkbox',
      'sms',
      'email',
      'qr_code',
      'in_store',
      'ctwa_ad',
      'import',
      'api',
    ])
      assert.equal(isConsentSource(s), true, s);
    assert.deepEqual(CONSENT_SOURCES.slice(-2), ['user_preferences', 'provider_error']);
    assert.equal(isConsentSource('whatsapp'), false);
  });

  it('OPT-8: one flat record per event with a stable column list, ordered by time, evidence kept verbatim', () => {
    const rows = consentExportRows([webForm, stop]);
    assert.deepEqual(
      rows.map((r) => Object.keys(r)),
      [[...CONSENT_EXPORT_COLUMNS], [...CONSENT_EXPORT_COLUMNS]],
    );
    assert.deepEqual(
      rows.map((r) => r.event_id),
      ['e1', 'e2'],
    );
    assert.deepEqual(rows[1], {
      event_id: 'e2',
      contact: '447700900123',
      at: '2026-06-01T10:00:00.000Z',
      kind: 'opt_in',
      purpose: 'marketing',
      reach: 'channel',
      channel_id: 'C1',
      source: 'web_form',
      implied: 'false',
      restores: '',
      recorded_by: 'api-key:k1',
      text_shown: 'Yes, send me offers from Acme on WhatsApp, "weekly"',
      text_version: 'v3',
      business_name: 'Acme Ltd',
      url: 'https://acme.example/signup',
      message_id: '',
      ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0',
      keyword: '',
      received_on: '',
      note: '',
    });
    assert.equal(rows[0]?.keyword, 'STOP');
    assert.equal(rows[0]?.reach, 'workspace');
  });

  it('OPT-8: CSV has the header first and quotes fields with commas or quotes', () => {
    const csv = consentExportCsv([webForm]);
    const [header, line, end] = csv.split('\r\n');
    assert.equal(header, CONSENT_EXPORT_COLUMNS.join(','));
    assert.match(
      line ?? '',
      /,"Yes, send me offers from Acme on WhatsApp, ""weekly""",v3,Acme Ltd,/,
    );
    assert.equal(end, '');
  });
});
