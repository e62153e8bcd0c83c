// A local stand-in for Twilio (api.twilio.com and content.twilio.com on one node:http server,
// 127.0.0.1, random port): Basic auth, the Messages API, Content listings and media, all recorded.
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseForm, type FormParams } from '../twilio-form.ts';

export interface RecordedTwilioRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as form parameters (every value of a repeated name, in order). */
  readonly form: FormParams;
  /** Who authenticated: the Basic auth user name, or null when the credentials were refused. */
  readonly user: string | null;
}

export interface TwilioFakeReply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON, a string or Buffer as is. */
  readonly body?: unknown;
  /** Holds the response back (to provoke client timeouts). */
  readonly delayMs?: number;
}

type Responder =
  TwilioFakeReply | ((request: RecordedTwilioRequest, server: FakeTwilioServer) => TwilioFakeReply);

interface Route {
  readonly method: string;
  readonly path: string | RegExp;
  readonly respond: Responder;
  times?: number;
}

/** Twilio's error document (`code`, `message`, `more_info`, `status`). */
export function twilioError(status: number, code: number, message: string): TwilioFakeReply {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

const hex32 = (n: number): string => n.toString(16).padStart(32, '0');

export class FakeTwilioServer {
  readonly requests: RecordedTwilioRequest[] = [];
  /** ContentAndApprovals records served by `GET /v1/ContentAndApprovals` (and `/v1/Content`). */
  contents: Array<Record<string, unknown>> = [];
  readonly #credentials = new Map<string, string>();
  readonly #media = new Map<string, { bytes: Buffer; contentType: string }>();
  #routes: Route[] = [];
  #server: Server;
  #port = 0;
  #sent = 0;

  private constructor(
    server: Server,
    readonly accountSid: string,
  ) {
    this.#server = server;
  }

  /** A fake account: `accountSid` with `authToken`; more credentials (API keys) with `allow`. */
  static async start(
    options: { accountSid?: string; authToken?: string } = {},
  ): Promise<FakeTwilioServer> {
    const server = createServer();
    const accountSid = options.accountSid ?? `AC${hex32(1)}`;
    const fake = new FakeTwilioServer(server, accountSid);
    fake.allow(accountSid, options.authToken ?? 'test_auth_token');
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const body = Buffer.concat(chunks);
        const recorded: RecordedTwilioRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body,
          form: parseForm(body),
          user: fake.#authenticate(req.headers.authorization),
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

  /** Accepts another user name and password (an API key sid and secret). */
  allow(user: string, password: string): this {
    this.#credentials.set(user, password);
    return this;
  }

  /** Serves bytes at a path (as Twilio's media URLs do), to authenticated callers only. */
  addMedia(path: string, bytes: Buffer, contentType: string): string {
    this.#media.set(path, { bytes, contentType });
    return `${this.url}${path}`;
  }

  /** Adds a route; the most recently added match wins. `times` limits how often it answers. */
  on(method: string, path: string | RegExp, respond: Responder, times?: number): this {
    this.#routes.unshift({ method: method.toUpperCase(), path, respond, times });
    return this;
  }

  /** Message creations received, oldest first. */
  get messages(): RecordedTwilioRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));
  }

  get last(): RecordedTwilioRequest | undefined {
    return this.requests.at(-1);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #authenticate(header: string | undefined): string | null {
    const match = /^Basic (.+)$/.exec(header ?? '');
    if (!match?.[1]) return null;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    return colon > 0 && this.#credentials.get(user) === decoded.slice(colon + 1) ? user : null;
  }

  /** What Twilio answers a valid message creation with (201 and the new resource). */
  #created(request: RecordedTwilioRequest): TwilioFakeReply {
    const f = (name: string): string | null => request.form.get(name)?.[0] ?? null;
    if (!f('To')) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!f('From') && !f('MessagingServiceSid'))
      return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!f('Body') && !f('MediaUrl') && !f('ContentSid'))
      return twilioError(400, 21619, 'A text message body or media urls must be specified.');
    this.#sent += 1;
    const sid = `SM${hex32(this.#sent)}`;
    return {
      status: 201,
      body: {
        sid,
        account_sid: this.accountSid,
        to: f('To'),
        from: f('From'),
        messaging_service_sid: f('MessagingServiceSid'),
        body: f('Body') ?? '',
        status: 'queued',
        num_media: String(request.form.get('MediaUrl')?.length ?? 0),
        num_segments: '1',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        error_code: null,
        error_message: null,
        uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
      },
    };
  }

  /** The typing indicator, which also marks the referenced inbound message read. */
  #typing(request: RecordedTwilioRequest): TwilioFakeReply {
    const messageId = request.form.get('messageId')?.[0] ?? '';
    if (request.form.get('channel')?.[0] !== 'whatsapp')
      return twilioError(400, 20001, 'Invalid channel: must be whatsapp');
    if (!/^(SM|MM)[0-9a-fA-F]{32}$/.test(messageId))
      return twilioError(400, 20001, 'Invalid messageId');
    return { status: 200, body: { success: true } };
  }

  /** Typing indicators (read marks) received, oldest first. */
  get typingIndicators(): RecordedTwilioRequest[] {
    return this.requests.filter((r) => r.path === '/v2/Indicators/Typing.json');
  }

  #contents(request: RecordedTwilioRequest): TwilioFakeReply {
    const size = Math.max(1, Number(request.query.PageSize ?? 50));
    const page = Math.max(0, Number(request.query.Page ?? 0));
    const slice = this.contents.slice(page * size, (page + 1) * size);
    const more = (page + 1) * size < this.contents.length;
    const base = `https://content.twilio.com${request.path}`;
    return {
      status: 200,
      body: {
        meta: {
          key: 'contents',
          page,
          page_size: size,
          url: `${base}?PageSize=${size}&Page=${page}`,
          first_page_url: `${base}?PageSize=${size}&Page=0`,
          previous_page_url: page > 0 ? `${base}?PageSize=${size}&Page=${page - 1}` : null,
          next_page_url: more
            ? `${base}?PageSize=${size}&Page=${page + 1}&PageToken=PT${page + 1}`
            : null,
        },
        contents: slice,
      },
    };
  }

  #reply(request: RecordedTwilioRequest, res: ServerResponse): void {
    const route = this.#routes.find(
      (r) =>
        r.method === request.method &&
        (typeof r.path === 'string' ? r.path === request.path : r.path.test(request.path)) &&
        (r.times === undefined || r.times > 0),
    );
    let reply: TwilioFakeReply;
    if (route) {
      if (route.times !== undefined) route.times -= 1;
      reply = typeof route.respond === 'function' ? route.respond(request, this) : route.respond;
    } else if (request.user === null) {
      reply = twilioError(401, 20003, 'Authenticate');
    } else if (
      request.method === 'POST' &&
      request.path === `/2010-04-01/Accounts/${this.accountSid}/Messages.json`
    ) {
      reply = this.#created(request);
    } else if (request.method === 'POST' && request.path === '/v2/Indicators/Typing.json') {
      reply = this.#typing(request);
    } else if (
      request.method === 'GET' &&
      (request.path === '/v1/ContentAndApprovals' || request.path === '/v1/Content')
    ) {
      reply = this.#contents(request);
    } else if (
      request.method === 'GET' &&
      request.path === `/2010-04-01/Accounts/${this.accountSid}.json`
    ) {
      reply = {
        status: 200,
        body: { sid: this.accountSid, status: 'active', friendly_name: 'Fake' },
      };
    } else if (request.method === 'GET' && this.#media.has(request.path)) {
      const media = this.#media.get(request.path);
      reply = {
        status: 200,
        headers: { 'content-type': media?.contentType ?? 'application/octet-stream' },
        body: media?.bytes ?? Buffer.alloc(0),
      };
    } else {
      reply = twilioError(404, 20404, `The requested resource ${request.path} was not found`);
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
