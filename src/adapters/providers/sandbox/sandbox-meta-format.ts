// Meta's wire formats as the sandbox produces them: error texts, error envelopes, webhook
// envelopes and the escaped JSON that Meta signs (PROVIDERS.md A.5, B.2, B.3, D).

/** What Meta says about one error code: title (also the `message`), details and HTTP status. */
export interface MetaErrorText {
  readonly title: string;
  readonly details: string;
  readonly httpStatus: number;
}

export const ERROR_HREF =
  'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

/**
 * The error codes the sandbox produces, with Meta's titles and details.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export const META_ERRORS: Readonly<Record<number, MetaErrorText>> = {
  2: {
    title: 'Service temporarily unavailable',
    details: 'Temporary due to downtime or due to being overloaded.',
    httpStatus: 503,
  },
  100: {
    title: 'Invalid parameter',
    details: 'The request included one or more unsupported or misspelled parameters.',
    httpStatus: 400,
  },
  190: {
    title: 'Access token has expired',
    details: 'Error validating access token: Session has expired.',
    httpStatus: 401,
  },
  130429: {
    title: 'Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
    httpStatus: 429,
  },
  131000: {
    title: 'Something went wrong',
    details: 'Message failed to send due to an unknown error.',
    httpStatus: 500,
  },
  131026: {
    title: 'Message undeliverable',
    details:
      'Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version.',
    httpStatus: 400,
  },
  131047: {
    title: 'Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    httpStatus: 400,
  },
  131049: {
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details:
      'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
    httpStatus: 400,
  },
  131050: {
    title:
      'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
    details:
      'The user has stopped marketing messages from your business; subscribe to the user_preferences webhook to learn when.',
    httpStatus: 400,
  },
  131051: {
    title: 'Unsupported message type',
    details: 'Message type is not currently supported.',
    httpStatus: 400,
  },
  131053: {
    title: 'Media upload error',
    details: 'Unable to upload the media used in the message.',
    httpStatus: 400,
  },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
    httpStatus: 429,
  },
  132000: {
    title: 'Number of parameters does not match the expected number of params',
    details: 'The number of parameters does not match the template.',
    httpStatus: 400,
  },
  132001: {
    title: 'Template name does not exist in the translation',
    details: 'The template does not exist in the specified language or has not been approved.',
    httpStatus: 404,
  },
  132012: {
    title: 'Parameter format does not match format in the created template',
    details: 'Variable parameter values formatted incorrectly.',
    httpStatus: 400,
  },
  132015: {
    title: 'Template is Paused',
    details: 'Template is paused due to low quality so it cannot be sent in a template message.',
    httpStatus: 400,
  },
  132016: {
    title: 'Template is Disabled',
    details:
      'Template has been paused too many times due to low quality and is now permanently disabled.',
    httpStatus: 400,
  },
};

export function metaErrorText(code: number): MetaErrorText {
  return (
    META_ERRORS[code] ?? { title: 'Unknown error', details: 'Unknown error.', httpStatus: 400 }
  );
}

/** The synchronous error envelope (A.5): `{"error":{"message":"(#code) title", …}}`. */
export function metaErrorEnvelope(
  code: number,
  details: string | undefined,
  fbtraceId: string,
): { error: Record<string, unknown> } {
  const text = metaErrorText(code);
  return {
    error: {
      // Meta prefixes the code to the title, except for token errors whose message is the detail
      message:
        code === 190
          ? `Error validating access token: Session has expired.`
          : `(#${code}) ${text.title}`,
      type: 'OAuthException',
      code,
      ...(code === 190 ? { error_subcode: 463 } : {}),
      error_data: { messaging_product: 'whatsapp', details: details ?? text.details },
      fbtrace_id: fbtraceId,
    },
  };
}

/** One entry of `statuses[].errors` or `messages[].errors` in a webhook (B.5). */
export function webhookError(code: number, details?: string): Record<string, unknown> {
  const text = metaErrorText(code);
  return {
    code,
    title: text.title,
    message: text.title,
    error_data: { details: details ?? text.details },
    href: ERROR_HREF,
  };
}

/**
 * Serialises JSON the way Meta's servers do: `/` goes out as `\/` (receivers that re-serialise
 * before checking the signature fail on it, as they would with Meta). `signMetaBody` then escapes
 * every non-ASCII code unit as `\uXXXX`, so the bytes signed and sent are plain ASCII.
 * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
export function encodeMetaJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('/', '\\/');
}

/** Meta timestamps are unix seconds as strings. */
export function unixSeconds(at: number): string {
  return String(Math.floor(at / 1000));
}

/** The `whatsapp_business_account` envelope around one change (B.3). */
export function webhookEnvelope(
  wabaId: string,
  field: string,
  value: Record<string, unknown>,
  time?: number,
): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        ...(time === undefined ? {} : { time: Math.floor(time / 1000) }),
        changes: [{ value, field }],
      },
    ],
  };
}
