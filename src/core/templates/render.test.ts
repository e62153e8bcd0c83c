// Rendering what the user saw, for transcripts (TPL-12).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TemplateBody } from '../messages.ts';
import type { TemplateDefinition } from './definition.ts';
import { renderTemplate, renderedText } from './render.ts';

const promo: TemplateDefinition = {
  name: 'seasonal_promotion',
  language: 'en',
  category: 'MARKETING',
  components: [
    {
      type: 'HEADER',
      format: 'TEXT',
      text: 'Our {{1}} is on!',
      example: { header_text: ['Summer Sale'] },
    },
    {
      type: 'BODY',
      text: 'Shop now through {{1}} and use code {{2}} to get {{3}} off. {{1}} is the last day!',
      example: { body_text: [['the end of August', '25OFF', '25%']] },
    },
    { type: 'FOOTER', text: 'Reply STOP to opt out' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Stop promotions' },
        { type: 'COPY_CODE', example: '25OFF' },
      ],
    },
  ],
};

const promoSend: TemplateBody = {
  name: 'seasonal_promotion',
  language: { code: 'en' },
  components: [
    { type: 'header', parameters: [{ type: 'text', text: 'Summer Sale' }] },
    {
      type: 'body',
      parameters: [
        { type: 'date_time', date_time: { fallback_value: 'August 31' } },
        { type: 'text', text: '25OFF' },
        { type: 'currency', currency: { fallback_value: '$25', code: 'USD', amount_1000: 25000 } },
      ],
    },
  ],
};

describe('template rendering', () => {
  it('TPL-12: renders header, body (repeated variables, currency and date by fallback), footer and button labels', () => {
    assert.deepEqual(renderTemplate(promo, promoSend), {
      header: 'Our Summer Sale is on!',
      body: 'Shop now through August 31 and use code 25OFF to get $25 off. August 31 is the last day!',
      footer: 'Reply STOP to opt out',
      buttons: ['Stop promotions', 'Copy offer code'],
    });
  });

  it('TPL-12: renderedText is the transcript text the user saw', () => {
    assert.equal(
      renderedText(promo, promoSend),
      [
        'Our Summer Sale is on!',
        'Shop now through August 31 and use code 25OFF to get $25 off. August 31 is the last day!',
        'Reply STOP to opt out',
        '[Stop promotions]',
        '[Copy offer code]',
      ].join('\n'),
    );
  });

  it('TPL-12: named parameters fill by name; a missing parameter stays visible as its variable', () => {
    const named: TemplateDefinition = {
      name: 'welcome',
      language: 'en',
      category: 'UTILITY',
      parameter_format: 'NAMED',
      components: [
        { type: 'BODY', text: 'Hello {{first_name}}, account {{account_id}} is ready.' },
      ],
    };
    const r = renderTemplate(named, {
      name: 'welcome',
      language: { code: 'en' },
      components: [
        { type: 'body', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ana' }] },
      ],
    });
    assert.equal(r.body, 'Hello Ana, account {{account_id}} is ready.');
    assert.equal(r.header, undefined);
    assert.deepEqual(r.buttons, []);
  });

  it("TPL-12: media and location headers show as placeholders; authentication templates use Meta's preset text", () => {
    const doc: TemplateDefinition = {
      name: 'receipt',
      language: 'en',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'DOCUMENT' },
        { type: 'BODY', text: 'Your receipt is attached.' },
      ],
    };
    const r = renderTemplate(doc, {
      name: 'receipt',
      language: { code: 'en' },
      components: [
        {
          type: 'header',
          parameters: [{ type: 'document', document: { id: '9', filename: 'receipt.pdf' } }],
        },
      ],
    });
    assert.equal(r.header, '[document: receipt.pdf]');
    const auth: TemplateDefinition = {
      name: 'login_code',
      language: 'en_US',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 10 },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE' }] },
      ],
    };
    assert.equal(
      renderedText(auth, {
        name: 'login_code',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: '482913' }] }],
      }),
      '482913 is your verification code. For your security, do not share this code.\nThis code expires in 10 minutes.\n[Copy code]',
    );
  });
});
