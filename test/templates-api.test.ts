// The template registry through the API and the sandbox: definitions checked (TPL-1..6), legacy
// categories mapped (TPL-2), the lifecycle driven by submission, webhooks and sync (TPL-8), edit
// limits (TPL-9), creation limits (TPL-7), parameters checked (TPL-10/11) and rendering (TPL-12).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { createMetaChannel, postSigned, processAcknowledged } from './helpers/meta-webhooks.ts';
import { saveTemplate } from '../src/app/template-registry.ts';
import { draftTemplate } from '../src/core/templates/lifecycle.ts';

const HOUR = 3_600_000;
const CUSTOMER = '447700900123';

const pickupNotice = (body = 'Hi {{1}}, your order {{2}} is ready for pickup.') => ({
  name: 'pickup_notice',
  language: 'en_GB',
  category: 'UTILITY',
  components: [
    { type: 'BODY', text: body, example: { body_text: [['Ada', '1042']] } },
    { type: 'FOOTER', text: 'Parley Demo Shop' },
  ],
});

const pickupSend = (name = 'Ada', order = '1042') => ({
  type: 'template',
  template: {
    name: 'pickup_notice',
    language: { code: 'en_GB' },
    components: [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: name },
          { type: 'text', text: order },
        ],
      },
    ],
  },
});

describe('the template registry through the API', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Hello' });
    await t.settle();
  });
  after(async () => t.close());

  const send = (content: Record<string, unknown>) =>
    t.api('POST', '/v1/messages', { channelId: t.channel.id, to: CUSTOMER, ...content });
  const templateNamed = async (name: string, language: string) => {
    const list = await t.api('GET', `/v1/templates?name=${name}&language=${language}`);
    return list.json.items[0];
  };

  it("TPL-8: the sandbox's approved demo templates are in the registry from the start", async () => {
    const list = await t.api('GET', '/v1/templates');
    assert.equal(list.status, 200);
    const names = list.json.items.map((x: { name: string; language: string }) =>
      [x.name, x.language].join('/'),
    );
    assert.ok(names.includes('welcome_offer/en'));
    // Per-language variants: one name, one template per language.
    assert.ok(
      ['order_update/en', 'order_update/de', 'order_update/pt_BR'].every((n) => names.includes(n)),
    );
    const german = await send({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'de' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Jonas' },
              { type: 'text', text: '48213' },
              { type: 'text', text: 'unterwegs' },
            ],
          },
        ],
      },
    });
    assert.equal(german.status, 202, JSON.stringify(german.json));
    assert.equal(
      german.json.text,
      'Hallo Jonas, Ihre Bestellung #48213 ist jetzt unterwegs. Antworten Sie hier, wenn Sie Fragen haben.',
    );
    await t.settle(15_000);
    const offer = await templateNamed('welcome_offer', 'en');
    assert.equal(offer.status, 'APPROVED');
    assert.equal(offer.category, 'MARKETING');
    assert.equal(offer.channelId, t.channel.id);
  });

  it('TPL-1/TPL-6/TPL-LINT: a definition breaking the rules is refused with every finding named, and nothing is stored', async () => {
    const bad = await t.api('POST', '/v1/templates', {
      ...pickupNotice(),
      name: 'Pickup-Notice',
      language: 'en-GB',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'template_invalid');
    const rules = bad.json.findings
      .filter((f: { severity: string }) => f.severity === 'error')
      .map((f: { rule: string }) => f.rule);
    assert.deepEqual([...new Set(rules)].sort(), ['TPL-1', 'TPL-6']);
    assert.match(bad.json.detail, /TPL-6 .*en_GB/);
    assert.equal((await t.api('GET', '/v1/templates?name=Pickup-Notice')).json.items.length, 0);

    const lint = await t.api('POST', '/v1/templates/lint', {
      ...pickupNotice('{{1}} is ready'),
    });
    assert.equal(lint.status, 200);
    assert.equal(lint.json.valid, false);
    assert.ok(lint.json.findings.some((f: { rule: string }) => f.rule === 'TPL-5'));
  });

  it('TPL-2: a legacy category is stored mapped, with a warning', async () => {
    const created = await t.api('POST', '/v1/templates', {
      ...pickupNotice(),
      name: 'legacy_shipping',
      category: 'SHIPPING_UPDATE',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.category, 'UTILITY');
    assert.equal(created.json.status, 'DRAFT');
    assert.ok(
      created.json.findings.some(
        (f: { rule: string; severity: string }) => f.rule === 'TPL-2' && f.severity === 'warning',
      ),
    );
  });

  it('TPL-8/TPL-9: a draft cannot be sent; submitted it goes PENDING, the review webhook approves it, then it sends rendered (TPL-12)', async () => {
    const created = await t.api('POST', '/v1/templates', {
      ...pickupNotice(),
      channelId: t.channel.id,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = created.json.id as string;

    const draft = await send(pickupSend());
    assert.equal(draft.status, 422);
    assert.equal(draft.json.code, 'template_not_approved');
    assert.match(draft.json.detail, /DRAFT, not APPROVED.*132001/);

    const edited = await t.api('PATCH', `/v1/templates/${id}`, {
      components: pickupNotice('Hello {{1}}, order {{2}} is ready for pickup.').components,
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.json));
    assert.equal(edited.json.status, 'DRAFT', 'drafts change freely');

    const submitted = await t.api('POST', `/v1/templates/${id}/submit`, {});
    assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
    assert.equal(submitted.json.status, 'PENDING');
    assert.ok(submitted.json.providerTemplateId);
    assert.equal(
      t.world.template(t.channel.providerKey, 'pickup_notice', 'en_GB')?.status,
      'PENDING',
    );
    assert.equal((await send(pickupSend())).json.code, 'template_not_approved');

    await t.settle(6_000);
    const approved = await t.api('GET', `/v1/templates/${id}`);
    assert.equal(approved.json.status, 'APPROVED');

    const sent = await send(pickupSend());
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.text, 'Hello Ada, order 1042 is ready for pickup.\nParley Demo Shop');
    await t.settle(15_000);
    const delivered = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.ok(['delivered', 'read'].includes(delivered.json.status), delivered.json.status);
  });

  it('TPL-9: an approved template allows one edit per 24 h, never a category change, and none while in review', async () => {
    const id = (await templateNamed('pickup_notice', 'en_GB')).id as string;
    const first = await t.api('PATCH', `/v1/templates/${id}`, {
      components: pickupNotice('Hi {{1}}, order {{2}} waits for you at the counter.').components,
    });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json.status, 'PENDING', 'an edit goes back to review');

    const inReview = await t.api('PATCH', `/v1/templates/${id}`, {
      components: pickupNotice('Hi {{1}}, order {{2}} is here.').components,
    });
    assert.equal(inReview.status, 409);
    assert.equal(inReview.json.code, 'template_not_editable');
    assert.match(inReview.json.detail, /Only APPROVED, REJECTED or PAUSED .* PENDING/);

    await t.settle(6_000);
    const second = await t.api('PATCH', `/v1/templates/${id}`, {
      components: pickupNotice('Hi {{1}}, order {{2}} is here.').components,
    });
    assert.equal(second.status, 409);
    assert.match(second.json.detail, /TPL-9: Approved templates allow 1 edit per 24 hours/);

    await t.clock.advance(25 * HOUR);
    const category = await t.api('PATCH', `/v1/templates/${id}`, { category: 'MARKETING' });
    assert.equal(category.status, 409);
    assert.match(category.json.detail, /category cannot be changed/);
    const allowed = await t.api('PATCH', `/v1/templates/${id}`, {
      components: pickupNotice('Hi {{1}}, order {{2}} is here.').components,
    });
    assert.equal(allowed.status, 200);
    await t.settle(6_000);
  });

  it('TPL-8: pauses come by webhook: 3 h, then 6 h, then the third disables the template (TPL-9 refusals name them)', async () => {
    await t.world.setTemplateStatus(t.channel.providerKey, 'order_update', 'en', 'PAUSED');
    await t.settle();
    const paused = await send({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ada' },
              { type: 'text', text: '1' },
              { type: 'text', text: 'shipped' },
            ],
          },
        ],
      },
    });
    assert.equal(paused.status, 422);
    assert.equal(paused.json.code, 'template_paused');
    const until = new Date(t.clock.now() + 3 * HOUR).toISOString();
    assert.match(
      paused.json.detail,
      new RegExp(`until ${until.replace(/[.]/g, '\\.')} \\(pause 1`),
    );

    await t.clock.advance(3 * HOUR);
    const view = await templateNamed('order_update', 'en');
    assert.equal(view.effectiveStatus, 'APPROVED', 'a pause ends by itself');
    assert.equal(view.pauseCount, 1);

    await t.world.setTemplateStatus(t.channel.providerKey, 'order_update', 'en', 'PAUSED');
    await t.settle();
    const second = await templateNamed('order_update', 'en');
    assert.equal(second.pauseCount, 2);
    assert.equal(second.pausedUntil, new Date(t.clock.now() + 6 * HOUR).toISOString());

    await t.clock.advance(6 * HOUR);
    await t.world.setTemplateStatus(t.channel.providerKey, 'order_update', 'en', 'PAUSED');
    await t.settle();
    const third = await templateNamed('order_update', 'en');
    assert.equal(third.status, 'DISABLED');
    const disabled = await send({
      type: 'template',
      template: { name: 'order_update', language: { code: 'en' } },
    });
    assert.equal(disabled.json.code, 'template_disabled');
  });

  it('TPL-8: a periodic sync finds what webhooks missed: new templates, and status changes', async () => {
    t.world.addTemplate(t.channel.providerKey, {
      name: 'flash_sale',
      language: 'fr',
      category: 'MARKETING',
      components: [{ type: 'BODY', text: 'Soldes flash aujourd’hui seulement !' }],
    });
    const sync = await t.api('POST', '/v1/templates/sync', { channelId: t.channel.id });
    assert.equal(sync.status, 200);
    assert.equal(sync.json.items[0].created, 1);
    assert.equal((await templateNamed('flash_sale', 'fr')).status, 'APPROVED');

    await t.world.setTemplateStatus(t.channel.providerKey, 'flash_sale', 'fr', 'REJECTED', {
      notify: false,
    });
    await t.parley.templateSync.syncAll();
    assert.equal((await templateNamed('flash_sale', 'fr')).status, 'REJECTED');
  });

  it('TPL-10/TPL-11: parameters are checked before queuing, naming the component and parameter', async () => {
    const newline = await send({
      type: 'template',
      template: {
        name: 'welcome_offer',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Sofia\nand friends' },
              { type: 'text', text: '15%' },
            ],
          },
        ],
      },
    });
    assert.equal(newline.status, 422);
    assert.equal(newline.json.code, 'template_params');
    assert.match(
      newline.json.detail,
      /body parameter 1 \(\{\{1\}\}\) text contains a newline.*132012/,
    );

    const named = await send({
      type: 'template',
      template: {
        name: 'delivery_update',
        language: { code: 'en_GB' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', parameter_name: 'customer_name', text: 'Oliver' },
              { type: 'text', parameter_name: 'tracking_no', text: 'PX-1' },
              { type: 'text', parameter_name: 'delivery_date', text: '14 March' },
            ],
          },
        ],
      },
    });
    assert.equal(named.json.code, 'template_params');
    assert.match(named.json.detail, /parameter_name "tracking_no" is not a variable/);

    const header = await send({
      type: 'template',
      template: {
        name: 'spring_sale',
        language: { code: 'es' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Lucía' },
              { type: 'text', text: '30%' },
            ],
          },
        ],
      },
    });
    assert.equal(header.json.code, 'template_params');
    assert.match(header.json.detail, /^header: .*IMAGE header/);
  });

  it('TPL-12: preview renders with the given parameters and says whether a send would pass', async () => {
    const id = (await templateNamed('appointment_reminder', 'en_US')).id as string;
    const preview = await t.api('POST', `/v1/templates/${id}/preview`, {
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Priya' },
            { type: 'text', text: 'Tuesday 3 March' },
            { type: 'text', text: '10:30' },
          ],
        },
      ],
    });
    assert.equal(preview.status, 200);
    assert.equal(preview.json.valid, true);
    assert.equal(
      preview.json.text,
      'Appointment reminder\nHi Priya, this is a reminder of your appointment on Tuesday 3 March at 10:30. Tap a button below to confirm or reschedule.\n[Confirm]\n[Reschedule]',
    );
    const missing = await t.api('POST', `/v1/templates/${id}/preview`, {});
    assert.equal(missing.json.valid, false);
    assert.equal(missing.json.problem.reason, 'template_params');
    assert.match(missing.json.rendered.body, /Hi \{\{1\}\}, this is a reminder/);
  });

  it('TPL-7: a WABA that created 100 templates in the last hour takes no more now, and says when', async () => {
    const store = t.parley.deps.store;
    const now = t.clock.now();
    for (let i = 0; i < 100; i++)
      await saveTemplate(
        store,
        {
          workspaceId: t.channel.workspaceId,
          channelId: t.channel.id,
          name: `bulk_${i}`,
          language: 'en',
          category: 'UTILITY',
          status: 'PENDING',
          parameterFormat: 'POSITIONAL',
          components: [{ type: 'BODY', text: 'Bulk notice.' }],
          providerTemplateId: `90${i}`,
        },
        {
          state: { ...draftTemplate('UTILITY'), status: 'PENDING' },
          submittedAt: now - 30 * 60_000,
        },
        now,
      );
    const created = await t.api('POST', '/v1/templates', {
      ...pickupNotice(),
      name: 'one_too_many',
      channelId: t.channel.id,
    });
    const refused = await t.api('POST', `/v1/templates/${created.json.id}/submit`, {});
    assert.equal(refused.status, 409, JSON.stringify(refused.json));
    assert.match(refused.json.detail, /TPL-7: .*100 templates were created in the last hour/);
    assert.match(
      refused.json.detail,
      new RegExp(new Date(now + 30 * 60_000).toISOString().slice(0, 16)),
    );
    assert.equal(t.world.template(t.channel.providerKey, 'one_too_many', 'en_GB'), undefined);
  });

  it('deleting a submitted template deletes it at the provider too', async () => {
    const id = (await templateNamed('pickup_notice', 'en_GB')).id as string;
    const deleted = await t.api('DELETE', `/v1/templates/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await t.api('GET', `/v1/templates/${id}`)).status, 404);
    assert.equal(
      t.world.template(t.channel.providerKey, 'pickup_notice', 'en_GB')?.status,
      'DELETED',
    );
  });
});

describe('template webhooks from Meta (TPL-8)', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  function notice(wabaId: string, field: string, value: Record<string, unknown>, time: number) {
    return Buffer.from(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: wabaId, time, changes: [{ field, value }] }],
      }),
    );
  }

  it('TPL-8: status, category and quality webhooks move the template, and a late event changes nothing', async () => {
    const meta = await createMetaChannel(t, {
      providerKey: '310000000001',
      wabaId: '410000000001',
    });
    const created = await t.api('POST', '/v1/templates', {
      ...pickupNotice(),
      channelId: meta.channelId,
    });
    assert.equal(created.status, 201);
    const id = created.json.id as string;
    const now = Math.floor(t.clock.now() / 1000);
    const post = async (field: string, value: Record<string, unknown>, time = now) => {
      const r = await postSigned(
        t,
        meta.connectionId,
        notice('410000000001', field, value, time),
        meta.appSecret,
      );
      assert.equal(r.status, 200);
      await processAcknowledged(t);
      return (await t.api('GET', `/v1/templates/${id}`)).json;
    };
    const base = { message_template_name: 'pickup_notice', message_template_language: 'en_GB' };
    assert.equal(
      (await post('message_template_status_update', { ...base, event: 'APPROVED' })).status,
      'APPROVED',
    );
    const recategorised = await post('template_category_update', {
      ...base,
      previous_category: 'UTILITY',
      new_category: 'MARKETING',
    });
    assert.equal(recategorised.category, 'MARKETING');
    const red = await post('message_template_quality_update', {
      ...base,
      previous_quality_score: 'GREEN',
      new_quality_score: 'RED',
    });
    assert.equal(red.quality, 'RED');
    const rejected = await post('message_template_status_update', {
      ...base,
      event: 'REJECTED',
      reason: 'INVALID_FORMAT',
    });
    assert.equal(rejected.status, 'REJECTED');
    assert.equal(rejected.rejectionReason, 'INVALID_FORMAT');
    const late = await post(
      'message_template_status_update',
      { ...base, event: 'APPROVED' },
      now - 3600,
    );
    assert.equal(late.status, 'REJECTED', 'an event older than the status applied changes nothing');
  });
});
