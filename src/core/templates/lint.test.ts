// Template lint: one test per definition rule (TPL-1..6, TPL-3a, TPL-LINT).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LEGACY_CATEGORIES_2019,
  mapTemplateCategory,
  suggestLanguage,
  type TemplateButton,
  type TemplateDefinition,
} from './definition.ts';
import { hasErrors, lintTemplate, lintTemplateSet, type TemplateFinding } from './lint.ts';

/** A clean utility template; each test breaks one thing. */
function utility(overrides: Partial<TemplateDefinition> = {}): TemplateDefinition {
  return {
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      {
        type: 'BODY',
        text: 'Hello {{1}}, your order {{2}} has shipped and will arrive within two days.',
        example: { body_text: [['Jane', 'A-1001']] },
      },
    ],
    ...overrides,
  };
}

function withBody(text: string, values: string[] = []): TemplateDefinition {
  return utility({
    components: [{ type: 'BODY', text, example: { body_text: [values] } }],
  });
}

function rules(findings: readonly TemplateFinding[]): string[] {
  return findings.map((f) => `${f.rule} ${f.severity}`);
}

function only(findings: readonly TemplateFinding[], rule: string): TemplateFinding[] {
  return findings.filter((f) => f.rule === rule);
}

describe('template lint', () => {
  it('TPL-LINT: a clean template has no findings; a non-object is an error', () => {
    assert.deepEqual(lintTemplate(utility()), []);
    const findings = lintTemplate(['not', 'a', 'template']);
    assert.deepEqual(rules(findings), ['TPL-LINT error']);
    assert.equal(hasErrors(findings), true);
  });

  it('TPL-LINT: warnings alone do not fail a lint, one error does', () => {
    const warning: TemplateFinding = { rule: 'TPL-2', severity: 'warning', message: 'legacy' };
    assert.equal(hasErrors([warning]), false);
    assert.equal(hasErrors([warning, { ...warning, severity: 'error' }]), true);
  });

  it('TPL-1: the name is 1-512 characters of a-z, 0-9 and _, and the finding names the bad characters', () => {
    const bad = lintTemplate(utility({ name: 'Order-Update' }));
    assert.deepEqual(rules(bad), ['TPL-1 error']);
    assert.match(bad[0]?.message ?? '', /"O", "-", "U"/);
    assert.match(bad[0]?.message ?? '', /try "order_update"/);
    assert.deepEqual(rules(lintTemplate(utility({ name: '' }))), ['TPL-1 error']);
    assert.deepEqual(rules(lintTemplate(utility({ name: 'a'.repeat(513) }))), ['TPL-1 error']);
    assert.deepEqual(lintTemplate(utility({ name: 'a'.repeat(512) })), []);
    assert.deepEqual(lintTemplate(utility({ name: 'summer_2026_v2' })), []);
  });

  it('TPL-2: current categories pass, legacy 2019 and 2022 values warn and map, others fail', () => {
    for (const category of ['MARKETING', 'UTILITY', 'AUTHENTICATION'])
      assert.equal(only(lintTemplate(utility({ category })), 'TPL-2').length, 0, category);
    const legacy = lintTemplate(utility({ category: 'TRANSACTIONAL' }));
    assert.deepEqual(rules(legacy), ['TPL-2 warning']);
    assert.match(legacy[0]?.message ?? '', /UTILITY/);
    assert.deepEqual(rules(lintTemplate(utility({ category: 'SHIPPING_UPDATE' }))), [
      'TPL-2 warning',
    ]);
    assert.deepEqual(rules(lintTemplate(utility({ category: 'PROMOTION' }))), ['TPL-2 error']);
    assert.deepEqual(rules(lintTemplate(utility({ category: '' }))), ['TPL-2 error']);
  });

  it('TPL-2: legacy categories map on import (2019 types → UTILITY; TRANSACTIONAL, OTP, MARKETING)', () => {
    assert.equal(LEGACY_CATEGORIES_2019.length, 11);
    for (const old of LEGACY_CATEGORIES_2019)
      assert.equal(mapTemplateCategory(old), 'UTILITY', old);
    assert.equal(mapTemplateCategory('TRANSACTIONAL'), 'UTILITY');
    assert.equal(mapTemplateCategory('OTP'), 'AUTHENTICATION');
    assert.equal(mapTemplateCategory('MARKETING'), 'MARKETING');
    assert.equal(mapTemplateCategory('utility'), 'UTILITY');
    assert.equal(mapTemplateCategory('PROMOTION'), null);
  });

  it('TPL-3: exactly one BODY, at most 1024 characters', () => {
    const none = lintTemplate(utility({ components: [] }));
    assert.deepEqual(rules(none), ['TPL-3 error']);
    assert.match(none[0]?.message ?? '', /exactly one BODY; none found/);
    const two = lintTemplate(
      utility({
        components: [
          { type: 'BODY', text: 'First body text here.' },
          { type: 'body', text: 'Second body text here.' },
        ],
      }),
    );
    assert.deepEqual(rules(two), ['TPL-3 error']);
    assert.match(two[0]?.message ?? '', /components\[0\], components\[1\]/);
    assert.deepEqual(rules(lintTemplate(withBody('x'.repeat(1025)))), ['TPL-3 error']);
    assert.deepEqual(lintTemplate(withBody('x'.repeat(1024))), []);
  });

  it('TPL-3: a TEXT header is at most 60 characters with at most one variable; media and location headers are formats', () => {
    const header = (h: Record<string, unknown>) =>
      lintTemplate(utility({ components: [{ type: 'HEADER', ...h }, ...utility().components] }));
    assert.deepEqual(header({ format: 'TEXT', text: 'Your order' }), []);
    assert.deepEqual(rules(header({ format: 'TEXT', text: 'x'.repeat(61) })), ['TPL-3 error']);
    const twoVars = header({
      format: 'TEXT',
      text: 'For {{1}} and {{2}}',
      example: { header_text: ['a', 'b'] },
    });
    assert.deepEqual(rules(twoVars), ['TPL-3 error']);
    assert.match(twoVars[0]?.message ?? '', /at most one variable; found \{\{1\}\}, \{\{2\}\}/);
    assert.deepEqual(header({ format: 'LOCATION' }), []);
    assert.deepEqual(header({ format: 'IMAGE', example: { header_handle: ['4::aW1h'] } }), []);
    assert.deepEqual(rules(header({ format: 'IMAGE' })), ['TPL-3 warning']);
    assert.deepEqual(rules(header({ format: 'AUDIO' })), ['TPL-3 error']);
    assert.deepEqual(rules(header({})), ['TPL-3 error']);
  });

  it('TPL-3: a footer is at most 60 characters and carries no variables', () => {
    const footer = (text: string) =>
      lintTemplate(utility({ components: [...utility().components, { type: 'FOOTER', text }] }));
    assert.deepEqual(footer('Reply STOP to unsubscribe'), []);
    assert.deepEqual(rules(footer('x'.repeat(61))), ['TPL-3 error']);
    const withVar = footer('Ref {{1}}');
    assert.deepEqual(rules(withVar), ['TPL-3 error']);
    assert.match(withVar[0]?.message ?? '', /FOOTER may not carry variables; found \{\{1\}\}/);
  });

  it("TPL-3a: AUTHENTICATION templates use Meta's preset body, an expiry footer and one OTP button", () => {
    const auth = (components: TemplateDefinition['components']) =>
      lintTemplate({ name: 'login_code', language: 'en', category: 'AUTHENTICATION', components });
    const body = { type: 'BODY', add_security_recommendation: true };
    const footer = { type: 'FOOTER', code_expiration_minutes: 10 };
    const otp = {
      type: 'BUTTONS',
      buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy' }],
    };
    assert.deepEqual(auth([body, footer, otp]), []);
    assert.deepEqual(rules(auth([{ type: 'BODY', text: 'Your code is {{1}} now.' }, otp])), [
      'TPL-3a error',
    ]);
    assert.deepEqual(rules(auth([body, { type: 'FOOTER', code_expiration_minutes: 91 }, otp])), [
      'TPL-3a error',
    ]);
    assert.deepEqual(rules(auth([body, { type: 'FOOTER', code_expiration_minutes: 0 }, otp])), [
      'TPL-3a error',
    ]);
    assert.deepEqual(rules(auth([body, footer])), ['TPL-3a error']);
    const badOtp = auth([body, { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'SMS' }] }]);
    assert.deepEqual(rules(badOtp), ['TPL-3a error']);
    assert.match(badOtp[0]?.message ?? '', /COPY_CODE, ONE_TAP, ZERO_TAP/);
    const header = auth([{ type: 'HEADER', format: 'TEXT', text: 'Code' }, body, otp]);
    assert.deepEqual(rules(header), ['TPL-3a error']);
    // and the preset fields belong to authentication templates only
    const misplaced = lintTemplate(
      utility({
        components: [
          { ...utility().components[0]!, add_security_recommendation: true },
          { type: 'FOOTER', text: 'Thanks', code_expiration_minutes: 5 },
        ],
      }),
    );
    assert.deepEqual(rules(misplaced), ['TPL-3a error', 'TPL-3a error']);
  });

  it('TPL-4: buttons: at most 10, per-type caps, labels of 25 characters, quick replies grouped', () => {
    const buttons = (list: TemplateButton[], category = 'UTILITY') =>
      lintTemplate(
        utility({
          category,
          components: [...utility().components, { type: 'BUTTONS', buttons: list }],
        }),
      );
    const qr = (text: string) => ({ type: 'QUICK_REPLY', text });
    const url = { type: 'URL', text: 'Track', url: 'https://example.com/track' };
    const phone = { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+15550100' };
    assert.deepEqual(buttons([qr('Yes'), qr('No'), url, phone]), []);
    assert.deepEqual(
      rules(buttons(Array.from({ length: 11 }, (_, i) => qr(`Option ${i}`)))),
      ['TPL-4 error', 'TPL-4 error'], // 11 in all, and 11 quick replies
    );
    assert.deepEqual(rules(buttons([url, url, url])), ['TPL-4 error']);
    assert.deepEqual(rules(buttons([phone, phone])), ['TPL-4 error']);
    const label = buttons([qr('This label is far too long to show')]);
    assert.deepEqual(rules(label), ['TPL-4 error']);
    assert.match(label[0]?.path ?? '', /buttons\[0\]\.text$/);
    const split = buttons([qr('Yes'), url, qr('No')]);
    assert.deepEqual(rules(split), ['TPL-4 error']);
    assert.match(
      split[0]?.message ?? '',
      /buttons\[2\] is a QUICK_REPLY separated from buttons\[0\] by buttons\[1\] \(URL\)/,
    );
    const coupon = { type: 'COPY_CODE', example: 'SAVE10' };
    assert.deepEqual(buttons([coupon], 'MARKETING'), []);
    assert.deepEqual(rules(buttons([coupon])), ['TPL-4 error']);
    assert.deepEqual(rules(buttons([coupon, coupon], 'MARKETING')), ['TPL-4 error']);
    assert.deepEqual(rules(buttons([{ type: 'OTP', otp_type: 'COPY_CODE' }])), ['TPL-4 error']);
  });

  it("TPL-4: Meta's other button and component types pass (and count); unknown ones are warned about", () => {
    const withButtons = (list: TemplateButton[], extra: TemplateDefinition['components'] = []) =>
      lintTemplate(
        utility({
          category: 'MARKETING',
          components: [...utility().components, ...extra, { type: 'BUTTONS', buttons: list }],
        }),
      );
    assert.deepEqual(
      withButtons([
        { type: 'FLOW', text: 'Book', flow_id: '1' },
        { type: 'MPM', text: 'View items' },
      ]),
      [],
    );
    assert.deepEqual(
      withButtons([{ type: 'QUICKREPLY', text: 'Yes' }]).map((f) => `${f.rule} ${f.severity}`),
      ['TPL-4 warning'],
    );
    assert.deepEqual(
      withButtons([{ type: 'FLOW', text: 'Book' }], [{ type: 'CAROUSEL', cards: [] }]),
      [],
    );
    assert.deepEqual(
      withButtons([{ type: 'FLOW', text: 'Book' }], [{ type: 'SIDEBAR' }]).map(
        (f) => `${f.rule} ${f.severity}`,
      ),
      ['TPL-3 warning'],
    );
  });

  it('TPL-4: a URL button is at most 2000 characters with one variable, only at the end', () => {
    const urlButton = (b: Record<string, unknown>) =>
      lintTemplate(
        utility({
          components: [
            ...utility().components,
            { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Open', ...b }] },
          ],
        }),
      );
    assert.deepEqual(urlButton({ url: 'https://example.com/o/{{1}}', example: ['42'] }), []);
    const middle = urlButton({ url: 'https://example.com/{{1}}/track', example: ['42'] });
    assert.deepEqual(rules(middle), ['TPL-4 error']);
    assert.match(middle[0]?.message ?? '', /only come at the end/);
    assert.deepEqual(rules(urlButton({ url: 'https://example.com/{{1}}/{{2}}', example: ['4'] })), [
      'TPL-4 error',
      'TPL-4 error',
      'TPL-5 error',
    ]);
    assert.deepEqual(rules(urlButton({ url: `https://example.com/${'a'.repeat(2000)}` })), [
      'TPL-4 error',
    ]);
  });

  it('TPL-5: positional variables are numbered from 1 without gaps', () => {
    const gap = lintTemplate(
      withBody('Hello {{1}}, your order {{3}} has shipped today to you.', ['a', 'b', 'c']),
    );
    assert.deepEqual(rules(gap), ['TPL-5 error']);
    assert.match(gap[0]?.message ?? '', /missing \{\{2\}\}/);
  });

  it('TPL-5: a variable may not open or close the body, and two variables may not touch', () => {
    const start = lintTemplate(
      withBody('{{1}} your order has shipped and arrives soon.', ['Jane']),
    );
    assert.deepEqual(rules(start), ['TPL-5 error']);
    assert.match(start[0]?.message ?? '', /may not start with a variable \(\{\{1\}\}\)/);
    const end = lintTemplate(withBody('Your order has shipped and arrives on {{1}}', ['Monday']));
    assert.deepEqual(rules(end), ['TPL-5 error']);
    assert.match(end[0]?.message ?? '', /may not end/);
    assert.deepEqual(
      lintTemplate(withBody('Your order has shipped and arrives on {{1}}.', ['Monday'])),
      [],
    );
    const touching = lintTemplate(
      withBody('Dear customer {{1}}{{2}} your order has shipped today.', ['a', 'b']),
    );
    assert.deepEqual(rules(touching), ['TPL-5 error']);
    assert.match(touching[0]?.message ?? '', /\{\{1\}\} and \{\{2\}\} touch/);
  });

  it('TPL-5: every variable needs an example value, named or positional', () => {
    const missing = lintTemplate(
      withBody('Hello {{1}}, your order {{2}} has shipped today.', ['Jane']),
    );
    assert.deepEqual(rules(missing), ['TPL-5 error']);
    assert.match(
      missing[0]?.message ?? '',
      /\{\{2\}\} needs an example value \(example\.body_text\[0\]\[1\]\)/,
    );
    const named = lintTemplate(
      utility({
        parameter_format: 'NAMED',
        components: [
          {
            type: 'BODY',
            text: 'Hello {{first_name}}, your order {{order_id}} has shipped today.',
            example: { body_text_named_params: [{ param_name: 'first_name', example: 'Jane' }] },
          },
        ],
      }),
    );
    assert.deepEqual(rules(named), ['TPL-5 error']);
    assert.match(named[0]?.message ?? '', /\{\{order_id\}\} needs an example value/);
    const url = lintTemplate(
      utility({
        components: [
          ...utility().components,
          { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Open', url: 'https://e.com/{{1}}' }] },
        ],
      }),
    );
    assert.deepEqual(rules(url), ['TPL-5 error']);
  });

  it('TPL-5: named variables need parameter_format NAMED, lower_snake names of at most 20 characters, never mixed', () => {
    const text = 'Hello {{first_name}}, your order {{2}} has shipped today.';
    const positionalFormat = lintTemplate(withBody(text, ['Jane', 'A1']));
    assert.ok(
      positionalFormat.some(
        (f) => f.rule === 'TPL-5' && /named variable \{\{first_name\}\}/.test(f.message),
      ),
    );
    const namedFormat = lintTemplate({
      ...withBody(text),
      parameter_format: 'NAMED',
    });
    assert.ok(
      namedFormat.some(
        (f) => f.rule === 'TPL-5' && /positional variable \{\{2\}\}/.test(f.message),
      ),
    );
    const longName = lintTemplate({
      ...withBody('Hello {{a_very_long_variable_name_x}}, welcome to our shop today.'),
      parameter_format: 'NAMED',
    });
    assert.ok(longName.some((f) => f.rule === 'TPL-5' && /not a valid variable/.test(f.message)));
    assert.deepEqual(rules(lintTemplate({ ...utility(), parameter_format: 'SNAKE' })), [
      'TPL-5 error',
    ]);
  });

  it('TPL-5 warning (TPL-LINT): many variables for a short text is advice, not an error (2388293)', () => {
    const dense = lintTemplate(
      withBody('Hi {{1}}, {{2}} at {{3}} on {{4}}.', ['a', 'b', 'c', 'd']),
    );
    assert.deepEqual(rules(dense), ['TPL-5 warning']);
    assert.match(dense[0]?.message ?? '', /2388293/);
    assert.equal(hasErrors(dense), false);
  });

  it('TPL-6: the language must be one Meta supports, with a suggestion for near misses', () => {
    for (const language of [
      'en',
      'en_US',
      'en_GB',
      'pt_BR',
      'es',
      'es_MX',
      'fr',
      'de',
      'id',
      'hi',
      'ar',
    ])
      assert.deepEqual(lintTemplate(utility({ language })), [], language);
    const hyphen = lintTemplate(utility({ language: 'en-US' }));
    assert.deepEqual(rules(hyphen), ['TPL-6 error']);
    assert.match(hyphen[0]?.message ?? '', /did you mean "en_US"/);
    assert.equal(suggestLanguage('PT-br'), 'pt_BR');
    assert.deepEqual(rules(lintTemplate(utility({ language: 'xx' }))), ['TPL-6 error']);
  });

  it('TPL-6: one name may exist in many languages, but each (name, language) only once in a set', () => {
    const results = lintTemplateSet([
      { source: 'a.json', value: utility() },
      { source: 'b.json', value: utility({ language: 'pt_BR' }) },
      { source: 'c.yaml', value: utility() },
    ]);
    assert.deepEqual(
      results.map((r) => [r.source, rules(r.findings)]),
      [
        ['a.json', []],
        ['b.json', []],
        ['c.yaml', ['TPL-6 error']],
      ],
    );
    assert.match(results[2]?.findings[0]?.message ?? '', /already defined in a\.json/);
  });
});
