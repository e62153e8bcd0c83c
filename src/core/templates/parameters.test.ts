// Send-time template parameters against the stored definition (TPL-10, TPL-11).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TemplateBody, TemplateComponentParams, TemplateParameter } from '../messages.ts';
import type { TemplateDefinition } from './definition.ts';
import { checkTemplateParameters, parameterTextProblem } from './parameters.ts';

const orderUpdate: TemplateDefinition = {
  name: 'order_update',
  language: 'en_US',
  category: 'UTILITY',
  components: [
    { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1h'] } },
    {
      type: 'BODY',
      text: 'Hi {{1}}, your order of {{2}} ships on {{3}}. Thank you!',
      example: { body_text: [['Jane', '$10.50', 'May 1']] },
    },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Confirm' },
        { type: 'URL', text: 'Track', url: 'https://shop.example.com/o/{{1}}', example: ['42'] },
        { type: 'PHONE_NUMBER', text: 'Call', phone_number: '+15550100' },
      ],
    },
  ],
};

const text = (t: string): TemplateParameter => ({ type: 'text', text: t });

function send(components: TemplateComponentParams[], name = 'order_update'): TemplateBody {
  return { name, language: { code: 'en_US' }, components };
}

const goodComponents = (): TemplateComponentParams[] => [
  {
    type: 'header',
    parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/a.png' } }],
  },
  {
    type: 'body',
    parameters: [
      text('Jane'),
      { type: 'currency', currency: { fallback_value: '$10.50', code: 'USD', amount_1000: 10500 } },
      { type: 'date_time', date_time: { fallback_value: 'May 1, 2026' } },
    ],
  },
  {
    type: 'button',
    sub_type: 'quick_reply',
    index: '0',
    parameters: [{ type: 'payload', payload: 'CONFIRM_42' }],
  },
  { type: 'button', sub_type: 'url', index: '1', parameters: [text('42')] },
];

function replace(i: number, c: TemplateComponentParams): TemplateComponentParams[] {
  const list = goodComponents();
  list[i] = c;
  return list;
}

function detail(result: ReturnType<typeof checkTemplateParameters>): string {
  assert.ok(result, 'expected a refusal');
  assert.equal(result.reason, 'template_params');
  return result.detail;
}

describe('template parameters', () => {
  it('TPL-10: a request matching the definition passes (text, currency, date_time, media, payload, URL suffix)', () => {
    assert.equal(checkTemplateParameters(orderUpdate, send(goodComponents())), null);
  });

  it('TPL-10: the body needs the same number of parameters as variables (132000)', () => {
    const body = { type: 'body', parameters: [text('Jane'), text('$10')] };
    const d = detail(checkTemplateParameters(orderUpdate, send(replace(1, body))));
    assert.match(
      d,
      /^body: template "order_update" \(en_US\) takes 3 parameter\(s\) \(\{\{1\}\}, \{\{2\}\}, \{\{3\}\}\); 2 given \(132000\)$/,
    );
    const none = goodComponents().filter((c) => c.type !== 'body');
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(none))),
      /takes 3 parameter\(s\).*; 0 given/,
    );
  });

  it('TPL-10: each body parameter must be text, currency or date_time with its fields', () => {
    const image = {
      type: 'body',
      parameters: [text('Jane'), { type: 'image', image: { id: '1' } }, text('x')],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(1, image)))),
      /body parameter 2 \(\{\{2\}\}\) is of type "image"; a text variable takes text, currency or date_time/,
    );
    const badCurrency = {
      type: 'body',
      parameters: [
        text('Jane'),
        { type: 'currency', currency: { fallback_value: '$1', code: 'usd', amount_1000: 1000 } },
        text('x'),
      ],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(1, badCurrency)))),
      /parameter 2 .*currency\.code/,
    );
    const fraction = {
      type: 'body',
      parameters: [
        text('Jane'),
        { type: 'currency', currency: { fallback_value: '$1', code: 'USD', amount_1000: 10.5 } },
        text('x'),
      ],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(1, fraction)))),
      /amount_1000 must be a whole number/,
    );
    const emptyDate = {
      type: 'body',
      parameters: [
        text('Jane'),
        text('$1'),
        { type: 'date_time', date_time: { fallback_value: '' } },
      ],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(1, emptyDate)))),
      /parameter 3 \(\{\{3\}\}\) date_time\.fallback_value/,
    );
  });

  it('TPL-10: a media header takes one parameter of its kind, by id or by link', () => {
    const video = {
      type: 'header',
      parameters: [{ type: 'video', video: { link: 'https://cdn.example.com/v.mp4' } }],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(0, video)))),
      /must be of type image for this IMAGE header; got "video"/,
    );
    const byId = { type: 'header', parameters: [{ type: 'image', image: { id: '1234567890' } }] };
    assert.equal(checkTemplateParameters(orderUpdate, send(replace(0, byId))), null);
    const both = {
      type: 'header',
      parameters: [{ type: 'image', image: { id: '1', link: 'https://x.example/a.png' } }],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(0, both)))),
      /exactly one of id .* or link/,
    );
    const missing = goodComponents().filter((c) => c.type !== 'header');
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(missing))),
      /IMAGE header, which takes exactly one image parameter; 0 given \(132000\)/,
    );
  });

  it('TPL-10: buttons: payload for quick replies (optional), a text suffix for URL buttons, nothing for phone buttons', () => {
    const noQuickReply = goodComponents().filter((c) => c.sub_type !== 'quick_reply');
    assert.equal(checkTemplateParameters(orderUpdate, send(noQuickReply)), null);
    const noUrl = goodComponents().filter((c) => c.sub_type !== 'url');
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(noUrl))),
      /button 1 \(URL "Track"\) needs one text parameter \(the URL suffix\).*index "1"; none given \(132000\)/,
    );
    const textPayload = {
      type: 'button',
      sub_type: 'quick_reply',
      index: '0',
      parameters: [text('CONFIRM')],
    };
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(replace(2, textPayload)))),
      /button 0 .* must be of type payload/,
    );
    const phone = [
      ...goodComponents(),
      { type: 'button', sub_type: 'voice_call', index: 2, parameters: [text('x')] },
    ];
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(phone))),
      /button 2 \(PHONE_NUMBER "Call"\) takes no parameters; 1 given/,
    );
    const beyond = [
      ...goodComponents(),
      { type: 'button', sub_type: 'url', index: '7', parameters: [text('x')] },
    ];
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(beyond))),
      /button index 7 does not exist: template "order_update" has 3 button\(s\)/,
    );
  });

  it('TPL-10: coupon_code for copy-code buttons', () => {
    const promo: TemplateDefinition = {
      name: 'promo',
      language: 'en',
      category: 'MARKETING',
      components: [
        { type: 'BODY', text: 'Our summer sale is on: use the code below at checkout.' },
        { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE', example: 'SUMMER' }] },
      ],
    };
    const req = (components: TemplateComponentParams[]): TemplateBody => ({
      name: 'promo',
      language: { code: 'en' },
      components,
    });
    const coupon = {
      type: 'button',
      sub_type: 'copy_code',
      index: 0,
      parameters: [{ type: 'coupon_code', coupon_code: 'SUMMER25' }],
    };
    assert.equal(checkTemplateParameters(promo, req([coupon])), null);
    assert.match(
      detail(checkTemplateParameters(promo, req([]))),
      /needs one coupon_code parameter/,
    );
    assert.match(
      detail(checkTemplateParameters(promo, req([{ ...coupon, parameters: [text('SUMMER25')] }]))),
      /must be of type coupon_code/,
    );
  });

  it("TPL-10: named templates need each variable's parameter_name, once", () => {
    const named: TemplateDefinition = {
      name: 'welcome',
      language: 'en',
      category: 'UTILITY',
      parameter_format: 'NAMED',
      components: [
        {
          type: 'BODY',
          text: 'Hello {{first_name}}, your account {{account_id}} is ready to use.',
        },
      ],
    };
    const req = (parameters: TemplateParameter[]): TemplateBody => ({
      name: 'welcome',
      language: { code: 'en' },
      components: [{ type: 'body', parameters }],
    });
    const p = (name: string, t: string): TemplateParameter => ({
      type: 'text',
      parameter_name: name,
      text: t,
    });
    assert.equal(
      checkTemplateParameters(named, req([p('account_id', 'AC-1'), p('first_name', 'Ana')])),
      null,
    );
    assert.match(
      detail(checkTemplateParameters(named, req([p('first_name', 'Ana'), p('account', 'AC-1')]))),
      /parameter_name "account" is not a variable/,
    );
    assert.match(
      detail(checkTemplateParameters(named, req([p('first_name', 'Ana'), text('AC-1')]))),
      /parameter 2 needs a parameter_name/,
    );
    assert.match(
      detail(checkTemplateParameters(named, req([p('first_name', 'Ana'), p('first_name', 'Bo')]))),
      /given twice/,
    );
    const positionalWithName = replace(1, {
      type: 'body',
      parameters: [p('name', 'Jane'), text('$1'), text('May 1')],
    });
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(positionalWithName))),
      /uses positional variables/,
    );
  });

  it('TPL-10: authentication templates take the code in the body and in the OTP button', () => {
    const auth: TemplateDefinition = {
      name: 'login_code',
      language: 'en_US',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 10 },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }] },
      ],
    };
    const body = { type: 'body', parameters: [text('482913')] };
    const button = { type: 'button', sub_type: 'url', index: '0', parameters: [text('482913')] };
    const req = (components: TemplateComponentParams[]): TemplateBody => ({
      name: 'login_code',
      language: { code: 'en_US' },
      components,
    });
    assert.equal(checkTemplateParameters(auth, req([body, button])), null);
    assert.match(
      detail(checkTemplateParameters(auth, req([body]))),
      /button 0 \(OTP "Copy code"\) needs one text parameter \(the one-time code\)/,
    );
    assert.match(
      detail(checkTemplateParameters(auth, req([button]))),
      /body: .* takes 1 parameter/,
    );
  });

  it('TPL-10: the request must name the defined template and language, with known component types', () => {
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(goodComponents(), 'other'))),
      /names template "other"/,
    );
    assert.match(
      detail(
        checkTemplateParameters(orderUpdate, {
          ...send(goodComponents()),
          language: { code: 'pt_BR' },
        }),
      ),
      /checked in en_US, but the request asks for pt_BR/,
    );
    assert.match(
      detail(
        checkTemplateParameters(
          orderUpdate,
          send([...goodComponents(), { type: 'footer', parameters: [] }]),
        ),
      ),
      /"footer" is not header, body or button/,
    );
  });

  it('TPL-11: a text parameter may not contain a newline or tab, nor more than 4 consecutive spaces (132012)', () => {
    assert.equal(parameterTextProblem('Jane Doe'), null);
    assert.equal(parameterTextProblem('a    b'), null); // four spaces are fine
    assert.equal(parameterTextProblem('a     b'), 'contains more than 4 consecutive spaces');
    assert.equal(parameterTextProblem('a\nb'), 'contains a newline');
    assert.equal(parameterTextProblem('a\tb'), 'contains a tab');
    const body = (t: string) =>
      replace(1, { type: 'body', parameters: [text(t), text('$1'), text('May 1')] });
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(body('Jane\nDoe')))),
      /body parameter 1 \(\{\{1\}\}\) text contains a newline.*\(132012\)/,
    );
    const url = replace(3, {
      type: 'button',
      sub_type: 'url',
      index: '1',
      parameters: [text('a\tb')],
    });
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(url))),
      /button 1 .* contains a tab/,
    );
  });

  it('TPL-11: the rendered body must stay within 1024 characters', () => {
    const long = (n: number) =>
      replace(1, { type: 'body', parameters: [text('x'.repeat(n)), text('$1'), text('May 1')] });
    // the fixed text around {{1}} renders to 1024 - n characters with these other values
    const fixed = 'Hi , your order of $1 ships on May 1. Thank you!'.length;
    assert.equal(checkTemplateParameters(orderUpdate, send(long(1024 - fixed))), null);
    assert.match(
      detail(checkTemplateParameters(orderUpdate, send(long(1025 - fixed)))),
      /the body is 1025 characters once its parameters are filled in/,
    );
  });
});
