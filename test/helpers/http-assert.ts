// Raw requests through the real HTTP stack and assertions on RFC 9457 problem+json answers.
import assert from 'node:assert/strict';
import type { TestParley } from './parley.ts';
import { toResult, type InjectedResponse } from './meta-webhooks.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** A request with exactly these bytes and headers; the demo API key unless `auth` says otherwise. */
export async function rawRequest(
  t: TestParley,
  input: {
    method: Method;
    url: string;
    payload?: string | Buffer;
    headers?: Record<string, string>;
    /** An API key, or null for no Authorization header at all. */
    auth?: string | null;
  },
): Promise<InjectedResponse> {
  const key = input.auth === undefined ? t.apiKey : input.auth;
  const response = await t.parley.http.inject({
    method: input.method,
    url: input.url,
    headers: {
      ...(key !== null ? { authorization: `Bearer ${key}` } : {}),
      ...input.headers,
    },
    ...(input.payload !== undefined ? { payload: input.payload } : {}),
  });
  return toResult(response);
}

/** The answer is problem+json with this status and code, and a detail that says what is wrong. */
export function assertProblem(
  response: { status: number; json: any; headers: Record<string, unknown> },
  status: number,
  code: string,
  detail?: RegExp,
): void {
  const shown = JSON.stringify(response.json);
  assert.equal(response.status, status, `expected ${status} ${code}, got ${shown}`);
  assert.match(
    String(response.headers['content-type']),
    /^application\/problem\+json/,
    `problem responses are application/problem+json: ${shown}`,
  );
  assert.equal(response.json?.code, code, shown);
  assert.equal(response.json?.status, status, shown);
  assert.equal(typeof response.json?.title, 'string', shown);
  assert.equal(response.json?.type, `https://parley.dev/problems/${code}`, shown);
  assert.equal(typeof response.json?.detail, 'string', shown);
  assert.ok((response.json.detail as string).length > 0, 'the detail is never empty');
  if (detail) assert.match(response.json.detail as string, detail, shown);
}
