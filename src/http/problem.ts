// The one place where errors become HTTP answers: RFC 9457 problem+json with a stable `code`
// (and Meta's error envelope on the Cloud-API-compatible `/graph` routes).
// Bad input is always a precise 4xx; a 500 means a bug, and its details stay in the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { randomBytes } from 'node:crypto';
import { REASON_CODES, metaCodeForReason, type ReasonCode } from '../core/reason-codes.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extension: string]: unknown;
}

/** Stable codes and their HTTP status. Refusal reasons (§7) answer 422. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  invalid_request: 400,
  validation_failed: 400,
  malformed_json: 400,
  malformed_webhook: 400,
  unauthenticated: 401,
  bad_signature: 401,
  forbidden: 403,
  csrf_failed: 403,
  invalid_credentials: 401,
  too_many_attempts: 429,
  invalid_token: 400,
  verify_token_mismatch: 403,
  not_found: 404,
  unknown_connection: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  conflict: 409,
  template_invalid: 400,
  template_not_editable: 409,
  automation_invalid: 400,
  not_supported: 501,
  provider_error: 502,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  not_ready: 503,
  media_pending: 409,
  media_unavailable: 410,
  webhook_registration_unsupported: 409,
  provider_request_failed: 502,
  invalid_rate_card: 400,
  replay_too_large: 422,
  internal: 500,
};

const TITLES: Readonly<Record<string, string>> = {
  invalid_request: 'Invalid request',
  validation_failed: 'Request validation failed',
  malformed_json: 'Malformed JSON',
  malformed_webhook: 'Malformed webhook body',
  unauthenticated: 'Authentication required',
  bad_signature: 'Webhook signature rejected',
  forbidden: 'Forbidden',
  csrf_failed: 'CSRF token missing or wrong',
  invalid_credentials: 'Invalid credentials',
  too_many_attempts: 'Too many attempts',
  invalid_token: 'Invalid or expired link',
  verify_token_mismatch: 'Verify token mismatch',
  not_found: 'Not found',
  unknown_connection: 'Unknown connection',
  idempotency_conflict: 'Idempotency key reused with a different request',
  conflict: 'Conflict',
  template_invalid: 'Template definition breaks the template rules',
  template_not_editable: 'Template cannot be edited now',
  automation_invalid: 'Automation definition is not valid',
  not_supported: 'Not supported by this provider',
  provider_error: 'The provider refused the request',
  payload_too_large: 'Payload too large',
  uri_too_long: 'URI too long',
  unsupported_media_type: 'Unsupported media type',
  not_ready: 'Not ready',
  media_pending: 'Media not downloaded yet',
  media_unavailable: 'Media unavailable',
  webhook_registration_unsupported: 'Webhook registration is not done by API for this provider',
  provider_request_failed: 'The provider refused or failed the request',
  invalid_rate_card: 'Invalid rate card',
  replay_too_large: 'Too many events to replay at once',
  internal: 'Internal error',
};

export class ApiProblem extends Error {
  readonly code: string;
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.code = code;
    this.status = STATUS_BY_CODE[code] ?? 422;
    this.extensions = extensions;
  }
}

export function problem(
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  const status = STATUS_BY_CODE[code] ?? 422;
  return {
    type: `https://parley.dev/problems/${code}`,
    title: TITLES[code] ?? refusalTitle(code),
    status,
    code,
    detail,
    ...extensions,
  };
}

function refusalTitle(code: string): string {
  return `Refused: ${code.replace(/_/g, ' ')}`;
}

/** A policy refusal (a stored outcome) as a problem that points at the stored message. */
export function refusalProblem(
  reason: ReasonCode,
  detail: string,
  extensions: Record<string, unknown>,
): Problem {
  return problem(reason, detail, extensions);
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type('application/problem+json').send(p);
}

/** Installs the error and not-found handlers on the root instance. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    sendProblem(
      reply,
      problem('not_found', `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`),
    );
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiProblem) {
      const retryAfter = error.extensions.retryAfterSeconds;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return sendProblem(reply, problem(error.code, error.message, error.extensions));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const validation = error.validation as ReadonlyArray<{
        instancePath: string;
        message?: string;
      }>;
      const issues = validation.map((v) => {
        // "/text/body" → "body.text.body"; the root itself ("" or "/") is just "body".
        const path = v.instancePath.split('/').filter(Boolean).join('.');
        const context = error.validationContext ?? 'body';
        return { where: path ? `${context}.${path}` : context, message: v.message ?? 'invalid' };
      });
      const detail = issues.map((i) => `${i.where}: ${i.message}`).join('; ');
      return sendProblem(reply, problem('validation_failed', detail, { issues }));
    }
    // The store's InvalidCursorError (a cursor it did not hand out) is the caller's mistake, not
    // a fault. Matched by name because http/ must not import adapters.
    if (error.name === 'InvalidCursorError')
      return sendProblem(
        reply,
        problem(
          'invalid_request',
          'cursor is not a valid page cursor: pass the nextCursor of a previous page unchanged',
        ),
      );
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(
          reply,
          problem(
            'payload_too_large',
            `The body is larger than the ${request.routeOptions.bodyLimit ?? 'configured'} bytes this endpoint accepts`,
          ),
        );
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          reply,
          problem(
            'unsupported_media_type',
            `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here; send application/json`,
          ),
        );
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(
          reply,
          problem('malformed_json', 'The body is empty but Content-Type says application/json'),
        );
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(reply, problem('malformed_json', error.message));
    }
    if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message)))
      return sendProblem(reply, problem('malformed_json', error.message));
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return sendProblem(
        reply,
        problem(
          error.statusCode === 404
            ? 'not_found'
            : error.statusCode === 413
              ? 'payload_too_large'
              : 'invalid_request',
          error.message,
        ),
      );
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      problem('internal', 'An unexpected error occurred; it has been logged.'),
    );
  });
}

/**
 * Errors the router raises before any route runs (Fastify's `frameworkErrors` option): a URL
 * with broken percent-encoding, or a path parameter longer than the router accepts. Without this
 * they would be answered as plain JSON instead of problem+json.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return sendProblem(
      reply,
      problem('uri_too_long', 'A path segment is longer than any id Parley hands out'),
    );
  if (error.code === 'FST_ERR_BAD_URL')
    return sendProblem(
      reply,
      problem('invalid_request', 'The URL is not valid (broken percent-encoding)'),
    );
  request.log.error({ err: error }, 'router error');
  return sendProblem(
    reply,
    problem('internal', 'An unexpected error occurred; it has been logged.'),
  );
}

// ---------------------------------------------------------------------------------------------
// The Cloud-API-compatible endpoint (`/graph/...`) answers in Meta's error envelope instead.

/** Meta's titles for the codes Parley answers with; `message` is "(#code) title". */
const META_TITLES: Readonly<Record<number, string>> = {
  1: 'An unknown error occurred',
  4: 'Application request limit reached',
  10: 'Permission denied',
  100: 'Invalid parameter',
  190: 'Invalid OAuth access token - Cannot parse access token',
  368: 'Temporarily blocked for policies violations',
  130429: 'Rate limit hit',
  130472: "User's number is part of an experiment",
  130497: 'Business account is restricted from messaging users in this country',
  131000: 'Something went wrong',
  131016: 'Service unavailable',
  131026: 'Message undeliverable',
  131030: 'Recipient phone number not in allowed list',
  131031: 'Business Account locked',
  131042: 'Business eligibility payment issue',
  131047: 'Re-engagement message',
  131048: 'Spam rate limit hit',
  131049: 'This message was not delivered to maintain healthy ecosystem engagement.',
  131050:
    'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
  131051: 'Unsupported message type',
  131053: 'Media upload error',
  131056: '(Business Account, Consumer Account) pair rate limit hit',
  131064: 'Messaging limit reached',
  132000: 'Number of parameters does not match the expected number of params',
  132001: 'Template name does not exist in the translation',
  132015: 'Template is Paused',
  132016: 'Template is Disabled',
  133010: 'Phone number Not Registered',
};

/**
 * HTTP statuses Meta answers these codes with (PROVIDERS.md §D error table); everything else is
 * 400, as on the Graph API. Meta says to key handling on `code`, not the status.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
const META_STATUS: Readonly<Record<number, number>> = {
  1: 500,
  190: 401,
  10: 403,
  368: 403,
  131031: 403,
  130497: 403,
  4: 429,
  80007: 429,
  130429: 429,
  131048: 429,
  131056: 429,
  131000: 500,
  131016: 503,
};

/** A failure on the Cloud-API-compatible endpoint, answered in Meta's error envelope. */
export class GraphApiError extends Error {
  readonly metaCode: number;
  readonly subcode: number | undefined;
  /** Parley's own code for the same failure (a reason code or a problem code). */
  readonly parleyCode: string;
  readonly extras: Record<string, unknown>;
  constructor(
    metaCode: number,
    details: string,
    options: { subcode?: number; parleyCode?: string; extras?: Record<string, unknown> } = {},
  ) {
    super(details);
    this.metaCode = metaCode;
    this.subcode = options.subcode;
    this.parleyCode = options.parleyCode ?? 'invalid_request';
    this.extras = options.extras ?? {};
  }
}

export interface MetaErrorBody {
  error: {
    message: string;
    type: 'OAuthException';
    code: number;
    error_subcode?: number;
    error_data: { messaging_product: 'whatsapp'; details: string };
    fbtrace_id: string;
    /** Parley's own view of the failure; Cloud API clients ignore it. */
    parley: Record<string, unknown>;
  };
}

export function metaErrorStatus(code: number): number {
  return META_STATUS[code] ?? 400;
}

/** Meta's envelope: `{error:{message,type,code,error_subcode?,error_data,fbtrace_id}}`. */
export function metaErrorBody(error: GraphApiError): MetaErrorBody {
  return {
    error: {
      message: `(#${String(error.metaCode)}) ${META_TITLES[error.metaCode] ?? 'Invalid parameter'}`,
      type: 'OAuthException',
      code: error.metaCode,
      ...(error.subcode !== undefined ? { error_subcode: error.subcode } : {}),
      error_data: { messaging_product: 'whatsapp', details: error.message },
      fbtrace_id: randomBytes(12).toString('base64url'),
      parley: { code: error.parleyCode, ...error.extras },
    },
  };
}

export function sendMetaError(reply: FastifyReply, error: GraphApiError): FastifyReply {
  return reply
    .status(metaErrorStatus(error.metaCode))
    .type('application/json; charset=utf-8')
    .send(metaErrorBody(error));
}

/** Parley problem codes as Meta codes (the HTTP-level failures every route shares). */
const META_CODE_BY_PROBLEM: Readonly<Record<string, { code: number; subcode?: number }>> = {
  unauthenticated: { code: 190 },
  forbidden: { code: 10 },
  // Graph's "Unsupported get/post request. Object with ID … does not exist".
  not_found: { code: 100, subcode: 33 },
  internal: { code: 1 },
};

const isReasonCode = (value: unknown): value is ReasonCode =>
  typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);

/** Any error on a `/graph` route as a GraphApiError (problems, validation, body parsing). */
export function toGraphApiError(error: unknown): GraphApiError | null {
  if (error instanceof GraphApiError) return error;
  if (error instanceof ApiProblem) {
    // A provider's refusal (template submission …) keeps the Meta code of its reason.
    const providerReason = error.extensions.providerReason;
    const mapped =
      error.code === 'provider_error' && isReasonCode(providerReason)
        ? { code: metaCodeForReason(providerReason) }
        : (META_CODE_BY_PROBLEM[error.code] ?? { code: 100 });
    return new GraphApiError(mapped.code, error.message, {
      ...(mapped.subcode !== undefined ? { subcode: mapped.subcode } : {}),
      parleyCode: error.code,
      extras: error.extensions,
    });
  }
  const e = error as Partial<FastifyError> | null;
  if (e === null || typeof e !== 'object') return null;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GraphApiError(100, 'The request body is larger than this endpoint accepts', {
        parleyCode: 'payload_too_large',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GraphApiError(100, 'Unsupported Content-Type: send application/json', {
        parleyCode: 'unsupported_media_type',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GraphApiError(100, `The request body is not valid JSON: ${e.message ?? ''}`, {
        parleyCode: 'malformed_json',
      });
  }
  if (error instanceof SyntaxError)
    return new GraphApiError(100, `The request body is not valid JSON: ${error.message}`, {
      parleyCode: 'malformed_json',
    });
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return new GraphApiError(100, e.message ?? 'Invalid request');
  return null;
}

/** Error and not-found handlers for the `/graph` plugin: Meta's envelope, never problem+json. */
export function installGraphErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    sendMetaError(
      reply,
      new GraphApiError(100, `Unsupported ${request.method.toLowerCase()} request: ${path}`, {
        subcode: 33,
        parleyCode: 'not_found',
      }),
    );
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toGraphApiError(error);
    if (mapped) return sendMetaError(reply, mapped);
    request.log.error({ err: error }, 'unhandled error');
    return sendMetaError(
      reply,
      new GraphApiError(1, 'An unexpected error occurred; it has been logged.', {
        parleyCode: 'internal',
      }),
    );
  });
}
