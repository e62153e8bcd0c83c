// What the inbox shows for the wire data: window state, ticks, and both conversation list shapes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { duration, ticks, windowLabel } from '../ui/src/format.ts';
import { normalizeConversation, normalizeMessage } from '../ui/src/api.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse('2026-03-02T09:00:00Z');

describe('inbox display rules', () => {
  it('CSW-1: an open window reads "closes in 3 h 12 m"; a lapsed or absent one reads "closed"', () => {
    assert.equal(
      windowLabel({ open: true, closesAt: NOW + 3 * HOUR + 12 * MINUTE + 5_000 }, NOW),
      'closes in 3 h 12 m',
    );
    assert.equal(windowLabel({ open: true, closesAt: NOW + 45 * MINUTE }, NOW), 'closes in 45 m');
    assert.equal(windowLabel({ open: false, closesAt: NOW - HOUR }, NOW), 'closed');
    assert.equal(windowLabel({ open: false, closesAt: null }, NOW), 'closed');
    assert.equal(duration(30_000), 'under a minute');
  });

  it('shows ✓ sent, ✓✓ delivered, ✓✓ read (its own colour class) and marks failures', () => {
    assert.deepEqual(
      ['sent', 'delivered', 'read', 'failed', 'pending'].map((s) => ticks(s).symbol),
      ['✓', '✓✓', '✓✓', '!', '○'],
    );
    assert.match(ticks('read').className, /tick-read/);
    assert.doesNotMatch(ticks('delivered').className, /tick-read/);
    assert.equal(ticks('refused').label, 'Not sent');
  });

  it('reads a conversation in the inbox contract shape', () => {
    const c = normalizeConversation({
      id: 'c1',
      contact: { id: 'k1', name: 'Ada', phone: '+447700900123' },
      channelId: 'ch1',
      status: 'snoozed',
      assignee: { id: 'a1', name: 'Grace' },
      department: { id: 'd1', name: 'Billing' },
      labels: ['vip'],
      unread: 2,
      lastMessage: { text: 'Hi', at: NOW, direction: 'inbound' },
      window: { open: true, closesAt: NOW + HOUR },
      cost: { amount: '0.0147', currency: 'EUR' },
      snoozedUntil: NOW + HOUR,
    });
    assert.equal(c.status, 'snoozed');
    assert.equal(c.assignee?.name, 'Grace');
    assert.equal(c.department?.name, 'Billing');
    assert.equal(c.unread, 2);
    assert.equal(c.window.closesAt, NOW + HOUR);
    assert.equal(c.snoozedUntil, NOW + HOUR);
  });

  it('reads a conversation in the older API shape (state, assigneeId, ISO times, waId)', () => {
    const c = normalizeConversation({
      id: 'c1',
      channelId: 'ch1',
      contactId: 'k1',
      state: 'closed',
      assigneeId: 'a1',
      contact: { id: 'k1', waId: '447700900123', phoneNumber: '+447700900123', name: null },
      window: { open: false, closesAt: '2026-03-02T10:00:00.000Z' },
      lastMessageAt: '2026-03-02T09:00:00.000Z',
    });
    assert.equal(c.status, 'closed');
    assert.deepEqual(c.assignee, { id: 'a1', name: 'a1' });
    assert.equal(c.contact.phone, '+447700900123');
    assert.equal(c.window.closesAt, NOW + HOUR);
    assert.equal(c.labels.length, 0);
  });

  it('gives a failed message its plain-words reason and a media message its /v1/media URL', () => {
    const failed = normalizeMessage({
      id: 'm1',
      direction: 'outbound',
      type: 'text',
      text: 'Anything else?',
      status: 'refused',
      reason: 'window_closed',
      explanation: 'The 24-hour window is closed.',
      createdAt: '2026-03-02T09:00:00.000Z',
    });
    assert.equal(failed.explanation, 'The 24-hour window is closed.');
    assert.equal(failed.at, NOW);
    const image = normalizeMessage({
      id: 'm2',
      direction: 'inbound',
      type: 'image',
      text: null,
      content: { image: { id: 'media-7', caption: 'the parcel', mime_type: 'image/jpeg' } },
      status: 'received',
    });
    assert.equal(image.text, 'the parcel');
    assert.equal(image.media?.url, '/v1/media/media-7');
    assert.equal(image.media?.mime, 'image/jpeg');
    assert.deepEqual(image.extraMedia, [], 'one media, nothing extra');
    // A Twilio message with MediaUrl0..2: the transcript's extraMedia, each shown like the first.
    const album = normalizeMessage({
      id: 'm3',
      direction: 'inbound',
      type: 'image',
      text: 'Both sides and the receipt',
      media: { id: 'md-0', mime: 'image/jpeg', url: '/v1/media/md-0' },
      extraMedia: [
        { id: 'md-1', mime: 'image/png', url: '/v1/media/md-1', filename: null },
        { id: 'md-2', mime: 'application/pdf', url: '/v1/media/md-2', filename: 'receipt.pdf' },
      ],
      status: 'received',
    });
    assert.deepEqual(
      [album.media, ...album.extraMedia].map((m) => [m?.url, m?.mime]),
      [
        ['/v1/media/md-0', 'image/jpeg'],
        ['/v1/media/md-1', 'image/png'],
        ['/v1/media/md-2', 'application/pdf'],
      ],
    );
    assert.equal(album.extraMedia[1]?.filename, 'receipt.pdf');
    const note = normalizeMessage({
      id: 'n1',
      kind: 'note',
      text: 'VIP customer',
      author: { name: 'Grace' },
    });
    assert.equal(note.kind, 'note');
    assert.equal(note.author, 'Grace');
  });
});
