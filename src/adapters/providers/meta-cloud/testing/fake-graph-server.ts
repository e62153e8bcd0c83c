// A local stand-in for the Graph API / 360dialog (node:http on 127.0.0.1, random port) that records requests.
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown;
}

export interface FakeReply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON, a string or Buffer as is, undefined as an empty body. */
  readonly body?: unknown;
  /** Holds the response back (to provoke client timeouts). */
  readonly delayMs?: number;
}

type Responder = FakeReply | ((request: RecordedRequest, server: FakeGraphServer) => FakeReply);

interface Route {
  readonly method: string;
  readonly path: string | RegExp;
  readonly respond: Responder;
  /** Remaining uses; undefined means forever. */
  times?: number;
}

/** Replies like the Cloud API does when a message is accepted. */
export function acceptedReply(request: RecordedRequest, id: string): FakeReply {
  const to =
    typeof request.json === 'object' && request.json !== null
      ? String((request.json as Record<string, unknown>).to)
      : '';
  return {
    status: 200,
    body: {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: to }],
      messages: [{ id, message_status: 'accepted' }],
    },
  };
}

export class FakeGraphServer {
  readonly requests: RecordedRequest[] = [];
  #routes: Route[] = [];
  #server: Server;
  #port = 0;
  #sent = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeGraphServer> {
    const server = createServer();
    const fake = new FakeGraphServer(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const body = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = body.length > 0 ? (JSON.parse(body.toString('utf8')) as unknown) : undefined;
        } catch {
          json = undefined;
        }
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body,
          json,
        };
        fake.requests.push(recorded);
        fake.#reply(recorded, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.#port = (server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Adds a route; the most recently added match wins. `times` limits how often it answers. */
  on(method: string, path: string | RegExp, respond: Responder, times?: number): this {
    this.#routes.unshift({ method: method.toUpperCase(), path, respond, times });
    return this;
  }

  /** Forgets routes and recorded requests (between cases sharing one server). */
  reset(): void {
    this.#routes = [];
    this.requests.length = 0;
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #reply(request: RecordedRequest, res: ServerResponse): void {
    const route = this.#routes.find(
      (r) =>
        r.method === request.method &&
        (typeof r.path === 'string' ? r.path === request.path : r.path.test(request.path)) &&
        (r.times === undefined || r.times > 0),
    );
    let reply: FakeReply;
    if (route) {
      if (route.times !== undefined) route.times -= 1;
      reply = typeof route.respond === 'function' ? route.respond(request, this) : route.respond;
    } else if (request.method === 'POST' && request.path.endsWith('/messages')) {
      this.#sent += 1;
      reply = acceptedReply(request, `wamid.FAKE${this.#sent}`);
    } else {
      reply = {
        status: 404,
        body: {
          error: {
            message: `(#803) Unknown path ${request.method} ${request.path}`,
            type: 'OAuthException',
            code: 803,
            fbtrace_id: 'FAKE',
          },
        },
      };
    }
    const send = (): void => {
      if (res.destroyed) return;
      const headers: Record<string, string> = { ...reply.headers };
      let payload: Buffer | string = '';
      if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') payload = reply.body;
      else if (reply.body !== undefined) {
        payload = JSON.stringify(reply.body);
        headers['content-type'] ??= 'application/json';
      }
      res.writeHead(reply.status ?? 200, headers);
      res.end(payload);
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs);
    else send();
  }
}
