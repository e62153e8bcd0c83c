// Parley's outbound content as Twilio Messages API form fields, and what Twilio cannot carry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Refusal } from '../../../core/decision.ts';
import type { OutboundContent } from '../../../core/messages.ts';
import type { SendRequest } from '../../../ports/provider.ts';
import {
  buildTwilioMessageForm,
  contentVariables,
  waIdOf,
  whatsappAddress,
  type TwilioForm,
} from './twilio-request-build.ts';

const CHANNEL = {
  channelId: 'ch_1',
  providerKey: 'whatsapp:+15559870000',
  phoneNumber: '15559870000',
};

function request(content: OutboundContent): SendRequest {
  return { channel: CHANNEL, to: '447700900123', content };
}

function refused(content: OutboundContent): Refusal {
  const built = buildTwilioMessageForm(request(content));
  assert.ok('allowed' in built, JSON.stringify(built));
  return built;
}

function form(content: OutboundContent, options = {}): TwilioForm {
  const built = buildTwilioMessageForm(request(content), options);
  assert.ok(Array.isArray(built), JSON.stringify(built));
  return built;
}

describe('Twilio Messages API form', () => {
  it('addresses sender and recipient as whatsapp:+E164, with the status callback', () => {
    assert.deepEqual(
      form(
        { type: 'text', text: { body: 'It ships today.' } },
        { statusCallback: 'https://p.example/webhooks/twilio/c1/status?ref=m1' },
      ),
      [
        ['To', 'whatsapp:+447700900123'],
        ['From', 'whatsapp:+15559870000'],
        ['Body', 'It ships today.'],
        ['StatusCallback', 'https://p.example/webhooks/twilio/c1/status?ref=m1'],
      ],
    );
  });

  it('sends through a Messaging Service while From still names the channel sender', () => {
    const fields = form({ type: 'text', text: { body: 'Hi' } }, { messagingServiceSid: 'MG1' });
    assert.deepEqual(fields.slice(0, 3), [
      ['To', 'whatsapp:+447700900123'],
      ['From', 'whatsapp:+15559870000'],
      ['MessagingServiceSid', 'MG1'],
    ]);
  });

  it('LIM-6: refuses text over Twilio’s 1,600 characters before any request', () => {
    const built = refused({ type: 'text', text: { body: 'x'.repeat(1601) } });
    assert.equal(built.reason, 'invalid_request');
    assert.match(built.detail, /1601 characters; Twilio sends at most 1600/);
  });

  it('sends media by URL with the caption as Body', () => {
    assert.deepEqual(
      form({
        type: 'image',
        image: { link: 'https://cdn.example/p.jpg', caption: 'Your part' },
      }).slice(2),
      [
        ['Body', 'Your part'],
        ['MediaUrl', 'https://cdn.example/p.jpg'],
      ],
    );
    assert.deepEqual(
      form({ type: 'document', document: { link: 'https://cdn.example/i.pdf' } }).slice(2),
      [['MediaUrl', 'https://cdn.example/i.pdf']],
    );
    // Twilio carries no caption or filename for a WhatsApp document: no Body beside it.
    assert.deepEqual(
      form({
        type: 'document',
        document: { link: 'https://cdn.example/i.pdf', caption: 'Invoice', filename: 'i.pdf' },
      }).slice(2),
      [['MediaUrl', 'https://cdn.example/i.pdf']],
    );
  });

  it('refuses media given by upload id: Twilio fetches media from a URL', () => {
    const built = refused({ type: 'image', image: { id: '123' } });
    assert.equal(built.reason, 'invalid_request');
    assert.match(built.detail, /public URL/);
  });

  it('sends a location as a geo PersistentAction with its label', () => {
    assert.deepEqual(
      form({
        type: 'location',
        location: { latitude: 37.78789, longitude: -122.391664, name: '375 Beale St' },
      }).slice(2),
      [
        ['Body', '375 Beale St'],
        ['PersistentAction', 'geo:37.78789,-122.391664|375 Beale St'],
      ],
    );
  });

  it('TPL-10: a template goes as ContentSid with its parameters as ContentVariables JSON', () => {
    const fields = form(
      {
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en' },
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'Ada' },
                { type: 'text', text: '1042' },
              ],
            },
          ],
        },
      },
      { contentSid: 'HX0123456789abcdef0123456789abcdef' },
    );
    assert.deepEqual(fields.slice(2), [
      ['ContentSid', 'HX0123456789abcdef0123456789abcdef'],
      ['ContentVariables', '{"1":"Ada","2":"1042"}'],
    ]);
  });

  it('TPL-10: variables are numbered across header, body and buttons; named ones keep their names', () => {
    assert.deepEqual(
      contentVariables({
        name: 't',
        language: { code: 'en' },
        components: [
          {
            type: 'button',
            sub_type: 'url',
            index: 0,
            parameters: [{ type: 'text', text: 'track/42' }],
          },
          {
            type: 'body',
            parameters: [
              {
                type: 'currency',
                currency: { fallback_value: '$10', code: 'USD', amount_1000: 10000 },
              },
              { type: 'date_time', date_time: { fallback_value: 'May 1' } },
            ],
          },
          {
            type: 'header',
            parameters: [{ type: 'image', image: { link: 'https://cdn.example/h.png' } }],
          },
        ],
      }),
      { '1': 'https://cdn.example/h.png', '2': '$10', '3': 'May 1', '4': 'track/42' },
    );
    assert.deepEqual(
      contentVariables({
        name: 't',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ada' }],
          },
        ],
      }),
      { first_name: 'Ada' },
    );
  });

  it('TPL-9: a template without a known ContentSid is refused as not approved', () => {
    const built = refused({
      type: 'template',
      template: { name: 'nope', language: { code: 'en' } },
    });
    assert.equal(built.reason, 'template_not_approved');
  });

  it('refuses free-form interactive, contacts and reactions, which Twilio sends only as Content templates', () => {
    for (const content of [
      {
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: 'Pick' },
          action: { buttons: [{ type: 'reply', reply: { id: 'a', title: 'A' } }] },
        },
      },
      { type: 'contacts', contacts: [{ name: { formatted_name: 'Ada' } }] },
      { type: 'reaction', reaction: { message_id: 'SM1', emoji: '👍' } },
    ] as OutboundContent[]) {
      const built = refused(content);
      assert.equal(built.reason, 'invalid_request');
      assert.match(built.detail, /Content template/);
    }
  });

  it('converts between wa_ids and Twilio WhatsApp addresses', () => {
    assert.equal(whatsappAddress('15551230000'), 'whatsapp:+15551230000');
    assert.equal(whatsappAddress('+15551230000'), 'whatsapp:+15551230000');
    assert.equal(whatsappAddress('whatsapp:+15551230000'), 'whatsapp:+15551230000');
    assert.equal(waIdOf('whatsapp:+15551230000'), '15551230000');
  });
});
