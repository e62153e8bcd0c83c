// Templates as code and the consent ledger on the command line: templates declared in a config
// file, `parley templates push|pull` against a Meta channel (a local Graph API stand-in), and
// `parley consent import|export`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createApiKey,
  createChannel,
  createConnection,
  createWorkspace,
} from '../src/app/admin.ts';
import { applyConfigFile } from '../src/app/bootstrap.ts';
import { ConfigError, loadConfig, loadConfigFile, type ParleyConfig } from '../src/app/config.ts';
import { createParley } from '../src/app/container.ts';
import {
  FakeGraphServer,
  type RecordedRequest,
} from '../src/adapters/providers/meta-cloud/testing/fake-graph-server.ts';
import { pullPath, pushPath } from '../src/cli/templates-command.ts';
import { runConsentExport, runConsentImport } from '../src/cli/consent-command.ts';
import type { CommandIo } from '../src/cli/cli-context.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tac-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function capture(): CommandIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

const shippingUpdate = {
  name: 'shipping_update',
  language: 'en_US',
  category: 'UTILITY',
  components: [
    {
      type: 'BODY',
      text: 'Your parcel {{1}} left our warehouse today.',
      example: { body_text: [['PX-20931']] },
    },
  ],
};
const springSale = {
  name: 'spring_sale',
  language: 'de',
  category: 'MARKETING',
  components: [
    {
      type: 'BODY',
      text: 'Hallo {{1}}, unser Frühjahrsverkauf beginnt heute.',
      example: { body_text: [['Jonas']] },
    },
    { type: 'FOOTER', text: 'Antworten Sie STOP zum Abmelden' },
  ],
};

describe('templates declared in a config file', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('TPL-8: a templates folder and an inline list become drafts; a draft follows its file; a bad file stops the start naming the rule', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'shipping.json'), JSON.stringify(shippingUpdate));
    writeFileSync(
      join(dir, 'parley.yaml'),
      [
        'workspaces:',
        '  - name: Acme',
        '    connections:',
        '      - name: Sandbox',
        '        provider: sandbox',
        '        channels:',
        "          - { name: Support, providerKey: '1065403522429', phoneNumber: '+15550783882' }",
        '    templates: ./templates',
        '  - name: Acme EU',
        '    templates:',
        '      - name: spring_sale',
        '        language: de',
        '        category: MARKETING',
        '        components:',
        "          - { type: BODY, text: 'Hallo {{1}}, unser Frühjahrsverkauf beginnt heute.', example: { body_text: [[Jonas]] } }",
      ].join('\n'),
    );
    const file = loadConfigFile(join(dir, 'parley.yaml'), {});
    await applyConfigFile(t.parley.deps, file);
    const workspaces = await t.parley.deps.store.workspaces.list();
    const acme = workspaces.find((w) => w.name === 'Acme');
    const eu = workspaces.find((w) => w.name === 'Acme EU');
    assert.ok(acme && eu);
    const [declared] = await t.parley.deps.store.templates.list(acme.id);
    assert.equal(declared?.name, 'shipping_update');
    assert.equal(declared?.status, 'DRAFT');
    assert.equal(declared?.channelId, null);
    assert.equal((await t.parley.deps.store.templates.list(eu.id))[0]?.name, 'spring_sale');

    writeFileSync(
      join(dir, 'templates', 'shipping.json'),
      JSON.stringify({
        ...shippingUpdate,
        components: [{ ...shippingUpdate.components[0], text: 'Parcel {{1}} is on its way.' }],
      }),
    );
    await applyConfigFile(t.parley.deps, file);
    const [updated] = await t.parley.deps.store.templates.list(acme.id);
    assert.deepEqual(updated?.components, [
      { ...shippingUpdate.components[0], text: 'Parcel {{1}} is on its way.' },
    ]);

    writeFileSync(
      join(dir, 'templates', 'bad.json'),
      JSON.stringify({ ...shippingUpdate, name: 'Bad Name' }),
    );
    await assert.rejects(
      applyConfigFile(t.parley.deps, file),
      (e: unknown) => e instanceof ConfigError && /bad\.json: TPL-1/.test(e.message),
    );
  });
});

describe('parley templates push|pull against a Meta channel', () => {
  let fake: FakeGraphServer;
  let config: ParleyConfig;
  let folder: string;
  /** What the stand-in Graph API holds for WABA W1. */
  const held: Array<Record<string, unknown>> = [];

  before(async () => {
    fake = await FakeGraphServer.start();
    const templatesPath = /^\/v23\.0\/W1\/message_templates$/;
    fake.on('GET', templatesPath, () => ({ status: 200, body: { data: held, paging: {} } }));
    fake.on('POST', templatesPath, (request: RecordedRequest) => {
      const body = request.json as Record<string, unknown>;
      const id = String(7_000 + held.length);
      held.push({ ...body, id, status: 'PENDING' });
      return { status: 200, body: { id, status: 'PENDING', category: body.category } };
    });
    const dir = tempDir();
    config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: 'silent' });
    const parley = await createParley(config);
    try {
      const workspace = await createWorkspace(parley.deps, 'Acme');
      const connection = await createConnection(parley.deps, {
        workspaceId: workspace.id,
        provider: 'meta',
        name: 'Meta',
        config: { baseUrl: fake.url },
        secrets: { accessToken: 'EAAG-test', appSecret: 'secret', verifyToken: 'verify' },
      });
      await createChannel(parley.deps, {
        workspaceId: workspace.id,
        connectionId: connection.id,
        name: 'Support',
        providerKey: '106540352242922',
        phoneNumber: '+15550783881',
        wabaId: 'W1',
      });
    } finally {
      await parley.stop();
    }
    folder = join(dir, 'templates');
    mkdirSync(folder);
    writeFileSync(join(folder, 'shipping.json'), JSON.stringify(shippingUpdate, null, 2));
    writeFileSync(join(folder, 'spring.yaml'), JSON.stringify(springSale));
  });
  after(async () => fake.close());

  it('TPL-8: push submits each new template file to the provider in Meta’s shape; a second push changes nothing', async () => {
    const io = capture();
    assert.equal(
      await pushPath({ path: folder, channel: 'Support' }, io, config),
      0,
      io.errLines.join('\n'),
    );
    assert.equal(io.outLines.length, 2, io.outLines.join('\n'));
    assert.match(
      io.outLines[0] ?? '',
      /shipping\.json: shipping_update \(en_US\) submitted PENDING/,
    );
    assert.match(io.outLines[1] ?? '', /spring\.yaml: spring_sale \(de\) submitted PENDING/);
    const posts = fake.requests.filter((r) => r.method === 'POST');
    assert.deepEqual(
      posts.map((p) => p.json),
      [shippingUpdate, springSale],
    );
    assert.equal(posts[0]?.headers.authorization, 'Bearer EAAG-test');

    const again = capture();
    assert.equal(await pushPath({ path: folder, channel: 'Support' }, again, config), 0);
    assert.ok(
      again.outLines.every((l) => / unchanged PENDING/.test(l)),
      again.outLines.join('\n'),
    );
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 2);
  });

  it('TPL-9: a changed file for a template still in review is refused, and push exits 1', async () => {
    writeFileSync(
      join(folder, 'shipping.json'),
      JSON.stringify({
        ...shippingUpdate,
        components: [{ ...shippingUpdate.components[0], text: 'Parcel {{1}} is on its way.' }],
      }),
    );
    const io = capture();
    assert.equal(await pushPath({ path: folder, channel: 'Support' }, io, config), 1);
    assert.match(
      io.outLines[0] ?? '',
      /shipping_update \(en_US\) refused — TPL-9: Only APPROVED, REJECTED or PAUSED/,
    );
    writeFileSync(join(folder, 'shipping.json'), JSON.stringify(shippingUpdate, null, 2));
  });

  it('TPL-LINT: a folder with a broken file pushes nothing', async () => {
    writeFileSync(
      join(folder, 'broken.json'),
      JSON.stringify({ ...springSale, name: 'Spring Sale!' }),
    );
    const posts = fake.requests.filter((r) => r.method === 'POST').length;
    const io = capture();
    assert.equal(await pushPath({ path: folder, channel: 'Support' }, io, config), 1);
    assert.ok(
      io.outLines.every((l) =>
        /broken\.json: \? \(de\) invalid — TPL-1|broken\.json: Spring Sale! \(de\) invalid — TPL-1/.test(
          l,
        ),
      ),
      io.outLines.join('\n'),
    );
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, posts);
    rmSync(join(folder, 'broken.json'));
  });

  it('TPL-8: pull writes the provider’s templates as files in Meta’s creation shape, with their approved status synced', async () => {
    for (const h of held) h.status = 'APPROVED';
    const out = join(tempDir(), 'pulled');
    const io = capture();
    assert.equal(
      await pullPath({ path: out, channel: 'Support' }, io, config),
      0,
      io.errLines.join('\n'),
    );
    assert.deepEqual(readdirSync(out).sort(), [
      'shipping_update.en_US.json',
      'spring_sale.de.json',
    ]);
    const pulled = JSON.parse(readFileSync(join(out, 'spring_sale.de.json'), 'utf8')) as unknown;
    assert.deepEqual(pulled, springSale);
    const status = capture();
    await pushPath({ path: folder, channel: 'Support' }, status, config);
    assert.ok(
      status.outLines.every((l) => / unchanged APPROVED/.test(l)),
      status.outLines.join('\n'),
    );
  });

  it('refuses an unknown channel or workspace with a clear message', async () => {
    const io = capture();
    assert.equal(await pushPath({ path: folder, channel: 'Nope' }, io, config), 1);
    assert.match(io.errLines[0] ?? '', /no channel "Nope" in Acme \(known: Support/);
    const ws = capture();
    assert.equal(await pullPath({ path: folder, workspace: 'Other' }, ws, config), 1);
    assert.match(ws.errLines[0] ?? '', /no workspace "Other" \(known: Acme\)/);
  });
});

describe('parley consent import|export', () => {
  let config: ParleyConfig;
  let dir: string;
  before(async () => {
    dir = tempDir();
    config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: 'silent' });
    const parley = await createParley(config);
    try {
      const workspace = await createWorkspace(parley.deps, 'Acme');
      await createApiKey(parley.deps, workspace.id, 'k');
    } finally {
      await parley.stop();
    }
  });

  it('OPT-2/OPT-8: imports a CSV with evidence, and exports it back as CSV and JSON', async () => {
    const csv = join(dir, 'consents.csv');
    writeFileSync(
      csv,
      [
        'phone,purpose,at,text_shown,business_name,url',
        '+447700900401,marketing,2026-02-01T10:00:00Z,"Offers by WhatsApp, weekly",Acme,https://acme.example/signup',
      ].join('\n'),
    );
    const io = capture();
    assert.equal(await runConsentImport({ file: csv }, io, config), 0, io.errLines.join('\n'));
    assert.match(io.errLines[0] ?? '', /1 event\(s\) imported for 1 contact\(s\) into Acme/);

    const json = capture();
    assert.equal(
      await runConsentExport({ contact: '+447700900401', format: 'json' }, json, config),
      0,
    );
    const doc = JSON.parse(json.outLines.join('\n')) as { events: Array<Record<string, string>> };
    assert.equal(doc.events[0]?.text_shown, 'Offers by WhatsApp, weekly');
    assert.equal(doc.events[0]?.source, 'import');
    assert.match(doc.events[0]?.recorded_by ?? '', /import:consents\.csv/);

    const file = join(dir, 'ledger.csv');
    assert.equal(await runConsentExport({ output: file }, capture(), config), 0);
    const lines = readFileSync(file, 'utf8').trim().split('\r\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[1] ?? '',
      /"Offers by WhatsApp, weekly",,Acme,https:\/\/acme\.example\/signup/,
    );
  });

  it('a bad CSV imports nothing and prints each bad line; a bad format is refused', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'phone,purpose,at\n+447700900402,marketing,2026-02-01T10:00:00Z\n');
    const io = capture();
    assert.equal(await runConsentImport({ file: csv }, io, config), 1);
    assert.match(io.errLines.join('\n'), /line 2: an opt-in needs text_shown/);
    const bad = capture();
    assert.equal(await runConsentExport({ format: 'xml' }, bad, config), 1);
  });

  it('is registered in the parley command', () => {
    const result = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'bin', 'parley.js'),
        'consent',
        'export',
        '--format',
        'json',
      ],
      {
        env: { ...process.env, PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as { events: unknown[] };
    assert.equal(doc.events.length, 1);
  });
});
