// What every provider's webhook becomes once normalised: one vocabulary for Meta, 360dialog,
// generic Cloud-API providers, Twilio and the sandbox. Unknown fields stay in `raw`.
import type { ProviderStatus } from './message-status.ts';
import type { ReasonCode } from './reason-codes.ts';

/** Inbound message types (Cloud API vocabulary); `call` counts as user activity (CSW-1). */
export const INBOUND_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'button',
  'interactive',
  'reaction',
  'order',
  'system',
  'unsupported',
  'call',
] as const;
export type InboundType = (typeof INBOUND_TYPES)[number] | (string & {});

export interface Referral {
  source_url?: string;
  source_id?: string;
  source_type?: string;
  headline?: string;
  body?: string;
  media_type?: string;
  image_url?: string;
  video_url?: string;
  thumbnail_url?: string;
  ctwa_clid?: string;
  [k: string]: unknown;
}

export interface ProviderError {
  code: number | string;
  title?: string;
  message?: string;
  details?: string;
  href?: string;
}

export interface InboundMessage {
  readonly kind: 'message';
  /** The provider's id for the business number (Meta `phone_number_id`, Twilio `To`). */
  readonly channelKey: string;
  readonly providerMessageId: string;
  /** The user's wa_id (digits of the E.164 number). */
  readonly from: string;
  readonly profileName?: string;
  /** 2026 business-scoped user id; stored, never required. */
  readonly userId?: string;
  readonly at: number;
  readonly type: InboundType;
  /** The type's own object, in the Cloud API shape (e.g. `{ body }` for text). */
  readonly content: unknown;
  readonly context?: {
    id?: string;
    from?: string;
    forwarded?: boolean;
    frequently_forwarded?: boolean;
  };
  readonly referral?: Referral;
  readonly errors?: ProviderError[];
}

export interface StatusUpdate {
  readonly kind: 'status';
  readonly channelKey: string;
  readonly providerMessageId: string;
  readonly status: ProviderStatus;
  readonly at: number;
  readonly recipient?: string;
  readonly errors?: ProviderError[];
  /** For `failed`: the provider's first error mapped by the adapter to Parley's vocabulary (§7). */
  readonly reason?: ReasonCode;
  readonly pricing?: Record<string, unknown>;
  readonly conversation?: Record<string, unknown>;
  readonly callbackData?: string;
}

/** Anything else a provider reports (template status, preferences, account health …), kept whole. */
export interface OtherNotice {
  readonly kind: 'notice';
  readonly channelKey?: string;
  /** The provider's field name, e.g. `message_template_status_update`, `user_preferences`. */
  readonly field: string;
  readonly at: number;
  readonly value: unknown;
}

export type InboundEvent = InboundMessage | StatusUpdate | OtherNotice;
