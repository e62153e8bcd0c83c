// The test validator itself: Meta's own examples pass it, and bodies that break the rules do not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadMetaOpenApi } from './meta-openapi-validator.ts';
import { NEEDS_FIXTURES } from './shared-fixtures.ts';

const MESSAGES = '/{Version}/{Phone-Number-ID}/messages';

/** Examples of Meta's description that cannot validate, and why (none of them is a shape Parley sends). */
const EXAMPLES_THAT_CANNOT_PASS: Record<string, string> = {
  'Send Audio Message by URL': 'placeholder link "<http(s)://audio-url>"',
  'Send Reply to Audio Message by URL': 'placeholder link',
  'Send Document Message by URL': 'placeholder link',
  'Send Reply to Document Message by URL': 'placeholder link',
  'Send Image Message by URL': 'placeholder link',
  'Send Reply to Image Message by URL': 'placeholder link',
  'Send Video Message by URL': 'placeholder link',
  'Send Reply to Video Message by URL': 'placeholder link',
  'Send Message Template Interactive': 'placeholder link',
  'Send Message Template Media': 'placeholder link',
  'Send Contact Message': 'omits recipient_type, which the description requires',
  'Send Reply to Contact Message': 'omits recipient_type',
  'Send Flow Template Message': 'omits recipient_type; flow buttons are not in the description',
  'Send Sample Issue Resolution Template': 'omits recipient_type; integer index',
  'Send Test Message': 'omits recipient_type',
  'Send Catalog Template Message': 'upper-case CATALOG, integer index, action parameter',
  'Send Multi-Product Message': 'header type outside the description',
  'Send Order Details Message': 'interactive type outside the description',
  'Send Order Status Message': 'interactive type outside the description',
  'Send Reply to List Message': 'no message type at all',
  'Send Text Message with Preview URL': 'no message type at all',
};

describe('Meta OpenAPI validator (test support)', () => {
  it(
    'validates Meta’s own /messages request examples, except the listed ones',
    { skip: NEEDS_FIXTURES },
    () => {
      const api = loadMetaOpenApi();
      const examples = api.examples(MESSAGES, 'post');
      assert.ok(Object.keys(examples).length >= 40);
      for (const [name, body] of Object.entries(examples)) {
        const errors = api.validateBody(MESSAGES, 'post', body);
        if (name in EXAMPLES_THAT_CANNOT_PASS)
          assert.notDeepEqual(
            errors,
            [],
            `${name} was expected to fail (${EXAMPLES_THAT_CANNOT_PASS[name]})`,
          );
        else assert.deepEqual(errors, [], name);
      }
    },
  );

  it(
    'validates every template-creation example of the description',
    { skip: NEEDS_FIXTURES },
    () => {
      const api = loadMetaOpenApi();
      const operation = '/{Version}/{WABA-ID}/message_templates';
      const examples = Object.entries(api.examples(operation, 'post'));
      assert.ok(examples.length >= 5);
      for (const [name, body] of examples)
        assert.deepEqual(api.validateBody(operation, 'post', body), [], name);
    },
  );

  it(
    'has teeth: unknown members, wrong types and broken limits are reported',
    { skip: NEEDS_FIXTURES },
    () => {
      const api = loadMetaOpenApi();
      const base = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '15551234567',
      };
      const bad: Array<[string, unknown]> = [
        [
          'missing to',
          {
            messaging_product: 'whatsapp',
            recipient_type: 'individual',
            type: 'text',
            text: { body: 'x' },
          },
        ],
        [
          'unknown top-level member',
          { ...base, type: 'text', text: { body: 'x' }, surprise: true },
        ],
        ['misspelled text member', { ...base, type: 'text', text: { bdy: 'x' } }],
        [
          'media with both id and link',
          { ...base, type: 'image', image: { id: '1', link: 'https://x.example/a.jpg' } },
        ],
        [
          'a non-http media link',
          { ...base, type: 'image', image: { link: 'ftp://x.example/a.jpg' } },
        ],
        [
          'a reply button title over 20 characters',
          {
            ...base,
            type: 'interactive',
            interactive: {
              type: 'button',
              body: { text: 'b' },
              action: { buttons: [{ type: 'reply', reply: { id: '1', title: 'x'.repeat(21) } }] },
            },
          },
        ],
        [
          'a currency parameter without amount_1000',
          {
            ...base,
            type: 'template',
            template: {
              name: 't',
              language: { code: 'en' },
              components: [
                {
                  type: 'body',
                  parameters: [
                    { type: 'currency', currency: { fallback_value: '$1', code: 'USD' } },
                  ],
                },
              ],
            },
          },
        ],
        [
          'a button index that is not a digit',
          {
            ...base,
            type: 'template',
            template: {
              name: 't',
              language: { code: 'en' },
              components: [
                {
                  type: 'button',
                  sub_type: 'quick_reply',
                  index: 'x',
                  parameters: [{ type: 'payload', payload: 'p' }],
                },
              ],
            },
          },
        ],
        [
          'a mark-as-read body with a stray member',
          { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.1', to: '1' },
        ],
      ];
      for (const [what, body] of bad)
        assert.notDeepEqual(api.validateBody(MESSAGES, 'post', body), [], what);
    },
  );

  it(
    'names the operation of a concrete request path, most specific first',
    { skip: NEEDS_FIXTURES },
    () => {
      const api = loadMetaOpenApi();
      assert.equal(api.operationFor('POST', '/v23.0/106540352242922/messages'), MESSAGES);
      assert.equal(
        api.operationFor('GET', '/v23.0/102290129340398/subscribed_apps'),
        '/{Version}/{WABA-ID}/subscribed_apps',
      );
      assert.equal(
        api.operationFor('DELETE', '/v23.0/102290129340398/message_templates'),
        '/{Version}/{WABA-ID}/message_templates',
      );
      assert.equal(api.operationFor('PUT', '/v23.0/1/messages'), undefined);
    },
  );
});
