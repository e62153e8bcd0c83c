// A keyword flow in the inbox, in Chromium: the bot answers a customer and hands off to a person,
// and the agent sees both without a reload.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureAgent } from '../../src/app/agents.ts';
import { chromiumOrSkip, startE2E, type E2E } from '../helpers/browser.ts';

const CUSTOMER = '447700900456';
const EMAIL = 'lin.agent@demo.example';
const PASSWORD = 'another long passphrase';

const skip = chromiumOrSkip();

describe('a keyword flow seen from the inbox', { skip }, () => {
  let e: E2E;

  before(async () => {
    e = await startE2E('automation');
    await ensureAgent(e.t.parley.deps, {
      workspaceId: e.t.channel.workspaceId,
      email: EMAIL,
      name: 'Lin Agent',
      role: 'agent',
      password: PASSWORD,
    });
    const flow = await e.t.api('POST', '/v1/automations', {
      name: 'Opening hours',
      trigger: { type: 'keyword', keywords: ['opening hours'] },
      steps: [
        { type: 'reply', text: 'We are open 9:00–17:00, Monday to Friday.' },
        { type: 'handoff', text: 'An agent will be with you shortly.' },
      ],
    });
    assert.equal(flow.status, 201, JSON.stringify(flow.json));
  });
  after(async () => e?.close());

  it('the bot answers the keyword and hands off; the agent sees it live and takes over', async () => {
    const { page, t } = e;
    await page.goto('/login');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await e.shot('signed-in');

    await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      name: 'Bo Customer',
      text: 'What are your OPENING HOURS?',
    });
    await t.settle();
    await t.settle(5_000);
    const row = page.locator('[data-conversation-id]', { hasText: 'Bo Customer' });
    await row.waitFor();
    await row.click();
    const transcript = page.getByTestId('transcript');
    await transcript.getByText('What are your OPENING HOURS?').waitFor();
    await transcript
      .locator('li.bubble.outbound', { hasText: 'We are open 9:00–17:00, Monday to Friday.' })
      .waitFor();
    await transcript
      .locator('li.bubble.outbound', { hasText: 'An agent will be with you shortly.' })
      .waitFor();
    await page
      .getByTestId('bot-state')
      .getByText(/handed off to a person/)
      .waitFor();
    await e.shot('bot-answered-and-handed-off');

    // The person takes it from here: an ordinary reply inside the open window.
    await page.getByLabel('Message', { exact: true }).fill('Hi Bo, Lin here. How can I help?');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await transcript.locator('li.bubble.outbound', { hasText: 'Lin here' }).waitFor();
    await t.settle(15_000);
    const sent = t.world.outbound(t.channel.providerKey);
    assert.equal(sent.length, 3, 'two bot messages and the agent reply reached WhatsApp');
    await e.shot('agent-replied');
  });
});
