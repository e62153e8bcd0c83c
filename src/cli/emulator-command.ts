// `parley emulator [--port 8090] [--webhook-url URL] [--app-secret S] [--verify-token T]`: a
// standalone WhatsApp Cloud API emulator on a port, for development, tests and benchmarks.
import { InvalidArgumentError, type Command } from 'commander';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../app/container.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number of ms');
  return n;
}

function url(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('an http(s) URL');
}

interface EmulatorFlags {
  port: number;
  host: string;
  webhookUrl?: string;
  appSecret?: string;
  verifyToken?: string;
  token?: string;
  templateReviewMs?: number;
  throughput: boolean;
  pairRate: boolean;
  lateTemplateErrors?: boolean;
  batchWebhooks?: number;
}

/** The banner printed at start: where it listens and the secrets a client needs. */
export function emulatorBanner(emulator: RunningEmulator): string {
  const n = emulator.numbers[0];
  return [
    ``,
    `  Parley WhatsApp Cloud API emulator on ${emulator.url}`,
    `  Cloud API base:   ${emulator.url}/v23.0  (any vNN.N works)`,
    `  Access token:     ${emulator.accessToken ?? '(any Bearer token is accepted)'}`,
    `  App secret:       ${emulator.appSecret}`,
    `  Verify token:     ${emulator.verifyToken ?? '(none)'}`,
    `  Webhooks to:      ${emulator.webhooks.url ?? '(none: see GET /control/webhooks)'}`,
    ...(n
      ? [`  Phone number id:  ${n.phoneNumberId} (+${n.displayPhoneNumber}), WABA ${n.wabaId}`]
      : []),
    `  Control API:      ${emulator.url}/control  (docs/emulator.md)`,
    ``,
  ].join('\n');
}

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'run a standalone WhatsApp Cloud API emulator (messages, media, templates, webhooks)',
    )
    .option('--port <port>', 'port to listen on (0: any free port)', port, 8090)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--webhook-url <url>', 'where to send Meta-format webhooks', url)
    .option('--app-secret <secret>', 'app secret that signs webhooks (default: random)')
    .option('--verify-token <token>', 'hub.verify_token for the receiver handshake')
    .option('--token <token>', 'the only access token accepted (default: any)')
    .option('--template-review-ms <ms>', 'time a new template stays PENDING', milliseconds)
    .option(
      '--batch-webhooks <ms>',
      'gather webhooks for up to this long and send them together (up to 100 entries a POST)',
      milliseconds,
    )
    .option('--late-template-errors', 'report template refusals as failed statuses, not answers')
    .option('--no-throughput', 'do not enforce the 80 msg/s throughput per number (130429)')
    .option('--no-pair-rate', 'do not enforce the per-user pair rate (131056)')
    .action(async (flags: EmulatorFlags) => {
      const options: EmulatorOptions = {
        port: flags.port,
        host: flags.host,
        enforceThroughput: flags.throughput,
        enforcePairRate: flags.pairRate,
        templateErrors: flags.lateTemplateErrors ? 'late' : 'sync',
        ...(flags.batchWebhooks === undefined
          ? {}
          : { batchWebhooks: { maxEntries: 100, windowMs: flags.batchWebhooks } }),
        ...(flags.webhookUrl === undefined ? {} : { webhookUrl: flags.webhookUrl }),
        ...(flags.appSecret === undefined ? {} : { appSecret: flags.appSecret }),
        ...(flags.verifyToken === undefined ? {} : { verifyToken: flags.verifyToken }),
        ...(flags.token === undefined ? {} : { accessToken: flags.token }),
        ...(flags.templateReviewMs === undefined
          ? {}
          : { templateReviewMs: flags.templateReviewMs }),
      };
      const emulator = await startEmulator(options);
      console.log(emulatorBanner(emulator));
      const stop = () => {
        emulator.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
