// Agents signing in to a test Parley: create one, log in through the real HTTP stack, and call
// the API with the session cookie (and the CSRF token, unless a test leaves it out on purpose).
import { ensureAgent } from '../../src/app/agents.ts';
import type { AgentRole } from '../../src/ports/inbox-store.ts';
import type { TestParley } from './parley.ts';

export interface AgentClient {
  readonly agentId: string;
  readonly cookie: string;
  readonly csrfToken: string;
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    options?: { csrf?: boolean; headers?: Record<string, string> },
  ): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
}

let counter = 0;

/** The `parley_session=…` pair of a Set-Cookie header. */
export function sessionCookieOf(setCookie: unknown): string {
  const first = Array.isArray(setCookie) ? String(setCookie[0]) : String(setCookie);
  const pair = first.split(';')[0] ?? '';
  if (!pair.startsWith('parley_session=')) throw new Error(`no session cookie in ${first}`);
  return pair;
}

export async function request(
  t: TestParley,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await t.parley.http.inject({
    method: method as 'GET',
    url,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return {
    status: response.statusCode,
    json: response.body ? JSON.parse(response.body) : null,
    headers: response.headers as Record<string, unknown>,
  };
}

export async function createAgent(
  t: TestParley,
  input: { role?: AgentRole; workspaceId?: string; email?: string; password?: string } = {},
) {
  counter += 1;
  const email = input.email ?? `agent${counter}@example.test`;
  const password = input.password ?? 'correct horse battery';
  const agent = await ensureAgent(t.parley.deps, {
    workspaceId: input.workspaceId ?? t.channel.workspaceId,
    email,
    name: `Agent ${counter}`,
    role: input.role ?? 'agent',
    password,
  });
  return { agent, email, password };
}

export async function signIn(t: TestParley, email: string, password: string): Promise<AgentClient> {
  const login = await request(t, 'POST', '/v1/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.json)}`);
  const cookie = sessionCookieOf(login.headers['set-cookie']);
  const csrfToken = String(login.json.csrfToken);
  return {
    agentId: String(login.json.agent.id),
    cookie,
    csrfToken,
    call: (method, url, body, options = {}) =>
      request(t, method, url, body, {
        cookie,
        ...(options.csrf === false ? {} : { 'x-csrf-token': csrfToken }),
        ...options.headers,
      }),
  };
}

/** A new agent of the demo workspace (or another), signed in. */
export async function agentClient(
  t: TestParley,
  input: { role?: AgentRole; workspaceId?: string } = {},
): Promise<AgentClient> {
  const { email, password } = await createAgent(t, input);
  return signIn(t, email, password);
}
