// Message status ordering and merge (WHATSAPP_RULES.md §8, STA-1..2).

export const MESSAGE_STATUSES = [
  'pending',
  'accepted',
  'sent',
  'delivered',
  'read',
  'played',
  'failed',
  'refused',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses a provider reports about a message (everything but Parley's own pending/refused). */
export const PROVIDER_STATUSES = [
  'accepted',
  'sent',
  'delivered',
  'read',
  'played',
  'failed',
] as const;
export type ProviderStatus = (typeof PROVIDER_STATUSES)[number];

// `failed` ranks between `sent` and `delivered`: it overrides accepted and sent, while a
// `delivered`, `read` or `played` report wins over it whichever of the two arrives first.
const RANK: Readonly<Record<MessageStatus, number>> = {
  pending: 0,
  accepted: 1,
  sent: 2,
  failed: 3,
  delivered: 4,
  read: 5,
  played: 6,
  refused: -1,
};

/**
 * STA-1: the current status only moves forward; `failed` overrides only pending, `accepted` and
 * `sent`. Webhooks arrive duplicated and out of order, so the result of merging a set of events
 * never depends on their arrival order, and merging one twice changes nothing (STA-2).
 * A refused message (never handed to the provider) keeps its outcome.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components#statuses-object
 */
export function mergeStatus(current: MessageStatus, incoming: ProviderStatus): MessageStatus {
  if (current === 'refused') return current;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/**
 * STA-1: Twilio's vocabulary folded into the Cloud API's.
 * @see https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
 */
export function normaliseTwilioStatus(value: string): ProviderStatus | undefined {
  switch (value) {
    case 'queued':
    case 'sending':
    case 'scheduled':
    case 'accepted':
      return 'accepted';
    case 'sent':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'read':
      return 'read';
    case 'failed':
    case 'undelivered':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}

/** STA-1: the delivery instant is the `delivered` time, else the earliest `read`/`played` time. */
export function deliveryInstant(
  events: ReadonlyArray<{ status: string; at: number }>,
): number | null {
  let delivered: number | null = null;
  let later: number | null = null;
  for (const e of events) {
    if (e.status === 'delivered') delivered = delivered === null ? e.at : Math.min(delivered, e.at);
    else if (e.status === 'read' || e.status === 'played')
      later = later === null ? e.at : Math.min(later, e.at);
  }
  return delivered ?? later;
}
