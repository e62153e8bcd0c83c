// The one place where errors become HTTP answers: RFC 9457 problem+json with a stable `code`.
// Bad input is always a precise 4xx; a 500 means a bug, and its details stay in the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ReasonCode } from '../core/reason-codes.ts';

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
  verify_token_mismatch: 403,
  not_found: 404,
  unknown_connection: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  conflict: 409,
  template_invalid: 400,
  template_not_editable: 409,
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
  verify_token_mismatch: 'Verify token mismatch',
  not_found: 'Not found',
  unknown_connection: 'Unknown connection',
  idempotency_conflict: 'Idempotency key reused with a different request',
  conflict: 'Conflict',
  template_invalid: 'Template definition breaks the template rules',
  template_not_editable: 'Template cannot be edited now',
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
    if (error instanceof ApiProblem)
      return sendProblem(reply, problem(error.code, error.message, error.extensions));
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
