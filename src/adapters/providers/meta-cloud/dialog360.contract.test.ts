// 360dialog's Cloud API against the Provider contract, behind a fake 360dialog server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runProviderContract } from '../../../../test/contracts/provider-contract.ts';
import {
  DEFAULT_DIALOG360_SECRET_HEADER,
  createCloudApiProvider,
  dialog360Settings,
} from './meta-cloud-provider.ts';
import {
  CONTRACT_CHANNEL,
  authenticWebhook,
  closedPortUrl,
  inboundTextJson,
  invalidParameterReply,
  lastMessagesRequest,
  outageReply,
  sentView,
  statusJson,
  withoutHeader,
} from './testing/cloud-contract-harness.ts';
import { FakeGraphServer } from './testing/fake-graph-server.ts';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const SECRET = { name: DEFAULT_DIALOG360_SECRET_HEADER, value: 'hook-secret-0123456789' };
const make = (baseUrl: string) =>
  createCloudApiProvider(
    dialog360Settings({ apiKey: 'd360-key', webhookSecret: SECRET.value, baseUrl }),
    { now: () => NOW },
  );

runProviderContract(
  '360dialog',
  async () => {
    const fake = await FakeGraphServer.start();
    const unreachable = await closedPortUrl();
    const auth = { secretHeader: SECRET };
    return {
      provider: make(fake.url),
      channel: CONTRACT_CHANNEL,
      template: { name: 'order_update', language: 'en', ref: 'order_update' },
      lastSent: () => sentView(lastMessagesRequest(fake)),
      failNextSend: () => {
        // 360dialog passes Meta's errors through unchanged (PROVIDERS.md G, difference 5).
        fake.on('POST', '/messages', invalidParameterReply(), 1);
        return { reason: 'invalid_request', providerCode: '100' };
      },
      breakNextSend: () => {
        fake.on('POST', '/messages', outageReply(), 1);
      },
      unreachableProvider: () => make(unreachable),
      signedInbound: (input) => authenticWebhook(inboundTextJson({ ...input, at: NOW }), auth),
      signedStatus: (input) => authenticWebhook(statusJson({ ...input, at: NOW }), auth),
      windowClosedCode: '131047',
      tamper: (webhook) => webhook,
      unsign: (webhook) => withoutHeader(webhook, SECRET.name),
      close: () => fake.close(),
    };
  },
  {
    skips: {
      'verify-tampered':
        '360dialog does not sign webhook bodies: deliveries are authenticated by the secret header registered with the webhook (PROVIDERS.md G, difference 3), so a changed body under the right header cannot be detected',
    },
  },
);

describe('360dialog webhooks beyond the contract', () => {
  it('refuses a delivery whose secret header carries another value, even one character off', () => {
    const provider = make('http://127.0.0.1:1');
    const webhook = authenticWebhook(
      inboundTextJson({ from: '447700900123', text: 'Hi', id: 'in-1', at: NOW }),
      { secretHeader: { name: SECRET.name, value: `${SECRET.value.slice(0, -1)}X` } },
    );
    const verdict = provider.verifyWebhook(webhook);
    assert.equal(verdict.ok, false);
    if (!verdict.ok) assert.equal(verdict.status, 401);
  });

  it('sends to /messages with the D360-API-KEY header and no Graph version or phone number id', async () => {
    const fake = await FakeGraphServer.start();
    try {
      const result = await make(fake.url).send({
        channel: CONTRACT_CHANNEL,
        to: '447700900123',
        content: { type: 'text', text: { body: 'Hi' } },
      });
      assert.equal(result.ok, true);
      assert.equal(fake.last?.path, '/messages');
      assert.equal(fake.last?.headers['d360-api-key'], 'd360-key');
      assert.equal(fake.last?.headers.authorization, undefined);
    } finally {
      await fake.close();
    }
  });
});
