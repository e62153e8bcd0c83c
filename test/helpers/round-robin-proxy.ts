// A tiny load balancer for multi-node tests: forwards each request to the next node in turn and,
// when a node does not answer (killed), to the one after it, like a health-checked balancer.
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface RoundRobinProxy {
  readonly url: string;
  /** Base URLs of the nodes behind the proxy (replaced as nodes die and restart). */
  targets: string[];
  /** Rewrites a request path before forwarding (e.g. a webhook path whose id is known later). */
  rewrite: (path: string) => string;
  /** Requests forwarded per target base URL. */
  readonly forwarded: Map<string, number>;
  close(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  let next = 0;
  const proxy: Omit<RoundRobinProxy, 'url' | 'close'> = {
    targets: [],
    rewrite: (path) => path,
    forwarded: new Map(),
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const payload = await body(request);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name))
          headers[name] = value;
      const targets = [...proxy.targets];
      for (let tried = 0; tried < targets.length; tried++) {
        const target = targets[next++ % targets.length]!;
        try {
          const answer = await fetch(`${target}${proxy.rewrite(request.url ?? '/')}`, {
            method: request.method ?? 'GET',
            headers,
            ...(payload.length > 0 ? { body: payload } : {}),
            signal: AbortSignal.timeout(30_000),
          });
          const text = Buffer.from(await answer.arrayBuffer());
          proxy.forwarded.set(target, (proxy.forwarded.get(target) ?? 0) + 1);
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
          });
          response.end(text);
          return;
        } catch {
          // That node is down (or did not answer): try the next one.
        }
      }
      response.writeHead(502, { 'content-type': 'text/plain' }).end('no node answered');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
