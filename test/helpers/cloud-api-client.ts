// The real whatsapp-api-js client pointed at a test Parley: its fetch goes through Parley's HTTP
// stack (inject, no socket) with graph.facebook.com replaced by Parley's /graph prefix.
import { WhatsAppAPI } from 'whatsapp-api-js';
import type { TestParley } from './parley.ts';

export const GRAPH_VERSION = 'v24.0';

/** Answers a fetch by handing the request to Parley; `graph.facebook.com/x` becomes `/graph/x`. */
export function parleyFetch(t: TestParley): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const path = url.hostname === 'graph.facebook.com' ? `/graph${url.pathname}` : url.pathname;
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const response = await t.parley.http.inject({
      method: request.method as 'GET' | 'POST' | 'DELETE',
      url: `${path}${url.search}`,
      headers: Object.fromEntries(request.headers),
      ...(body ? { payload: body } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers))
      if (value !== undefined)
        headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    return new Response(response.statusCode === 204 ? null : response.rawPayload, {
      status: response.statusCode,
      headers,
    });
  };
}

/** A whatsapp-api-js client whose Bearer token is `token` (the test workspace's API key by default). */
export function cloudApiClient(t: TestParley, token: string = t.apiKey): WhatsAppAPI {
  return new WhatsAppAPI({
    token,
    v: GRAPH_VERSION,
    secure: false,
    ponyfill: { fetch: parleyFetch(t) },
  });
}
