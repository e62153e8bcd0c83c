// Usage log lines: the fast path and JSON.parse accept the same logs; errors say what is wrong.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstant, parseUsageLine } from './usage-log.ts';

const DELIVERED =
  '{"type":"delivered","at":"2025-07-03T10:05:00Z","waba":"W1","channel":"C1","contact":"+447700900123","message":"m1","template_category":"utility"}';

describe('usage log lines', () => {
  it('reads the PRODUCT.md examples', () => {
    assert.deepEqual(
      parseUsageLine(
        '{"type":"inbound","at":"2025-07-03T10:00:00Z","waba":"W1","channel":"C1","contact":"+447700900123","entry_point":"ctwa"}',
      ),
      {
        type: 'inbound',
        at: Date.parse('2025-07-03T10:00:00Z'),
        atText: '2025-07-03T10:00:00Z',
        waba: 'W1',
        channel: 'C1',
        contact: '+447700900123',
        entryPoint: 'ctwa',
        tz: undefined,
      },
    );
    const d = parseUsageLine(DELIVERED);
    assert.ok(typeof d !== 'string' && d.type === 'delivered');
    if (typeof d !== 'string' && d.type === 'delivered') {
      assert.equal(d.message, 'm1');
      assert.equal(d.templateCategory, 'utility');
    }
  });

  it('gives the same event for spacing, field order, escapes, nulls and unknown fields', () => {
    const base = parseUsageLine(DELIVERED);
    const variants = [
      ' { "type" : "delivered" , "at":"2025-07-03T10:05:00Z","waba":"W1","channel":"C1","contact":"+447700900123","message":"m1","template_category":"utility" } ',
      '{"template_category":"utility","message":"m1","contact":"+447700900123","channel":"C1","waba":"W1","at":"2025-07-03T10:05:00Z","type":"delivered"}',
      '{"type":"delivered","at":"2025-07-03T10:05:00Z","waba":"W\\u0031","channel":"C1","contact":"+447700900123","message":"m1","template_category":"utility"}',
      '{"type":"delivered","at":"2025-07-03T10:05:00Z","waba":"W1","channel":"C1","contact":"+447700900123","message":"m1","template_category":"utility","tz":null}',
      '{"type":"delivered","at":"2025-07-03T10:05:00Z","waba":"W1","channel":"C1","contact":"+447700900123","message":"m1","template_category":"utility","cost":{"x":1},"n":3}',
    ];
    for (const v of variants) assert.deepEqual(parseUsageLine(v), base, v);
  });

  it('keeps escaped characters of ids exactly', () => {
    const e = parseUsageLine(
      '{"type":"delivered","at":"2025-07-03T10:05:00Z","waba":"W1","channel":"C1","contact":"+447700900123","message":"wamid.\\"x\\"\\u00e9"}',
    );
    assert.ok(typeof e !== 'string' && e.type === 'delivered');
    if (typeof e !== 'string' && e.type === 'delivered') assert.equal(e.message, 'wamid."x"é');
  });

  it('says what is wrong with a bad line', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /not valid JSON/],
      ['[1,2]', /not a JSON object/],
      ['{"type":"delivered"', /not valid JSON/],
      [DELIVERED.replace('"waba":"W1",', ''), /missing field "waba"/],
      [DELIVERED.replace('"message":"m1",', ''), /missing field "message"/],
      [DELIVERED.replace('delivered', 'sent'), /unknown type "sent"/],
      [DELIVERED.replace('10:05:00Z', '10:05:00'), /ISO 8601/],
      [DELIVERED.replace('2025-07-03T10:05:00Z', '2025-02-30T10:05:00Z'), /ISO 8601/],
      [DELIVERED.replace('2025-07-03T10:05:00Z', '2025-07-03'), /ISO 8601/],
      [DELIVERED.replace('"utility"', '"promo"'), /unknown template_category "promo"/],
      [DELIVERED.replace('"W1"', '7'), /"waba" must be a string/],
      [
        '{"type":"inbound","at":"2025-07-03T10:00:00Z","waba":"W1","channel":"C1","contact":"+44","entry_point":"ad"}',
        /unknown entry_point "ad"/,
      ],
    ];
    for (const [line, expected] of cases) {
      const r = parseUsageLine(line);
      assert.ok(typeof r === 'string', line);
      assert.match(r, expected, line);
    }
  });
});

describe('parseInstant', () => {
  it('agrees with Date.parse on instants with Z, offsets and fractions', () => {
    const samples = [
      '2025-07-03T10:05:00Z',
      '2025-07-03T10:05:00.1Z',
      '2025-07-03T10:05:00.12Z',
      '2025-07-03T10:05:00.123Z',
      '2025-07-03T10:05:00.123456Z',
      '2025-07-03T10:05:00+05:30',
      '2025-07-03T00:05:00-03:00',
      '2024-02-29T23:59:59Z',
      '2019-12-31T23:59:59.999+00:00',
    ];
    for (const s of samples) assert.equal(parseInstant(s), Date.parse(s), s);
    for (let i = 0; i < 2000; i++) {
      const t = Date.UTC(2019, 0, 1) + Math.floor(Math.random() * 8 * 365 * 86_400_000);
      const iso = new Date(t).toISOString();
      assert.equal(parseInstant(iso), t, iso);
    }
  });

  it('refuses what is not a full instant', () => {
    for (const s of [
      '2025-07-03',
      '2025-07-03T10:05Z',
      '2025-07-03T24:00:00Z',
      '2025-07-03T10:05:60Z',
      '2025-02-29T10:00:00Z',
      '2025-07-03 10:05:00Z',
      '2025-07-03T10:05:00.Z',
      '2025-07-03T10:05:00+0530',
      '1751537100',
    ])
      assert.equal(parseInstant(s), null, s);
  });
});
