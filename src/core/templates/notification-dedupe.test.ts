// Duplicate notification suppression (LIM-7).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TemplateComponentParams } from '../messages.ts';
import { MINUTE } from '../time.ts';
import {
  isDuplicateNotification,
  notificationDedupeKey,
  notificationDedupeUntil,
} from './notification-dedupe.ts';

const params: TemplateComponentParams[] = [
  {
    type: 'body',
    parameters: [
      { type: 'text', text: 'Jane' },
      { type: 'text', text: 'A-1001' },
    ],
  },
  { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'A-1001' }] },
  {
    type: 'header',
    parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/a.png' } }],
  },
];

describe('notification dedupe', () => {
  it('LIM-7: the same template and parameters to the same contact give the same key, whatever the order or spelling of the number', () => {
    const a = notificationDedupeKey('+44 7700 900123', 'order_update', 'en_US', params);
    const reordered: TemplateComponentParams[] = [
      {
        type: 'HEADER',
        parameters: [{ image: { link: 'https://cdn.example.com/a.png' }, type: 'image' }],
      },
      { index: 1, sub_type: 'URL', type: 'button', parameters: [{ text: 'A-1001', type: 'text' }] },
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Jane' },
          { type: 'text', text: 'A-1001' },
        ],
      },
    ];
    assert.equal(notificationDedupeKey('447700900123', 'order_update', 'en_US', reordered), a);
  });

  it('LIM-7: a different contact, template, language or parameter (including positional order) is a different notification', () => {
    const a = notificationDedupeKey('447700900123', 'order_update', 'en_US', params);
    assert.notEqual(notificationDedupeKey('447700900124', 'order_update', 'en_US', params), a);
    assert.notEqual(notificationDedupeKey('447700900123', 'order_shipped', 'en_US', params), a);
    assert.notEqual(notificationDedupeKey('447700900123', 'order_update', 'en_GB', params), a);
    const swapped: TemplateComponentParams[] = [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'A-1001' },
          { type: 'text', text: 'Jane' },
        ],
      },
      params[1]!,
      params[2]!,
    ];
    assert.notEqual(notificationDedupeKey('447700900123', 'order_update', 'en_US', swapped), a);
  });

  it('LIM-7: named parameters match by name, so their order does not matter', () => {
    const named = (order: string[]): TemplateComponentParams[] => [
      {
        type: 'body',
        parameters: order.map((n) => ({ type: 'text', parameter_name: n, text: n.toUpperCase() })),
      },
    ];
    assert.equal(
      notificationDedupeKey('1', 'welcome', 'en', named(['first_name', 'account_id'])),
      notificationDedupeKey('1', 'welcome', 'en', named(['account_id', 'first_name'])),
    );
  });

  it('LIM-7: a repeat is suppressed within the window (default 10 minutes, half-open) and allowed after', () => {
    const sent = Date.parse('2026-05-01T09:00:00Z');
    assert.equal(isDuplicateNotification(null, sent), false);
    assert.equal(isDuplicateNotification(sent, sent + 10 * MINUTE - 1), true);
    assert.equal(isDuplicateNotification(sent, sent + 10 * MINUTE), false);
    assert.equal(isDuplicateNotification(sent, sent + 20 * MINUTE, 30 * MINUTE), true);
    assert.equal(notificationDedupeUntil(sent), sent + 10 * MINUTE);
  });
});
