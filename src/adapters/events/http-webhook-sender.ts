// Posts event webhooks with fetch: a bounded wait, no redirects followed (a redirect is an answer
// the subscriber must fix), the response body read and discarded so the connection is reused.
import type { WebhookSender } from '../../ports/event-webhook-store.ts';

export function createHttpWebhookSender(options: { fetch?: typeof fetch } = {}): WebhookSender {
  const fetchImpl = options.fetch ?? fetch;
  return {
    async send(url, request, timeoutMs) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const response = await fetchImpl(url, {
          method: 'POST',
          headers: { 'user-agent': 'Parley-Webhooks/1', ...request.headers },
          body: request.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        return { kind: 'answered', status: response.status, durationMs: elapsed() };
      } catch (error) {
        const name = error instanceof Error ? error.name : '';
        const cause =
          error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
        const message =
          name === 'TimeoutError' || name === 'AbortError'
            ? `no answer within ${timeoutMs} ms`
            : cause || (error instanceof Error ? error.message : 'request failed');
        return { kind: 'error', error: message, durationMs: elapsed() };
      }
    },
  };
}
