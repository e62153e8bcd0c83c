// The parley command as a user runs it: real processes, a temp data dir, a free port.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const BIN = join(import.meta.dirname, '..', 'bin', 'parley.js');
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  dirs.push(dir);
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startParley(env: Record<string, string>, args: string[] = []): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'start', ...args], {
    env: { ...process.env, PARLEY_PORT: String(port), PARLEY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded machine loading the sources alone can take several seconds.
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok && out.includes('is running'))
        return { child, url, output: () => out, exited };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`parley did not become healthy:\n${out}`);
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('parley start', () => {
  it('on a brand-new data dir creates the demo, prints its API key, shows simulated traffic and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const p = await startParley({ PARLEY_DATA_DIR: dir });
    const key = /API key:\s+(pk_\S+)/.exec(p.output())?.[1];
    assert.ok(key, p.output());
    assert.ok(existsSync(join(dir, 'parley.db')));
    assert.ok(existsSync(join(dir, 'secret.key')));
    let conversations: unknown[] = [];
    for (let i = 0; i < 60 && conversations.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const res = await fetch(`${p.url}/v1/conversations`, {
        headers: { authorization: `Bearer ${key}` },
      });
      conversations = ((await res.json()) as { items: unknown[] }).items;
    }
    assert.ok(conversations.length > 0, 'a simulated customer wrote in');
    const flows = await fetch(`${p.url}/v1/automations`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.ok(((await flows.json()) as { items: unknown[] }).items.length > 0, 'demo bot flows');
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('never creates demo data in a configured deployment', async () => {
    const dir = tempDir();
    const adminKey = 'pk_test_admin_key_0123456789abcdef';
    const p = await startParley({ PARLEY_DATA_DIR: dir, PARLEY_ADMIN_API_KEY: adminKey });
    assert.doesNotMatch(p.output(), /Demo workspace/);
    const channels = (await (
      await fetch(`${p.url}/v1/channels`, { headers: { authorization: `Bearer ${adminKey}` } })
    ).json()) as { items: unknown[] };
    assert.deepEqual(channels.items, []);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('upserts resources declared in a config file, with ${ENV} references', async () => {
    const dir = tempDir();
    const file = join(dir, 'parley.yaml');
    writeFileSync(
      file,
      [
        'workspaces:',
        '  - name: Acme',
        '    apiKeys: ["${ACME_KEY}"]',
        '    connections:',
        '      - name: Test sandbox',
        '        provider: sandbox',
        '        channels:',
        '          - { name: Support, providerKey: "555000111", phoneNumber: "+15550001111", throughputMps: 20 }',
      ].join('\n'),
    );
    const key = 'pk_acme_declared_key_000000000000';
    const p = await startParley({ PARLEY_DATA_DIR: dir, PARLEY_CONFIG: file, ACME_KEY: key });
    const res = await fetch(`${p.url}/v1/channels`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const channels = (
      (await res.json()) as { items: Array<{ name: string; throughputMps: number }> }
    ).items;
    assert.deepEqual(
      channels.map((c) => [c.name, c.throughputMps]),
      [['Support', 20]],
    );
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('refuses a config file that references a missing environment variable, saying which', () => {
    const dir = tempDir();
    const file = join(dir, 'parley.yaml');
    writeFileSync(file, 'workspaces:\n  - name: Acme\n    apiKeys: ["${NOT_SET_ANYWHERE}"]\n');
    const r = spawnSync(process.execPath, [BIN, 'migrate'], {
      env: { ...process.env, PARLEY_DATA_DIR: dir, PARLEY_CONFIG: file },
      encoding: 'utf8',
    });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /NOT_SET_ANYWHERE/);
  });
});

describe('parley backup', () => {
  it('copies the SQLite store consistently while Parley runs', async () => {
    const dir = tempDir();
    const p = await startParley({ PARLEY_DATA_DIR: dir });
    await new Promise((r) => setTimeout(r, 2_000)); // let simulated customers write
    const copy = join(tempDir(), 'copy.db');
    const r = spawnSync(process.execPath, [BIN, 'backup', copy], {
      env: { ...process.env, PARLEY_DATA_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const db = new Database(copy, { readonly: true });
    assert.equal(
      (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
      'ok',
    );
    const workspaces = db.prepare('SELECT count(*) AS n FROM workspaces').get() as { n: number };
    assert.equal(workspaces.n, 1);
    db.close();
    p.child.kill('SIGTERM');
    await p.exited;
  });
});

describe('parley migrate and doctor', () => {
  it('migrate applies migrations once; doctor reports database and queue and exits 0 on a healthy sandbox setup', () => {
    const dir = tempDir();
    const env = {
      ...process.env,
      PARLEY_DATA_DIR: dir,
      PARLEY_PUBLIC_URL: 'https://parley.example.com',
    };
    const first = spawnSync(process.execPath, [BIN, 'migrate'], { env, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /applied: /);
    const second = spawnSync(process.execPath, [BIN, 'migrate'], { env, encoding: 'utf8' });
    assert.match(second.stdout, /up to date/);
    const doctor = spawnSync(process.execPath, [BIN, 'doctor'], { env, encoding: 'utf8' });
    assert.match(doctor.stdout, /✓ database: sqlite reachable/);
    assert.match(doctor.stdout, /✓ outbound queue/);
    assert.equal(doctor.status, 0, doctor.stdout);
  });

  it('doctor exits 1 and says how to fix an unreachable public URL', () => {
    const dir = tempDir();
    const doctor = spawnSync(process.execPath, [BIN, 'doctor'], {
      env: { ...process.env, PARLEY_DATA_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(doctor.status, 1);
    assert.match(doctor.stdout, /fix: set PARLEY_PUBLIC_URL/);
  });
});
