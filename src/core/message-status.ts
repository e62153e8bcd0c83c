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

const RANK: Readonly<Record<MessageStatus, number>> = {
  pending: 0,
  accepted: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  played: 5,
  failed: -1,
  refused: -1,
};

/**
 * STA-1: the current status only moves forward; `failed` overrides only pending, `accepted` and `sent`.
 * A refused message (never handed to the provider) keeps its outcome.
 */
export function mergeStatus(current: MessageStatus, incoming: ProviderStatus): MessageStatus {
  if (current === 'refused') return current;
  if (incoming === 'failed')
    return RANK[current] <= RANK.sent && current !== 'failed' ? 'failed' : current;
  if (current === 'failed') return current;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** STA-1: Twilio's vocabulary folded into the Cloud API's. */
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
