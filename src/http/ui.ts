// Serves the built inbox (ui/dist) at `/`: files when they exist, index.html for client routes.
import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build:ui` (run by `prepare` at install) writes the inbox. */
export const UI_DIST = fileURLToPath(new URL('../../ui/dist', import.meta.url));

/**
 * Paths the inbox never answers, so an unknown API or webhook URL still gets its problem+json 404
 * and a client route can never shadow the API.
 */
const RESERVED = [
  '/v1',
  '/graph',
  '/webhooks',
  '/healthz',
  '/readyz',
  '/docs',
  '/metrics',
  '/sandbox',
  '/emulator',
];

/**
 * The built files are fingerprinted by Vite and never change; index.html must always be
 * revalidated so a new build is picked up. The policy keeps the page to its own origin.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Parley is running</h1>
<p>The inbox has not been built in this checkout. Run <code>npm run build:ui</code>
(or <code>npm install</code>, which builds it), then reload this page.</p>
<p>The API answers under <a href="/docs">/docs</a>.</p></body></html>`;

function isReserved(path: string): boolean {
  return RESERVED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

export async function registerUi(app: FastifyInstance, dist: string = UI_DIST): Promise<void> {
  // serve: false — routing stays ours (the SPA fallback below); the plugin streams files safely.
  await app.register(fastifyStatic, { root: dist, serve: false });

  const sendIndex = (reply: FastifyReply) => {
    if (!existsSync(join(dist, 'index.html')))
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(NOT_BUILT);
    return reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .sendFile('index.html', { cacheControl: false });
  };

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (isReserved(path)) return reply.callNotFound();
    const relative = normalize(path).replace(/^[/\\]+/, '');
    if (relative.startsWith('..') || relative.includes(`${sep}..`)) return reply.callNotFound();
    const file = join(dist, relative);
    if (relative !== '' && isFile(file)) {
      const fingerprinted = relative.startsWith(`assets${sep}`);
      return reply.sendFile(relative, {
        cacheControl: true,
        immutable: fingerprinted,
        maxAge: fingerprinted ? 31_536_000_000 : 0,
      });
    }
    // A file-looking path that does not exist is a real 404, not a client route.
    if (/\.[a-z0-9]+$/i.test(relative)) return reply.callNotFound();
    return sendIndex(reply);
  });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
