// One vocabulary for every refusal and failure (WHATSAPP_RULES.md §7); provider codes map onto it.

export const REASON_CODES = [
  'window_closed',
  'not_opted_in',
  'opted_out',
  'marketing_user_cap',
  'template_not_approved',
  'template_paused',
  'template_disabled',
  'template_params',
  'throughput',
  'pair_rate',
  'spam_rate',
  'messaging_limit',
  'recipient_unreachable',
  'experiment',
  'account_restricted',
  'payment_required',
  'market_blocked',
  'auth',
  'invalid_request',
  'media',
  'provider_unavailable',
  'recipient_not_allowed',
  'channel_disabled',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** What the outbound worker does next with a message that failed for this reason. */
export const RETRY_CLASSES = [
  'never',
  'backoff',
  'pace_channel',
  'pace_pair',
  'defer',
  'once',
] as const;
export type RetryClass = (typeof RETRY_CLASSES)[number];

interface ReasonInfo {
  readonly retry: RetryClass;
  /** Plain words for the sender (API callers and agents). */
  readonly explanation: string;
}

export const REASONS: Readonly<Record<ReasonCode, ReasonInfo>> = {
  window_closed: {
    retry: 'never',
    explanation:
      'The 24-hour customer service window is closed: send an approved template to re-open the conversation.',
  },
  not_opted_in: {
    retry: 'never',
    explanation: 'The contact has not opted in to this kind of message.',
  },
  opted_out: { retry: 'never', explanation: 'The contact opted out of this kind of message.' },
  marketing_user_cap: {
    retry: 'never',
    explanation:
      'WhatsApp held this marketing message back because the user already received many; try again after 24 h.',
  },
  template_not_approved: {
    retry: 'never',
    explanation: 'The template does not exist in this language or is not approved.',
  },
  template_paused: { retry: 'never', explanation: 'The template is paused for low quality.' },
  template_disabled: {
    retry: 'never',
    explanation: 'The template was disabled after repeated pauses.',
  },
  template_params: {
    retry: 'never',
    explanation: 'The template parameters do not match its definition.',
  },
  throughput: {
    retry: 'pace_channel',
    explanation: 'The number is over its message throughput; the send is retried.',
  },
  pair_rate: {
    retry: 'pace_pair',
    explanation: 'Too many messages to this contact in a short time; retried later.',
  },
  spam_rate: {
    retry: 'never',
    explanation: 'WhatsApp limited this number for spam; campaigns of the number are paused.',
  },
  messaging_limit: {
    retry: 'defer',
    explanation: 'The messaging limit for new conversations in 24 h was reached.',
  },
  recipient_unreachable: {
    retry: 'never',
    explanation: 'The recipient cannot receive WhatsApp messages.',
  },
  experiment: {
    retry: 'never',
    explanation: 'The recipient is part of a WhatsApp marketing experiment; not billable.',
  },
  account_restricted: {
    retry: 'never',
    explanation: 'The WhatsApp Business account is restricted.',
  },
  payment_required: {
    retry: 'never',
    explanation: 'The WhatsApp Business account has a payment problem.',
  },
  market_blocked: {
    retry: 'never',
    explanation: 'Messages of this kind may not be sent to this country.',
  },
  auth: { retry: 'never', explanation: 'The provider rejected the connection credentials.' },
  invalid_request: { retry: 'never', explanation: 'The provider rejected the request as invalid.' },
  media: { retry: 'once', explanation: 'The media could not be uploaded or downloaded.' },
  provider_unavailable: {
    retry: 'backoff',
    explanation: 'The provider is unavailable; the send is retried with backoff.',
  },
  recipient_not_allowed: {
    retry: 'never',
    explanation: 'The channel is not in production and the recipient is not on its allow-list.',
  },
  channel_disabled: { retry: 'never', explanation: 'The channel is disabled.' },
};

export function isRetryable(reason: ReasonCode): boolean {
  return REASONS[reason].retry !== 'never';
}

/** Meta Cloud API error codes (§7 Meta column). */
const META_CODES: ReadonlyArray<readonly [ReasonCode, readonly number[]]> = [
  ['window_closed', [131047]],
  ['opted_out', [131050]],
  ['marketing_user_cap', [131049]],
  ['template_not_approved', [132001]],
  ['template_paused', [132015]],
  ['template_disabled', [132016]],
  ['template_params', [132000, 132012, 132005]],
  ['throughput', [130429, 4, 80007]],
  ['pair_rate', [131056]],
  ['spam_rate', [131048]],
  ['messaging_limit', [131064]],
  ['recipient_unreachable', [131026]],
  ['experiment', [130472]],
  ['account_restricted', [131031, 368]],
  ['payment_required', [131042]],
  ['market_blocked', [130497]],
  ['auth', [190, 0, 10]],
  ['invalid_request', [100, 131051]],
  ['media', [131052, 131053]],
  ['provider_unavailable', [131000, 131016, 131057, 2]],
];
const META_INDEX = new Map<number, ReasonCode>(
  META_CODES.flatMap(([reason, codes]) => codes.map((c) => [c, reason] as const)),
);

/** Legacy On-Premises API codes (§7 last column). */
const ON_PREM_INDEX = new Map<number, ReasonCode>([
  [470, 'window_closed'],
  [2001, 'template_not_approved'],
  [2000, 'template_params'],
  [429, 'throughput'],
  [471, 'spam_rate'],
  [1015, 'messaging_limit'],
  [1013, 'recipient_unreachable'],
  [472, 'experiment'],
  [500, 'provider_unavailable'],
]);

/**
 * Maps a Meta Cloud API error code to Parley's reason.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function reasonForMetaCode(code: number): ReasonCode {
  return META_INDEX.get(code) ?? ON_PREM_INDEX.get(code) ?? 'invalid_request';
}

/**
 * Maps a Twilio error code; 63018 means the messaging limit only when its message says so.
 * @see https://www.twilio.com/docs/api/errors
 */
export function reasonForTwilioCode(code: number, message = ''): ReasonCode {
  switch (code) {
    case 63016:
      return 'window_closed';
    case 21610:
      return 'opted_out';
    case 63027:
      return 'template_not_approved';
    case 63028:
      return 'template_params';
    case 63018:
      return /messaging limit/i.test(message) ? 'messaging_limit' : 'throughput';
    case 63003:
      return 'recipient_unreachable';
    case 63032:
      return 'experiment';
    case 20003:
      return 'auth';
    case 21211:
      return 'invalid_request';
    case 63019:
      return 'media';
    default:
      return 'invalid_request';
  }
}

/** Transport-level failures: HTTP 5xx and timeouts (408 included) are retried; 429 paces the channel. */
export function reasonForHttpStatus(status: number): ReasonCode {
  if (status === 429) return 'throughput';
  if (status === 408) return 'provider_unavailable';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'provider_unavailable';
  return 'invalid_request';
}

/**
 * Meta codes for the reasons Meta has no code of its own for (Parley-side refusals), chosen as
 * the Meta error a Cloud API client already handles the same way.
 */
const META_CODE_FOR_PARLEY_REASON: Readonly<Partial<Record<ReasonCode, number>>> = {
  // Meta's "Recipient phone number not in allowed list" (test numbers).
  recipient_not_allowed: 131030,
  // No consent on record is, to the sender, the same as a user who stopped marketing messages.
  not_opted_in: 131050,
  // A disabled channel cannot send, like a number that is not registered.
  channel_disabled: 133010,
};

/**
 * The Meta Cloud API error code a Parley reason answers with on the Cloud-API-compatible
 * endpoint: the first Meta code that maps onto the reason.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export function metaCodeForReason(reason: ReasonCode): number {
  const own = META_CODE_FOR_PARLEY_REASON[reason];
  if (own !== undefined) return own;
  const entry = META_CODES.find(([r]) => r === reason);
  return entry?.[1][0] ?? 100;
}
