// Output formats: the byte writer writes exactly the JSON lines messageJsonLine does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RatedMessage } from '../../core/pricing/rating-engine.ts';
import { JsonLinesWriter, MessageTable, messageJsonLine } from './rate-output.ts';
import { UsageLineReader } from './usage-log-bytes.ts';

const rated = (over: Partial<RatedMessage>): RatedMessage => ({
  kind: 'rated',
  message: 'm1',
  waba: 'W1',
  channel: 'C1',
  contact: '+447700900123',
  at: 0,
  date: '2023-07-03',
  month: '2023-07',
  pricingModel: 'CBP',
  era: 'cbp2023',
  category: 'marketing',
  pricingType: 'regular',
  conversation: 'conv:m1',
  market: 'Rest of Central & Eastern Europe',
  country: 'PL',
  billable: true,
  amountMicros: 71_200,
  currency: 'EUR',
  ...over,
});

describe('JsonLinesWriter', () => {
  it('writes the same bytes as messageJsonLine, for ids read in place and for escaped ones', () => {
    const cases: Array<[string, Partial<RatedMessage>]> = [
      ['"m1"', {}],
      [
        '"m1"',
        {
          conversation: null,
          billable: false,
          amountMicros: 0,
          pricingType: 'free_customer_service',
        },
      ],
      ['"wamid.\\"x\\""', { message: 'wamid."x"' }],
      ['"mé💬"', { message: 'mé💬', waba: 'Wé' }],
      [
        '"m1"',
        { conversation: 'conv:"q"', era: 'pmp2026', category: 'service', pricingModel: 'PMP' },
      ],
      ['"m1"', { amountMicros: 125, currency: 'USD', market: 'India' }],
    ];
    const reader = new UsageLineReader();
    for (const [messageJson, over] of cases) {
      const r = rated(over);
      const line = `{"type":"delivered","at":"2023-07-03T10:05:00.5+01:00","waba":${JSON.stringify(r.waba)},"channel":"C1","contact":"+447700900123","message":${messageJson}}`;
      const bytes = Buffer.from(line);
      assert.equal(reader.read(bytes, 0, bytes.length), null, line);
      const writer = new JsonLinesWriter(64);
      writer.message(r, bytes, reader.line);
      writer.message(r, bytes, reader.line);
      const written = Buffer.concat(writer.take()).toString('utf8');
      const expected = messageJsonLine(r, '2023-07-03T10:05:00.5+01:00');
      assert.equal(written, expected + expected);
      assert.deepEqual(JSON.parse(expected.trim()), {
        message: r.message,
        waba: r.waba,
        at: '2023-07-03T10:05:00.5+01:00',
        pricing_model: r.pricingModel,
        era: r.era,
        category: r.category,
        pricing_type: r.pricingType,
        conversation: r.conversation,
        market: r.market,
        billable: r.billable,
        amount: r.amountMicros === 125 ? '0.000125' : r.amountMicros === 0 ? '0.0000' : '0.0712',
        currency: r.currency,
      });
    }
  });

  it('reuses blocks handed back after writing', () => {
    const writer = new JsonLinesWriter(1024);
    writer.text('x'.repeat(1000));
    const [first] = writer.take();
    assert.ok(first);
    writer.recycle(first);
    writer.text('y'.repeat(1000));
    const [second] = writer.take();
    writer.text('z'.repeat(1000));
    const [third] = writer.take();
    assert.notEqual(second?.buffer, first.buffer);
    assert.equal(third?.buffer, first.buffer);
    assert.equal(third?.toString(), 'z'.repeat(1000));
  });
});

describe('MessageTable', () => {
  it('aligns columns from the first rows and prints totals and grand totals', () => {
    const table = new MessageTable(2);
    let text = table.row(rated({ message: 'short' }), '2023-07-03T10:05:00Z');
    assert.equal(text, '');
    text += table.row(rated({ message: 'a-longer-id' }), '2023-07-03T10:06:00Z');
    text += table.row(rated({ message: 'x' }), '2023-07-03T10:07:00Z');
    text += table.finish(
      [
        {
          waba: 'W1',
          month: '2023-07',
          category: 'marketing',
          currency: 'EUR',
          amountMicros: 213_600,
          messages: 3,
          billable: 3,
        },
      ],
      [{ currency: 'EUR', amountMicros: 213_600 }],
    );
    const rows = text.split('\n');
    const messageAt = rows[0]?.indexOf('message') ?? -1;
    assert.equal(rows[2]?.slice(messageAt, messageAt + 11), 'short      ');
    assert.equal(rows[3]?.slice(messageAt, messageAt + 11), 'a-longer-id');
    assert.equal(rows[4]?.slice(messageAt, messageAt + 11), 'x          ');
    assert.match(text, /W1\s+2023-07\s+marketing\s+3\s+3\s+0\.2136\s+EUR/);
    assert.match(text, /Grand total\ncurrency\s+amount\n-+\s+-+\nEUR\s+0\.2136\n$/);
  });
});
