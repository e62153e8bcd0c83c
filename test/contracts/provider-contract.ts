// The Provider port's shared contract: every provider adapter's test file runs these cases against
// its own fake provider server, and names with a reason any case it cannot support.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InboundMessage, StatusUpdate } from '../../src/core/inbound.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import type { ChannelAddress, Provider, RawWebhook } from '../../src/ports/provider.ts';

/** The cases of the contract, for `skips`. */
export const PROVIDER_CONTRACT_CASES = [
  'send-text',
  'send-template',
  'sync-error',
  'server-error',
  'unreachable',
  'verify-good',
  'verify-tampered',
  'verify-unsigned',
  'parse-inbound',
  'parse-status',
  'parse-failed-status',
] as const;
export type ProviderContractCase = (typeof PROVIDER_CONTRACT_CASES)[number];

/** What reached the provider for one send, in neutral words. */
export interface SentRequestView {
  /** The recipient's wa_id (digits), as the provider was asked to address it. */
  readonly to: string;
  /** The free-form text, when the send was text. */
  readonly text?: string;
  /** What identified the template to the provider (name, ContentSid …), when it was a template. */
  readonly templateRef?: string;
}

/**
 * One adapter under test, wired to a fake provider. The harness knows the provider's own formats;
 * the contract knows only the port.
 */
export interface ProviderContractHarness {
  readonly provider: Provider;
  readonly channel: ChannelAddress;
  /** A template the provider knows and accepts, and how the provider will see it referenced. */
  readonly template: { readonly name: string; readonly language: string; readonly ref: string };
  /** The last send request the fake provider received, or null when none arrived. */
  lastSent(): SentRequestView | null;
  /**
   * Makes the next send fail synchronously the way the provider answers an unknown recipient
   * number or similar client error; returns the reason and the provider's own code to expect.
   */
  failNextSend(): { readonly reason: ReasonCode; readonly providerCode: string };
  /** Makes the next send meet a provider outage (HTTP 5xx). */
  breakNextSend(): void;
  /** A provider for the same channel whose server cannot be reached at all. */
  unreachableProvider(): Provider;
  /** A correctly signed inbound text webhook. */
  signedInbound(input: { from: string; text: string; id: string }): RawWebhook;
  /** A correctly signed status webhook for a message this channel sent. */
  signedStatus(input: {
    id: string;
    to: string;
    status: 'delivered' | 'read' | 'failed';
    /** For `failed`: the provider's "outside the 24-hour window" error. */
    windowClosed?: boolean;
  }): RawWebhook;
  /** The provider's code for a window-closed failure, as it appears verbatim in its webhooks. */
  readonly windowClosedCode: string;
  /** The same webhook with one value changed after signing. */
  tamper(webhook: RawWebhook): RawWebhook;
  /** The same webhook without its signature. */
  unsign(webhook: RawWebhook): RawWebhook;
  close(): Promise<void>;
}

export interface ProviderContractOptions {
  /** Cases this adapter cannot support, each with the reason shown as the test's skip message. */
  readonly skips?: Partial<Record<ProviderContractCase, string>>;
}

const USER = '447700900123';

/**
 * Runs the provider contract against one adapter. `makeHarness` is called once per case, so
 * every case starts from a fresh fake provider.
 * @see ../../../shared/spec/ARCHITECTURE.md (one shared contract suite per port)
 */
export function runProviderContract(
  name: string,
  makeHarness: () => Promise<ProviderContractHarness>,
  options: ProviderContractOptions = {},
): void {
  const skip = (c: ProviderContractCase): { skip?: string } => {
    const reason = options.skips?.[c];
    return reason ? { skip: reason } : {};
  };

  describe(`provider contract: ${name}`, () => {
    let h: ProviderContractHarness;
    const harnesses: ProviderContractHarness[] = [];
    const fresh = async (): Promise<ProviderContractHarness> => {
      h = await makeHarness();
      harnesses.push(h);
      return h;
    };
    after(async () => {
      for (const x of harnesses) await x.close();
    });

    it(
      'sends free-form text to the recipient and returns the provider message id',
      skip('send-text'),
      async () => {
        await fresh();
        const result = await h.provider.send({
          channel: h.channel,
          to: USER,
          content: { type: 'text', text: { body: 'It ships today.' } },
        });
        assert.equal(result.ok, true, JSON.stringify(result));
        if (result.ok) assert.ok(result.providerMessageId.length > 0);
        assert.deepEqual(h.lastSent(), { to: USER, text: 'It ships today.' });
      },
    );

    it(
      'TPL-10: sends a template by name and language as the provider knows it',
      skip('send-template'),
      async () => {
        await fresh();
        const result = await h.provider.send({
          channel: h.channel,
          to: USER,
          content: {
            type: 'template',
            template: {
              name: h.template.name,
              language: { code: h.template.language },
              components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
            },
          },
        });
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.equal(h.lastSent()?.templateRef, h.template.ref);
      },
    );

    it(
      '§7: maps a synchronous provider error to Parley reason, keeping the provider code verbatim',
      skip('sync-error'),
      async () => {
        await fresh();
        const expected = h.failNextSend();
        const result = await h.provider.send({
          channel: h.channel,
          to: USER,
          content: { type: 'text', text: { body: 'Hello' } },
        });
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.failure.reason, expected.reason);
        assert.equal(result.failure.providerCode, expected.providerCode);
        assert.notEqual(result.failure.maybeSent, true);
      },
    );

    it(
      '§7: a provider outage (HTTP 5xx) is provider_unavailable, which is retried',
      skip('server-error'),
      async () => {
        await fresh();
        h.breakNextSend();
        const result = await h.provider.send({
          channel: h.channel,
          to: USER,
          content: { type: 'text', text: { body: 'Hello' } },
        });
        assert.equal(result.ok, false);
        if (!result.ok) assert.equal(result.failure.reason, 'provider_unavailable');
      },
    );

    it(
      '§7: an unreachable provider is provider_unavailable and certainly not sent',
      skip('unreachable'),
      async () => {
        await fresh();
        const result = await h.unreachableProvider().send({
          channel: h.channel,
          to: USER,
          content: { type: 'text', text: { body: 'Hello' } },
        });
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.failure.reason, 'provider_unavailable');
        assert.equal(result.failure.maybeSent, false);
      },
    );

    it('accepts a correctly signed webhook', skip('verify-good'), async () => {
      await fresh();
      const webhook = h.signedInbound({ from: USER, text: 'Hi', id: 'in-1' });
      assert.deepEqual(h.provider.verifyWebhook(webhook), { ok: true });
    });

    it('refuses a webhook changed after it was signed', skip('verify-tampered'), async () => {
      await fresh();
      const verdict = h.provider.verifyWebhook(
        h.tamper(h.signedInbound({ from: USER, text: 'Hi', id: 'in-1' })),
      );
      assert.equal(verdict.ok, false);
      if (!verdict.ok) assert.ok([401, 403].includes(verdict.status));
    });

    it('refuses a webhook without a signature', skip('verify-unsigned'), async () => {
      await fresh();
      const verdict = h.provider.verifyWebhook(
        h.unsign(h.signedInbound({ from: USER, text: 'Hi', id: 'in-1' })),
      );
      assert.equal(verdict.ok, false);
    });

    it(
      'CSW-1: parses an inbound text into a message event routed to the channel',
      skip('parse-inbound'),
      async () => {
        await fresh();
        const events = h.provider.parseWebhook(
          h.signedInbound({ from: USER, text: 'Where is my order?', id: 'in-42' }),
        );
        const messages = events.filter((e): e is InboundMessage => e.kind === 'message');
        assert.equal(messages.length, 1);
        const m = messages[0]!;
        assert.equal(m.channelKey, h.channel.providerKey);
        assert.equal(m.from, USER);
        assert.equal(m.type, 'text');
        assert.deepEqual(m.content, { body: 'Where is my order?' });
        assert.ok(m.providerMessageId.length > 0);
        assert.ok(Number.isSafeInteger(m.at) && m.at > 0);
      },
    );

    it(
      'STA-1: parses delivered and read statuses routed to the channel',
      skip('parse-status'),
      async () => {
        await fresh();
        for (const status of ['delivered', 'read'] as const) {
          const events = h.provider.parseWebhook(h.signedStatus({ id: 'out-7', to: USER, status }));
          const updates = events.filter((e): e is StatusUpdate => e.kind === 'status');
          assert.equal(updates.length, 1, status);
          const s = updates[0]!;
          assert.equal(s.channelKey, h.channel.providerKey);
          assert.equal(s.providerMessageId, 'out-7');
          assert.equal(s.status, status);
        }
      },
    );

    it(
      'CSW-5: parses a late window-closed failure as failed with window_closed and the provider code',
      skip('parse-failed-status'),
      async () => {
        await fresh();
        const events = h.provider.parseWebhook(
          h.signedStatus({ id: 'out-8', to: USER, status: 'failed', windowClosed: true }),
        );
        const s = events.find((e): e is StatusUpdate => e.kind === 'status');
        assert.ok(s);
        assert.equal(s.status, 'failed');
        assert.equal(s.reason, 'window_closed');
        assert.equal(String(s.errors?.[0]?.code), h.windowClosedCode);
      },
    );
  });
}
