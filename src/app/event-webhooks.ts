// Signed event webhooks to business systems: endpoint management (secret shown once, rotatable),
// one delivery pass (claim due deliveries, sign, post, record the outcome with backoff or dead
// letter), replay by event ids or a time range, and a test ping.
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, type RetryPolicy } from '../core/webhook-retry.ts';
import { EVENT_TYPES, type EventType } from '../ports/event-bus.ts';
import type {
  DeliveryRecord,
  DeliveryState,
  StoredEvent,
  WebhookEndpoint,
  WebhookSender,
  WebhookSendResult,
} from '../ports/event-webhook-store.ts';
import type { Page } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';
import { formatterFor, type EventFormat } from './event-formats.ts';

/** The most events one replay request may re-send (a larger range is split by the caller). */
export const MAX_REPLAY_EVENTS = 10_000;

export class EventWebhookError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'not_found' | 'replay_too_large',
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface EventWebhookSettings {
  readonly retry: RetryPolicy;
  /** How long one attempt may wait for the subscriber's answer. */
  readonly timeoutMs: number;
  /** A claimed delivery is leased this long (a node that dies mid-attempt frees it after). */
  readonly leaseMs: number;
}

export const DEFAULT_EVENT_WEBHOOK_SETTINGS: EventWebhookSettings = {
  retry: DEFAULT_RETRY_POLICY,
  timeoutMs: 10_000,
  leaseMs: 2 * 60_000,
};

export interface EndpointInput {
  readonly url: string;
  readonly description?: string;
  /** Event types to send; empty or absent: every type. */
  readonly events?: readonly EventType[];
  readonly format?: EventFormat;
  readonly enabled?: boolean;
}

export interface EndpointWithSecret {
  readonly endpoint: WebhookEndpoint;
  /** The signing secret in plain text: returned on creation and rotation only. */
  readonly secret: string;
}

export type ReplayInput =
  | { readonly eventIds: readonly string[] }
  | { readonly from: number; readonly to: number; readonly types?: readonly EventType[] };

export interface PingResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/**
 * An endpoint URL Parley will post to: absolute http(s), no user:password part (it would end up
 * in logs and views). Private addresses are allowed: subscribers often sit beside Parley.
 */
export function checkEndpointUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EventWebhookError('invalid_request', 'url must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EventWebhookError(
      'invalid_request',
      `url scheme ${url.protocol.replace(/:$/, '')} is not allowed: use http or https`,
    );
  if (url.username || url.password)
    throw new EventWebhookError(
      'invalid_request',
      'url must not carry credentials: verify Parley-Signature instead',
    );
  return url.toString();
}

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

function normaliseTypes(types: readonly EventType[] | undefined): EventType[] {
  return [...new Set(types ?? [])].sort((a, b) => EVENT_TYPES.indexOf(a) - EVENT_TYPES.indexOf(b));
}

function takes(endpoint: WebhookEndpoint, type: EventType): boolean {
  return endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type);
}

function outcomeText(result: WebhookSendResult): string | null {
  if (result.kind === 'error') return result.error;
  return result.status >= 200 && result.status < 300 ? null : `HTTP ${result.status}`;
}

export class EventWebhooks {
  readonly #deps: AppDeps;
  readonly #sender: WebhookSender;
  readonly #settings: EventWebhookSettings;
  readonly #random: () => number;

  constructor(
    deps: AppDeps,
    sender: WebhookSender,
    settings: Partial<EventWebhookSettings> = {},
    random: () => number = Math.random,
  ) {
    this.#deps = deps;
    this.#sender = sender;
    this.#settings = { ...DEFAULT_EVENT_WEBHOOK_SETTINGS, ...settings };
    this.#random = random;
  }

  get settings(): EventWebhookSettings {
    return this.#settings;
  }

  get #store() {
    return this.#deps.store.eventWebhooks;
  }

  async create(workspaceId: string, input: EndpointInput): Promise<EndpointWithSecret> {
    const secret = newSecret();
    const endpoint = await this.#store.endpoints.create({
      workspaceId,
      url: checkEndpointUrl(input.url),
      description: input.description ?? '',
      eventTypes: normaliseTypes(input.events),
      format: input.format ?? 'parley',
      secretSealed: this.#deps.secretBox.seal({ secret }),
      enabled: input.enabled ?? true,
      at: this.#deps.clock.now(),
    });
    return { endpoint, secret };
  }

  list(workspaceId: string): Promise<WebhookEndpoint[]> {
    return this.#store.endpoints.list(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.#store.endpoints.get(workspaceId, id);
    if (!endpoint) throw new EventWebhookError('not_found', `No webhook endpoint ${id}`);
    return endpoint;
  }

  async update(
    workspaceId: string,
    id: string,
    patch: Partial<EndpointInput>,
  ): Promise<WebhookEndpoint> {
    const updated = await this.#store.endpoints.update(
      workspaceId,
      id,
      {
        ...(patch.url !== undefined ? { url: checkEndpointUrl(patch.url) } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.events !== undefined ? { eventTypes: normaliseTypes(patch.events) } : {}),
        ...(patch.format !== undefined ? { format: patch.format } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      },
      this.#deps.clock.now(),
    );
    if (!updated) throw new EventWebhookError('not_found', `No webhook endpoint ${id}`);
    return updated;
  }

  /** A new secret takes effect at once: deliveries from now on are signed with it. */
  async rotateSecret(workspaceId: string, id: string): Promise<EndpointWithSecret> {
    const secret = newSecret();
    const endpoint = await this.#store.endpoints.update(
      workspaceId,
      id,
      { secretSealed: this.#deps.secretBox.seal({ secret }) },
      this.#deps.clock.now(),
    );
    if (!endpoint) throw new EventWebhookError('not_found', `No webhook endpoint ${id}`);
    return { endpoint, secret };
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    if (!(await this.#store.endpoints.delete(workspaceId, id)))
      throw new EventWebhookError('not_found', `No webhook endpoint ${id}`);
  }

  async deliveries(
    workspaceId: string,
    endpointId: string,
    query: { limit: number; cursor?: string; state?: DeliveryState },
  ): Promise<Page<DeliveryRecord>> {
    await this.get(workspaceId, endpointId);
    return this.#store.deliveries.list({
      workspaceId,
      endpointId,
      limit: query.limit,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      ...(query.state !== undefined ? { state: query.state } : {}),
    });
  }

  /**
   * Sends chosen events again to one endpoint, in recording order, as new deliveries (the log
   * keeps the earlier attempts). By ids: each must be an event of this workspace. By range: the
   * events recorded in [from, to) that the endpoint's filter (and `types`, if given) takes.
   */
  async replay(
    workspaceId: string,
    endpointId: string,
    input: ReplayInput,
  ): Promise<{ deliveries: DeliveryRecord[] }> {
    const endpoint = await this.get(workspaceId, endpointId);
    let events: StoredEvent[];
    if ('eventIds' in input) {
      const ids = [...new Set(input.eventIds)];
      const found = await Promise.all(ids.map((id) => this.#store.events.get(workspaceId, id)));
      const missing = ids.filter((_, i) => !found[i]);
      if (missing.length > 0)
        throw new EventWebhookError('not_found', `No event ${missing.join(', ')}`, {
          missing,
        });
      events = found
        .filter((e): e is StoredEvent => e !== null)
        .sort((a, b) => a.recordedAt - b.recordedAt || (a.id < b.id ? -1 : 1));
    } else {
      if (input.to <= input.from)
        throw new EventWebhookError('invalid_request', '`to` must be after `from`');
      const types =
        input.types && input.types.length > 0
          ? input.types.filter((t) => takes(endpoint, t))
          : endpoint.eventTypes;
      if (input.types && input.types.length > 0 && types.length === 0) return { deliveries: [] };
      events = await this.#store.events.listRecorded({
        workspaceId,
        from: input.from,
        to: input.to,
        types,
        limit: MAX_REPLAY_EVENTS + 1,
      });
      if (events.length > MAX_REPLAY_EVENTS)
        throw new EventWebhookError(
          'replay_too_large',
          `More than ${MAX_REPLAY_EVENTS} events in this range: replay a shorter one`,
          { limit: MAX_REPLAY_EVENTS },
        );
    }
    const now = this.#deps.clock.now();
    const deliveries = await this.#store.deliveries.enqueue({
      endpoint,
      events,
      at: now,
      deadline: now + this.#settings.retry.giveUpAfterMs,
    });
    return { deliveries };
  }

  /** Posts a signed `webhook.ping` now and reports the answer; nothing is stored or retried. */
  async ping(workspaceId: string, endpointId: string): Promise<PingResult> {
    const endpoint = await this.get(workspaceId, endpointId);
    const now = this.#deps.clock.now();
    const request = formatterFor(endpoint.format)({
      event: {
        id: randomUUID(),
        workspaceId,
        type: 'webhook.ping',
        orderingKey: null,
        at: now,
        recordedAt: now,
        data: { endpointId },
      },
      secret: this.#secretOf(endpoint),
      now,
    });
    if (!request) return { ok: true, status: null, error: null, durationMs: 0 };
    const result = await this.#sender.send(endpoint.url, request, this.#settings.timeoutMs);
    const error = outcomeText(result);
    return {
      ok: error === null,
      status: result.kind === 'answered' ? result.status : null,
      error,
      durationMs: result.durationMs,
    };
  }

  /**
   * One delivery pass: leases up to `limit` due deliveries (never two of one conversation for
   * one endpoint), posts them concurrently and records each outcome. Returns how many it tried.
   */
  async deliverDue(worker: string, limit = 100): Promise<number> {
    const claimed = await this.#store.deliveries.claim({
      now: this.#deps.clock.now(),
      limit,
      leaseMs: this.#settings.leaseMs,
      worker,
    });
    if (claimed.length === 0) return 0;
    // One read each for the pass's events and endpoints, and one decryption per endpoint.
    const events = new Map(
      (await this.#store.events.getMany(claimed.map((d) => d.eventId))).map((e) => [e.id, e]),
    );
    const endpoints = new Map<
      string,
      Promise<{ endpoint: WebhookEndpoint; secret: string } | null>
    >();
    const endpointOf = (d: DeliveryRecord) => {
      let found = endpoints.get(d.endpointId);
      if (!found) {
        found = this.#store.endpoints
          .get(d.workspaceId, d.endpointId)
          .then((endpoint) => (endpoint ? { endpoint, secret: this.#secretOf(endpoint) } : null));
        endpoints.set(d.endpointId, found);
      }
      return found;
    };
    await Promise.all(
      claimed.map(async (delivery) => {
        try {
          await this.#attempt(
            worker,
            delivery,
            await endpointOf(delivery),
            events.get(delivery.eventId) ?? null,
          );
        } catch (error) {
          // The lease runs out and the delivery is tried again; nothing else depends on it.
          this.#deps.log.error(
            { err: error, deliveryId: delivery.id },
            'event webhook attempt failed',
          );
        }
      }),
    );
    return claimed.length;
  }

  nextDueAt(): Promise<number | null> {
    return this.#store.deliveries.nextDueAt(this.#deps.clock.now());
  }

  async #attempt(
    worker: string,
    delivery: DeliveryRecord,
    target: { endpoint: WebhookEndpoint; secret: string } | null,
    event: StoredEvent | null,
  ): Promise<void> {
    if (!target) return; // deleted meanwhile: its deliveries went with it
    const { endpoint, secret } = target;
    if (event?.workspaceId !== delivery.workspaceId) {
      await this.#store.deliveries.failed(delivery.id, {
        worker,
        at: this.#deps.clock.now(),
        status: null,
        error: 'the event is no longer stored',
        nextAttemptAt: null,
      });
      return;
    }
    const request = formatterFor(endpoint.format)({ event, secret, now: this.#deps.clock.now() });
    if (!request) {
      // The endpoint's format has nothing like this event (e.g. 'meta' and a campaign event):
      // done, without a request.
      await this.#store.deliveries.delivered(delivery.id, {
        worker,
        at: this.#deps.clock.now(),
        status: null,
        error: `not sent: format '${endpoint.format}' has no counterpart for ${event.type}`,
      });
      return;
    }
    const result = await this.#sender.send(
      endpoint.url,
      {
        body: request.body,
        headers: {
          ...request.headers,
          'Parley-Delivery-Id': delivery.id,
          'Parley-Delivery-Attempt': String(delivery.attempts + 1),
        },
      },
      this.#settings.timeoutMs,
    );
    const at = this.#deps.clock.now();
    const status = result.kind === 'answered' ? result.status : null;
    const error = outcomeText(result);
    if (error === null) {
      await this.#store.deliveries.delivered(delivery.id, { worker, at, status, error });
      return;
    }
    const next = nextAttemptAt(
      delivery.attempts + 1,
      at,
      delivery.deadline,
      this.#random(),
      this.#settings.retry,
    );
    await this.#store.deliveries.failed(delivery.id, {
      worker,
      at,
      status,
      error,
      nextAttemptAt: next,
    });
    if (next === null)
      this.#deps.log.warn(
        { deliveryId: delivery.id, endpointId: endpoint.id, eventId: event.id },
        'event webhook dead-lettered after retries ran out',
      );
  }

  #secretOf(endpoint: WebhookEndpoint): string {
    return this.#deps.secretBox.open(endpoint.secretSealed).secret ?? '';
  }
}
