// The admin screens in Chromium: channels with the webhook URL, team invites and departments,
// the template editor's live lint, a campaign from draft to start, billing charts and reports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureAgent } from '../../src/app/agents.ts';
import { chromiumOrSkip, startE2E, type E2E } from '../helpers/browser.ts';

const EMAIL = 'owner@demo.example';
const PASSWORD = 'the owner passphrase';

const skip = chromiumOrSkip();

describe('the admin screens in a browser', { skip }, () => {
  let e: E2E;
  const pageErrors: string[] = [];

  before(async () => {
    e = await startE2E('admin');
    await ensureAgent(e.t.parley.deps, {
      workspaceId: e.t.channel.workspaceId,
      email: EMAIL,
      name: 'Olive Owner',
      role: 'admin',
      password: PASSWORD,
    });
    await e.t.api('POST', '/v1/templates/sync', {});
    e.page.on('pageerror', (error) => pageErrors.push(String(error)));
    await e.page.goto('/login');
    await e.page.getByLabel('Email').fill(EMAIL);
    await e.page.getByLabel('Password').fill(PASSWORD);
    await e.page.getByRole('button', { name: 'Sign in' }).click();
    await e.page.getByRole('navigation', { name: 'Main' }).waitFor();
  });
  after(async () => e?.close());

  const open = async (label: string) => {
    await e.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: label })
      .click();
    await e.page.getByRole('heading', { level: 1 }).first().waitFor();
  };

  it('Channels shows the webhook URL to paste at the provider', async () => {
    await open('Channels');
    const url = e.page.getByLabel('Webhook URL (callback URL at the provider)');
    assert.match(await url.inputValue(), /\/webhooks\/meta\/[\w-]+$/);
    await e.page.getByText('Parley Demo Shop').waitFor();
    await e.shot('channels');
  });

  it('Team creates a department and an invite link for a new agent', async () => {
    await open('Team');
    await e.page.getByLabel('New department').fill('Returns');
    await e.page.getByRole('button', { name: 'Add', exact: true }).click();
    await e.page.getByRole('listitem').filter({ hasText: 'Returns' }).first().waitFor();
    const invite = e.page.getByRole('form', { name: 'Invite an agent' });
    await invite.getByLabel('Name').fill('Nia New');
    await invite.getByLabel('Email').fill('nia@demo.example');
    await invite.getByRole('button', { name: 'Create invite' }).click();
    const link = invite.getByLabel('Send this link to the new agent');
    assert.match(await link.inputValue(), /accept-invite\?token=/);
    await e.shot('team-invite');
  });

  it('TPL-1: the template editor lints as the admin types', async () => {
    await open('Templates');
    const editor = e.page.getByRole('form', { name: 'Template editor' });
    await editor.getByLabel('Name', { exact: true }).fill('Order Update!');
    await editor.getByLabel('Body', { exact: true }).fill('Hi {{1}}, your order is ready.');
    await editor.getByLabel(/Examples/).fill('Ada');
    const findings = e.page.getByRole('list', { name: 'Lint findings' });
    await findings.getByText('TPL-1').waitFor();
    assert.equal(await editor.getByRole('button', { name: 'Save draft' }).isDisabled(), true);
    await e.shot('template-lint-finding');
    await editor.getByLabel('Name', { exact: true }).fill('order_ready');
    await findings.getByText('TPL-1').waitFor({ state: 'detached' });
    await editor.getByRole('button', { name: 'Save draft' }).click();
    await e.page.getByRole('status').getByText('order_ready saved as a draft.').waitFor();
    await e.shot('template-saved');
  });

  it('Campaigns creates a draft from a CSV, estimates it and starts it', async () => {
    await open('Campaigns');
    const form = e.page.getByRole('form', { name: 'New campaign' });
    await form.getByLabel('Name', { exact: true }).fill('Spring reminder');
    const picker = form.getByLabel('Template', { exact: true });
    const option = picker.locator('option', { hasText: 'hello_world (' });
    await picker.selectOption(String(await option.first().getAttribute('value')));
    await form.getByLabel('A CSV list').check();
    await form.getByLabel(/CSV: a phone column/).fill('phone\n+447700900111\n+447700900222\n');
    await form.getByRole('button', { name: 'Create draft' }).click();
    await form
      .getByRole('status')
      .getByText(/Draft "Spring reminder" created/)
      .waitFor();
    const row = e.page.locator('li.campaign', { hasText: 'Spring reminder' });
    await row.getByText('draft', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Estimate' }).click();
    await row
      .getByRole('status')
      .getByText(/Estimate for \d+ recipients/)
      .waitFor();
    await e.shot('campaign-estimated');
    await row.getByRole('button', { name: 'Start' }).click();
    await row.locator('.chip').filter({ hasNotText: 'draft' }).waitFor();
    await e.shot('campaign-started');
  });

  it('Billing draws charges by month, category and channel, and Reports list response times', async () => {
    await open('Billing');
    await e.page.getByText('Charges by month').waitFor();
    await e.page.getByText(/By category, \d{4}-\d{2}/).waitFor();
    await e.shot('billing');
    await open('Reports');
    await e.page.getByRole('table').filter({ hasText: 'Per agent' }).waitFor();
    await e.page.getByRole('table').filter({ hasText: 'Per department' }).waitFor();
    await e.shot('reports');
    assert.deepEqual(pageErrors, [], 'no script errors on any screen');
  });
});
