// X-Twilio-Signature checks against Twilio's documented vector and signatures made by Twilio's own library.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { parseForm } from './twilio-form.ts';
import { checkTwilioSignature, signedUrlCandidates, twilioSignature } from './twilio-signature.ts';
import {
  NEEDS_TWILIO_FIXTURES,
  twilioFixtureParams,
  twilioSignatureVector,
} from './testing/twilio-fixtures.ts';

const TOKEN = 'test_auth_token_0123456789abcdef';
const URL_CALLED = 'https://parley.example.com/webhooks/twilio/conn_1';

/** A form body holding these parameters, encoded the way Twilio posts them. */
function formBody(params: Record<string, string | string[]>): Buffer {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
  return Buffer.from(search.toString());
}

describe('X-Twilio-Signature', () => {
  it("matches Twilio's documented example vector", { skip: NEEDS_TWILIO_FIXTURES }, () => {
    const vector = twilioSignatureVector()!;
    const params = new Map(Object.entries(vector.params).map(([k, v]) => [k, [v]]));
    assert.equal(twilioSignature(vector.auth_token, vector.url, params), vector.x_twilio_signature);
    assert.equal(
      checkTwilioSignature(
        vector.auth_token,
        vector.x_twilio_signature,
        vector.url,
        formBody(vector.params),
      ),
      true,
    );
    // Twilio's library agrees with the vector, so it is a fair referee for the tests below.
    assert.equal(
      twilio.validateRequest(
        vector.auth_token,
        vector.x_twilio_signature,
        vector.url,
        vector.params,
      ),
      true,
    );
  });

  it(
    'accepts a signature made by the official twilio package over every fixture body',
    { skip: NEEDS_TWILIO_FIXTURES },
    () => {
      for (const name of [
        'synthetic__inbound_whatsapp_ctwa.json',
        'synthetic__inbound_button_reply.json',
        'synthetic__status_callback_failed_63016.json',
      ]) {
        const params = twilioFixtureParams(name);
        const signature = getExpectedTwilioSignature(TOKEN, URL_CALLED, params);
        assert.equal(
          checkTwilioSignature(TOKEN, signature, URL_CALLED, formBody(params)),
          true,
          name,
        );
      }
    },
  );

  it('refuses a tampered parameter, an added parameter, another URL and another token', () => {
    const params = { MessageSid: 'SM1', From: 'whatsapp:+15551230000', Body: 'Pay 10 EUR' };
    const signature = getExpectedTwilioSignature(TOKEN, URL_CALLED, params);
    assert.equal(checkTwilioSignature(TOKEN, signature, URL_CALLED, formBody(params)), true);
    assert.equal(
      checkTwilioSignature(
        TOKEN,
        signature,
        URL_CALLED,
        formBody({ ...params, Body: 'Pay 99 EUR' }),
      ),
      false,
    );
    assert.equal(
      checkTwilioSignature(TOKEN, signature, URL_CALLED, formBody({ ...params, Extra: '1' })),
      false,
    );
    assert.equal(
      checkTwilioSignature(TOKEN, signature, `${URL_CALLED}/status`, formBody(params)),
      false,
    );
    assert.equal(
      checkTwilioSignature(
        TOKEN,
        signature,
        URL_CALLED.replace('parley.', 'evil.'),
        formBody(params),
      ),
      false,
    );
    assert.equal(
      checkTwilioSignature('another_token', signature, URL_CALLED, formBody(params)),
      false,
    );
    assert.equal(checkTwilioSignature(TOKEN, '', URL_CALLED, formBody(params)), false);
  });

  it('verifies over parameters Parley does not know yet: nothing is filtered before checking', () => {
    const params = {
      MessageSid: 'SM2',
      From: 'whatsapp:+15551230000',
      SomeFieldTwilioAddsNextYear: 'x',
    };
    const signature = getExpectedTwilioSignature(TOKEN, URL_CALLED, params);
    assert.equal(checkTwilioSignature(TOKEN, signature, URL_CALLED, formBody(params)), true);
  });

  it('signs repeated parameters the way the twilio package does (distinct values, sorted)', () => {
    const params = {
      MediaUrl: ['https://b.example/2', 'https://a.example/1', 'https://b.example/2'],
    };
    const ours = twilioSignature(TOKEN, URL_CALLED, parseForm(formBody(params)));
    assert.equal(ours, getExpectedTwilioSignature(TOKEN, URL_CALLED, params));
  });

  it('verifies the URL Twilio called with its query string, and refuses a changed query', () => {
    const url = `${URL_CALLED}/status?ref=msg_01H&x=a%20b`;
    const params = { MessageSid: 'SM3', MessageStatus: 'delivered' };
    const signature = getExpectedTwilioSignature(TOKEN, url, params);
    assert.equal(checkTwilioSignature(TOKEN, signature, url, formBody(params)), true);
    assert.equal(
      checkTwilioSignature(TOKEN, signature, url.replace('msg_01H', 'msg_02X'), formBody(params)),
      false,
    );
  });

  it('accepts the default port added or dropped on the way, as Twilio documents', () => {
    const params = { MessageSid: 'SM4' };
    const signedWithout = getExpectedTwilioSignature(TOKEN, URL_CALLED, params);
    const withPort = URL_CALLED.replace('.com/', '.com:443/');
    assert.equal(checkTwilioSignature(TOKEN, signedWithout, withPort, formBody(params)), true);
    const signedWith = getExpectedTwilioSignature(TOKEN, withPort, params);
    assert.equal(checkTwilioSignature(TOKEN, signedWith, URL_CALLED, formBody(params)), true);
    assert.equal(twilio.validateRequest(TOKEN, signedWith, URL_CALLED, params), true);
    // Another port is another URL.
    const other = getExpectedTwilioSignature(
      TOKEN,
      URL_CALLED.replace('.com/', '.com:8443/'),
      params,
    );
    assert.equal(checkTwilioSignature(TOKEN, other, URL_CALLED, formBody(params)), false);
  });

  it('checks a JSON body through its bodySHA256 query parameter', () => {
    const body = Buffer.from(JSON.stringify({ MessageSid: 'SM5', status: 'delivered' }));
    const hash = createHash('sha256').update(body).digest('hex');
    const url = `${URL_CALLED}?bodySHA256=${hash}`;
    const signature = getExpectedTwilioSignature(TOKEN, url, {});
    assert.equal(twilio.validateRequestWithBody(TOKEN, signature, url, body.toString()), true);
    assert.equal(checkTwilioSignature(TOKEN, signature, url, body), true);
    assert.equal(checkTwilioSignature(TOKEN, signature, url, Buffer.from('{"changed":1}')), false);
  });

  it('lists the as-called URL first, then its port and normalised forms, without duplicates', () => {
    const candidates = signedUrlCandidates('https://h.example/a?q=1');
    assert.equal(candidates[0], 'https://h.example/a?q=1');
    assert.ok(candidates.includes('https://h.example:443/a?q=1'));
    assert.equal(new Set(candidates).size, candidates.length);
  });
});
