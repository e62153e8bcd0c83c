// What each provider notice means for account health, and which ones are not about health at all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noticeHealth } from './account-health.ts';
import { changedNumberOf } from './changed-number.ts';
import { blobKeyFor, isMediaType } from './media.ts';

describe('noticeHealth', () => {
  it('B.6: phone_number_quality_update FLAGGED and DOWNGRADE warn; UPGRADE and UNFLAGGED inform', () => {
    const flagged = noticeHealth('phone_number_quality_update', {
      display_phone_number: '15550783881',
      event: 'FLAGGED',
      current_limit: 'TIER_1K',
    });
    assert.deepEqual(
      { kind: flagged?.kind, severity: flagged?.severity, number: flagged?.displayPhoneNumber },
      { kind: 'phone_quality', severity: 'warning', number: '15550783881' },
    );
    assert.ok(flagged?.fix);
    const down = noticeHealth('phone_number_quality_update', { event: 'DOWNGRADE' });
    assert.equal(down?.kind, 'messaging_limit');
    assert.equal(down?.severity, 'warning');
    const up = noticeHealth('phone_number_quality_update', {
      event: 'UPGRADE',
      max_daily_conversations_per_business: 10000,
    });
    assert.equal(up?.kind, 'messaging_limit');
    assert.equal(up?.severity, 'info');
    assert.match(up?.detail ?? '', /10000/);
    assert.equal(up?.fix, null);
    assert.equal(
      noticeHealth('phone_number_quality_update', { event: 'UNFLAGGED' })?.severity,
      'info',
    );
  });

  it('B.6: account_update violations and bans are critical restrictions; a pricing tier update is information', () => {
    for (const event of ['ACCOUNT_VIOLATION', 'DISABLED_UPDATE', 'ACCOUNT_RESTRICTION']) {
      const h = noticeHealth('account_update', { event });
      assert.equal(h?.kind, 'account_restricted', event);
      assert.equal(h?.severity, 'critical', event);
    }
    const tier = noticeHealth('account_update', { event: 'VOLUME_BASED_PRICING_TIER_UPDATE' });
    assert.equal(tier?.kind, 'account_update');
    assert.equal(tier?.severity, 'info');
  });

  it('TPL-8: template PAUSED warns, DISABLED is critical, FLAGGED warns; APPROVED and REJECTED are not health', () => {
    const base = { message_template_name: 'promo', message_template_language: 'en' };
    assert.equal(
      noticeHealth('message_template_status_update', { ...base, event: 'PAUSED' })?.kind,
      'template_paused',
    );
    const disabled = noticeHealth('message_template_status_update', { ...base, event: 'DISABLED' });
    assert.equal(disabled?.kind, 'template_disabled');
    assert.equal(disabled?.severity, 'critical');
    assert.equal(
      noticeHealth('message_template_status_update', { ...base, event: 'FLAGGED' })?.kind,
      'template_flagged',
    );
    assert.equal(
      noticeHealth('message_template_status_update', { ...base, event: 'APPROVED' }),
      null,
    );
    assert.equal(
      noticeHealth('message_template_status_update', { ...base, event: 'REJECTED' }),
      null,
    );
  });

  it('TPL-8: template quality RED warns, GREEN informs', () => {
    const red = noticeHealth('message_template_quality_update', {
      previous_quality_score: 'YELLOW',
      new_quality_score: 'RED',
      message_template_name: 'promo',
      message_template_language: 'en',
    });
    assert.equal(red?.severity, 'warning');
    assert.match(red?.detail ?? '', /promo \(en\) quality YELLOW → RED/);
    assert.equal(
      noticeHealth('message_template_quality_update', { new_quality_score: 'GREEN' })?.severity,
      'info',
    );
  });

  it('messages, preferences, category changes and unknown fields are not about health', () => {
    for (const field of [
      'messages',
      'user_preferences',
      'template_category_update',
      'security',
      'a_field_from_the_future',
    ])
      assert.equal(noticeHealth(field, { event: 'ANYTHING' }), null, field);
    assert.equal(
      noticeHealth('account_update', null)?.kind,
      'account_update',
      'a value-less notice is still recorded',
    );
  });
});

describe('changedNumberOf', () => {
  const system = (content: unknown) => ({ type: 'system', from: '447700900111', content });

  it('B.4: reads the new number of a user_changed_number notice', () => {
    assert.equal(
      changedNumberOf(system({ body: 'x', wa_id: '447700900999', type: 'user_changed_number' })),
      '447700900999',
    );
  });

  it('B.4: ignores other system notices, other types, the same number and a malformed number', () => {
    assert.equal(changedNumberOf(system({ body: 'x', type: 'customer_identity_changed' })), null);
    assert.equal(
      changedNumberOf({ type: 'text', from: '447700900111', content: { body: 'hi' } }),
      null,
    );
    assert.equal(
      changedNumberOf(system({ wa_id: '447700900111', type: 'user_changed_number' })),
      null,
    );
    assert.equal(
      changedNumberOf(system({ wa_id: 'not a number', type: 'user_changed_number' })),
      null,
    );
    assert.equal(changedNumberOf(system(null)), null);
  });
});

describe('media keys', () => {
  const media = {
    id: '0190aaaa-0000-7000-8000-000000000001',
    workspaceId: '0190aaaa-0000-7000-8000-00000000000f',
    createdAt: Date.parse('2026-03-02T09:00:00Z'),
    filename: null as string | null,
  };
  it('files media by workspace and month, with the extension of its type', () => {
    assert.equal(
      blobKeyFor({ ...media } as never, 'image/jpeg'),
      `${media.workspaceId}/2026/03/${media.id}.jpg`,
    );
    assert.equal(
      blobKeyFor({ ...media } as never, 'audio/ogg; codecs=opus'),
      `${media.workspaceId}/2026/03/${media.id}.ogg`,
    );
  });
  it('takes the extension of the file name for unknown types, and none from a hostile name', () => {
    assert.equal(
      blobKeyFor({ ...media, filename: 'Plan.XLSX' } as never, 'application/vnd.ms-excel.x'),
      `${media.workspaceId}/2026/03/${media.id}.xlsx`,
    );
    assert.equal(
      blobKeyFor({ ...media, filename: '../../etc/passwd' } as never, 'application/x-unknown'),
      `${media.workspaceId}/2026/03/${media.id}`,
    );
  });
  it('B.4: image, video, audio, document and sticker are media; the rest are not', () => {
    for (const type of ['image', 'video', 'audio', 'document', 'sticker'])
      assert.ok(isMediaType(type));
    for (const type of ['text', 'location', 'system', 'unsupported']) assert.ok(!isMediaType(type));
  });
});
