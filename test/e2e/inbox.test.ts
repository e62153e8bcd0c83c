// The inbox in Chromium: sign in, a customer's message arrives live, reply and watch the ticks,
// the closed window turns the composer into a template picker (CSW-2/CSW-3), assign a department.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureAgent } from '../../src/app/agents.ts';
import { chromiumOrSkip, startE2E, type E2E } from '../helpers/browser.ts';
import { solidPng } from '../helpers/png.ts';
import {
  TWILIO_ACCOUNT,
  fakeTwilioConnection,
  inboundText,
  postTwilio,
} from '../helpers/twilio-webhooks.ts';

const HOUR = 3_600_000;
const CUSTOMER = '447700900123';
const EMAIL = 'ada.agent@demo.example';
const PASSWORD = 'a long enough passphrase';

const skip = chromiumOrSkip();

describe('the inbox in a browser', { skip }, () => {
  let e: E2E;
  let conversationId = '';

  before(async () => {
    e = await startE2E('inbox');
    await ensureAgent(e.t.parley.deps, {
      workspaceId: e.t.channel.workspaceId,
      email: EMAIL,
      name: 'Grace Agent',
      role: 'admin',
      password: PASSWORD,
    });
    // One with an image header and a tracking link whose end is per message (TPL-10).
    e.t.world.addTemplate(e.t.channel.providerKey, {
      name: 'parcel_ready',
      language: 'en',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvcG5n:demo'] } },
        {
          type: 'BODY',
          text: 'Hi {{1}}, your parcel is ready for collection.',
          example: { body_text: [['Ada']] },
        },
        {
          type: 'BUTTONS',
          buttons: [
            {
              type: 'URL',
              text: 'Track parcel',
              url: 'https://track.example.com/p/{{1}}',
              example: ['https://track.example.com/p/PX-1'],
            },
          ],
        },
      ],
    });
    // The sandbox's approved templates become Parley's (TPL-8 sync), as an admin would do once.
    const synced = await e.t.api('POST', '/v1/templates/sync', {});
    assert.equal(synced.status, 200, JSON.stringify(synced.json));
  });
  after(async () => e?.close());

  const contactIdOf = async (id: string): Promise<string> =>
    String((await e.t.api('GET', `/v1/conversations/${id}`)).json.contact.id);

  it('signs in with a wrong password refused in plain words, then with the right one', async () => {
    const { page } = e;
    await page.goto('/');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'The email or password is not right.' })
      .waitFor();
    await e.shot('login-refused');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    assert.match(page.url(), /\/inbox$/);
    await page.getByText('Grace Agent').waitFor();
    await e.shot('signed-in-empty-inbox');
  });

  it('shows a sandbox customer message live, without a reload, with its open window', async () => {
    const { page, t } = e;
    // A marker in the page proves later that no reload happened.
    await page.evaluate('window.parleyMarker = 42');
    await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      name: 'Ada Lovelace',
      text: 'Where is my order #1042?',
    });
    await t.settle();
    const row = page.locator('[data-conversation-id]', { hasText: 'Ada Lovelace' });
    await row.waitFor();
    await row.getByText('Where is my order #1042?').waitFor();
    await row.getByText(/closes in 2[0-9] h [0-9]+ m/).waitFor();
    await row.getByLabel('1 unread').waitFor();
    // Same document: the row came over the live stream, not from a page load.
    assert.equal(await page.evaluate('window.parleyMarker'), 42);
    conversationId = String(await row.getAttribute('data-conversation-id'));
    await e.shot('message-arrived-live');
  });

  it('CSW-3: replies inside the window (a canned response by shortcut) and the ticks go from sent to delivered to read (blue)', async () => {
    const { page, t } = e;
    const canned = await t.api('POST', '/v1/canned-responses', {
      shortcut: 'ships',
      text: 'It ships today, Ada.',
    });
    assert.equal(canned.status, 201, JSON.stringify(canned.json));
    await page.locator(`[data-conversation-id="${conversationId}"]`).click();
    const transcript = page.getByTestId('transcript');
    await transcript.getByText('Where is my order #1042?').waitFor();
    // A canned response by its shortcut: "/ships" then Tab.
    const message = page.getByLabel('Message', { exact: true });
    await message.fill('/ships');
    await page.getByLabel('Canned responses').waitFor();
    await message.press('Tab');
    assert.equal(await message.inputValue(), 'It ships today, Ada.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const reply = transcript.locator('li.bubble.outbound', { hasText: 'It ships today, Ada.' });
    await reply.waitFor();
    await e.shot('reply-queued');
    await t.settle();
    await t.settle(15_000);
    await reply.locator('[data-testid="ticks"][aria-label="Read"]').waitFor();
    assert.equal(await reply.getAttribute('data-status'), 'read');
    const tick = reply.getByTestId('ticks');
    assert.equal(await tick.textContent(), '✓✓');
    // Runs in the page: the root tsconfig has no DOM types, so the page's globals are declared here.
    type PageGlobals = { getComputedStyle(element: unknown): { color: string } };
    const colour = await tick.evaluate(
      (el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).color,
    );
    assert.equal(colour, 'rgb(29, 140, 248)', 'read ticks are blue');
    await e.shot('reply-read-blue-ticks');
  });

  it('attaches an image with a caption: preview, remove, attach again, send; the transcript shows it with ticks and the sandbox received the file', async () => {
    const { page, t } = e;
    const png = solidPng(96, [230, 126, 34]);
    const file = { name: 'parcel.png', mimeType: 'image/png', buffer: png };
    const attach = page.getByLabel('Attach a file');
    // LIM-6: too big for an image — refused in plain words, nothing sent.
    const sentBefore = t.world.outbound(t.channel.providerKey).length;
    await attach.setInputFiles({
      name: 'huge.png',
      mimeType: 'image/png',
      buffer: Buffer.concat([png, Buffer.alloc(5 * 1024 * 1024)]),
    });
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText(/image file is \d+ bytes; WhatsApp allows at most 5242880/)
      .waitFor();
    await e.shot('attachment-too-big');
    await t.settle();
    assert.equal(t.world.outbound(t.channel.providerKey).length, sentBefore);
    await page.getByRole('button', { name: 'Remove the attachment huge.png' }).click();
    await attach.setInputFiles(file);
    const preview = page.getByTestId('attachment-preview');
    await preview.getByRole('img', { name: 'Preview of parcel.png' }).waitFor();
    await preview.getByText('parcel.png').waitFor();
    await page.getByRole('button', { name: 'Remove the attachment parcel.png' }).click();
    await preview.waitFor({ state: 'detached' });
    // Keyboard: the labelled file input takes focus like any control.
    await attach.focus();
    assert.equal(
      await attach.evaluate((el) => el === (el.ownerDocument as any).activeElement),
      true,
    );
    await attach.setInputFiles(file);
    await preview.waitFor();
    await page.getByLabel('Message', { exact: true }).fill('Your parcel at the door');
    await e.shot('attachment-chosen');
    const before = t.world.outbound(t.channel.providerKey).length;
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await preview.waitFor({ state: 'detached' });
    const bubble = page
      .getByTestId('transcript')
      .locator('li.bubble.outbound', { hasText: 'Your parcel at the door' });
    await bubble.waitFor();
    const image = bubble.locator('img.media');
    await image.waitFor();
    // The preview really loaded from Parley (a broken image has no natural width).
    await page.waitForFunction(
      (el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0,
      await image.elementHandle(),
    );
    await t.settle();
    await t.settle(15_000);
    await bubble
      .locator(
        '[data-testid="ticks"][aria-label="Delivered"], [data-testid="ticks"][aria-label="Read"]',
      )
      .waitFor();
    const sent = t.world.outbound(t.channel.providerKey).slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.type, 'image');
    const content = sent[0]?.content as { link: string; caption: string };
    assert.equal(content.caption, 'Your parcel at the door');
    // What the provider fetches by that link, with no key: the very bytes the agent attached.
    const link = new URL(content.link);
    const fetched = await t.parley.http.inject({
      method: 'GET',
      url: `${link.pathname}${link.search}`,
    });
    assert.equal(fetched.statusCode, 200);
    assert.deepEqual(fetched.rawPayload, png);
    await e.shot('attachment-sent');
  });

  it('assigns the conversation to a department, and the list shows it', async () => {
    const { page, t } = e;
    const created = await t.api('POST', '/v1/departments', { name: 'Billing desk' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await page.reload();
    await page.getByLabel('Department', { exact: true }).selectOption({ label: 'Billing desk' });
    const row = page.locator(`[data-conversation-id="${conversationId}"]`);
    await row.getByText('Billing desk').waitFor();
    const stored = await t.api('GET', `/v1/conversations?department=${created.json.id}`);
    assert.deepEqual(
      stored.json.items.map((c: { id: string }) => c.id),
      [conversationId],
    );
    await e.shot('assigned-to-department');
  });

  it('OPT-2: keeps an internal note beside the messages and records a marketing opt-in with its wording from the contact panel', async () => {
    const { page, t } = e;
    await page.getByRole('tab', { name: 'Internal note' }).click();
    await page.getByLabel('Internal note', { exact: true }).fill('Asked twice already: priority.');
    await page.getByRole('button', { name: 'Add note' }).click();
    const note = page.getByTestId('transcript').locator('li.bubble.note');
    await note.getByText('Asked twice already: priority.').waitFor();
    await note.getByText(/Internal note · Grace Agent/).waitFor();
    await page.getByRole('tab', { name: 'Reply' }).click();

    const panel = page.getByRole('complementary', { name: 'Contact' });
    const optIn = panel.getByRole('form', { name: 'Record opt-in' });
    await optIn.getByLabel('Purpose').selectOption('marketing');
    await optIn.getByRole('button', { name: 'Record opt-in' }).click();
    // OPT-2: without the wording the person agreed to, the browser itself holds the form back.
    assert.equal(await panel.locator('.history li', { hasText: 'Opt-in · marketing' }).count(), 0);
    await optIn
      .getByLabel('Consent text the person was shown')
      .fill('Yes, send me offers from Parley Demo Shop on WhatsApp.');
    await optIn.getByLabel('Evidence note').fill('Said yes at the counter');
    await optIn.getByRole('button', { name: 'Record opt-in' }).click();
    await panel.locator('.history li', { hasText: 'Opt-in · marketing' }).waitFor();
    const consent = await t.api('GET', `/v1/contacts/${await contactIdOf(conversationId)}/consent`);
    const marketing = consent.json.channels[0].purposes.marketing;
    assert.equal(marketing.allowed, true, JSON.stringify(marketing));
    await e.shot('note-and-opt-in');
    // The customer never sees a note: nothing new went to WhatsApp.
    const sent = t.world.outbound(t.channel.providerKey).map((m) => JSON.stringify(m));
    assert.equal(
      sent.some((m) => m.includes('Asked twice')),
      false,
    );
  });

  it('CSW-2: past 24 h the composer becomes a template picker, and a template is sent', async () => {
    const { page, t } = e;
    await t.clock.advance(24 * HOUR + 60_000);
    await page.reload();
    await page.getByTestId('conversation-window').getByText('window closed').waitFor();
    assert.equal(await page.getByLabel('Message', { exact: true }).count(), 0, 'no free text');
    const picker = page.getByLabel('Template', { exact: true });
    const option = picker.locator('option', { hasText: 'order_update (en,' });
    await picker.selectOption(String(await option.first().getAttribute('value')));
    const inputs = page.locator('fieldset.parameters input');
    assert.equal(await inputs.count(), 3);
    await inputs.nth(0).fill('Ada');
    await inputs.nth(1).fill('1042');
    await inputs.nth(2).fill('out for delivery');
    await page
      .getByTestId('template-preview')
      .getByText(/Ada.*1042.*out for delivery/s)
      .waitFor();
    await page
      .getByTestId('consent')
      .getByText(/may be sent/)
      .waitFor();
    await e.shot('template-picker-preview');
    await page.getByRole('button', { name: 'Send template' }).click();
    const bubble = page.locator('li.bubble.outbound[data-status]', { hasText: '1042' }).last();
    await bubble.waitFor();
    await t.settle();
    await t.settle(15_000);
    await bubble
      .locator(
        '[data-testid="ticks"][aria-label="Delivered"], [data-testid="ticks"][aria-label="Read"]',
      )
      .waitFor();
    const sent = t.world.outbound(t.channel.providerKey).at(-1);
    assert.equal(sent?.type, 'template');
    await e.shot('template-sent');
  });

  it('TPL-10: a template with an image header and a tracking link asks for both, previews them, and sends them as components', async () => {
    const { page, t } = e;
    const picker = page.getByLabel('Template', { exact: true });
    const option = picker.locator('option', { hasText: 'parcel_ready (en,' });
    await picker.selectOption(String(await option.first().getAttribute('value')));
    const send = page.getByRole('button', { name: 'Send template' });
    await page.getByLabel('Body {{1}}').fill('Ada');
    assert.equal(await send.isDisabled(), true, 'the header and the link are still missing');
    const header = solidPng(120, [52, 152, 219]);
    await page
      .getByLabel('Header image file')
      .setInputFiles({ name: 'shelf.png', mimeType: 'image/png', buffer: header });
    await page
      .getByTestId('template-preview-header')
      .getByRole('img', { name: 'Header image' })
      .waitFor();
    await page.getByLabel(/Button “Track parcel” link ending/).fill('PX-2093');
    await page
      .getByTestId('template-preview-buttons')
      .getByText('Track parcel: https://track.example.com/p/PX-2093')
      .waitFor();
    await page
      .getByTestId('template-preview')
      .getByText(/Hi Ada, your parcel is ready/)
      .waitFor();
    await e.shot('template-media-header-and-link');
    const before = t.world.outbound(t.channel.providerKey).length;
    await send.click();
    await page
      .locator('li.bubble.outbound[data-status]', { hasText: 'your parcel is ready' })
      .last()
      .waitFor();
    await t.settle();
    const sent = t.world.outbound(t.channel.providerKey).slice(before);
    assert.equal(sent.length, 1, JSON.stringify(sent));
    const template = sent[0]?.content as {
      name: string;
      components: Array<{ type: string; sub_type?: string; index?: string; parameters: any[] }>;
    };
    assert.equal(template.name, 'parcel_ready');
    const image = template.components.find((c) => c.type === 'header')?.parameters[0]?.image;
    const link = new URL(String(image?.link));
    const fetched = await t.parley.http.inject({
      method: 'GET',
      url: `${link.pathname}${link.search}`,
    });
    assert.deepEqual(fetched.rawPayload, header, 'the provider fetches the uploaded header image');
    assert.deepEqual(
      template.components.find((c) => c.type === 'button'),
      {
        type: 'button',
        sub_type: 'url',
        index: '0',
        parameters: [{ type: 'text', text: 'PX-2093' }],
      },
    );
    await e.shot('template-media-header-sent');
  });

  it('CSW-2: parks a reply with an image-header template to re-engage, and the customer answering releases it', async () => {
    const { page, t } = e;
    const picker = page.getByLabel('Template', { exact: true });
    const option = picker.locator('option', { hasText: 'parcel_ready (en,' });
    await picker.selectOption(String(await option.first().getAttribute('value')));
    await page.getByText('Park a reply until the customer answers').click();
    await page.getByLabel('Reply to hold').fill('Your refund was approved today.');
    const reengage = page.getByLabel('Send the chosen template now to re-engage');
    const park = page.getByRole('button', { name: 'Park reply' });
    assert.equal(await reengage.isDisabled(), false, 'a media-header template can re-engage');
    assert.equal(await reengage.isChecked(), true);
    assert.equal(await park.isDisabled(), true, 'the template form is not filled in yet');
    await page.getByText(/Fill in the template above/).waitFor();
    const header = solidPng(80, [155, 89, 182]);
    await page
      .getByLabel('Header image file')
      .setInputFiles({ name: 'refund.png', mimeType: 'image/png', buffer: header });
    await page
      .getByTestId('template-preview-header')
      .getByRole('img', { name: 'Header image' })
      .waitFor();
    await page.getByLabel('Body {{1}}').fill('Ada');
    await page.getByLabel(/Button “Track parcel” link ending/).fill('RF-77');
    const before = t.world.outbound(t.channel.providerKey).length;
    await park.click();
    const held = page.getByTestId('parked-reply');
    await held.getByText('Your refund was approved today.').waitFor();
    assert.equal(await picker.inputValue(), '', 'the template went out: the picker starts afresh');
    await e.shot('reply-parked');
    await t.settle(5_000);
    const sent = t.world.outbound(t.channel.providerKey).slice(before);
    assert.equal(sent.length, 1, 'the re-engagement template only; the reply is held');
    const template = sent[0]?.content as {
      name: string;
      components: Array<{ type: string; parameters: any[] }>;
    };
    assert.equal(template.name, 'parcel_ready');
    const link = new URL(
      String(template.components.find((c) => c.type === 'header')?.parameters[0]?.image?.link),
    );
    const fetched = await t.parley.http.inject({
      method: 'GET',
      url: `${link.pathname}${link.search}`,
    });
    assert.deepEqual(fetched.rawPayload, header, 'the uploaded header image goes out');
    assert.deepEqual(template.components.find((c) => c.type === 'button')?.parameters, [
      { type: 'text', text: 'RF-77' },
    ]);

    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Any news?' });
    await t.settle();
    await t.settle(15_000);
    const transcript = page.getByTestId('transcript');
    await transcript.getByText('Any news?').waitFor();
    await transcript
      .locator('li.bubble.outbound[data-status]', { hasText: 'Your refund was approved today.' })
      .waitFor();
    await held.waitFor({ state: 'detached' });
    const last = t.world.outbound(t.channel.providerKey).at(-1);
    assert.match(JSON.stringify(last), /Your refund was approved today\./);
    await e.shot('parked-reply-released');
  });

  it('works on a phone-sized screen: the list, then the conversation with a way back', async () => {
    const { page } = e;
    await page.setViewportSize({ width: 390, height: 780 });
    await page.goto('/inbox');
    const row = page.locator(`[data-conversation-id="${conversationId}"]`);
    await row.waitFor();
    await e.shot('phone-list');
    await row.click();
    await page.getByRole('button', { name: 'Back to the list' }).waitFor();
    assert.equal(await page.locator('.inbox-list').isVisible(), false);
    await e.shot('phone-conversation');
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await row.waitFor();
  });

  it('a Twilio message with two photos and a receipt shows all three in the transcript, each previewed like the first', async () => {
    const { page, t } = e;
    await page.setViewportSize({ width: 1280, height: 800 });
    const tw = await fakeTwilioConnection(t);
    try {
      const files = [
        { bytes: solidPng(64, [52, 152, 219]), type: 'image/png' },
        { bytes: solidPng(64, [46, 204, 113]), type: 'image/png' },
        { bytes: Buffer.from('%PDF-1.4 receipt'), type: 'application/pdf' },
      ];
      const fields: Record<string, string> = {
        MessageType: 'image',
        NumMedia: String(files.length),
        ProfileName: 'Grace Hopper',
      };
      files.forEach((file, n) => {
        const path = `/2010-04-01/Accounts/${TWILIO_ACCOUNT}/Messages/MM${'5'.repeat(32)}/Media/ME${String(n).repeat(32)}`;
        fields[`MediaUrl${n}`] = tw.fake.addMedia(path, file.bytes, file.type);
        fields[`MediaContentType${n}`] = file.type;
      });
      const inbound = inboundText('447700900555', 'Both sides of the box and the receipt', fields);
      const posted = await postTwilio(t.parley.http, tw.webhookUrl, inbound);
      assert.equal(posted.status, 200, posted.text);
      await t.settle();
      assert.equal(await t.parley.media.runOnce(), files.length);
      await page.goto('/inbox');
      const row = page.locator('[data-conversation-id]', { hasText: 'Grace Hopper' });
      await row.click();
      const bubble = page
        .getByTestId('transcript')
        .locator('li.bubble.inbound', { hasText: 'Both sides of the box and the receipt' });
      await bubble.waitFor();
      const images = bubble.locator('img.media');
      await images.nth(1).waitFor();
      assert.equal(await images.count(), 2, 'both photos, not only the first');
      for (const image of await images.all()) {
        // Each preview really loaded from Parley's copy (a broken image has no natural width).
        await page.waitForFunction(
          (el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0,
          await image.elementHandle(),
        );
      }
      const receipt = bubble.getByRole('link', { name: /^Document:/ });
      await receipt.waitFor();
      const served = await t.parley.http.inject({
        method: 'GET',
        url: String(await receipt.getAttribute('href')),
        headers: { authorization: `Bearer ${t.apiKey}` },
      });
      assert.equal(served.statusCode, 200);
      assert.deepEqual(served.rawPayload, files[2]!.bytes);
      await e.shot('twilio-several-media');
    } finally {
      await tw.fake.close();
    }
  });
});
