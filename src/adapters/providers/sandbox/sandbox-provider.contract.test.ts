// The sandbox against the Provider contract: the in-process WhatsApp answers like the Cloud API.
import { runProviderContract } from '../../../../test/contracts/provider-contract.ts';
import { signMetaBody } from '../meta-cloud/meta-signature.ts';
import { encodeMetaJson, unixSeconds, webhookEnvelope } from './sandbox-meta-format.ts';
import { APP_SECRET, CHANNEL, sandboxKit } from './testing/sandbox-kit.ts';
import type { RawWebhook } from '../../../ports/provider.ts';

/** A webhook in the sandbox's own wire format: Meta's envelope, escaped and signed. */
function signed(value: Record<string, unknown>): RawWebhook {
  const { body, signature } = signMetaBody(
    encodeMetaJson(webhookEnvelope(CHANNEL.wabaId ?? '', 'messages', value)),
    APP_SECRET,
  );
  return {
    method: 'POST',
    url: 'https://parley.example/webhooks/meta/sandbox',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
    query: {},
    body,
  };
}

const metadata = {
  display_phone_number: CHANNEL.phoneNumber,
  phone_number_id: CHANNEL.providerKey,
};

runProviderContract(
  'sandbox',
  () => {
    const kit = sandboxKit({ start: '2026-03-02T09:00:00Z' });
    const now = () => kit.clock.now();
    return Promise.resolve({
      provider: kit.provider,
      channel: CHANNEL,
      template: { name: 'order_update', language: 'en', ref: 'order_update' },
      lastSent: () => {
        const last = kit.world.outbound(CHANNEL.providerKey).at(-1);
        if (!last) return null;
        const content = last.content as { body?: string; name?: string };
        return {
          to: last.to,
          ...(last.type === 'text' && content.body !== undefined ? { text: content.body } : {}),
          ...(last.type === 'template' && content.name !== undefined
            ? { templateRef: content.name }
            : {}),
        };
      },
      failNextSend: () => {
        kit.world.chaos({ authErrors: 1 });
        return { reason: 'auth', providerCode: '190' };
      },
      breakNextSend: () => {
        kit.world.chaos({ serverErrors: 1 });
      },
      unreachableProvider: () => {
        throw new Error('the sandbox has no network to lose');
      },
      signedInbound: (input) =>
        signed({
          messaging_product: 'whatsapp',
          metadata,
          contacts: [{ profile: { name: 'Ada' }, wa_id: input.from }],
          messages: [
            {
              from: input.from,
              id: input.id,
              timestamp: unixSeconds(now()),
              type: 'text',
              text: { body: input.text },
            },
          ],
        }),
      signedStatus: (input) =>
        signed({
          messaging_product: 'whatsapp',
          metadata,
          statuses: [
            {
              id: input.id,
              status: input.status,
              timestamp: unixSeconds(now()),
              recipient_id: input.to,
              ...(input.windowClosed
                ? {
                    errors: [
                      {
                        code: 131047,
                        title: 'Re-engagement message',
                        message: 'Re-engagement message',
                        error_data: { details: 'More than 24 hours have passed.' },
                      },
                    ],
                  }
                : {}),
            },
          ],
        }),
      windowClosedCode: '131047',
      tamper: (webhook) => ({
        ...webhook,
        body: Buffer.from(webhook.body.toString('utf8').replace('"body":"', '"body":"!')),
      }),
      unsign: (webhook) => {
        const headers = { ...webhook.headers };
        delete headers['x-hub-signature-256'];
        return { ...webhook, headers };
      },
      close: () => Promise.resolve(),
    });
  },
  {
    skips: {
      unreachable:
        'the sandbox runs inside the Parley process: there is no network between them to fail',
    },
  },
);
