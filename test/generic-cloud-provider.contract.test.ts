// A Cloud-API-compatible provider Parley has no code for, added through configuration alone: a
// `cloud` connection made by the API (X-API-Key header without a scheme, its own Graph version,
// Meta-signed webhooks) runs the Provider contract exactly as the container builds it.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { runProviderContract } from './contracts/provider-contract.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import type { Provider } from '../src/ports/provider.ts';
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
  tamperedBody,
  withoutHeader,
} from '../src/adapters/providers/meta-cloud/testing/cloud-contract-harness.ts';
import { FakeGraphServer } from '../src/adapters/providers/meta-cloud/testing/fake-graph-server.ts';

const APP_SECRET = 'generic-app-secret';

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(async () => t.close());

/** A `cloud` connection made through the API, turned into a Provider by the container. */
async function providerFromConfiguration(baseUrl: string): Promise<Provider> {
  const created = await t.api('POST', '/v1/connections', {
    provider: 'cloud',
    name: 'Generic BSP',
    config: {
      baseUrl,
      apiVersion: 'v21.0',
      authHeader: 'X-API-Key',
      authScheme: '',
      pathStyle: 'phone-number-id',
    },
    secrets: { token: 'generic-api-key', appSecret: APP_SECRET },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const connection = await t.parley.deps.store.connections.get(created.json.id);
  assert.ok(connection);
  return t.parley.deps.providers.forConnection(connection);
}

runProviderContract('generic Cloud-API-compatible provider (configuration only)', async () => {
  const fake = await FakeGraphServer.start();
  const provider = await providerFromConfiguration(fake.url);
  const unreachable = await providerFromConfiguration(await closedPortUrl());
  const auth = { appSecret: APP_SECRET };
  const now = t.clock.now();
  return {
    provider,
    channel: CONTRACT_CHANNEL,
    template: { name: 'order_update', language: 'en', ref: 'order_update' },
    lastSent: () => {
      const last = lastMessagesRequest(fake);
      // The configured dialect reached the wire: version, path and the bare API-key header.
      if (last) {
        assert.equal(last.path, `/v21.0/${CONTRACT_CHANNEL.providerKey}/messages`);
        assert.equal(last.headers['x-api-key'], 'generic-api-key');
        assert.equal(last.headers.authorization, undefined);
      }
      return sentView(last);
    },
    failNextSend: () => {
      fake.on('POST', /\/messages$/, invalidParameterReply(), 1);
      return { reason: 'invalid_request', providerCode: '100' };
    },
    breakNextSend: () => {
      fake.on('POST', /\/messages$/, outageReply(), 1);
    },
    unreachableProvider: () => unreachable,
    signedInbound: (input) => authenticWebhook(inboundTextJson({ ...input, at: now }), auth),
    signedStatus: (input) => authenticWebhook(statusJson({ ...input, at: now }), auth),
    windowClosedCode: '131047',
    tamper: tamperedBody,
    unsign: (webhook) => withoutHeader(webhook, 'x-hub-signature-256'),
    close: () => fake.close(),
  };
});
