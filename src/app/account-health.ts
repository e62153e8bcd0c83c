// Account health: what a provider tells Parley about a connection or number beyond single
// messages — an expired token, a restricted account, quality and limit changes, paused
// templates — recorded as events (readable per connection and number) and published on the bus.
import { createHash } from 'node:crypto';
import type { OtherNotice } from '../core/inbound.ts';
import type { ReasonCode } from '../core/reason-codes.ts';
import { MINUTE } from '../core/time.ts';
import type { DomainEvent } from '../ports/event-bus.ts';
import type {
  AccountHealthEvent,
  HealthSeverity,
  NewAccountHealthEvent,
} from '../ports/provider-records-store.ts';
import type { Channel, Json, MessageRecord } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';

export const HEALTH_KINDS = [
  'auth_failed',
  'account_restricted',
  'payment_required',
  'spam_rate',
  'template_paused',
  'template_disabled',
  'template_flagged',
  'template_quality',
  'phone_quality',
  'messaging_limit',
  'account_update',
] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

/** Failures of one kind on one number within this span are one health event, not thousands. */
export const FAILURE_COALESCE_MS = 15 * MINUTE;

interface FailureHealth {
  readonly kind: HealthKind;
  readonly severity: HealthSeverity;
  readonly detail: string;
  readonly fix: string;
}

/**
 * Send failures that say something about the account rather than the message (§7 "halt the
 * connection, alert", "halt the number", "block the template").
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
const FAILURE_HEALTH: Partial<Record<ReasonCode, FailureHealth>> = {
  auth: {
    kind: 'auth_failed',
    severity: 'critical',
    detail: 'the provider refused the connection’s credentials (expired or revoked token)',
    fix: 'Create a new token (Meta: a system-user token that never expires, with whatsapp_business_messaging and whatsapp_business_management), save it with PATCH /v1/connections/{id}, then check with GET /v1/connections/{id}/check.',
  },
  account_restricted: {
    kind: 'account_restricted',
    severity: 'critical',
    detail: 'the WhatsApp Business Account is restricted or locked for a policy violation',
    fix: 'Open WhatsApp Manager › Account quality, read the violation and request a review; sends fail until it is lifted.',
  },
  payment_required: {
    kind: 'payment_required',
    severity: 'critical',
    detail: 'the business has an eligibility or payment problem',
    fix: 'Add or fix the payment method in Meta Business Settings › Billing for this WhatsApp Business Account.',
  },
  spam_rate: {
    kind: 'spam_rate',
    severity: 'warning',
    detail:
      'WhatsApp is limiting this number because too many of its messages were blocked or reported',
    fix: 'Pause campaigns on this number, send only to opted-in contacts and review which templates users block.',
  },
  template_paused: {
    kind: 'template_paused',
    severity: 'warning',
    detail: 'a template was paused for low quality',
    fix: 'Wait for the pause to end (3 h the first time, 6 h the second), and improve the template before a third pause disables it.',
  },
  template_disabled: {
    kind: 'template_disabled',
    severity: 'critical',
    detail: 'a template was disabled after repeated pauses',
    fix: 'Create a new template with clearer, wanted content; a disabled template cannot be sent again.',
  },
};

export function healthEventView(e: AccountHealthEvent) {
  return {
    id: e.id,
    connectionId: e.connectionId,
    channelId: e.channelId,
    kind: e.kind,
    severity: e.severity,
    code: e.code,
    detail: e.detail,
    fix: e.fix,
    data: e.data,
    at: new Date(e.at).toISOString(),
    recordedAt: new Date(e.recordedAt).toISOString(),
  };
}

function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

/** Records one event; a new one becomes an `account.health` event to publish. */
async function record(deps: AppDeps, input: NewAccountHealthEvent): Promise<DomainEvent[]> {
  const result = await deps.store.providerRecords.health.record(input);
  if (!result.inserted) return [];
  const e = result.record;
  return [
    {
      type: 'account.health',
      workspaceId: e.workspaceId,
      at: e.at,
      data: healthEventView(e),
    },
  ];
}

function providerCodeOf(message: MessageRecord): string | null {
  const e = message.providerError;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return null;
  const code = e.code;
  return typeof code === 'number' || typeof code === 'string' ? String(code) : null;
}

function templateOf(message: MessageRecord): { name: string; language: string } | null {
  if (message.type !== 'template') return null;
  const c = message.content;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return null;
  const t = c.template;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return null;
  const language = t.language;
  const code =
    typeof language === 'object' && language !== null && !Array.isArray(language)
      ? language.code
      : undefined;
  return typeof t.name === 'string' && typeof code === 'string'
    ? { name: t.name, language: code }
    : null;
}

/**
 * A failed message whose reason concerns the account (190 on a send, 131031, 131042, 131048,
 * 132015, 132016 — synchronous or late) becomes a health event of its connection and number,
 * one per kind, number and quarter hour. A paused or disabled template is also marked so
 * locally, so later sends are refused before they reach WhatsApp (TPL-9).
 */
export async function recordFailureHealth(
  deps: AppDeps,
  messageId: string,
): Promise<DomainEvent[]> {
  const message = await deps.store.messages.get(messageId);
  if (message?.status !== 'failed' || message.reason === null) return [];
  const health = FAILURE_HEALTH[message.reason];
  if (!health) return [];
  const channel = await deps.store.channels.get(message.channelId);
  if (!channel) return [];
  const at = message.failedAt ?? deps.clock.now();
  const template = templateOf(message);
  const events: DomainEvent[] = [];
  if (template && (health.kind === 'template_paused' || health.kind === 'template_disabled')) {
    const local = await deps.store.templates.find(
      channel.workspaceId,
      template.name,
      template.language,
      channel.id,
    );
    const status = health.kind === 'template_paused' ? 'PAUSED' : 'DISABLED';
    if (local && local.status !== status && local.status !== 'DISABLED') {
      await deps.store.templates.upsert({ ...local, status, at });
      events.push({
        type: 'template.status',
        workspaceId: channel.workspaceId,
        at,
        data: {
          channelId: channel.id,
          templateId: local.id,
          name: local.name,
          language: local.language,
          status,
          source: `send failed with ${providerCodeOf(message) ?? message.reason}`,
        },
      });
    }
  }
  const subject = template ? ` (${template.name}, ${template.language})` : '';
  const code = providerCodeOf(message);
  events.push(
    ...(await record(deps, {
      workspaceId: channel.workspaceId,
      connectionId: channel.connectionId,
      channelId: channel.id,
      kind: health.kind,
      severity: health.severity,
      code,
      detail: `+${channel.phoneNumber}: ${health.detail}${subject}${code ? ` — code ${code}` : ''}${message.reasonDetail ? `: ${message.reasonDetail}` : ''}`,
      fix: health.fix,
      data: toJson({ messageId: message.id, reason: message.reason, error: message.providerError }),
      at,
      dedupeKey: `failure:${health.kind}:${channel.id}:${template ? `${template.name}:${template.language}:` : ''}${String(Math.floor(at / FAILURE_COALESCE_MS))}`,
    })),
  );
  return events;
}

type Value = Record<string, unknown>;
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

interface NoticeHealth {
  readonly kind: HealthKind;
  readonly severity: HealthSeverity;
  readonly code: string | null;
  readonly detail: string;
  readonly fix: string | null;
  /** A better number than the one the notice was routed to (quality notices name their number). */
  readonly displayPhoneNumber?: string;
}

const QUALITY_FIX =
  'Check WhatsApp Manager › Phone numbers › Insights: pause marketing to cold contacts, message only opted-in people, and review blocked or reported templates.';

/** What a provider notice means for the account, or null when it is not about health. */
export function noticeHealth(field: string, raw: unknown): NoticeHealth | null {
  const value: Value = typeof raw === 'object' && raw !== null ? (raw as Value) : {};
  const event = text(value.event);
  switch (field) {
    case 'phone_number_quality_update': {
      // FLAGGED: quality dropped and the limit will be lowered unless it recovers; DOWNGRADE: it was.
      const display = text(value.display_phone_number);
      const limit = text(value.current_limit) ?? text(value.max_daily_conversations_per_business);
      const bad = event === 'FLAGGED' || event === 'DOWNGRADE';
      return {
        kind: event === 'UPGRADE' || event === 'DOWNGRADE' ? 'messaging_limit' : 'phone_quality',
        severity: bad ? 'warning' : 'info',
        code: event ?? null,
        detail: `${display ? `+${display}` : 'the number'}: quality event ${event ?? 'unknown'}${limit ? `; messaging limit ${limit}` : ''}`,
        fix: bad ? QUALITY_FIX : null,
        ...(display ? { displayPhoneNumber: display } : {}),
      };
    }
    case 'account_update':
    case 'account_review_update':
    case 'account_alerts': {
      const what = event ?? text(value.decision) ?? text(value.alert_type) ?? 'update';
      const grave = /VIOLATION|BAN|DISABLE|RESTRICT|REJECT|LOCK/i.test(
        `${what} ${text(value.alert_severity) ?? ''}`,
      );
      return {
        kind: grave ? 'account_restricted' : 'account_update',
        severity: grave ? 'critical' : 'info',
        code: what,
        detail: `WhatsApp Business Account ${field.replace(/_/g, ' ')}: ${what}${text(value.ban_info) ? ` (${text(value.ban_info) ?? ''})` : ''}`,
        fix: grave
          ? 'Open WhatsApp Manager › Account quality to see the decision and request a review.'
          : null,
      };
    }
    case 'business_capability_update': {
      const limit = text(value.max_daily_conversations_per_business);
      return {
        kind: 'messaging_limit',
        severity: 'info',
        code: limit ?? null,
        detail: `messaging limit now ${limit ?? 'changed'}${text(value.max_phone_numbers_per_business) ? `; up to ${text(value.max_phone_numbers_per_business) ?? ''} numbers` : ''}`,
        fix: null,
      };
    }
    case 'message_template_quality_update': {
      const name = text(value.message_template_name) ?? '?';
      const language = text(value.message_template_language) ?? '?';
      const next = text(value.new_quality_score) ?? 'UNKNOWN';
      return {
        kind: 'template_quality',
        severity: next === 'RED' ? 'warning' : 'info',
        code: next,
        detail: `template ${name} (${language}) quality ${text(value.previous_quality_score) ?? '?'} → ${next}`,
        fix:
          next === 'RED'
            ? 'A RED template is paused if it stays low: reduce its sends and make it more relevant to who gets it.'
            : null,
      };
    }
    case 'message_template_status_update': {
      if (event !== 'PAUSED' && event !== 'DISABLED' && event !== 'FLAGGED') return null;
      const name = text(value.message_template_name) ?? '?';
      const language = text(value.message_template_language) ?? '?';
      const reason = text(value.reason);
      const health =
        event === 'DISABLED' ? FAILURE_HEALTH.template_disabled : FAILURE_HEALTH.template_paused;
      return {
        kind:
          event === 'PAUSED'
            ? 'template_paused'
            : event === 'DISABLED'
              ? 'template_disabled'
              : 'template_flagged',
        severity: event === 'DISABLED' ? 'critical' : 'warning',
        code: event,
        detail: `template ${name} (${language}) is ${event}${reason && reason !== 'NONE' ? `: ${reason}` : ''}`,
        fix:
          event === 'FLAGGED'
            ? 'The template is close to being paused: reduce its sends and review its content.'
            : (health?.fix ?? null),
      };
    }
    default:
      return null;
  }
}

/**
 * A provider notice about quality, limits, the account or a template pause becomes a health
 * event of the connection (and of the number it names, when Parley has a channel for it).
 * Re-deliveries of the same notice record nothing new.
 * @see https://developers.facebook.com/docs/graph-api/webhooks/reference/whatsapp-business-account
 */
export async function recordNoticeHealth(
  deps: AppDeps,
  channel: Channel,
  notice: OtherNotice,
): Promise<DomainEvent[]> {
  const health = noticeHealth(notice.field, notice.value);
  if (!health) return [];
  let channelId: string | null = channel.id;
  if (health.displayPhoneNumber !== undefined) {
    const digits = health.displayPhoneNumber.replace(/\D/g, '');
    const same = (await deps.store.channels.list(channel.workspaceId)).find(
      (c) => c.connectionId === channel.connectionId && c.phoneNumber === digits,
    );
    channelId = same?.id ?? channel.id;
  } else if (
    notice.field === 'account_update' ||
    notice.field === 'account_review_update' ||
    notice.field === 'account_alerts' ||
    notice.field === 'business_capability_update'
  ) {
    channelId = null; // about the whole account, not the number it happened to be routed to
  }
  const fingerprint = createHash('sha256')
    .update(`${notice.field}\u0000${String(notice.at)}\u0000${JSON.stringify(notice.value)}`)
    .digest('hex')
    .slice(0, 32);
  return record(deps, {
    workspaceId: channel.workspaceId,
    connectionId: channel.connectionId,
    channelId,
    kind: health.kind,
    severity: health.severity,
    code: health.code,
    detail: health.detail,
    fix: health.fix,
    data: toJson({ field: notice.field, value: notice.value }),
    at: notice.at,
    dedupeKey: `notice:${fingerprint}`,
  });
}

/**
 * Subscribes to `message.failed`: failures that concern the account become health events.
 * Work runs after the publisher returns; `idle()` resolves once everything started has finished.
 */
export function subscribeAccountHealth(deps: AppDeps): { idle(): Promise<void>; stop(): void } {
  const running = new Set<Promise<void>>();
  // Local only: the node where the failure was stored records it, once for all nodes.
  const unsubscribe = deps.events.subscribe(
    (event) => {
      // A withdrawn message never reached WhatsApp: nothing about the account's health in it.
      if (event.type !== 'message.failed' || event.data.withdrawn === true) return;
      const messageId = event.data.messageId;
      const reason = event.data.reason;
      if (typeof messageId !== 'string') return;
      if (typeof reason === 'string' && !(reason in FAILURE_HEALTH)) return;
      const work = recordFailureHealth(deps, messageId)
        .then((events) => {
          for (const e of events) deps.events.publish(e);
        })
        .catch((error: unknown) => {
          deps.log.error({ err: error, messageId }, 'recording account health failed');
        })
        .finally(() => running.delete(work));
      running.add(work);
    },
    { localOnly: true },
  );
  return {
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    stop: unsubscribe,
  };
}
