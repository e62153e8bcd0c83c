// Structured JSON logs with pino; tokens, keys and auth headers are redacted wherever they appear.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'headers["d360-api-key"]',
  'headers["x-twilio-signature"]',
  '*.accessToken',
  '*.token',
  '*.apiKey',
  '*.authToken',
  '*.appSecret',
  '*.secrets',
  '*.secretKey',
  '*.password',
];

export function createPinoLogger(level: string, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'parley' } },
    destination as DestinationStream | undefined,
  );
}
