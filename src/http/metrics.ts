// Prometheus metrics on /metrics: counters kept by the HTTP layer, gauges read on scrape.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppDeps } from '../app/deps.ts';
import { outboundBacklog } from '../app/deliver-outbound.ts';

export interface Metrics {
  readonly registry: Registry;
  readonly webhooks: Counter<'provider' | 'outcome'>;
  readonly sends: Counter<'outcome'>;
}

export function createMetrics(deps: AppDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'parley_' });
  const webhooks = new Counter({
    name: 'parley_webhooks_total',
    help: 'Provider webhooks received, by outcome (stored, rejected status)',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  });
  const sends = new Counter({
    name: 'parley_send_requests_total',
    help: 'POST /v1/messages requests by outcome (queued, refused, invalid)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'parley_outbound_queue_size',
    help: 'Outbound messages waiting or being dispatched',
    registers: [registry],
    async collect() {
      this.set(await outboundBacklog(deps));
    },
  });
  new Gauge({
    name: 'parley_webhooks_unprocessed',
    help: 'Webhooks stored but not yet processed',
    registers: [registry],
    async collect() {
      this.set(await deps.store.webhooks.countByState('received'));
    },
  });
  return { registry, webhooks, sends };
}
