// `parley rates import FILE.csv`: a rate card loaded into the store a running Parley uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../app/config.ts';
import { openStore } from '../app/container.ts';
import { startTestParley, type TestParley } from '../../test/helpers/parley.ts';
import { runRatesImport, type RatesCommandIo } from './rates-command.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'parley.js');
const CARD = [
  'effective_from,market,category,currency,rate,volume_from',
  '2025-07-01,United Kingdom,marketing,USD,0.0450,',
  '2025-07-01,United Kingdom,utility,USD,0.0180,',
].join('\n');

function capture(): RatesCommandIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l) };
}

describe('parley rates import', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-rates-'));
    writeFileSync(join(dir, 'meta.csv'), CARD);
    writeFileSync(
      join(dir, 'bad.csv'),
      'effective_from,market,category,currency,rate\n2025-13-01,United Kingdom,marketing,USD,0.04\n2025-07-01,Narnia,marketing,USD,0.04\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a card into the running store: the API lists it and serves it as the card in force', async () => {
    const t: TestParley = await startTestParley({ start: '2026-03-02T09:00:00Z' });
    try {
      const io = capture();
      const code = await runRatesImport({ file: join(dir, 'meta.csv') }, io, t.parley.config);
      assert.equal(code, 0, io.err_.join('\n'));
      assert.match(
        io.out_.join('\n'),
        /imported 2 rates from meta\.csv into workspace "Demo workspace"/,
      );
      const cards = await t.api('GET', '/v1/billing/rate-cards');
      assert.equal(cards.json.illustrative, false);
      assert.deepEqual(
        cards.json.items.map((c: { name: string; rows: number }) => [c.name, c.rows]),
        [['meta.csv', 2]],
      );
      const csv = await t.parley.http.inject({
        method: 'GET',
        url: '/v1/billing/rate-cards?format=csv',
        headers: { authorization: `Bearer ${t.apiKey}` },
      });
      assert.equal(csv.body, `${CARD}\n`);
    } finally {
      await t.close();
    }
  });

  it('reports every problem as FILE:LINE and imports nothing; exit 1', async () => {
    const config = loadConfig({
      PARLEY_DATA_DIR: join(dir, 'store-a'),
      PARLEY_LOG_LEVEL: 'silent',
    });
    const store = await openStore(config);
    await store.migrate();
    await store.workspaces.create({ name: 'Acme' });
    await store.close();
    const io = capture();
    const code = await runRatesImport({ file: join(dir, 'bad.csv') }, io, config);
    assert.equal(code, 1);
    assert.deepEqual(io.err_.slice(0, 2), [
      `${join(dir, 'bad.csv')}:2: effective_from "2025-13-01" is not a date (YYYY-MM-DD)`,
      `${join(dir, 'bad.csv')}:3: market "Narnia" is not one of Meta's pricing markets (see docs/pricing.md)`,
    ]);
    const check = await openStore(config);
    const [acme] = await check.workspaces.list();
    assert.deepEqual(await check.billing.rateCards(acme?.id ?? ''), []);
    await check.close();
  });

  it('says which file it cannot read; exit 1', async () => {
    const io = capture();
    const config = loadConfig({
      PARLEY_DATA_DIR: join(dir, 'store-x'),
      PARLEY_LOG_LEVEL: 'silent',
    });
    assert.equal(await runRatesImport({ file: join(dir, 'nope.csv') }, io, config), 1);
    assert.match(io.err_.join('\n'), /cannot read .*nope\.csv/);
  });

  it('asks for --workspace when the store has several, and finds one by name', async () => {
    const config = loadConfig({
      PARLEY_DATA_DIR: join(dir, 'store-b'),
      PARLEY_LOG_LEVEL: 'silent',
    });
    const store = await openStore(config);
    await store.migrate();
    await store.workspaces.create({ name: 'Acme' });
    const beta = await store.workspaces.create({ name: 'Beta' });
    await store.close();
    const unclear = capture();
    assert.equal(await runRatesImport({ file: join(dir, 'meta.csv') }, unclear, config), 1);
    assert.match(
      unclear.err_.join('\n'),
      /2 workspaces: choose one with --workspace \(Acme, Beta\)/,
    );
    const named = capture();
    assert.equal(
      await runRatesImport(
        { file: join(dir, 'meta.csv'), workspace: 'Beta', name: 'July' },
        named,
        config,
      ),
      0,
    );
    const check = await openStore(config);
    assert.deepEqual(
      (await check.billing.rateCards(beta.id)).map((c) => c.name),
      ['July'],
    );
    await check.close();
  });

  it('runs as the parley command (registered in the program)', () => {
    const data = join(dir, 'store-c');
    const env = { ...process.env, PARLEY_DATA_DIR: data, PARLEY_LOG_LEVEL: 'silent' };
    const empty = spawnSync(process.execPath, [BIN, 'rates', 'import', join(dir, 'meta.csv')], {
      env,
      encoding: 'utf8',
    });
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no workspace yet/);
  });
});
