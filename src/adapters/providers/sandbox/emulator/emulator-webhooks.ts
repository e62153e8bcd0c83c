// Delivery of the emulator's webhooks over HTTP to the configured receiver, with a short log of
// recent attempts for the control API (and for runs without a receiver).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { SandboxWebhook } from '../sandbox-world.ts';

export interface WebhookAttempt {
  /** Emulator time of the attempt. */
  readonly at: number;
  /** `entry[0].changes[0].field` of the payload (`messages`, `message_template_status_update` …). */
  readonly field: string;
  /** The receiver's HTTP status; null when there is no receiver or it could not be reached. */
  readonly status: number | null;
  readonly error: string | null;
  /** The exact body sent (ASCII: Meta escapes everything else). */
  readonly body: string;
}

export interface WebhookSenderOptions {
  readonly url: string | undefined;
  readonly now: () => number;
  /** A receiver that has not answered after this long counts as failed (default 10 s). */
  readonly timeoutMs?: number;
  /** How many attempts the log keeps (default 500). */
  readonly logLimit?: number;
}

function fieldOf(body: string): string {
  // the field sits at the end of Meta's envelope; a regex avoids parsing every payload again
  const match = /"field":"([a-z_]+)"\}\]\}\]\}$/.exec(body);
  return match?.[1] ?? 'unknown';
}

/**
 * Posts each webhook as Meta does: the exact signed bytes, `Content-Length`, JSON content type.
 * At most 64 connections to the receiver; further webhooks queue for a free one.
 * A non-2xx answer or a network error rejects, which makes the world retry with backoff.
 * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
 */
export class WebhookSender {
  #url: string | undefined;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #logLimit: number;
  readonly #log: WebhookAttempt[] = [];
  readonly #listeners = new Set<(webhook: SandboxWebhook) => void>();
  readonly #agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
  };

  constructor(options: WebhookSenderOptions) {
    this.#url = options.url;
    this.#now = options.now;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#logLimit = options.logLimit ?? 500;
  }

  get url(): string | undefined {
    return this.#url;
  }

  /** Points delivery elsewhere (or nowhere: webhooks are then only logged). */
  set url(url: string | undefined) {
    this.#url = url;
  }

  /** Recent attempts, oldest first. */
  log(): readonly WebhookAttempt[] {
    return [...this.#log];
  }

  /** Hears every webhook as it is sent (in-process receivers, tests); returns the unsubscribe. */
  listen(listener: (webhook: SandboxWebhook) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  deliver = async (webhook: SandboxWebhook): Promise<void> => {
    for (const listener of this.#listeners) listener(webhook);
    const body = webhook.body.toString('latin1');
    const url = this.#url;
    if (url === undefined) {
      this.#record({ at: this.#now(), field: fieldOf(body), status: null, error: null, body });
      return;
    }
    let status: number | null = null;
    try {
      status = await this.#post(url, webhook);
      if (status < 200 || status >= 300) throw new Error(`the receiver answered HTTP ${status}`);
      this.#record({ at: this.#now(), field: fieldOf(body), status, error: null, body });
    } catch (error) {
      this.#record({
        at: this.#now(),
        field: fieldOf(body),
        status,
        error: (error as Error).message,
        body,
      });
      throw error;
    }
  };

  /** Closes the kept-alive connections to the receiver. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  /**
   * One POST over node's HTTP client with kept-alive connections: several times cheaper per
   * webhook than fetch, which matters at thousands of statuses a second.
   */
  #post(url: string, webhook: SandboxWebhook): Promise<number> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent: secure ? this.#agents.https : this.#agents.http,
          // the exact bytes that were signed, with their length
          headers: webhook.headers,
          timeout: this.#timeoutMs,
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(webhook.body);
    });
  }

  #record(attempt: WebhookAttempt): void {
    this.#log.push(attempt);
    if (this.#log.length > this.#logLimit) this.#log.splice(0, this.#log.length - this.#logLimit);
  }
}
