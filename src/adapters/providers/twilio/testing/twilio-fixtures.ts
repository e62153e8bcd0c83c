// Twilio's shared fixtures (`<repo>/../shared/fixtures/twilio/`, absent on a fresh clone) for tests.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TWILIO_FIXTURES_DIR = fileURLToPath(
  new URL('../../../../../../shared/fixtures/twilio/', import.meta.url),
);

/** Pass as the `skip` option of a test that reads the shared fixtures. */
export const NEEDS_TWILIO_FIXTURES: string | false = existsSync(TWILIO_FIXTURES_DIR)
  ? false
  : 'needs ../shared/fixtures (absent on a fresh clone)';

/** A fixture's form parameters (`params`), as Twilio posts them. */
export function twilioFixtureParams(name: string): Record<string, string> {
  if (NEEDS_TWILIO_FIXTURES) return {};
  const doc = JSON.parse(readFileSync(`${TWILIO_FIXTURES_DIR}${name}`, 'utf8')) as {
    params: Record<string, string>;
  };
  return doc.params;
}

/** Twilio's documented signature example. */
export interface TwilioSignatureVector {
  readonly auth_token: string;
  readonly url: string;
  readonly params: Record<string, string>;
  readonly string_to_sign: string;
  readonly x_twilio_signature: string;
}

export function twilioSignatureVector(): TwilioSignatureVector | null {
  if (NEEDS_TWILIO_FIXTURES) return null;
  return JSON.parse(
    readFileSync(`${TWILIO_FIXTURES_DIR}twilio_docs__signature_vector.json`, 'utf8'),
  ) as TwilioSignatureVector;
}
