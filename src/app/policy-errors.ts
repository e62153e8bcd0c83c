// Typed failures of the template, consent and notification use cases; the HTTP layer maps each
// code to its problem (src/http/problem.ts), the CLI prints the message.

export const POLICY_ERROR_CODES = [
  'invalid_request',
  'not_found',
  'conflict',
  'idempotency_conflict',
  'template_invalid',
  'template_not_editable',
  'not_supported',
  'provider_error',
  'automation_invalid',
] as const;
export type PolicyErrorCode = (typeof POLICY_ERROR_CODES)[number];

export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    /** Extra members for the problem document (e.g. lint findings, bad CSV lines). */
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}
