// The composition root: the only file that knows every concrete adapter. It builds a running
// Parley (store, providers, workers, HTTP) from a configuration.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { createKyselyStore, backupSqlite } from '../adapters/store/kysely/index.ts';
import { Redis } from 'ioredis';
import { createInProcessEventBus } from '../adapters/events/in-process-event-bus.ts';
import { createRedisEventBus } from '../adapters/events/redis-event-bus.ts';
import { createInProcessRateLimiter } from '../adapters/limits/in-process-rate-limiter.ts';
import { createRedisRateLimiter } from '../adapters/limits/redis-rate-limiter.ts';
import { createBullmqJobQueue } from '../adapters/queue/bullmq/bullmq-job-queue.ts';
import { createPinoLogger } from '../adapters/logging/pino-logger.ts';
import {
  createCloudApiProvider,
  dialog360Settings,
  metaSettings,
  type CloudApiProvider,
} from '../adapters/providers/meta-cloud/meta-cloud-provider.ts';
import {
  SandboxWorld,
  type Schedule,
  type SandboxNumberInput,
} from '../adapters/providers/sandbox/sandbox-world.ts';
import { createSandboxProvider } from '../adapters/providers/sandbox/sandbox-provider.ts';
import { createTwilioProvider } from '../adapters/providers/twilio/twilio-provider.ts';
import { realTimeScheduler, systemClock } from '../adapters/providers/sandbox/sandbox-clock.ts';
import { startDemoTraffic } from '../adapters/providers/sandbox/sandbox-demo.ts';
import { buildHttpServer } from '../http/server.ts';
import { OutboundDispatcher } from '../workers/outbound-dispatcher.ts';
import { OutboundRelay } from '../workers/outbound-relay.ts';
import { WebhookProcessor } from '../workers/webhook-processor.ts';
import { MediaDownloader } from '../workers/media-downloader.ts';
import { createLocalBlobStore } from '../adapters/blobs/local-blob-store.ts';
import { TemplateSync } from '../workers/template-sync.ts';
import { EventDeliverer } from '../workers/event-deliverer.ts';
import { createHttpWebhookSender } from '../adapters/events/http-webhook-sender.ts';
import { CampaignRunner } from '../workers/campaign-runner.ts';
import type { Clock } from '../ports/clock.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import type { RateLimiter } from '../ports/rate-limiter.ts';
import type { Logger } from '../ports/logger.ts';
import type { Provider } from '../ports/provider.ts';
import type { Channel, Connection, Store } from '../ports/store.ts';
import type { ParleyConfig } from './config.ts';
import {
  DEFAULT_POLICY,
  type AppDeps,
  type PolicySettings,
  type ProviderRegistry,
} from './deps.ts';
import { ingestWebhook } from './receive-webhook.ts';
import { subscribeAccountHealth } from './account-health.ts';
import { isMediaType } from './media.ts';
import { subscribeConsentSignals } from './consent-signals.ts';
import { startAutomation, type AutomationRunner } from './automation/runner.ts';
import { subscribeCampaignSignals } from './run-campaign.ts';
import { startCostLedger, type CostLedger } from './billing/ledger.ts';
import { subscribeInbox } from './inbox.ts';
import { Lookups } from './lookups.ts';
import { createSecretBox, resolveSecretKey } from './secrets.ts';
import { EventWebhooks } from './event-webhooks.ts';
import { startEventRecorder, type EventRecorder } from './event-recorder.ts';

export const VERSION = '0.1.0';

/** `parley emulator`: the sandbox world as a standalone Cloud API server (wired here, run by the CLI). */
export { startEmulator } from '../adapters/providers/sandbox/emulator/index.ts';
export type {
  EmulatorOptions,
  RunningEmulator,
} from '../adapters/providers/sandbox/emulator/index.ts';

export interface ContainerOverrides {
  readonly clock?: Clock;
  /** Timer for simulated delays (the sandbox); a manual clock's `schedule` in tests. */
  readonly schedule?: Schedule;
  readonly logger?: Logger & FastifyBaseLogger;
  readonly fetch?: typeof fetch;
  readonly policy?: Partial<PolicySettings>;
  /** A store built by the caller (tests); otherwise from the configuration. */
  readonly store?: Store;
  readonly random?: () => number;
}

/** Sandbox worlds, one per sandbox connection: the simulated WhatsApp behind those channels. */
export class SandboxHub {
  readonly #worlds = new Map<string, SandboxWorld>();
  readonly #make: (connection: Connection, appSecret: string) => SandboxWorld;

  constructor(make: (connection: Connection, appSecret: string) => SandboxWorld) {
    this.#make = make;
  }

  worldFor(connection: Connection, appSecret: string): SandboxWorld {
    let world = this.#worlds.get(connection.id);
    if (!world) {
      world = this.#make(connection, appSecret);
      this.#worlds.set(connection.id, world);
    }
    return world;
  }

  world(connectionId: string): SandboxWorld | undefined {
    return this.#worlds.get(connectionId);
  }
}

export interface Parley {
  readonly config: ParleyConfig;
  readonly deps: AppDeps;
  readonly http: FastifyInstance;
  readonly dispatcher: OutboundDispatcher;
  /** With Redis: moves queued sends from the store to the shared queue; tests drive `runOnce()`. */
  readonly relay: OutboundRelay | null;
  readonly processor: WebhookProcessor;
  readonly sandbox: SandboxHub;
  /** Copies inbound media into the blob store; tests stop it and drive `runOnce()`. */
  readonly media: MediaDownloader;
  /** Failed sends that concern the account → health events; `idle()` waits for work started. */
  readonly accountHealth: { idle(): Promise<void> };
  /** The live cost ledger; `drain()` waits until what it heard of is recorded and priced. */
  readonly ledger: CostLedger;
  /** The periodic template reconcile (TPL-8); `syncAll()` runs one now. */
  readonly templateSync: TemplateSync;
  /** 131050 → ledger (OPT-5); `idle()` waits for the work started so far. */
  readonly consentSignals: { idle(): Promise<void> };
  /** Chatbot flows on inbound messages; `idle()` waits until what it heard of is handled. */
  readonly automation: AutomationRunner;
  /** Outbound event webhooks: endpoints, deliveries, replay (the use cases behind the API). */
  readonly eventWebhooks: EventWebhooks;
  /** Records every local event durably; `idle()` waits until what it heard is written. */
  readonly eventRecorder: EventRecorder;
  /** Delivers event webhooks and emits window events; tests stop it and drive `drain()`. */
  readonly eventDeliverer: EventDeliverer;
  /** Customer messages → snooze wake-up and held (parked) replies; `idle()` as above. */
  readonly inbox: { idle(): Promise<void> };
  /** Feeds running campaigns into the outbound queue; tests stop it and drive `runOnce()`. */
  readonly campaigns: CampaignRunner;
  /** 131048, paused templates, 131049 → campaign pauses and LIM-4 hold-offs; `idle()` waits. */
  readonly campaignSignals: { idle(): Promise<void> };
  /** The sandbox world behind a channel (registering its number), for demos and tests. */
  sandboxWorld(channel: Channel): Promise<SandboxWorld>;
  /** Simulated customers writing in to a sandbox channel every few seconds (the demo). */
  startDemo(channel: Channel, everyMs?: number): Promise<{ stop(): void }>;
  /** Starts the workers (and the HTTP listener when `listen` is true). */
  start(options?: { listen?: boolean }): Promise<string | null>;
  /** Graceful shutdown: stop accepting, drain in-flight work, close the store. */
  stop(): Promise<void>;
}

export async function openStore(config: ParleyConfig): Promise<Store> {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  return createKyselyStore(
    config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqliteFile: config.sqliteFile },
  );
}

export async function backupDatabase(config: ParleyConfig, destination: string): Promise<void> {
  if (config.databaseUrl)
    throw new Error(
      'parley backup copies the embedded SQLite store; back up PostgreSQL with pg_dump',
    );
  await backupSqlite(config.sqliteFile, destination);
}

export async function createParley(
  config: ParleyConfig,
  overrides: ContainerOverrides = {},
): Promise<Parley> {
  const clock = overrides.clock ?? systemClock;
  const schedule = overrides.schedule ?? realTimeScheduler(clock);
  const logger = overrides.logger ?? createPinoLogger(config.logLevel);
  const store = overrides.store ?? (await openStore(config));
  await store.migrate();
  const secretBox = createSecretBox(resolveSecretKey(config.secretKey, config.dataDir));
  const shared = await openShared(config, logger, store);
  const events = shared.events;
  const cache = new Map<string, Provider>();

  // Filled in below: the sandbox delivers its webhooks through the same ingestion path as HTTP.
  let processor: WebhookProcessor | null = null;
  let deps: AppDeps | null = null;

  const sandbox = new SandboxHub(
    (connection, appSecret) =>
      new SandboxWorld({
        clock,
        schedule,
        appSecret,
        ...(overrides.random ? { random: overrides.random } : {}),
        deliver: async (webhook) => {
          if (!deps || !processor) throw new Error('Parley is not started');
          const result = await ingestWebhook(deps, {
            connectionId: connection.id,
            ingress: 'sandbox',
            raw: {
              method: 'POST',
              url: `${config.publicUrl}/webhooks/meta/${connection.id}`,
              headers: webhook.headers,
              query: {},
              body: webhook.body,
            },
          });
          if (result.kind === 'rejected')
            throw new Error(`sandbox webhook rejected: ${result.detail}`);
          processor.submit(result.webhook, result.events);
        },
      }),
  );

  const providers: ProviderRegistry = {
    forConnection(connection) {
      const cached = cache.get(connection.id);
      if (cached) return cached;
      const secrets = secretBox.open(connection.secretsEncrypted);
      const provider = buildProvider(connection, secrets, sandbox, clock, overrides.fetch, {
        publicUrl: config.publicUrl,
        store,
      });
      cache.set(connection.id, provider);
      return provider;
    },
    evict(connectionId) {
      cache.delete(connectionId);
    },
  };

  const blobs = createLocalBlobStore(join(config.dataDir, 'media'));
  deps = {
    store,
    clock,
    events,
    providers,
    log: logger,
    secretBox,
    publicUrl: config.publicUrl,
    lookups: new Lookups(store),
    policy: { ...DEFAULT_POLICY, ...overrides.policy },
    blobs,
    limits: shared.limits,
    outboundQueue: shared.outboundQueue,
  };
  const appDeps = deps;
  // PostgreSQL answers each statement after a round trip: four transactions at once (of the
  // pool's ten, the rest left to acknowledging) overlap them. SQLite has one connection.
  processor = new WebhookProcessor(appDeps, { lanes: store.dialect === 'postgres' ? 4 : 1 });
  const webhookProcessor = processor;
  const dispatcher = new OutboundDispatcher(appDeps, {
    worker: `${hostname()}:${process.pid}`,
    leaseMs: config.dispatchLeaseMs,
  });
  // With a shared queue, queued messages reach it through the relay (the transactional outbox).
  const relay = config.redisUrl
    ? new OutboundRelay(appDeps, {
        worker: `${hostname()}:${process.pid}`,
        onRelayed: () => dispatcher.wake(),
      })
    : null;
  const outboundQueued = (): void => {
    relay?.wake();
    dispatcher.wake();
  };
  const media = new MediaDownloader(appDeps, blobs, {
    worker: `${hostname()}:${process.pid}`,
    uploadRetentionMs: config.uploadRetentionMs,
  });
  const accountHealth = subscribeAccountHealth(appDeps);
  // A media message was stored with its download job: fetch it before the provider URL expires.
  events.subscribe(
    (e) => {
      if (
        e.type === 'message.received' &&
        typeof e.data.type === 'string' &&
        isMediaType(e.data.type)
      )
        media.wake();
    },
    { localOnly: true },
  );
  const ledger = startCostLedger(appDeps);
  const templateSync = new TemplateSync(appDeps);
  const consentSignals = subscribeConsentSignals(appDeps);
  const automation = startAutomation(appDeps, { onMessageQueued: outboundQueued });
  const eventWebhooks = new EventWebhooks(appDeps, createHttpWebhookSender());
  const eventDeliverer = new EventDeliverer(appDeps, eventWebhooks, {
    worker: `${hostname()}:${process.pid}`,
    windowClosingLeadMs: config.windowClosingLeadMs,
    retentionMs: config.eventRetentionMs,
  });
  const eventRecorder = startEventRecorder(appDeps, {
    giveUpAfterMs: eventWebhooks.settings.retry.giveUpAfterMs,
    onRecorded: () => eventDeliverer.wake(),
  });
  const inbox = subscribeInbox(appDeps, outboundQueued);
  const campaignSignals = subscribeCampaignSignals(appDeps);
  const campaigns = new CampaignRunner(appDeps, {
    owner: `${hostname()}:${process.pid}`,
    // A dead node's claimed recipients are taken over as soon as its claimed sends are.
    leaseMs: config.dispatchLeaseMs,
    onQueued: outboundQueued,
  });
  let started = false;
  const http = await buildHttpServer({
    deps: appDeps,
    bodyLimit: config.bodyLimit,
    logger,
    version: VERSION,
    onWebhookStored: (webhook, parsed) => webhookProcessor.submit(webhook, parsed),
    onMessageQueued: outboundQueued,
    onCampaignChanged: () => campaigns.wake(),
    ready: () => started,
    eventWebhooks,
  });

  const demoStops: Array<{ stop(): void }> = [];
  const parley: Parley = {
    config,
    deps: appDeps,
    http,
    dispatcher,
    relay,
    processor: webhookProcessor,
    sandbox,
    media,
    accountHealth,
    ledger,
    templateSync,
    consentSignals,
    automation,
    eventWebhooks,
    eventRecorder,
    eventDeliverer,
    inbox,
    campaigns,
    campaignSignals,
    async sandboxWorld(channel) {
      const connection = await store.connections.get(channel.connectionId);
      if (connection?.provider !== 'sandbox')
        throw new Error(`channel ${channel.id} is not a sandbox channel`);
      providers.forConnection(connection);
      const world = sandbox.world(connection.id);
      if (!world) throw new Error('sandbox world missing');
      const number: SandboxNumberInput = {
        phoneNumberId: channel.providerKey,
        displayPhoneNumber: channel.phoneNumber,
        ...(channel.wabaId ? { wabaId: channel.wabaId } : {}),
        verifiedName: channel.name,
        throughputMps: channel.throughputMps,
      };
      if (!world.number(channel.providerKey)) world.addNumber(number);
      return world;
    },
    async startDemo(channel, everyMs = 6_000) {
      const world = await parley.sandboxWorld(channel);
      const traffic = startDemoTraffic(world, { phoneNumberId: channel.providerKey, everyMs });
      demoStops.push(traffic);
      return traffic;
    },
    async start(options = {}) {
      await webhookProcessor.drain(); // webhooks stored before a restart
      relay?.start();
      dispatcher.start();
      media.start();
      await templateSync.start();
      eventDeliverer.start();
      campaigns.start();
      started = true;
      if (!options.listen) return null;
      return http.listen({ port: config.port, host: config.host });
    },
    async stop() {
      for (const d of demoStops) d.stop();
      started = false;
      await http.close();
      await campaigns.stop();
      await relay?.stop();
      await dispatcher.stop();
      await webhookProcessor.stop();
      await media.stop();
      accountHealth.stop();
      await accountHealth.idle();
      await ledger.stop();
      await templateSync.stop();
      consentSignals.stop();
      await consentSignals.idle();
      automation.stop();
      await automation.idle();
      await eventDeliverer.stop();
      await eventRecorder.stop();
      inbox.stop();
      await inbox.idle();
      campaignSignals.stop();
      await campaignSignals.idle();
      await shared.close();
      await store.close();
    },
  };
  return parley;
}

/**
 * What several nodes share besides the database: with PARLEY_REDIS_URL the pacing buckets
 * (LIM-1/LIM-2), the live event fan-out and the outbound queue (BullMQ) live in Redis; without
 * it, in this process and the store's own queue.
 */
async function openShared(
  config: ParleyConfig,
  log: Logger,
  store: Store,
): Promise<{
  events: EventBus;
  limits: RateLimiter;
  outboundQueue: JobQueue;
  close(): Promise<void>;
}> {
  if (!config.redisUrl) {
    const limits = createInProcessRateLimiter();
    return {
      events: createInProcessEventBus(log),
      limits,
      outboundQueue: store.jobs,
      close: () => limits.close(),
    };
  }
  // Commands fail fast while Redis is away (the dispatcher's pass fails and is retried), rather
  // than queueing sends behind a connection that may never come back.
  const publisher = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  await publisher.connect();
  const subscriber = publisher.duplicate();
  const events = createRedisEventBus(publisher, subscriber, {
    channel: `${config.redisPrefix}events`,
    log,
  });
  await events.ready();
  const limits = createRedisRateLimiter(publisher, { prefix: config.redisPrefix });
  const queueConnection = publisher.duplicate();
  const outboundQueue = createBullmqJobQueue(queueConnection, {
    prefix: config.redisPrefix,
    // An expired dispatch lease is claimable again within a tenth of the lease (1-5 s).
    stalledCheckMs: Math.min(5_000, Math.max(1_000, config.dispatchLeaseMs / 10)),
  });
  return {
    events,
    limits,
    outboundQueue,
    async close() {
      await outboundQueue.close();
      await queueConnection.quit().catch(() => queueConnection.disconnect());
      await events.close();
      await limits.close();
      subscriber.disconnect();
      await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}

function buildProvider(
  connection: Connection,
  secrets: Record<string, string>,
  sandbox: SandboxHub,
  clock: Clock,
  fetchImpl?: typeof fetch,
  context?: { readonly publicUrl: string; readonly store: Store },
): Provider {
  const config = connection.config as Record<string, unknown>;
  const str = (key: string): string | undefined =>
    typeof config[key] === 'string' ? config[key] : undefined;
  // Provider receive times and Retry-After dates follow Parley's clock.
  const deps = { now: () => clock.now(), ...(fetchImpl ? { fetch: fetchImpl } : {}) };
  switch (connection.provider) {
    case 'sandbox':
      return createSandboxProvider(sandbox.worldFor(connection, secrets.appSecret ?? ''));
    case 'meta':
      return createCloudApiProvider(
        metaSettings({
          accessToken: secrets.accessToken ?? '',
          appSecret: secrets.appSecret ?? '',
          verifyToken: secrets.verifyToken ?? '',
          ...(str('apiVersion') ? { apiVersion: str('apiVersion') } : {}),
          ...(str('baseUrl') ? { baseUrl: str('baseUrl') } : {}),
        }),
        deps,
      );
    case '360dialog':
      return createCloudApiProvider(
        dialog360Settings({
          apiKey: secrets.apiKey ?? '',
          webhookSecret: secrets.webhookSecret ?? '',
          ...(str('baseUrl') ? { baseUrl: str('baseUrl') } : {}),
        }),
        deps,
      );
    case 'cloud':
      return createCloudApiProvider(
        {
          kind: 'cloud',
          baseUrl: str('baseUrl') ?? '',
          ...(str('apiVersion') ? { apiVersion: str('apiVersion') } : {}),
          authHeader: str('authHeader') ?? 'Authorization',
          ...(str('authScheme') !== '' ? { authScheme: str('authScheme') ?? 'Bearer' } : {}),
          token: secrets.token ?? '',
          pathStyle: str('pathStyle') === 'none' ? 'none' : 'phone-number-id',
          ...(secrets.appSecret ? { appSecret: secrets.appSecret } : {}),
          ...(secrets.verifyToken ? { verifyToken: secrets.verifyToken } : {}),
          ...(str('webhookSecretHeader') && secrets.webhookSecret
            ? {
                webhookSecretHeader: {
                  name: str('webhookSecretHeader') ?? '',
                  value: secrets.webhookSecret,
                },
              }
            : {}),
        },
        deps,
      );
    case 'twilio':
      return createTwilioProvider(
        {
          accountSid: secrets.accountSid ?? '',
          authToken: secrets.authToken,
          apiKeySid: secrets.apiKeySid,
          apiKeySecret: secrets.apiKeySecret,
          messagingServiceSid: str('messagingServiceSid'),
          baseUrl: str('baseUrl'),
          contentBaseUrl: str('contentBaseUrl'),
          messagingBaseUrl: str('messagingBaseUrl'),
          statusCallbackUrl:
            context && `${context.publicUrl}/webhooks/twilio/${connection.id}/status`,
        },
        {
          ...deps,
          // A template send names the template; the synced `templates` table holds its ContentSid.
          resolveContentSid: async (channel, name, language) => {
            const template = await context?.store.templates.find(
              connection.workspaceId,
              name,
              language,
              channel.channelId,
            );
            return template?.providerTemplateId ?? null;
          },
        },
      );
  }
}

export type { CloudApiProvider };
