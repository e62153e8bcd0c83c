// Test kit for the sandbox's own tests: a world on a manual clock that records every webhook.
import type { InboundEvent, StatusUpdate } from '../../../../core/inbound.ts';
import type { OutboundContent } from '../../../../core/messages.ts';
import type { ChannelAddress, Provider, SendResult } from '../../../../ports/provider.ts';
import { ManualClock } from '../../../../../test/helpers/manual-clock.ts';
import { parseMetaWebhook } from '../../meta-cloud/meta-webhook-parse.ts';
import { createSandboxProvider } from '../sandbox-provider.ts';
import {
  DEMO_NUMBER,
  SandboxWorld,
  type SandboxWebhook,
  type SandboxWorldOptions,
} from '../sandbox-world.ts';

export const APP_SECRET = 'sandbox_test_app_secret';

export const CHANNEL: ChannelAddress = {
  channelId: 'ch_demo',
  providerKey: DEMO_NUMBER.phoneNumberId,
  phoneNumber: DEMO_NUMBER.displayPhoneNumber,
  wabaId: DEMO_NUMBER.wabaId ?? '',
};

/** A small seeded generator (mulberry32), so jitter and chaos repeat run after run. */
export function seededRandom(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Delivered {
  readonly webhook: SandboxWebhook;
  /** World time of the delivery. */
  readonly at: number;
}

export function sandboxKit(
  options: Partial<Omit<SandboxWorldOptions, 'clock' | 'schedule' | 'deliver'>> & {
    readonly start?: string | number;
    readonly timeoutMs?: number;
  } = {},
) {
  const { start, timeoutMs, ...worldOptions } = options;
  const clock = new ManualClock(start ?? '2026-01-15T10:00:00Z');
  const delivered: Delivered[] = [];
  const world = new SandboxWorld({
    clock,
    schedule: clock.schedule,
    appSecret: APP_SECRET,
    random: seededRandom(),
    deliver: (webhook) => {
      delivered.push({ webhook, at: clock.now() });
      return Promise.resolve();
    },
    ...worldOptions,
  });
  world.addNumber(DEMO_NUMBER);
  const provider: Provider = createSandboxProvider(
    world,
    timeoutMs === undefined ? {} : { timeoutMs },
  );

  /** Every event of every webhook delivered so far, with the world time of its delivery. */
  const events = (): Array<InboundEvent & { deliveredAt: number }> =>
    delivered.flatMap((d) =>
      parseMetaWebhook(d.webhook.body, { receivedAt: d.at }).map((e) => ({
        ...e,
        deliveredAt: d.at,
      })),
    );
  const statusesOf = (id: string): Array<StatusUpdate & { deliveredAt: number }> =>
    events().filter(
      (e): e is StatusUpdate & { deliveredAt: number } =>
        e.kind === 'status' && e.providerMessageId === id,
    );
  const send = (to: string, content: OutboundContent, extra: { replyTo?: string } = {}) =>
    provider.send({ channel: CHANNEL, to, content, ...extra });
  const text = (to: string, body: string) => send(to, { type: 'text', text: { body } });
  const template = (
    to: string,
    name: string,
    language: string,
    bodyParams: readonly string[] = [],
  ): Promise<SendResult> =>
    send(to, {
      type: 'template',
      template: {
        name,
        language: { code: language },
        components:
          bodyParams.length === 0
            ? []
            : [{ type: 'body', parameters: bodyParams.map((t) => ({ type: 'text', text: t })) }],
      },
    });

  return { clock, world, provider, delivered, events, statusesOf, send, text, template };
}

export function idOf(result: SendResult): string {
  if (!result.ok) throw new Error(`send failed: ${JSON.stringify(result.failure)}`);
  return result.providerMessageId;
}
