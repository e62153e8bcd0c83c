// Meta's Cloud API against the Provider contract, behind a fake Graph server.
import { runProviderContract } from '../../../../test/contracts/provider-contract.ts';
import { createCloudApiProvider, metaSettings } from './meta-cloud-provider.ts';
import {
  CONTRACT_CHANNEL,
  closedPortUrl,
  authenticWebhook,
  inboundTextJson,
  invalidParameterReply,
  lastMessagesRequest,
  outageReply,
  sentView,
  statusJson,
  tamperedBody,
  withoutHeader,
} from './testing/cloud-contract-harness.ts';
import { FakeGraphServer } from './testing/fake-graph-server.ts';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const SECRETS = {
  accessToken: 'EAAG-contract',
  appSecret: 'contract-app-secret',
  verifyToken: 'vt',
};

runProviderContract('Meta Cloud API', async () => {
  const fake = await FakeGraphServer.start();
  const unreachable = await closedPortUrl();
  const make = (baseUrl: string) =>
    createCloudApiProvider(metaSettings({ ...SECRETS, baseUrl }), { now: () => NOW });
  const auth = { appSecret: SECRETS.appSecret };
  return {
    provider: make(fake.url),
    channel: CONTRACT_CHANNEL,
    template: { name: 'order_update', language: 'en', ref: 'order_update' },
    lastSent: () => sentView(lastMessagesRequest(fake)),
    failNextSend: () => {
      fake.on('POST', /\/messages$/, invalidParameterReply(), 1);
      return { reason: 'invalid_request', providerCode: '100' };
    },
    breakNextSend: () => {
      fake.on('POST', /\/messages$/, outageReply(), 1);
    },
    unreachableProvider: () => make(unreachable),
    signedInbound: (input) => authenticWebhook(inboundTextJson({ ...input, at: NOW }), auth),
    signedStatus: (input) => authenticWebhook(statusJson({ ...input, at: NOW }), auth),
    windowClosedCode: '131047',
    tamper: tamperedBody,
    unsign: (webhook) => withoutHeader(webhook, 'x-hub-signature-256'),
    close: () => fake.close(),
  };
});
