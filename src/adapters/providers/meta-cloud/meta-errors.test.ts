// Meta error codes → Parley reasons (WHATSAPP_RULES.md §7), synchronously and asynchronously, kept verbatim.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReasonCode } from '../../../core/reason-codes.ts';
import type { SendFailure } from '../../../ports/provider.ts';
import {
  createCloudApiProvider,
  metaSettings,
  type CloudApiProvider,
} from './meta-cloud-provider.ts';
import { failureFromMetaError, failureFromStatusErrors, parseRetryAfter } from './meta-errors.ts';
import { parseMetaWebhook } from './meta-webhook-parse.ts';
import { FakeGraphServer } from './testing/fake-graph-server.ts';
import { NEEDS_FIXTURES, readFixtureJson } from './testing/shared-fixtures.ts';

interface MetaCode {
  readonly code: number;
  /** The Parley reason WHATSAPP_RULES.md §7 assigns, written out here (not derived from the code). */
  readonly reason: ReasonCode;
  readonly httpStatus: number;
  readonly title: string;
  readonly details: string;
}

/** Every code of §7's Meta column, with the HTTP status Meta's older table gave it (PROVIDERS.md D). */
const SECTION_7: readonly MetaCode[] = [
  {
    code: 131047,
    reason: 'window_closed',
    httpStatus: 400,
    title: 'Re-engagement message',
    details:
      'More than 24 hours have passed since the recipient last replied to the sender number.',
  },
  {
    code: 131050,
    reason: 'opted_out',
    httpStatus: 400,
    title: 'User has stopped marketing messages',
    details:
      'Unable to deliver the message. This user has chosen to stop receiving marketing messages from your business.',
  },
  {
    code: 131049,
    reason: 'marketing_user_cap',
    httpStatus: 400,
    title: 'Meta chose not to deliver',
    details: 'This message was not delivered to maintain healthy ecosystem engagement.',
  },
  {
    code: 132001,
    reason: 'template_not_approved',
    httpStatus: 400,
    title: 'Template does not exist',
    details: 'template name (order_update) does not exist in en_US',
  },
  {
    code: 132015,
    reason: 'template_paused',
    httpStatus: 400,
    title: 'Template is Paused',
    details: 'Template is paused due to low quality so it cannot be sent in a template message.',
  },
  {
    code: 132016,
    reason: 'template_disabled',
    httpStatus: 400,
    title: 'Template is Disabled',
    details:
      'Template has been paused too many times due to low quality and is now permanently disabled.',
  },
  {
    code: 132000,
    reason: 'template_params',
    httpStatus: 400,
    title: 'Number of parameters does not match the expected number of params',
    details:
      'body: number of localizable_params (1) does not match the expected number of params (2)',
  },
  {
    code: 132012,
    reason: 'template_params',
    httpStatus: 400,
    title: 'Parameter format does not match format in the created template',
    details: 'header: Format mismatch, expected IMAGE, received UNKNOWN',
  },
  {
    code: 132005,
    reason: 'template_params',
    httpStatus: 400,
    title: 'Template Hydrated Text Too Long',
    details: 'Translated text is too long.',
  },
  {
    code: 130429,
    reason: 'throughput',
    httpStatus: 429,
    title: 'Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
  },
  {
    code: 4,
    reason: 'throughput',
    httpStatus: 429,
    title: 'Application request limit reached',
    details: 'The app has reached its API call rate limit.',
  },
  {
    code: 80007,
    reason: 'throughput',
    httpStatus: 429,
    title: 'Rate limit issues',
    details: 'The WhatsApp Business Account has reached its rate limit.',
  },
  {
    code: 131056,
    reason: 'pair_rate',
    httpStatus: 429,
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
  },
  {
    code: 131048,
    reason: 'spam_rate',
    httpStatus: 429,
    title: 'Spam rate limit hit',
    details:
      'Message failed to send because there are restrictions on how many messages can be sent from this phone number.',
  },
  {
    code: 131064,
    reason: 'messaging_limit',
    httpStatus: 400,
    title: 'Messaging limit reached',
    details: 'Messaging limit reached due to template classification violations.',
  },
  {
    code: 131026,
    reason: 'recipient_unreachable',
    httpStatus: 400,
    title: 'Message undeliverable',
    details:
      'Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number.',
  },
  {
    code: 130472,
    reason: 'experiment',
    httpStatus: 400,
    title: "User's number is part of an experiment",
    details: "Failed to send message because this user's phone number is part of an experiment",
  },
  {
    code: 131031,
    reason: 'account_restricted',
    httpStatus: 403,
    title: 'Account has been locked',
    details:
      'The WhatsApp Business Account is restricted or disabled for violating a platform policy.',
  },
  {
    code: 368,
    reason: 'account_restricted',
    httpStatus: 403,
    title: 'Temporarily blocked for policies violations',
    details:
      'The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.',
  },
  {
    code: 131042,
    reason: 'payment_required',
    httpStatus: 400,
    title: 'Business eligibility payment issue',
    details: 'There was an error related to your payment method.',
  },
  {
    code: 130497,
    reason: 'market_blocked',
    httpStatus: 403,
    title: 'Business account is restricted from messaging users in this country',
    details: 'The WhatsApp Business Account is restricted from messaging users in this country.',
  },
  {
    code: 190,
    reason: 'auth',
    httpStatus: 401,
    title: 'Access token has expired',
    details: 'Your access token has expired.',
  },
  {
    code: 0,
    reason: 'auth',
    httpStatus: 401,
    title: 'AuthException',
    details: 'We were unable to authenticate the app user.',
  },
  {
    code: 10,
    reason: 'auth',
    httpStatus: 403,
    title: 'Permission Denied',
    details: 'Permission is either not granted or has been removed.',
  },
  {
    code: 100,
    reason: 'invalid_request',
    httpStatus: 400,
    title: 'Invalid parameter',
    details: 'Unexpected key "txt" on param "message".',
  },
  {
    code: 131051,
    reason: 'invalid_request',
    httpStatus: 400,
    title: 'Unsupported message type',
    details: 'Unsupported message type.',
  },
  {
    code: 131052,
    reason: 'media',
    httpStatus: 400,
    title: 'Media download error',
    details: 'Unable to download the media sent by the user.',
  },
  {
    code: 131053,
    reason: 'media',
    httpStatus: 400,
    title: 'Media upload error',
    details: 'Unable to upload the media used in the message.',
  },
  {
    code: 131000,
    reason: 'provider_unavailable',
    httpStatus: 500,
    title: 'Something went wrong',
    details: 'Message failed to send due to an unknown error.',
  },
  {
    code: 131016,
    reason: 'provider_unavailable',
    httpStatus: 503,
    title: 'Service unavailable',
    details: 'A service is temporarily unavailable.',
  },
  {
    code: 131057,
    reason: 'provider_unavailable',
    httpStatus: 500,
    title: 'Account in maintenance mode',
    details: 'Business Account is in maintenance mode',
  },
  {
    code: 2,
    reason: 'provider_unavailable',
    httpStatus: 503,
    title: 'API Service',
    details: 'Temporary due to downtime or due to being overloaded.',
  },
];

const PNID = '106540352242922';

function failedStatusWebhook(c: MetaCode): Buffer {
  return Buffer.from(
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: PNID },
                statuses: [
                  {
                    id: 'wamid.OUT1',
                    status: 'failed',
                    timestamp: '1767225600',
                    recipient_id: '15551234567',
                    errors: [
                      {
                        code: c.code,
                        title: c.title,
                        message: c.title,
                        error_data: { details: c.details },
                        href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      ],
    }),
  );
}

describe('§7 Meta codes, synchronously (HTTP error envelope from the Graph API)', () => {
  let server: FakeGraphServer;
  let provider: CloudApiProvider;
  before(async () => {
    server = await FakeGraphServer.start();
    provider = createCloudApiProvider(
      metaSettings({ accessToken: 't', appSecret: 's', verifyToken: 'v', baseUrl: server.url }),
    );
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  for (const c of SECTION_7) {
    it(`§7: Meta ${c.code} on HTTP ${c.httpStatus} fails the send as ${c.reason}, code/title/details verbatim`, async () => {
      server.on('POST', `/v23.0/${PNID}/messages`, {
        status: c.httpStatus,
        body: {
          error: {
            message: `(#${c.code}) ${c.title}`,
            type: 'OAuthException',
            code: c.code,
            error_data: { messaging_product: 'whatsapp', details: c.details },
            fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam',
          },
        },
      });
      const result = await provider.send({
        channel: { channelId: 'ch_1', providerKey: PNID, phoneNumber: '15550783881' },
        to: '15551234567',
        content: { type: 'text', text: { body: 'hello' } },
      });
      assert.equal(result.ok, false);
      assert.deepEqual(!result.ok && result.failure, {
        reason: c.reason,
        providerCode: String(c.code),
        title: c.title,
        details: c.details,
        httpStatus: c.httpStatus,
      });
    });
  }

  it(
    'A.5: the documented 130429 response maps to throughput with its details',
    { skip: NEEDS_FIXTURES },
    async () => {
      server.on('POST', `/v23.0/${PNID}/messages`, {
        status: 429,
        headers: { 'retry-after': '2' },
        body: readFixtureJson('meta/meta_docs__error_response_130429.json'),
      });
      const result = await provider.send({
        channel: { channelId: 'ch_1', providerKey: PNID, phoneNumber: '15550783881' },
        to: '15551234567',
        content: { type: 'text', text: { body: 'hello' } },
      });
      assert.deepEqual(!result.ok && result.failure, {
        reason: 'throughput',
        providerCode: '130429',
        title: 'Rate limit hit',
        details: 'Cloud API message throughput has been reached.',
        httpStatus: 429,
        retryAfterMs: 2000,
      });
    },
  );
});

describe('§7 Meta codes, asynchronously (failed status webhook)', () => {
  for (const c of SECTION_7) {
    it(`§7: Meta ${c.code} in a failed status becomes ${c.reason}, the same outcome as the synchronous path`, () => {
      const [event] = parseMetaWebhook(failedStatusWebhook(c), { receivedAt: 0 });
      assert.ok(event?.kind === 'status');
      assert.equal(event.status, 'failed');
      assert.equal(event.reason, c.reason);
      const failure = failureFromStatusErrors(event.errors ?? []);
      assert.deepEqual(failure, {
        reason: c.reason,
        providerCode: String(c.code),
        title: c.title,
        details: c.details,
      });
      const sync = failureFromMetaError(c.httpStatus, {
        error: {
          message: `(#${c.code}) ${c.title}`,
          code: c.code,
          error_data: { details: c.details },
        },
      });
      const { httpStatus: _status, ...sameAsAsync } = sync;
      assert.equal(_status, c.httpStatus);
      assert.deepEqual(sameAsAsync, failure);
    });
  }
});

describe('failureFromMetaError: bodies that are not Meta envelopes', () => {
  const now = Date.parse('2026-01-15T10:00:00Z');
  const cases: Array<[string, number, unknown, string | undefined, SendFailure]> = [
    [
      'a 429 without a body',
      429,
      undefined,
      '30',
      {
        reason: 'throughput',
        details: 'HTTP 429 with no error body',
        httpStatus: 429,
        retryAfterMs: 30_000,
      },
    ],
    [
      'a 503 without a body (outcome unknown)',
      503,
      undefined,
      undefined,
      {
        reason: 'provider_unavailable',
        details: 'HTTP 503 with no error body',
        httpStatus: 503,
        maybeSent: true,
      },
    ],
    [
      'an HTML 502 from a gateway',
      502,
      '<html><body>Bad Gateway</body></html>',
      undefined,
      {
        reason: 'provider_unavailable',
        details: '<html><body>Bad Gateway</body></html>',
        httpStatus: 502,
        maybeSent: true,
      },
    ],
    [
      'a 401 with a plain message',
      401,
      { message: 'Unauthorized' },
      undefined,
      { reason: 'auth', details: 'Unauthorized', httpStatus: 401 },
    ],
    [
      'a 404 with an unknown JSON shape',
      404,
      { oops: true },
      undefined,
      { reason: 'invalid_request', details: '{"oops":true}', httpStatus: 404 },
    ],
    [
      'the legacy On-Premises errors[] shape (470)',
      400,
      {
        errors: [
          {
            code: 470,
            title:
              'Failed to send message because you are outside the support window for freeform messages to this user.',
          },
        ],
      },
      undefined,
      {
        reason: 'window_closed',
        providerCode: '470',
        title:
          'Failed to send message because you are outside the support window for freeform messages to this user.',
        httpStatus: 400,
      },
    ],
    [
      '360dialog’s meta envelope',
      403,
      {
        meta: {
          api_status: 'stable',
          version: '2.0',
          httpCode: 403,
          developerMessage: 'Forbidden',
          success: false,
        },
      },
      undefined,
      { reason: 'auth', providerCode: '403', details: 'Forbidden', httpStatus: 403 },
    ],
    [
      'an unlisted Meta code on a 500 (the status decides)',
      500,
      { error: { message: '(#1) An unknown error occurred', code: 1, type: 'OAuthException' } },
      undefined,
      {
        reason: 'provider_unavailable',
        providerCode: '1',
        title: 'An unknown error occurred',
        httpStatus: 500,
      },
    ],
    [
      'an unlisted permission code on a 403',
      403,
      { error: { message: '(#200) Requires whatsapp_business_messaging permission', code: 200 } },
      undefined,
      {
        reason: 'auth',
        providerCode: '200',
        title: 'Requires whatsapp_business_messaging permission',
        httpStatus: 403,
      },
    ],
    [
      'an unlisted code on a 400',
      400,
      {
        error: {
          message: '(#131009) Parameter value is not valid',
          code: 131009,
          error_data: { details: 'Button title length is invalid' },
        },
      },
      undefined,
      {
        reason: 'invalid_request',
        providerCode: '131009',
        title: 'Parameter value is not valid',
        details: 'Button title length is invalid',
        httpStatus: 400,
      },
    ],
  ];
  for (const [what, status, body, retryAfter, expected] of cases) {
    it(`§7: maps ${what}`, () => {
      assert.deepEqual(failureFromMetaError(status, body, retryAfter, now), expected);
    });
  }

  it('A.5: a documented code wins over a contradicting HTTP status (131031 on 403 is a restriction, not auth)', () => {
    const failure = failureFromMetaError(403, {
      error: { message: '(#131031) Account has been locked', code: 131031 },
    });
    assert.equal(failure.reason, 'account_restricted');
  });
});

describe('failureFromStatusErrors', () => {
  it('§7: the first error with a documented code decides, string codes included', () => {
    assert.deepEqual(
      failureFromStatusErrors([
        { code: 999999, title: 'Something new' },
        { code: '131047', title: 'Re-engagement message', details: 'More than 24 hours …' },
      ]),
      {
        reason: 'window_closed',
        providerCode: '131047',
        title: 'Re-engagement message',
        details: 'More than 24 hours …',
      },
    );
  });

  it('§7: an unknown code alone is invalid_request, and a failed status without errors is kept too', () => {
    assert.deepEqual(failureFromStatusErrors([{ code: 999999, message: '(#999999) New thing' }]), {
      reason: 'invalid_request',
      providerCode: '999999',
      title: 'New thing',
    });
    assert.deepEqual(failureFromStatusErrors([]), {
      reason: 'invalid_request',
      details: 'the provider reported failed without errors',
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-15T10:00:00Z');
  it('reads delta-seconds and HTTP dates as milliseconds, and ignores garbage', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('1.5', now), 1_500);
    assert.equal(parseRetryAfter('Thu, 15 Jan 2026 10:00:45 GMT', now), 45_000);
    assert.equal(parseRetryAfter('Thu, 15 Jan 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
