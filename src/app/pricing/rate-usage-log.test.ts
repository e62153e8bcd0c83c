// The streaming rater: JSON lines out, totals, bad lines with their numbers, backpressure, chunking.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { parseRateCardCsv } from './rate-card-csv.ts';
import { rateUsageLog, rateUsageLogFile } from './rate-usage-log.ts';
import type { RateCard } from '../../core/pricing/rate-card.ts';

const card = ((): RateCard => {
  const r = parseRateCardCsv(
    [
      'effective_from,market,category,currency,rate,volume_from',
      '2025-07-01,United Kingdom,marketing,USD,0.0500,',
      '2025-07-01,United Kingdom,utility,USD,0.0200,',
      '2025-07-01,India,marketing,INR,0.7846,',
    ].join('\n'),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.card;
})();

/** A writable that keeps what it gets; `slow` makes it apply backpressure on every write. */
class Sink extends Writable {
  text = '';
  writes = 0;
  constructor(slow = false) {
    super({ highWaterMark: slow ? 1 : 1 << 20, decodeStrings: false });
    this.slow = slow;
  }
  readonly slow: boolean;
  override _write(
    chunk: unknown,
    _enc: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.text += String(chunk);
    this.writes++;
    if (this.slow) setTimeout(done, 1);
    else done();
  }
}

const ev = (o: Record<string, string>) =>
  JSON.stringify({ waba: 'W1', channel: 'C1', contact: '+447700900123', ...o });

/** The worked example of WHATSAPP_RULES.md §9 (pmp2025) as a usage log. */
const WORKED = [
  ev({ type: 'inbound', at: '2025-07-03T10:00:00Z' }),
  ev({ type: 'delivered', at: '2025-07-03T10:05:00Z', message: 'm1' }),
  ev({
    type: 'delivered',
    at: '2025-07-03T11:00:00Z',
    message: 'm2',
    template_category: 'utility',
  }),
  ev({
    type: 'delivered',
    at: '2025-07-04T12:00:00Z',
    message: 'm3',
    template_category: 'utility',
  }),
  ev({
    type: 'delivered',
    at: '2025-07-04T12:00:00Z',
    message: 'm4',
    template_category: 'marketing',
  }),
].join('\n');

async function run(
  text: string | string[] | Buffer[],
  options: { slow?: boolean; format?: 'json' | 'table'; blockBytes?: number } = {},
) {
  const stdout = new Sink(options.slow);
  const stderr = new Sink();
  const chunks = Array.isArray(text) ? text : [text];
  const result = await rateUsageLog(
    Readable.from(chunks),
    { stdout, stderr },
    { rates: card, format: options.format, blockBytes: options.blockBytes },
  );
  const lines = stdout.text.trim() === '' ? [] : stdout.text.trim().split('\n');
  return {
    result,
    stdout,
    stderr,
    lines,
    json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('rateUsageLog', () => {
  it('prints one line per delivered message, then totals per (waba, month, category) and per currency', async () => {
    const { result, json, stderr } = await run(WORKED + '\n');
    assert.equal(result.exitCode, 0);
    assert.equal(stderr.text, '');
    const out = json();
    assert.deepEqual(out[0], {
      message: 'm1',
      waba: 'W1',
      at: '2025-07-03T10:05:00Z',
      pricing_model: 'PMP',
      era: 'pmp2025',
      category: 'service',
      pricing_type: 'free_customer_service',
      conversation: null,
      market: 'United Kingdom',
      billable: false,
      amount: '0.0000',
      currency: 'USD',
    });
    assert.deepEqual(
      out.slice(0, 4).map((l) => [l.message, l.pricing_type, l.amount]),
      [
        ['m1', 'free_customer_service', '0.0000'],
        ['m2', 'free_customer_service', '0.0000'],
        ['m3', 'regular', '0.0200'],
        ['m4', 'regular', '0.0500'],
      ],
    );
    assert.deepEqual(out.slice(4), [
      {
        type: 'total',
        waba: 'W1',
        month: '2025-07',
        category: 'marketing',
        currency: 'USD',
        amount: '0.0500',
        messages: 1,
        billable: 1,
      },
      {
        type: 'total',
        waba: 'W1',
        month: '2025-07',
        category: 'service',
        currency: 'USD',
        amount: '0.0000',
        messages: 1,
        billable: 0,
      },
      {
        type: 'total',
        waba: 'W1',
        month: '2025-07',
        category: 'utility',
        currency: 'USD',
        amount: '0.0200',
        messages: 2,
        billable: 1,
      },
      { type: 'grand_total', currency: 'USD', amount: '0.0700' },
    ]);
  });

  it('reports bad lines on stderr with their line number, skips them and exits 2', async () => {
    const log = [
      ev({ type: 'inbound', at: '2025-07-03T10:00:00Z' }),
      '{"type":"delivered"',
      '',
      ev({
        type: 'delivered',
        at: '2025-07-03T10:05:00Z',
        message: 'm1',
        contact: '+4915123456789',
        template_category: 'marketing',
      }),
      ev({ type: 'delivered', at: '2025-07-03T10:06:00Z', message: 'm2', contact: 'nobody' }),
      ev({
        type: 'delivered',
        at: '2025-07-03T10:07:00Z',
        message: 'm3',
        template_category: 'marketing',
      }),
    ].join('\r\n');
    const { result, stderr, json } = await run(log);
    assert.equal(result.exitCode, 2);
    assert.equal(result.badLines, 3);
    const errs = stderr.text.trim().split('\n');
    assert.match(errs[0] ?? '', /^line 2: not valid JSON/);
    assert.match(errs[1] ?? '', /^line 4: message m1: no rate for market Germany/);
    assert.match(errs[2] ?? '', /^line 5: message m2: no pricing market/);
    assert.equal(errs[3], '3 bad lines skipped');
    assert.deepEqual(
      json()
        .filter((l) => l.message)
        .map((l) => l.message),
      ['m3'],
    );
    // the skipped messages are in no total
    assert.deepEqual(json().at(-1), { type: 'grand_total', currency: 'USD', amount: '0.0500' });
  });

  it('reads lines split anywhere across chunks, multi-byte characters included, and a last line without newline', async () => {
    const log = [
      ev({ type: 'inbound', at: '2025-07-03T10:00:00Z' }),
      ev({
        type: 'delivered',
        at: '2025-07-03T10:05:00Z',
        message: 'méssage-ü-💬',
        template_category: 'marketing',
      }),
    ].join('\n');
    const bytes = Buffer.from(log, 'utf8');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const { json, result } = await run(chunks);
    assert.equal(result.exitCode, 0);
    assert.equal(json()[0]?.message, 'méssage-ü-💬');
    assert.equal(result.lines, 2);
  });

  it('waits for a slow reader instead of buffering the whole output', async () => {
    const many: string[] = [];
    for (let i = 0; i < 3000; i++)
      many.push(
        ev({
          type: 'delivered',
          at: `2025-07-03T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
          message: `m${i}`,
          template_category: 'marketing',
        }),
      );
    const fast = await run(many.join('\n'));
    const slow = await run(many.join('\n'), { slow: true, blockBytes: 4096 });
    assert.equal(slow.stdout.text, fast.stdout.text);
    assert.ok(slow.stdout.writes > 1, 'written in several blocks');
    assert.equal(slow.lines.length, 3000 + 2);
  });

  it('keeps money in each currency apart', async () => {
    const log = [
      ev({
        type: 'delivered',
        at: '2025-07-03T10:05:00Z',
        message: 'm1',
        template_category: 'marketing',
      }),
      ev({
        type: 'delivered',
        at: '2025-07-03T10:05:00Z',
        message: 'm2',
        contact: '+919876543210',
        template_category: 'marketing',
      }),
    ].join('\n');
    const out = (await run(log)).json();
    assert.deepEqual(
      out.filter((l) => l.type === 'grand_total'),
      [
        { type: 'grand_total', currency: 'INR', amount: '0.7846' },
        { type: 'grand_total', currency: 'USD', amount: '0.0500' },
      ],
    );
  });

  it('uses the tz a log names for its WABA when cutting months', async () => {
    const log = [
      ev({
        type: 'delivered',
        at: '2025-07-31T23:30:00Z',
        message: 'm1',
        template_category: 'marketing',
        tz: 'Asia/Kolkata',
      }),
    ].join('\n');
    const out = (await run(log)).json();
    assert.equal(out.find((l) => l.type === 'total')?.month, '2025-08');
  });

  it('prints an aligned table for people', async () => {
    const { stdout, result } = await run(WORKED, { format: 'table' });
    assert.equal(result.exitCode, 0);
    const rows = stdout.text.split('\n');
    assert.match(
      rows[0] ?? '',
      /^at\s+waba\s+message\s+era\s+category\s+pricing_type\s+conversation\s+market\s+billable\s+amount\s+currency$/,
    );
    // every message row puts the amount in the same column
    const amountAt = (rows[0] ?? '').indexOf('amount');
    for (const row of rows.slice(2, 6))
      assert.match(row.slice(amountAt, amountAt + 6), /^0\.0[0-9]{3}$/);
    assert.match(stdout.text, /Grand total\ncurrency\s+amount\n-+\s+-+\nUSD\s+0\.0700\n/);
  });

  it('reports and skips a line too long to hold in memory', async () => {
    const huge = '{"type":"inbound","x":"' + 'a'.repeat(2_000_000) + '"}';
    const log = [
      huge,
      ev({
        type: 'delivered',
        at: '2025-07-03T10:05:00Z',
        message: 'm1',
        template_category: 'marketing',
      }),
    ].join('\n');
    const chunks: string[] = [];
    for (let i = 0; i < log.length; i += 65536) chunks.push(log.slice(i, i + 65536));
    const { stderr, json, result } = await run(chunks);
    assert.equal(result.exitCode, 2);
    assert.match(stderr.text, /^line 1: longer than/);
    assert.equal(json()[0]?.message, 'm1');
  });
});

describe('rateUsageLogFile', () => {
  it('writes the same output whether a second thread reads the file or not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-rate-file-'));
    try {
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const at = new Date(Date.UTC(2025, 6, 3) + i * 60_000).toISOString();
        const contact =
          i % 7 === 0 ? '+919876543210' : i % 11 === 0 ? '+4915123456789' : '+447700900123';
        if (i % 5 === 0)
          lines.push(
            ev({ type: 'inbound', at, contact, ...(i % 15 === 0 ? { entry_point: 'ctwa' } : {}) }),
          );
        else if (i % 97 === 0) lines.push('{"type":"delivered","at":"nope"}');
        else if (i % 89 === 0) lines.push('   ');
        else if (i % 83 === 0)
          lines.push(
            ev({ type: 'delivered', at, message: `m"${i}é`, template_category: 'marketing' }),
          );
        else
          lines.push(
            ev({
              type: 'delivered',
              at,
              contact,
              message: `m${i}`,
              ...(i % 3 === 0 ? { template_category: 'utility' } : {}),
            }),
          );
      }
      lines.splice(1500, 0, '{"type":"inbound","x":"' + 'a'.repeat(1_100_000) + '"}');
      const file = join(dir, 'usage.jsonl');
      await writeFile(file, lines.join('\r\n'));
      const outputs: Array<{ out: string; err: string; result: unknown }> = [];
      for (const format of ['json', 'table'] as const)
        for (const readerThread of [false, true]) {
          const stdout = new Sink();
          const stderr = new Sink();
          const result = await rateUsageLogFile(
            file,
            { stdout, stderr },
            { rates: card, readerThread, format },
          );
          outputs.push({ out: stdout.text, err: stderr.text, result });
        }
      const [inline, threaded, inlineTable, threadedTable] = outputs;
      assert.ok(inline && threaded && inlineTable && threadedTable);
      assert.equal(threaded.out, inline.out);
      assert.equal(threaded.err, inline.err);
      assert.deepEqual(threaded.result, inline.result);
      assert.equal(threadedTable.out, inlineTable.out);
      assert.match(inlineTable.out, /^2025-07-03T00:01:00\.000Z\s+W1\s+m1\s/m);
      assert.match(inline.err, /^line 1501: longer than 1048576 bytes$/m);
      assert.match(inline.err, /^line 98: /m);
      assert.ok(inline.out.includes('"message":"m\\"83é"'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
