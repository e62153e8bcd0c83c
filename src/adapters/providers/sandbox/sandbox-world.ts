// The simulated WhatsApp behind the sandbox: business numbers, templates, users and their care
// windows, statuses with pricing, misbehaviour on demand — all reported as signed Meta webhooks.
import { createHash } from 'node:crypto';
import { opensWindow } from '../../../core/care-window.ts';
import type { Referral } from '../../../core/inbound.ts';
import type { TemplateBody } from '../../../core/messages.ts';
import {
  fullBucket,
  PAIR_RULE,
  takeTokens,
  type BucketRule,
  type BucketState,
} from '../../../core/rate-limit.ts';
import { DAY, SECOND } from '../../../core/time.ts';
import type { Clock } from '../../../ports/clock.ts';
import { signMetaBody } from '../meta-cloud/meta-signature.ts';
import {
  encodeMetaJson,
  metaErrorEnvelope,
  metaErrorText,
  unixSeconds,
  webhookEnvelope,
  webhookError,
} from './sandbox-meta-format.ts';
import {
  conversationObject,
  entryPointLength,
  eraAt,
  SandboxPricing,
  type PricingReport,
  type TemplateCategoryLower,
} from './sandbox-pricing.ts';
import { digitsOf, validateSendBody } from './sandbox-send-validation.ts';
import {
  checkTemplateParameters,
  DEMO_TEMPLATES,
  templateStatusProblem,
  type SandboxTemplate,
  type SandboxTemplateStatus,
  type TemplateDefinition,
  type TemplateProblem,
} from './sandbox-templates.ts';

/** Runs `fn` at instant `at` (ManualClock.schedule in tests, `realTimeScheduler` otherwise). */
export type Schedule = (at: number, fn: () => unknown) => void;

/** A webhook POST as WhatsApp would make it: the exact bytes and lower-case header names. */
export interface SandboxWebhook {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** Inclusive range of milliseconds a delay is drawn from. */
export type DelayRange = readonly [min: number, max: number];

export interface StatusDelays {
  /** From acceptance to `sent` (and to a late `failed`). */
  readonly sent: DelayRange;
  /** From `sent` to `delivered`. */
  readonly delivered: DelayRange;
  /** From `delivered` to `read`. */
  readonly read: DelayRange;
}

export const DEFAULT_STATUS_DELAYS: StatusDelays = {
  sent: [200, 500],
  delivered: [800, 2_000],
  read: [2_000, 8_000],
};

export interface SandboxWorldOptions {
  readonly clock: Clock;
  readonly schedule: Schedule;
  /** Signs every webhook (`X-Hub-Signature-256`), like the app secret of a Meta app. */
  readonly appSecret: string;
  /** Where webhooks go (Parley's ingestion path); a rejection is retried with backoff. */
  readonly deliver: (webhook: SandboxWebhook) => Promise<void>;
  /** Source of jitter and chaos; inject a seeded one for deterministic tests. */
  readonly random?: () => number;
  readonly statusDelays?: Partial<StatusDelays>;
  /** Chance that a user reads a delivered message by themselves (default 1); others wait for `userReads`. */
  readonly readProbability?: number;
  /**
   * How template refusals (132000, 132001, 132012, 132015, 132016) come back: `late` (default)
   * as an accepted send and then a `failed` status webhook; `sync` as an HTTP error response.
   */
  readonly templateErrors?: 'late' | 'sync';
  /** Unknown phone number ids become sandbox numbers on first use (default true); else error 100. */
  readonly autoRegisterNumbers?: boolean;
  /** New WABAs start with DEMO_TEMPLATES, all APPROVED (default true). */
  readonly seedTemplates?: boolean;
  /** LIM-1: answer 130429 when a number sends more than its `throughputMps` in one second (default off). */
  readonly enforceThroughput?: boolean;
  /**
   * LIM-2: answer 131056 when one (number, user) pair gets messages faster than the pair rate
   * (`true` for Meta's rule: bursts of 45, then one per 6 s; default off).
   */
  readonly enforcePairRate?: boolean | BucketRule;
  /**
   * Media a simulated user sends (image, audio …): makes the bytes behind a new media id, so a
   * receiver can download it (the HTTP emulator keeps them); default: an id with nothing behind it.
   */
  readonly inboundMedia?: (mimeType: string) => { readonly id: string; readonly sha256: string };
  /**
   * Batches webhooks as Meta does for busy accounts: entries wait up to `windowMs` (world time)
   * and go out together, at most `maxEntries` in one POST (default off: one webhook per event).
   */
  readonly batchWebhooks?: { readonly maxEntries: number; readonly windowMs: number };
  /**
   * Whether a media id a business sends exists (uploaded, or received from a user); a send by an
   * unknown id is accepted and then fails with 131053, as on WhatsApp (default: every id exists).
   */
  readonly mediaExists?: (mediaId: string) => boolean;
  /** The `hub.verify_token` of the GET handshake. */
  readonly verifyToken?: string;
  /** Delivery attempts per webhook before it is dropped (default 6: 1 s, 2 s, 4 s … apart). */
  readonly maxDeliveryAttempts?: number;
  /** How many outbound messages `outbound()` remembers (default 10,000). */
  readonly historyLimit?: number;
  /** Hears about errors inside simulated events (a bug, never a delivery failure: those are retried). */
  readonly onError?: (error: unknown) => void;
}

export interface SandboxNumberInput {
  /** Meta `phone_number_id` (the channel's providerKey). */
  readonly phoneNumberId: string;
  /** E.164 digits of the business number. */
  readonly displayPhoneNumber: string;
  readonly wabaId?: string;
  readonly verifiedName?: string;
  /** LIM-1 tier used when `enforceThroughput` is on (default 80). */
  readonly throughputMps?: number;
}

export interface SandboxNumber {
  readonly phoneNumberId: string;
  readonly displayPhoneNumber: string;
  readonly wabaId: string;
  readonly verifiedName: string;
  readonly throughputMps: number;
}

/** The demo shop's number (ids in the style of Meta's examples). */
export const DEMO_NUMBER: SandboxNumberInput = {
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  wabaId: '102290129340398',
  verifiedName: 'Parley Demo Shop',
};

/** Misbehaviour on demand. Counters apply to the next message sends, in this order of precedence:
 * timeouts, serverErrors, authErrors, rateLimitBurst. */
export interface SandboxChaos {
  /** The next N sends get 130429 with HTTP 429 and `Retry-After`. */
  readonly rateLimitBurst?: number;
  /** `Retry-After` of those answers, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
  /** The next N sends get HTTP 500 (131000) or 503 (code 2). */
  readonly serverErrors?: number;
  /** The next N sends get no answer at all (the provider gives up after its timeout). */
  readonly timeouts?: number;
  /** Whether WhatsApp nevertheless processed a send that timed out: true, false or a probability. */
  readonly timeoutDelivers?: boolean | number;
  /** The next N sends get 190 (expired access token) with HTTP 401. */
  readonly authErrors?: number;
  /** Probability (0..1) that a webhook is delivered a second time, byte for byte. */
  readonly duplicateWebhooks?: number;
  /** Status webhooks of a message arrive in reverse order (read, delivered, sent) at the last one's time. */
  readonly reorderWebhooks?: boolean;
  /** The next N sends that would succeed are accepted and then fail late with `lateFailureCode`. */
  readonly lateFailures?: number;
  /** Meta code of those late failures (default 131026, message undeliverable). */
  readonly lateFailureCode?: number;
  /** Every webhook is held back by a delay drawn from this range (ms; default none). */
  readonly webhookDelayMs?: DelayRange;
}

export type SandboxChaosState = {
  -readonly [K in keyof SandboxChaos]-?: NonNullable<SandboxChaos[K]>;
};

const CALM: SandboxChaosState = {
  rateLimitBurst: 0,
  retryAfterSeconds: 1,
  serverErrors: 0,
  timeouts: 0,
  timeoutDelivers: false,
  authErrors: 0,
  duplicateWebhooks: 0,
  reorderWebhooks: false,
  lateFailures: 0,
  lateFailureCode: 131026,
  webhookDelayMs: [0, 0],
};

/** What the Cloud API endpoint answers, or that it never answers (a timeout). */
export type SandboxAnswer =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Record<string, unknown>;
    }
  | { readonly kind: 'no_response' };

export type OutboundState = 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';

/** One message a business sent, as WhatsApp saw it. */
export interface SandboxOutboundMessage {
  readonly id: string;
  readonly phoneNumberId: string;
  readonly to: string;
  readonly type: string;
  /** The type's own object as sent (e.g. `{ body }` for text). */
  readonly content: unknown;
  /** Lower-case template category, or null for free-form. */
  readonly templateCategory: TemplateCategoryLower | null;
  readonly acceptedAt: number;
  readonly status: OutboundState;
  /** Meta code of a late failure, if it failed. */
  readonly errorCode: number | null;
  /** The `pricing` object its status webhooks carry (null when it failed). */
  readonly pricing: Readonly<Record<string, unknown>> | null;
  readonly replyTo: string | null;
  readonly callbackData: string | null;
}

type MutableOutbound = {
  -readonly [K in keyof SandboxOutboundMessage]: SandboxOutboundMessage[K];
} & {
  /** What its status webhooks report about price (kept for reads the user makes later). */
  report: PricingReport | null;
};

export interface UserWritesInput {
  /** The user's number (digits, `+` allowed). */
  readonly from: string;
  /** Profile name; remembered for later messages of this user. */
  readonly name?: string;
  /** Text of a text message, or caption of media. */
  readonly text?: string;
  /** Cloud API inbound type (default `text`). */
  readonly type?: string;
  /** The type's own object; a realistic default is built when omitted. */
  readonly content?: unknown;
  /** A Click-to-WhatsApp referral (`true` for a typical ad). Makes this message an entry point. */
  readonly referral?: Referral | true;
  /** A reply (`id` of the quoted message) or a forward marker. */
  readonly context?: {
    readonly id?: string;
    readonly from?: string;
    readonly forwarded?: boolean;
    readonly frequently_forwarded?: boolean;
  };
  /** Provider time of the message (default now). */
  readonly at?: number;
}

export interface SandboxInbound {
  readonly id: string;
  readonly from: string;
  readonly at: number;
}

export interface SandboxStats {
  requests: number;
  accepted: number;
  /** Sends answered with a synchronous error (validation, template in `sync` mode, chaos, throughput). */
  rejected: number;
  lateFailures: number;
  timeouts: number;
  inbound: number;
  webhooksDelivered: number;
  duplicatesDelivered: number;
  deliveryFailures: number;
  webhooksDropped: number;
}

interface UserState {
  lastInboundAt: number | null;
  /** A referral message still waiting for the business's first reply (FEP-2). */
  entryPointAt: number | null;
  entryPoint: { conversationId: string; until: number } | null;
  marketingStopped: boolean;
  lastBusinessMessage: { id: string; at: number } | null;
  lastUserMessage: { id: string; at: number } | null;
  unread: string[];
  /** LIM-2 token bucket of this pair (only kept when the pair rate is enforced). */
  pair: BucketState | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A typical Click-to-WhatsApp ad referral. */
const DEMO_REFERRAL: Referral = {
  source_url: 'https://fb.me/2ZAfVgUzJ',
  source_id: '120210000000000001',
  source_type: 'ad',
  headline: 'Free delivery this week',
  body: 'Message us on WhatsApp for 10% off your first order.',
  media_type: 'image',
  image_url: 'https://scontent.xx.fbcdn.net/v/t45.1600-4/demo_ad.jpg',
  ctwa_clid:
    'ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a',
};

/**
 * The simulated WhatsApp: it answers Cloud API requests, enforces the care window and template
 * approval like Meta (reporting violations late, as Meta does), and emits every inbound message,
 * status and notice as a signed Meta webhook to `deliver`.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api
 */
export class SandboxWorld {
  readonly clock: Clock;
  readonly appSecret: string;
  readonly verifyToken: string | undefined;
  readonly random: () => number;

  readonly #schedule: Schedule;
  readonly #deliver: (webhook: SandboxWebhook) => Promise<void>;
  readonly #delays: StatusDelays;
  readonly #readProbability: number;
  readonly #templateErrors: 'late' | 'sync';
  readonly #autoRegister: boolean;
  readonly #seedTemplates: boolean;
  readonly #enforceThroughput: boolean;
  readonly #pairRule: BucketRule | null;
  readonly #mediaExists: ((mediaId: string) => boolean) | undefined;
  readonly #batch: { readonly maxEntries: number; readonly windowMs: number } | null;
  #queued: unknown[] = [];
  readonly #inboundMedia:
    ((mimeType: string) => { readonly id: string; readonly sha256: string }) | undefined;
  readonly #maxAttempts: number;
  readonly #historyLimit: number;
  readonly #onError: (error: unknown) => void;

  readonly #numbers = new Map<string, SandboxNumber>();
  /** WABA id → (name \0 language) → template. */
  readonly #templates = new Map<string, Map<string, SandboxTemplate>>();
  /** phoneNumberId | wa_id → what WhatsApp knows of that user at that number. */
  readonly #users = new Map<string, UserState>();
  readonly #names = new Map<string, string>();
  readonly #unreachable = new Set<string>();
  readonly #messages = new Map<string, MutableOutbound>();
  readonly #businessReads = new Set<string>();
  /** phoneNumberId → [unix second, sends in it, peak]. */
  readonly #perSecond = new Map<string, { second: number; count: number; peak: number }>();
  readonly #pricing: SandboxPricing;
  #chaos: SandboxChaosState = { ...CALM };
  #seq = 0;
  readonly #salt: number;
  readonly #stats: SandboxStats = {
    requests: 0,
    accepted: 0,
    rejected: 0,
    lateFailures: 0,
    timeouts: 0,
    inbound: 0,
    webhooksDelivered: 0,
    duplicatesDelivered: 0,
    deliveryFailures: 0,
    webhooksDropped: 0,
  };

  constructor(options: SandboxWorldOptions) {
    this.clock = options.clock;
    this.appSecret = options.appSecret;
    this.verifyToken = options.verifyToken;
    this.random = options.random ?? Math.random;
    this.#schedule = options.schedule;
    this.#deliver = options.deliver;
    this.#delays = { ...DEFAULT_STATUS_DELAYS, ...options.statusDelays };
    this.#readProbability = options.readProbability ?? 1;
    this.#templateErrors = options.templateErrors ?? 'late';
    this.#autoRegister = options.autoRegisterNumbers ?? true;
    this.#seedTemplates = options.seedTemplates ?? true;
    this.#enforceThroughput = options.enforceThroughput ?? false;
    const pair = options.enforcePairRate ?? false;
    this.#pairRule = pair === true ? PAIR_RULE : pair === false ? null : pair;
    this.#inboundMedia = options.inboundMedia;
    this.#mediaExists = options.mediaExists;
    this.#batch = options.batchWebhooks
      ? {
          maxEntries: Math.max(1, options.batchWebhooks.maxEntries),
          windowMs: Math.max(0, options.batchWebhooks.windowMs),
        }
      : null;
    this.#maxAttempts = Math.max(1, options.maxDeliveryAttempts ?? 6);
    this.#historyLimit = options.historyLimit ?? 10_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#salt = Math.floor(this.random() * 0xffffff);
    this.#pricing = new SandboxPricing(() => this.#hash('conversation', 32));
  }

  // ── time ────────────────────────────────────────────────────────────────────────────────

  /** Schedules `fn` at `at` on the world's scheduler; its errors go to `onError`. */
  schedule(at: number, fn: () => unknown): void {
    this.#schedule(at, async () => {
      try {
        await fn();
      } catch (error) {
        // a simulated event must never break the scheduler it runs on
        this.#onError(error);
      }
    });
  }

  /** Resolves after `ms` of world time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#schedule(this.clock.now() + ms, resolve);
    });
  }

  // ── business numbers and templates ─────────────────────────────────────────────────────

  /** Registers a business number (idempotent: an existing number is returned unchanged). */
  addNumber(input: SandboxNumberInput): SandboxNumber {
    const existing = this.#numbers.get(input.phoneNumberId);
    if (existing) return existing;
    const number: SandboxNumber = {
      phoneNumberId: input.phoneNumberId,
      displayPhoneNumber: digitsOf(input.displayPhoneNumber),
      wabaId:
        input.wabaId ?? `2${input.phoneNumberId.replace(/\D/g, '').padStart(14, '0').slice(-14)}`,
      verifiedName: input.verifiedName ?? 'Sandbox Business',
      throughputMps: input.throughputMps ?? 80,
    };
    this.#numbers.set(number.phoneNumberId, number);
    if (!this.#templates.has(number.wabaId)) {
      const book = new Map<string, SandboxTemplate>();
      this.#templates.set(number.wabaId, book);
      if (this.#seedTemplates)
        for (const def of DEMO_TEMPLATES) {
          const t = this.#newTemplate(def, 'APPROVED');
          book.set(templateKey(t.name, t.language), t);
        }
    }
    return number;
  }

  number(phoneNumberId: string): SandboxNumber | undefined {
    return this.#numbers.get(phoneNumberId);
  }

  /** A business number of this WABA (the first registered), for WABA-level endpoints. */
  numberOfWaba(wabaId: string): SandboxNumber | undefined {
    for (const number of this.#numbers.values()) if (number.wabaId === wabaId) return number;
    return undefined;
  }

  numbers(): SandboxNumber[] {
    return [...this.#numbers.values()];
  }

  /** Templates of the number's WABA, in Meta's listing shape. */
  templates(phoneNumberId: string): SandboxTemplate[] {
    return [...this.#book(phoneNumberId).values()];
  }

  /** Templates of a WABA (for `GET /{waba-id}/message_templates`). */
  templatesOfWaba(wabaId: string): SandboxTemplate[] {
    return [...(this.#templates.get(wabaId)?.values() ?? [])];
  }

  template(phoneNumberId: string, name: string, language: string): SandboxTemplate | undefined {
    return this.#book(phoneNumberId).get(templateKey(name, language));
  }

  /** Adds (or replaces) a template with the given status (default APPROVED), silently. */
  addTemplate(
    phoneNumberId: string,
    definition: TemplateDefinition & { readonly status?: SandboxTemplateStatus },
  ): SandboxTemplate {
    const book = this.#book(phoneNumberId);
    const previous = book.get(templateKey(definition.name, definition.language));
    const t = this.#newTemplate(definition, definition.status ?? 'APPROVED', previous?.id);
    book.set(templateKey(t.name, t.language), t);
    return t;
  }

  /**
   * TPL-8: submits a template for review: PENDING now, then APPROVED (or the given outcome) after
   * `reviewMs` (default 5 s), announced by a `message_template_status_update` webhook.
   */
  submitTemplate(
    phoneNumberId: string,
    definition: TemplateDefinition,
    review: {
      readonly reviewMs?: number;
      readonly outcome?: 'APPROVED' | 'REJECTED';
      readonly reason?: string;
    } = {},
  ): SandboxTemplate {
    const t = this.addTemplate(phoneNumberId, { ...definition, status: 'PENDING' });
    this.schedule(this.clock.now() + (review.reviewMs ?? 5 * SECOND), () =>
      this.setTemplateStatus(phoneNumberId, t.name, t.language, review.outcome ?? 'APPROVED', {
        reason: review.outcome === 'REJECTED' ? (review.reason ?? 'INVALID_FORMAT') : 'NONE',
      }),
    );
    return t;
  }

  /**
   * TPL-8: changes a template's status and, unless `notify` is false, tells the business with a
   * `message_template_status_update` webhook, as Meta does.
   * @see https://developers.facebook.com/docs/whatsapp/business-management-api/webhooks/components
   */
  async setTemplateStatus(
    phoneNumberId: string,
    name: string,
    language: string,
    status: SandboxTemplateStatus,
    options: { readonly reason?: string; readonly notify?: boolean } = {},
  ): Promise<SandboxTemplate> {
    const book = this.#book(phoneNumberId);
    const key = templateKey(name, language);
    const current = book.get(key);
    if (!current)
      throw new Error(`sandbox: no template ${name} (${language}) at number ${phoneNumberId}`);
    const updated: SandboxTemplate = { ...current, status };
    book.set(key, updated);
    if (options.notify !== false) {
      const number = this.#requireNumber(phoneNumberId);
      const now = this.clock.now();
      const value: Json = {
        event: status,
        message_template_id: Number(updated.id),
        message_template_name: updated.name,
        message_template_language: updated.language,
        reason: options.reason ?? 'NONE',
        message_template_category: updated.category,
      };
      if (status === 'PAUSED')
        value.other_info = {
          title: 'FIRST_PAUSE',
          description: `Your WhatsApp message template has been paused for 3 hours until ${new Date(now + 3 * 3_600_000).toUTCString()} due to low quality.`,
        };
      await this.#emit(
        webhookEnvelope(number.wabaId, 'message_template_status_update', value, now),
      );
    }
    return updated;
  }

  // ── the Cloud API endpoint ─────────────────────────────────────────────────────────────

  /**
   * Answers `POST /{phone-number-id}/messages` (a send, or a mark-read) exactly as the Cloud API:
   * 200 with a `wamid` (A.4) even when the message will fail later (CSW-5), Meta's error envelope
   * with its HTTP status otherwise (A.5), or no answer at all under chaos `timeouts`.
   * `number` registers the phone number id on first use (when auto-registration is on).
   * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
   */
  answer(
    phoneNumberId: string,
    body: unknown,
    number?: Omit<SandboxNumberInput, 'phoneNumberId'>,
  ): SandboxAnswer {
    this.#stats.requests++;
    const sender = this.resolveNumber(phoneNumberId, number);
    if (!sender)
      return this.#reject(
        100,
        `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      );
    if (isObject(body) && body.status === 'read') return this.#markRead(body);

    const chaos = this.#chaos;
    if (chaos.timeouts > 0) {
      chaos.timeouts--;
      this.#stats.timeouts++;
      const delivers = chaos.timeoutDelivers;
      const p = typeof delivers === 'number' ? delivers : delivers ? 1 : 0;
      if (this.random() < p) this.#send(sender, body);
      return { kind: 'no_response' };
    }
    if (chaos.serverErrors > 0) {
      chaos.serverErrors--;
      return this.#reject(this.random() < 0.5 ? 131000 : 2);
    }
    if (chaos.authErrors > 0) {
      chaos.authErrors--;
      return this.#reject(190);
    }
    if (chaos.rateLimitBurst > 0) {
      chaos.rateLimitBurst--;
      return this.#reject(130429, undefined, {
        'retry-after': String(chaos.retryAfterSeconds),
      });
    }
    return this.#send(sender, body);
  }

  /** Sets misbehaviour for what follows (only the given settings change); returns the state. */
  chaos(settings: SandboxChaos): Readonly<SandboxChaosState> {
    this.#chaos = { ...this.#chaos, ...settings };
    return { ...this.#chaos };
  }

  /** Ends every misbehaviour. */
  calm(): void {
    this.#chaos = { ...CALM };
  }

  get chaosState(): Readonly<SandboxChaosState> {
    return { ...this.#chaos };
  }

  get stats(): Readonly<SandboxStats> {
    return { ...this.#stats };
  }

  /** The most messages one number had accepted within one calendar second (LIM-1 evidence). */
  peakSendsPerSecond(phoneNumberId: string): number {
    return this.#perSecond.get(phoneNumberId)?.peak ?? 0;
  }

  /** Outbound messages WhatsApp accepted (most recent `historyLimit`), optionally for one number. */
  outbound(phoneNumberId?: string): SandboxOutboundMessage[] {
    const all = [...this.#messages.values()];
    return phoneNumberId === undefined ? all : all.filter((m) => m.phoneNumberId === phoneNumberId);
  }

  message(id: string): SandboxOutboundMessage | undefined {
    return this.#messages.get(id);
  }

  /** Whether the business marked this inbound message read (blue ticks). */
  readByBusiness(inboundId: string): boolean {
    return this.#businessReads.has(inboundId);
  }

  // ── users ──────────────────────────────────────────────────────────────────────────────

  /**
   * A user writes to a business number: delivers the inbound webhook (every Cloud API type) and
   * opens or restarts the user's care window at that number (CSW-1); a referral marks an entry
   * point (FEP-1).
   * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/messages
   */
  async userWrites(phoneNumberId: string, input: UserWritesInput): Promise<SandboxInbound> {
    const number = this.#numberForUser(phoneNumberId);
    const from = digitsOf(input.from);
    if (!/^\d{7,15}$/.test(from)) throw new Error(`sandbox: '${input.from}' is not a phone number`);
    const at = input.at ?? this.clock.now();
    const type = input.type ?? 'text';
    if (input.name !== undefined) this.#names.set(from, input.name);
    const user = this.#user(phoneNumberId, from);
    const id = this.#messageId(from, 'inbound');
    const content = input.content ?? this.#defaultContent(type, input, user, number, from);

    const message: Json = {};
    if (input.context) {
      const quoted = input.context.id;
      message.context =
        quoted === undefined
          ? { ...input.context }
          : {
              from:
                input.context.from ??
                (this.#messages.has(quoted) || user.lastBusinessMessage?.id === quoted
                  ? number.displayPhoneNumber
                  : from),
              id: quoted,
              ...(input.context.forwarded ? { forwarded: true } : {}),
            };
    } else if (type === 'button' && user.lastBusinessMessage) {
      // a quick-reply tap always quotes the template it belongs to
      message.context = { from: number.displayPhoneNumber, id: user.lastBusinessMessage.id };
    }
    const referral = input.referral === true ? DEMO_REFERRAL : input.referral;
    if (referral) message.referral = referral;
    Object.assign(message, { from, id, timestamp: unixSeconds(at), type, [type]: content });
    if (type === 'unsupported') message.errors = [webhookError(131051)];

    if (opensWindow(type) && (user.lastInboundAt === null || at > user.lastInboundAt))
      user.lastInboundAt = at;
    if (referral && !(user.entryPoint && at < user.entryPoint.until)) user.entryPointAt = at;
    if (type !== 'system') user.lastUserMessage = { id, at };
    this.#stats.inbound++;

    const name = this.#names.get(from);
    const value: Json = {
      messaging_product: 'whatsapp',
      metadata: {
        display_phone_number: number.displayPhoneNumber,
        phone_number_id: number.phoneNumberId,
      },
      contacts: [{ profile: { name: name ?? '' }, wa_id: from }],
      messages: [message],
    };
    await this.#emit(webhookEnvelope(number.wabaId, 'messages', value));
    return { id, from, at };
  }

  /**
   * The user opens the chat: `read` statuses for the given delivered messages (default: every
   * delivered, unread message of the business to this user at this number). Returns their ids.
   */
  async userReads(phoneNumberId: string, from: string, messageIds?: string[]): Promise<string[]> {
    const number = this.#requireNumber(phoneNumberId);
    const user = this.#user(phoneNumberId, digitsOf(from));
    const ids = messageIds ?? [...user.unread];
    const read: string[] = [];
    for (const id of ids) {
      const record = this.#messages.get(id);
      if (!record || record.status !== 'delivered' || record.to !== digitsOf(from)) continue;
      const now = this.clock.now();
      record.status = 'read';
      user.unread = user.unread.filter((u) => u !== id);
      read.push(id);
      await this.#emit(
        this.#statusPayload(number, record, 'read', now, record.report ?? undefined),
      );
    }
    return read;
  }

  /** OPT-5: the user stops marketing messages from the business (`user_preferences` webhook). */
  async userStopsMarketing(phoneNumberId: string, from: string): Promise<void> {
    await this.#marketingPreference(phoneNumberId, digitsOf(from), 'stop');
  }

  /** OPT-5: the user resumes marketing messages. */
  async userResumesMarketing(phoneNumberId: string, from: string): Promise<void> {
    await this.#marketingPreference(phoneNumberId, digitsOf(from), 'resume');
  }

  /** Makes a number unable to receive WhatsApp messages (sends to it fail late with 131026). */
  setUnreachable(waId: string, unreachable = true): void {
    if (unreachable) this.#unreachable.add(digitsOf(waId));
    else this.#unreachable.delete(digitsOf(waId));
  }

  /** CSW as WhatsApp sees it for (number, user). */
  windowOf(
    phoneNumberId: string,
    waId: string,
  ): {
    readonly lastInboundAt: number | null;
    readonly closesAt: number | null;
    readonly open: boolean;
  } {
    const user = this.#users.get(userKey(phoneNumberId, digitsOf(waId)));
    const last = user?.lastInboundAt ?? null;
    const closesAt = last === null ? null : last + DAY;
    return {
      lastInboundAt: last,
      closesAt,
      open: closesAt !== null && this.clock.now() < closesAt,
    };
  }

  /** The business's latest message this user received at this number (for replies and reactions). */
  lastBusinessMessage(
    phoneNumberId: string,
    waId: string,
  ): { readonly id: string; readonly at: number } | null {
    return this.#users.get(userKey(phoneNumberId, digitsOf(waId)))?.lastBusinessMessage ?? null;
  }

  /** The user's latest message to this number. */
  lastUserMessage(
    phoneNumberId: string,
    waId: string,
  ): { readonly id: string; readonly at: number } | null {
    return this.#users.get(userKey(phoneNumberId, digitsOf(waId)))?.lastUserMessage ?? null;
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────

  #send(number: SandboxNumber, body: unknown): SandboxAnswer {
    const valid = validateSendBody(body);
    if (!valid.ok) return this.#reject(100, valid.details);
    const now = this.clock.now();
    const { content } = valid;

    let late: TemplateProblem | null = null;
    let templateCategory: TemplateCategoryLower | null = null;
    if (content.type === 'template') {
      const sent: TemplateBody = content.template;
      const template = this.#templates
        .get(number.wabaId)
        ?.get(templateKey(sent.name, sent.language.code));
      const problem =
        templateStatusProblem(template, sent.name, sent.language.code) ??
        (template ? checkTemplateParameters(template, sent) : null);
      if (problem && this.#templateErrors === 'sync')
        return this.#reject(problem.code, problem.details);
      late = problem;
      if (template) templateCategory = template.category.toLowerCase() as TemplateCategoryLower;
    }

    if (!this.#countSend(number, now))
      return this.#reject(130429, undefined, { 'retry-after': '1' });

    const user = this.#user(number.phoneNumberId, valid.to);
    if (this.#pairRule) {
      // LIM-2: Meta refuses the send itself; other users of the same number are unaffected
      const taken = takeTokens(user.pair ?? fullBucket(this.#pairRule, now), this.#pairRule, now);
      user.pair = taken.state;
      if (!taken.ok)
        return this.#reject(131056, undefined, {
          'retry-after': String(Math.max(1, Math.ceil((taken.retryAt - now) / SECOND))),
        });
    }
    const windowOpen = user.lastInboundAt !== null && now < user.lastInboundAt + DAY;
    if (!late && this.#mediaExists) {
      const media = (content as unknown as Json)[content.type];
      const mediaId = isObject(media) && typeof media.id === 'string' ? media.id : undefined;
      if (mediaId !== undefined && !this.#mediaExists(mediaId))
        late = {
          code: 131053,
          details: `Media id ${mediaId} was not found: upload the file again and send the new id.`,
        };
    }
    if (!late && this.#unreachable.has(valid.to))
      late = { code: 131026, details: metaErrorText(131026).details };
    // CSW-3/CSW-5: free-form outside the window is accepted, then fails with 131047
    if (!late && content.type !== 'template' && !windowOpen)
      late = { code: 131047, details: metaErrorText(131047).details };
    if (!late && templateCategory === 'marketing' && user.marketingStopped)
      late = { code: 131050, details: metaErrorText(131050).details };
    if (!late && this.#chaos.lateFailures > 0) {
      this.#chaos.lateFailures--;
      late = {
        code: this.#chaos.lateFailureCode,
        details: metaErrorText(this.#chaos.lateFailureCode).details,
      };
    }

    const id = this.#messageId(valid.to, 'outbound');
    const record: MutableOutbound = {
      id,
      phoneNumberId: number.phoneNumberId,
      to: valid.to,
      type: content.type,
      content: (content as unknown as Json)[content.type],
      templateCategory,
      acceptedAt: now,
      status: 'accepted',
      errorCode: null,
      pricing: null,
      replyTo: valid.replyTo,
      callbackData: valid.callbackData,
      report: null,
    };
    this.#remember(record);
    this.#stats.accepted++;

    if (late) {
      const failure = late;
      this.#stats.lateFailures++;
      const at = now + this.#jitter(this.#delays.sent);
      this.schedule(at, async () => {
        record.status = 'failed';
        record.errorCode = failure.code;
        await this.#emit(this.#statusPayload(number, record, 'failed', at, undefined, failure));
      });
    } else {
      const entryPoint = this.#entryPointFor(user, now);
      const report = this.#pricing.price(userKey(number.phoneNumberId, valid.to), {
        at: now,
        templateCategory,
        windowOpen,
        entryPoint,
      });
      record.pricing = report.pricing;
      record.report = report;
      this.#lifecycle(number, record, user, report, now);
    }

    return {
      kind: 'response',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: valid.input, wa_id: valid.to }],
        messages: [{ id, message_status: 'accepted' }],
      },
    };
  }

  /** Schedules sent → delivered → read (STA-1), each a status webhook at its own instant. */
  #lifecycle(
    number: SandboxNumber,
    record: MutableOutbound,
    user: UserState,
    report: PricingReport,
    now: number,
  ): void {
    const sentAt = now + this.#jitter(this.#delays.sent);
    const deliveredAt = sentAt + this.#jitter(this.#delays.delivered);
    const reads = this.random() < this.#readProbability;
    const events: Array<{ status: 'sent' | 'delivered' | 'read'; at: number }> = [
      { status: 'sent', at: sentAt },
      { status: 'delivered', at: deliveredAt },
    ];
    if (reads) events.push({ status: 'read', at: deliveredAt + this.#jitter(this.#delays.read) });

    const advance = (status: 'sent' | 'delivered' | 'read', at: number): void => {
      if (record.status === 'read') return;
      record.status = status;
      if (status === 'delivered') {
        user.lastBusinessMessage = { id: record.id, at };
        if (!reads) user.unread.push(record.id);
      }
    };
    const webhook = (status: 'sent' | 'delivered' | 'read', at: number) =>
      this.#statusPayload(number, record, status, at, report);

    if (!this.#chaos.reorderWebhooks) {
      for (const e of events)
        this.schedule(e.at, async () => {
          advance(e.status, e.at);
          await this.#emit(webhook(e.status, e.at));
        });
      return;
    }
    // Out of order: the state moves on time, the webhooks all arrive at the end, newest first.
    const last = events[events.length - 1]?.at ?? sentAt;
    for (const e of events) this.schedule(e.at, () => advance(e.status, e.at));
    for (const e of [...events].reverse())
      this.schedule(last, () => this.#emit(webhook(e.status, e.at)));
  }

  /** FEP-2: the first business message within 24 h of an entry point opens the FEP window. */
  #entryPointFor(user: UserState, at: number): { conversationId: string; until: number } | null {
    if (user.entryPoint && at < user.entryPoint.until) return user.entryPoint;
    const pending = user.entryPointAt;
    user.entryPointAt = null;
    if (pending !== null && at - pending < DAY) {
      user.entryPoint = {
        conversationId: this.#hash('conversation', 32),
        until: at + entryPointLength(eraAt(at)),
      };
      return user.entryPoint;
    }
    return null;
  }

  #statusPayload(
    number: SandboxNumber,
    record: SandboxOutboundMessage,
    status: 'sent' | 'delivered' | 'read' | 'failed',
    at: number,
    report?: PricingReport,
    failure?: TemplateProblem,
  ): Json {
    const s: Json = {
      id: record.id,
      status,
      timestamp: unixSeconds(at),
      recipient_id: record.to,
    };
    if (record.callbackData !== null) s.biz_opaque_callback_data = record.callbackData;
    if (report) {
      const conversation = conversationObject(report, status);
      if (conversation) s.conversation = conversation;
      s.pricing = report.pricing;
    }
    if (failure) s.errors = [webhookError(failure.code, failure.details)];
    return webhookEnvelope(number.wabaId, 'messages', {
      messaging_product: 'whatsapp',
      metadata: {
        display_phone_number: number.displayPhoneNumber,
        phone_number_id: number.phoneNumberId,
      },
      statuses: [s],
    });
  }

  #markRead(body: Json): SandboxAnswer {
    const id = body.message_id;
    if (body.messaging_product !== 'whatsapp' || typeof id !== 'string' || !id.startsWith('wamid.'))
      return this.#reject(
        100,
        "The parameter message_id must be the id ('wamid.…') of a message the user sent.",
      );
    this.#businessReads.add(id);
    return {
      kind: 'response',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { success: true },
    };
  }

  async #marketingPreference(
    phoneNumberId: string,
    from: string,
    value: 'stop' | 'resume',
  ): Promise<void> {
    const number = this.#requireNumber(phoneNumberId);
    const user = this.#user(phoneNumberId, from);
    user.marketingStopped = value === 'stop';
    const now = this.clock.now();
    await this.#emit(
      webhookEnvelope(number.wabaId, 'user_preferences', {
        messaging_product: 'whatsapp',
        metadata: {
          display_phone_number: number.displayPhoneNumber,
          phone_number_id: number.phoneNumberId,
        },
        contacts: [{ profile: { name: this.#names.get(from) ?? '' }, wa_id: from }],
        user_preferences: [
          {
            wa_id: from,
            detail:
              value === 'stop'
                ? 'User requested to stop marketing messages'
                : 'User requested to resume marketing messages',
            category: 'marketing_messages',
            value,
            timestamp: Math.floor(now / 1000),
          },
        ],
      }),
    );
  }

  #defaultContent(
    type: string,
    input: UserWritesInput,
    user: UserState,
    number: SandboxNumber,
    from: string,
  ): unknown {
    const file = (mime: string): { id: string; sha256: string } => {
      if (this.#inboundMedia) return this.#inboundMedia(mime);
      const id = this.#mediaId();
      return { id, sha256: createHash('sha256').update(id).digest('base64') };
    };
    const media = (mime: string, extra: Json = {}): Json => {
      const { id, sha256 } = file(mime);
      return {
        ...(input.text === undefined ? {} : { caption: input.text }),
        mime_type: mime,
        sha256,
        id,
        ...extra,
      };
    };
    const quoted = user.lastBusinessMessage?.id ?? user.lastUserMessage?.id;
    switch (type) {
      case 'text':
        return { body: input.text ?? 'Hello' };
      case 'image':
        return media('image/jpeg');
      case 'video':
        return media('video/mp4');
      case 'audio': {
        const { id, sha256 } = file('audio/ogg; codecs=opus');
        return { mime_type: 'audio/ogg; codecs=opus', sha256, id, voice: true };
      }
      case 'document':
        return media('application/pdf', { filename: 'receipt.pdf' });
      case 'sticker': {
        const { id, sha256 } = file('image/webp');
        return { mime_type: 'image/webp', sha256, id, animated: false };
      }
      case 'location':
        return {
          latitude: 51.5072,
          longitude: -0.1276,
          name: 'Home',
          address: '10 Example Street, London',
        };
      case 'contacts':
        return [
          {
            name: { formatted_name: 'Alex Morgan', first_name: 'Alex', last_name: 'Morgan' },
            phones: [{ phone: '+44 7700 123456', wa_id: '447700123456', type: 'CELL' }],
          },
        ];
      case 'button':
        return { payload: input.text ?? 'Confirm', text: input.text ?? 'Confirm' };
      case 'interactive':
        return { type: 'button_reply', button_reply: { id: 'yes', title: input.text ?? 'Yes' } };
      case 'reaction':
        if (quoted === undefined) throw new Error('sandbox: nothing to react to; pass content');
        return { message_id: quoted, emoji: input.text ?? '👍' };
      case 'order':
        return {
          catalog_id: '1784323451947291',
          text: input.text ?? 'Please deliver in the morning',
          product_items: [
            { product_retailer_id: 'sku-42', quantity: 2, item_price: 12.5, currency: 'EUR' },
          ],
        };
      case 'system': {
        const changedTo = `${from.slice(0, -1)}${from.endsWith('9') ? '8' : '9'}`;
        return {
          body: `${this.#names.get(from) ?? 'User'} changed from ${from} to ${changedTo}`,
          wa_id: changedTo,
          type: 'user_changed_number',
        };
      }
      case 'unsupported':
        return { type: 'unknown' };
      default:
        return input.text === undefined ? {} : { body: input.text };
    }
  }

  /**
   * The business number with this id; an unknown id becomes a sandbox number when
   * auto-registration is on (with `input`'s display number and WABA when given).
   */
  resolveNumber(
    phoneNumberId: string,
    input?: Omit<SandboxNumberInput, 'phoneNumberId'>,
  ): SandboxNumber | undefined {
    const known = this.#numbers.get(phoneNumberId);
    if (known || !this.#autoRegister) return known;
    return this.addNumber({
      phoneNumberId,
      displayPhoneNumber:
        input?.displayPhoneNumber ??
        `1555${phoneNumberId.replace(/\D/g, '').padStart(7, '0').slice(-7)}`,
      ...(input?.wabaId === undefined ? {} : { wabaId: input.wabaId }),
      ...(input?.verifiedName === undefined ? {} : { verifiedName: input.verifiedName }),
      ...(input?.throughputMps === undefined ? {} : { throughputMps: input.throughputMps }),
    });
  }

  #numberForUser(phoneNumberId: string): SandboxNumber {
    const number = this.resolveNumber(phoneNumberId);
    if (!number) throw new Error(`sandbox: unknown business number ${phoneNumberId}`);
    return number;
  }

  #requireNumber(phoneNumberId: string): SandboxNumber {
    const number = this.#numbers.get(phoneNumberId);
    if (!number) throw new Error(`sandbox: unknown business number ${phoneNumberId}`);
    return number;
  }

  #book(phoneNumberId: string): Map<string, SandboxTemplate> {
    const number = this.#numberForUser(phoneNumberId);
    const book = this.#templates.get(number.wabaId);
    if (!book) throw new Error(`sandbox: no template book for WABA ${number.wabaId}`);
    return book;
  }

  #newTemplate(
    def: TemplateDefinition,
    status: SandboxTemplateStatus,
    id?: string,
  ): SandboxTemplate {
    return {
      id: id ?? String(1_600_000_000_000_000 + ++this.#seq),
      name: def.name,
      language: def.language,
      category: def.category,
      status,
      parameter_format: def.parameter_format ?? 'POSITIONAL',
      components: def.components,
    };
  }

  #user(phoneNumberId: string, waId: string): UserState {
    const key = userKey(phoneNumberId, waId);
    let user = this.#users.get(key);
    if (!user) {
      user = {
        lastInboundAt: null,
        entryPointAt: null,
        entryPoint: null,
        marketingStopped: false,
        lastBusinessMessage: null,
        lastUserMessage: null,
        unread: [],
        pair: null,
      };
      this.#users.set(key, user);
    }
    return user;
  }

  /** LIM-1 bookkeeping; false when the send would exceed the number's tier (enforced only on request). */
  #countSend(number: SandboxNumber, now: number): boolean {
    const second = Math.floor(now / 1000);
    let slot = this.#perSecond.get(number.phoneNumberId);
    if (!slot) {
      slot = { second, count: 0, peak: 0 };
      this.#perSecond.set(number.phoneNumberId, slot);
    }
    if (slot.second !== second) {
      slot.second = second;
      slot.count = 0;
    }
    if (this.#enforceThroughput && slot.count >= number.throughputMps) return false;
    slot.count++;
    slot.peak = Math.max(slot.peak, slot.count);
    return true;
  }

  #remember(record: MutableOutbound): void {
    this.#messages.set(record.id, record);
    if (this.#messages.size > this.#historyLimit) {
      const oldest = this.#messages.keys().next().value;
      if (oldest !== undefined) this.#messages.delete(oldest);
    }
  }

  #reject(code: number, details?: string, headers: Record<string, string> = {}): SandboxAnswer {
    this.#stats.rejected++;
    return {
      kind: 'response',
      status: metaErrorText(code).httpStatus,
      headers: { 'content-type': 'application/json', ...headers },
      body: metaErrorEnvelope(code, details, `A${this.#hash('trace', 22)}`),
    };
  }

  #sign(payload: Json): SandboxWebhook {
    const { body, signature } = signMetaBody(encodeMetaJson(payload), this.appSecret);
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'x-hub-signature-256': signature,
        'user-agent': 'facebookexternalua',
      },
    };
  }

  /**
   * Sends one payload: now, or with the next batch when batching is on. Under chaos it goes once
   * more a little later. A failed delivery is retried with backoff.
   */
  async #emit(payload: Json): Promise<void> {
    const batch = this.#batch;
    if (!batch) return this.#emitSigned(this.#sign(payload));
    const entries = payload.entry as unknown[];
    if (this.#queued.length === 0)
      this.schedule(this.clock.now() + batch.windowMs, () => this.#flush());
    this.#queued.push(...entries);
    if (this.#queued.length >= batch.maxEntries) await this.#flush();
  }

  /** One webhook with every queued entry, as Meta batches busy accounts' notifications. */
  async #flush(): Promise<void> {
    if (this.#queued.length === 0) return;
    const entry = this.#queued;
    this.#queued = [];
    await this.#emitSigned(this.#sign({ object: 'whatsapp_business_account', entry }));
  }

  async #emitSigned(webhook: SandboxWebhook): Promise<void> {
    // no draw when calm, so seeded worlds replay the same jitter as before
    const delay = this.#chaos.webhookDelayMs[1] > 0 ? this.#jitter(this.#chaos.webhookDelayMs) : 0;
    if (delay > 0) this.schedule(this.clock.now() + delay, () => this.#attempt(webhook, 1, false));
    else await this.#attempt(webhook, 1, false);
    if (this.#chaos.duplicateWebhooks > 0 && this.random() < this.#chaos.duplicateWebhooks)
      this.schedule(this.clock.now() + this.#jitter([100, 1_500]), () =>
        this.#attempt(webhook, 1, true),
      );
  }

  async #attempt(webhook: SandboxWebhook, attempt: number, duplicate: boolean): Promise<void> {
    try {
      await this.#deliver(webhook);
      this.#stats.webhooksDelivered++;
      if (duplicate) this.#stats.duplicatesDelivered++;
    } catch {
      this.#stats.deliveryFailures++;
      if (attempt >= this.#maxAttempts) {
        this.#stats.webhooksDropped++;
        return;
      }
      // Meta retries failed deliveries with exponential backoff
      this.schedule(this.clock.now() + SECOND * 2 ** (attempt - 1), () =>
        this.#attempt(webhook, attempt + 1, duplicate),
      );
    }
  }

  #jitter([min, max]: DelayRange): number {
    return Math.round(min + this.random() * Math.max(0, max - min));
  }

  /** `wamid.` ids in Meta's layout: base64 of the user's number and a unique hex serial. */
  #messageId(waId: string, direction: 'inbound' | 'outbound'): string {
    const serialLength = direction === 'outbound' ? 18 : 20;
    const serial = this.#hash(`wamid:${direction}`, serialLength).toUpperCase();
    const raw = Buffer.concat([
      Buffer.from([0x1c, 0x18, waId.length]),
      Buffer.from(waId, 'ascii'),
      Buffer.from([0x15, 0x02, 0x00, direction === 'outbound' ? 0x11 : 0x12, 0x18, serialLength]),
      Buffer.from(serial, 'ascii'),
      Buffer.from([0x00]),
    ]);
    return `wamid.${raw.toString('base64')}`;
  }

  #mediaId(): string {
    return String(1_000_000_000_000_000 + ++this.#seq * 7_919 + this.#salt);
  }

  /** A unique hex string: the serial makes it unique, the salt makes worlds differ. */
  #hash(purpose: string, length: number): string {
    return createHash('sha256')
      .update(`${purpose}:${this.#salt}:${++this.#seq}`)
      .digest('hex')
      .slice(0, length);
  }
}

function templateKey(name: string, language: string): string {
  return `${name}\u0000${language}`;
}

function userKey(phoneNumberId: string, waId: string): string {
  return `${phoneNumberId}|${waId}`;
}
