// The inbox is served at `/` with a fallback for client routes, and never shadows the API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { installProblemHandlers } from '../src/http/problem.ts';
import { registerUi } from '../src/http/ui.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const INDEX = '<!doctype html><title>Parley inbox</title><div id="root"></div>';

async function uiServer(dist: string): Promise<FastifyInstance> {
  const app = Fastify();
  installProblemHandlers(app);
  app.get('/v1/things', () => ({ items: [] }));
  await registerUi(app, dist);
  return app;
}

describe('serving the built inbox', () => {
  let dir: string;
  let app: FastifyInstance;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
    app = await uiServer(dir);
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers / with the inbox page, revalidated on every load and locked to its origin', async () => {
    const r = await app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.equal(r.body, INDEX);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
  });

  it('answers a client route (a deep link into a conversation) with the same page', async () => {
    const r = await app.inject({ method: 'GET', url: '/inbox/conv_123?x=1' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, INDEX);
  });

  it('serves fingerprinted assets with a long, immutable cache lifetime', async () => {
    const r = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, 'console.log(1)');
    assert.match(String(r.headers['cache-control']), /immutable/);
    assert.match(String(r.headers['cache-control']), /max-age=31536000/);
  });

  it('answers a missing file with 404, not with the page', async () => {
    const r = await app.inject({ method: 'GET', url: '/assets/gone-123.js' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
  });

  it('never serves a file outside the build (path traversal)', async () => {
    for (const url of ['/..%2f..%2fetc%2fpasswd', '/assets/..%2f..%2f..%2fpackage.json']) {
      const r = await app.inject({ method: 'GET', url });
      assert.notEqual(r.body.includes('root:'), true, url);
      assert.notEqual(r.body.includes('"name"'), true, url);
      assert.ok(r.statusCode === 404 || r.body === INDEX, `${url} → ${r.statusCode}`);
    }
  });

  it('leaves unknown API, webhook and operational paths to the problem+json 404', async () => {
    for (const url of [
      '/v1/nothing-here',
      '/graph/v21.0/nothing',
      '/webhooks/nowhere',
      '/metrics/x',
      '/docs/x/y',
    ]) {
      const r = await app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8', url);
      assert.equal(JSON.parse(r.body).code, 'not_found', url);
    }
    const known = await app.inject({ method: 'GET', url: '/v1/things' });
    assert.deepEqual(JSON.parse(known.body), { items: [] });
  });

  it('says how to build the inbox when it has not been built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'parley-ui-empty-'));
    const bare = await uiServer(empty);
    try {
      const r = await bare.inject({ method: 'GET', url: '/inbox' });
      assert.equal(r.statusCode, 200);
      assert.match(r.body, /npm run build:ui/);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the inbox inside a whole Parley', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('keeps the API, its 404s and the health probe as they were', async () => {
    const health = await t.parley.http.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    const unknown = await t.api('GET', '/v1/no-such-route');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'not_found');
    const list = await t.api('GET', '/v1/conversations');
    assert.equal(list.status, 200);
    const openapi = await t.parley.http.inject({ method: 'GET', url: '/v1/openapi.json' });
    assert.equal(openapi.statusCode, 200);
    assert.equal(
      JSON.parse(openapi.body).paths['/*'],
      undefined,
      'the fallback is not an API route',
    );
  });

  it('answers the root with an HTML page (the inbox, or how to build it)', async () => {
    const r = await t.parley.http.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
  });
});
