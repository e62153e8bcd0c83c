// Graph API answers the emulator gives outside the message catalogue: auth, unknown objects and
// paths, malformed requests — each in Meta's error envelope with its HTTP status.
import { randomBytes } from 'node:crypto';
import { metaErrorEnvelope } from '../sandbox-meta-format.ts';

export interface GraphReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A fresh `fbtrace_id` (Meta's are 23-ish characters of base64url). */
export function fbtraceId(): string {
  return `A${randomBytes(16).toString('base64url').slice(0, 22)}`;
}

/**
 * An error envelope with an explicit message (for codes outside the send catalogue).
 * @see https://developers.facebook.com/docs/graph-api/guides/error-handling
 */
export function graphError(
  status: number,
  code: number,
  message: string,
  extra: { readonly subcode?: number; readonly details?: string; readonly type?: string } = {},
): GraphReply {
  return {
    status,
    body: {
      error: {
        message,
        type: extra.type ?? 'OAuthException',
        code,
        ...(extra.subcode === undefined ? {} : { error_subcode: extra.subcode }),
        ...(extra.details === undefined
          ? {}
          : { error_data: { messaging_product: 'whatsapp', details: extra.details } }),
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/** Error 100 (invalid parameter) with Meta's catalogue text and our precise details. */
export function invalidParameter(details: string, subcode?: number): GraphReply {
  const envelope = metaErrorEnvelope(100, details, fbtraceId());
  if (subcode !== undefined) envelope.error.error_subcode = subcode;
  return { status: 400, body: envelope };
}

/** What Graph answers for an id it does not know (or may not show to this token). */
export function unknownObject(method: string, id: string): GraphReply {
  return graphError(
    400,
    100,
    `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    { subcode: 33, type: 'GraphMethodException' },
  );
}

/** What Graph answers for a path it has no route for. */
export function unknownPath(path: string): GraphReply {
  return graphError(400, 2500, `Unknown path components: ${path}`);
}

/** A missing or unparseable `Authorization: Bearer` header. */
export function missingToken(): GraphReply {
  return graphError(
    400,
    2500,
    'An active access token must be used to query information about the current user.',
  );
}

/** A token other than the configured one. */
export function invalidToken(): GraphReply {
  return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
}
