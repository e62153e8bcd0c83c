// `parley rate` through Commander: exit codes, bad-line reporting, options.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Command } from 'commander';
import { registerRateCommand, parseZoneOptions } from './rate-command.ts';

class Sink extends Writable {
  text = '';
  override _write(chunk: unknown, _enc: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

let dir = '';
const ev = (o: Record<string, string>) =>
  JSON.stringify({ waba: 'W1', channel: 'C1', contact: '+447700900123', ...o });
const GOOD = [
  ev({ type: 'inbound', at: '2025-07-03T10:00:00Z' }),
  ev({ type: 'delivered', at: '2025-07-03T10:05:00Z', message: 'm1' }),
  ev({
    type: 'delivered',
    at: '2025-07-04T12:00:00Z',
    message: 'm2',
    template_category: 'marketing',
  }),
].join('\n');

/** Runs `parley rate …` in a tiny program; returns the exit code and what was written. */
async function parley(args: string[], stdin?: string) {
  const stdout = new Sink();
  const stderr = new Sink();
  let code: number | undefined;
  const program = new Command().exitOverride().configureOutput({
    writeOut: (s) => stdout.write(s),
    writeErr: (s) => stderr.write(s),
  });
  registerRateCommand(program, {
    stdout,
    stderr,
    stdin: stdin === undefined ? undefined : Readable.from([stdin]),
    setExitCode: (c) => (code = c),
  });
  try {
    await program.parseAsync(['node', 'parley', 'rate', ...args]);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? -1;
  }
  return { code, out: stdout.text, err: stderr.text };
}

describe('parley rate', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-rate-'));
    await writeFile(join(dir, 'good.jsonl'), GOOD + '\n');
    await writeFile(
      join(dir, 'bad.jsonl'),
      [
        GOOD,
        '{oops',
        ev({
          type: 'delivered',
          at: '2025-07-05T12:00:00Z',
          message: 'm3',
          contact: '+819012345678',
          template_category: 'marketing',
        }),
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'card.csv'),
      'effective_from,market,category,currency,rate,volume_from\n2025-07-01,United Kingdom,marketing,GBP,0.0400,\n',
    );
    await writeFile(
      join(dir, 'broken.csv'),
      'effective_from,market,category,currency,rate,volume_from\n2025-07-01,United Kingdom,marketing,GBP,cheap,\n',
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 and prices with the bundled illustrative card by default', async () => {
    const { code, out, err } = await parley(['--events', join(dir, 'good.jsonl')]);
    assert.equal(code, 0);
    assert.equal(err, '');
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.type ?? l.message),
      ['m1', 'm2', 'total', 'total', 'grand_total'],
    );
    assert.equal(lines[1]?.currency, 'USD');
    assert.equal(lines[1]?.pricing_type, 'regular');
  });

  it('exits 2 and reports each bad line with its number on stderr', async () => {
    const { code, out, err } = await parley(['--events', join(dir, 'bad.jsonl')]);
    assert.equal(code, 2);
    assert.match(err, /^line 4: not valid JSON/m);
    assert.match(err, /^line 5: message m3: no rate for market Rest of Asia Pacific/m);
    assert.match(err, /2 bad lines skipped/);
    assert.ok(!out.includes('"m3"'));
  });

  it('uses --rates and its currency', async () => {
    const { code, out } = await parley([
      '--events',
      join(dir, 'good.jsonl'),
      '--rates',
      join(dir, 'card.csv'),
    ]);
    assert.equal(code, 0);
    assert.match(out, /\{"type":"grand_total","currency":"GBP","amount":"0\.0400"\}/);
  });

  it('exits 1 naming the line of a broken rate card', async () => {
    const { code, err } = await parley([
      '--events',
      join(dir, 'good.jsonl'),
      '--rates',
      join(dir, 'broken.csv'),
    ]);
    assert.equal(code, 1);
    assert.match(err, /broken\.csv:2: rate "cheap" is not a non-negative decimal number/);
  });

  it('exits 1 when the events file cannot be read', async () => {
    const { code, err } = await parley(['--events', join(dir, 'missing.jsonl')]);
    assert.equal(code, 1);
    assert.match(err, /cannot read .*missing\.jsonl/);
  });

  it('takes --tz WABA=ZONE, repeated or several at once, and refuses unknown zones', async () => {
    const late = join(dir, 'late.jsonl');
    await writeFile(
      late,
      ev({
        type: 'delivered',
        at: '2025-07-31T23:30:00Z',
        message: 'm1',
        template_category: 'marketing',
      }),
    );
    const kolkata = await parley(['--events', late, '--tz', 'W0=UTC', 'W1=Asia/Kolkata']);
    assert.equal(kolkata.code, 0);
    assert.match(kolkata.out, /"month":"2025-08"/);
    const repeated = await parley(['--tz', 'W1=Asia/Kolkata', '--events', late, '--tz', 'W2=UTC']);
    assert.match(repeated.out, /"month":"2025-08"/);
    const bad = await parley(['--events', late, '--tz', 'W1=Mars/Olympus']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /not an IANA time zone/);
  });

  it('prints a table with --format table and refuses other formats', async () => {
    const table = await parley(['--events', join(dir, 'good.jsonl'), '--format', 'table']);
    assert.equal(table.code, 0);
    assert.match(table.out, /^at\s+waba\s+message/);
    assert.match(table.out, /Grand total/);
    const xml = await parley(['--events', join(dir, 'good.jsonl'), '--format', 'xml']);
    assert.notEqual(xml.code, 0);
    assert.match(xml.err, /xml/);
  });

  it('reads the log from standard input with --events -', async () => {
    const { code, out } = await parley(['--events', '-'], GOOD);
    assert.equal(code, 0);
    assert.match(out, /"message":"m2"/);
  });

  it('requires --events', async () => {
    const { code, err } = await parley([]);
    assert.notEqual(code, 0);
    assert.match(err, /--events/);
  });
});

describe('parseZoneOptions', () => {
  it('refuses malformed pairs and contradicting zones', () => {
    assert.equal(typeof parseZoneOptions(['W1']), 'string');
    assert.equal(typeof parseZoneOptions(['=UTC']), 'string');
    assert.equal(typeof parseZoneOptions(['W1=UTC', 'W1=Asia/Kolkata']), 'string');
    assert.deepEqual(parseZoneOptions(['W1=UTC', 'W1=UTC']), new Map([['W1', 'UTC']]));
  });
});
