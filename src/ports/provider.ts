// The provider port: how Parley talks to Meta Cloud API, 360dialog, generic Cloud-API
// providers, Twilio and the sandbox. Failures are values carrying a reason code, never throws.
import type { InboundEvent } from '../core/inbound.ts';
import type { OutboundContent } from '../core/messages.ts';
import type { ReasonCode } from '../core/reason-codes.ts';

export const PROVIDER_KINDS = ['sandbox', 'meta', '360dialog', 'cloud', 'twilio'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** What an adapter needs to know about the channel it sends from. */
export interface ChannelAddress {
  readonly channelId: string;
  /** Meta `phone_number_id`, Twilio sender (`whatsapp:+…`), sandbox number id. */
  readonly providerKey: string;
  /** The business number in E.164 digits. */
  readonly phoneNumber: string;
  readonly wabaId?: string;
}

export interface SendRequest {
  readonly channel: ChannelAddress;
  /** The recipient's wa_id (E.164 digits). */
  readonly to: string;
  readonly content: OutboundContent;
  /** Reply/quote: the provider id of the message being answered. */
  readonly replyTo?: string;
  /** Echoed back by the provider in status webhooks (Meta `biz_opaque_callback_data`). */
  readonly callbackData?: string;
}

export interface SendFailure {
  readonly reason: ReasonCode;
  /** The provider's own code, title and details, kept verbatim. */
  readonly providerCode?: string;
  readonly title?: string;
  readonly details?: string;
  readonly httpStatus?: number;
  /** From `Retry-After` or the provider's advice. */
  readonly retryAfterMs?: number;
  /** True when the request may have reached the provider (timeouts): the outcome is unknown. */
  readonly maybeSent?: boolean;
}

export type SendResult =
  | { readonly ok: true; readonly providerMessageId: string }
  | { readonly ok: false; readonly failure: SendFailure };

/** A webhook request exactly as received, for signature checks over the raw bytes. */
export interface RawWebhook {
  readonly method: string;
  /** The public URL the provider called (Twilio signs it). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly detail: string };

export interface ProviderTemplate {
  readonly providerTemplateId?: string;
  readonly name: string;
  readonly language: string;
  readonly category: string;
  readonly status: string;
  readonly components: unknown[];
  readonly parameterFormat?: string;
}

/** A template in the shape of Meta's creation request (`POST /{waba-id}/message_templates`). */
export interface ProviderTemplateDefinition {
  readonly name: string;
  readonly language: string;
  readonly category: string;
  readonly components: readonly unknown[];
  readonly parameter_format?: string;
  readonly [key: string]: unknown;
}

/** Inbound media bytes as a provider hands them over (provider media URLs expire: copy at once). */
export interface MediaDownload {
  readonly bytes: Buffer;
  readonly mimeType?: string;
  /** The digest the provider announced, as it announced it. */
  readonly sha256?: string;
  readonly fileSize?: number;
}

/** One finding of a connection health check, saying exactly what to fix. */
export interface ConnectionCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

/**
 * What a provider cannot carry on WhatsApp, each with the reason a user is shown. Absent means
 * supported; the app decides what to do instead (send without, or refuse).
 */
export interface ProviderLimitations {
  /** A quote-reply (`replyTo`) cannot be sent as a quote: the message goes without it. */
  readonly quoteReply?: string;
  /** A document's caption and filename cannot be sent: the document goes without them. */
  readonly documentCaption?: string;
}

/** One provider connection, ready to use (credentials already decrypted by the app). */
export interface Provider {
  readonly kind: ProviderKind;
  readonly limitations?: ProviderLimitations;
  send(request: SendRequest): Promise<SendResult>;
  /** Marks an inbound message read on WhatsApp (blue ticks). */
  markRead?(channel: ChannelAddress, providerMessageId: string): Promise<SendResult>;
  /** Checks the signature/secret of a webhook POST. */
  verifyWebhook(request: RawWebhook): VerifyResult;
  /** The Cloud API `hub.challenge` handshake: the challenge to echo, or null to refuse. */
  answerChallenge?(query: Readonly<Record<string, string | undefined>>): string | null;
  /** Normalises a verified webhook body; throws only on a body that is not the provider's format. */
  parseWebhook(request: RawWebhook): InboundEvent[];
  listTemplates?(channel: ChannelAddress): Promise<ProviderTemplate[]>;
  /** Submits a template for review (TPL-8); the provider's id and first status come back. */
  createTemplate?(
    channel: ChannelAddress,
    template: ProviderTemplateDefinition,
  ): Promise<{ id: string; status?: string; category?: string }>;
  /** Edits a submitted template (TPL-9); it goes back to review. */
  editTemplate?(
    channel: ChannelAddress,
    providerTemplateId: string,
    template: ProviderTemplateDefinition,
  ): Promise<{ status?: string; category?: string }>;
  /** Deletes a template: every language of the name, or only `hsmId` when given. */
  deleteTemplate?(channel: ChannelAddress, target: { name: string; hsmId?: string }): Promise<void>;
  /** Token, webhook subscription and number registration checks (for doctor and the API). */
  checkConnection?(channel?: ChannelAddress): Promise<ConnectionCheck[]>;
  /**
   * Inbound media bytes by the id an inbound message's content carries (`content.id`). Rejects
   * when the download fails; an error with `retryable: false` is not worth trying again.
   */
  downloadMedia?(mediaId: string): Promise<MediaDownload>;
  /** Registers Parley's webhook URL with the provider (360dialog: with the secret header). */
  registerWebhook?(url: string): Promise<void>;
}

/** Builds a Provider from a stored connection: its non-secret config and decrypted secrets. */
export type ProviderFactory = (connection: {
  readonly id: string;
  readonly kind: ProviderKind;
  readonly config: Readonly<Record<string, unknown>>;
  readonly secrets: Readonly<Record<string, string>>;
}) => Provider;
