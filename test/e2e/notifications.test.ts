// Browser notifications in Chromium: a customer message in a conversation assigned to me notifies
// (contact name and text); one assigned to someone else, my own replies, and the conversation I
// am looking at do not. `window.Notification` is wrapped to record what the inbox constructs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureAgent } from '../../src/app/agents.ts';
import { chromiumOrSkip, startE2E, type E2E } from '../helpers/browser.ts';

const MINE = '447700900301';
const THEIRS = '447700900302';
const EMAIL = 'noor.agent@demo.example';
const PASSWORD = 'a passphrase for noor';

const skip = chromiumOrSkip();

interface Shown {
  title: string;
  body: string;
}

/** Runs in the page before the inbox: a Notification that records instead of showing. */
const RECORD_NOTIFICATIONS = `(() => {
  const Real = window.Notification;
  const shown = [];
  const made = [];
  function Recording(title, options) {
    shown.push({ title: String(title), body: String((options && options.body) || '') });
    this.title = title;
    this.onclick = null;
    this.close = () => {};
    made.push(this);
  }
  Object.defineProperty(Recording, 'permission', { get: () => (Real ? Real.permission : 'granted') });
  Recording.requestPermission = () => (Real ? Real.requestPermission() : Promise.resolve('granted'));
  window.Notification = Recording;
  window.shownNotifications = shown;
  window.clickLastNotification = () => made[made.length - 1].onclick();
})();`;

describe('browser notifications for new messages assigned to me', { skip }, () => {
  let e: E2E;
  let me = '';
  let other = '';
  let mine = '';
  let theirs = '';

  const shown = (): Promise<Shown[]> => e.page.evaluate<Shown[]>('window.shownNotifications');
  /** Waits until more than `count` notifications were shown (a function: the CSP forbids eval). */
  const shownMoreThan = (count: number) =>
    e.page.waitForFunction(
      (n) =>
        (globalThis as unknown as { shownNotifications: Shown[] }).shownNotifications.length > n,
      count,
    );
  const customerWrites = async (from: string, text: string, name?: string) => {
    await e.t.world.userWrites(e.t.channel.providerKey, { from, text, ...(name ? { name } : {}) });
    await e.t.settle();
  };
  /** The transcript or list shows the message: the live event reached the page. */
  const arrived = (text: string) => e.page.getByText(text).first().waitFor();

  before(async () => {
    e = await startE2E('notifications');
    const workspaceId = e.t.channel.workspaceId;
    me = (
      await ensureAgent(e.t.parley.deps, {
        workspaceId,
        email: EMAIL,
        name: 'Noor Agent',
        role: 'agent',
        password: PASSWORD,
      })
    ).id;
    other = (
      await ensureAgent(e.t.parley.deps, {
        workspaceId,
        email: 'sam.agent@demo.example',
        name: 'Sam Agent',
        role: 'agent',
        password: 'a passphrase for sam',
      })
    ).id;
    await e.context.grantPermissions(['notifications'], { origin: e.baseUrl });
    await e.context.addInitScript(RECORD_NOTIFICATIONS);
    const conversationOf = async (from: string) =>
      String((await e.t.api('GET', `/v1/conversations?q=${from}`)).json.items[0].id);
    await customerWrites(MINE, 'Hello, I ordered a lamp', 'Ada Lovelace');
    await customerWrites(THEIRS, 'Hi there', 'Charles Babbage');
    mine = await conversationOf(MINE);
    theirs = await conversationOf(THEIRS);
    for (const [id, agentId] of [
      [mine, me],
      [theirs, other],
    ] as const) {
      const r = await e.t.api('POST', `/v1/conversations/${id}/assign`, { agentId });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
  });
  after(async () => e?.close());

  it('notifies with the contact name and text for my conversation, never for someone else’s', async () => {
    const { page } = e;
    await page.goto('/login');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.locator(`[data-conversation-id="${mine}"]`).waitFor();
    assert.equal(await page.evaluate('Notification.permission'), 'granted');

    await customerWrites(THEIRS, 'Is anyone there?');
    await arrived('Is anyone there?');
    await customerWrites(MINE, 'Has my lamp shipped?');
    await shownMoreThan(0);
    // Sam's customer wrote first: had it notified, it would be here before mine.
    await page.waitForTimeout(300);
    assert.deepEqual(await shown(), [{ title: 'Ada Lovelace', body: 'Has my lamp shipped?' }]);
    await e.shot('notified-for-mine');
  });

  it('my own replies and their ticks notify nothing', async () => {
    const { page, t } = e;
    const before = (await shown()).length;
    const reply = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: MINE,
      type: 'text',
      text: { body: 'It left the warehouse this morning.' },
    });
    assert.equal(reply.status, 202, JSON.stringify(reply.json));
    await t.settle();
    await t.settle(15_000);
    await arrived('It left the warehouse this morning.');
    await page.waitForTimeout(300);
    assert.equal((await shown()).length, before);
  });

  it('none while I have that conversation open and focused; one again once I leave it', async () => {
    const { page } = e;
    await page.locator(`[data-conversation-id="${mine}"]`).click();
    const transcript = page.getByTestId('transcript');
    await transcript.getByText('Has my lamp shipped?').waitFor();
    assert.equal(await page.evaluate('document.hasFocus()'), true);
    const before = (await shown()).length;
    await customerWrites(MINE, 'Great, thank you!');
    await transcript.getByText('Great, thank you!').waitFor();
    await page.waitForTimeout(300);
    assert.equal((await shown()).length, before, 'I am reading it already');
    await e.shot('open-conversation-no-notification');

    await page.locator(`[data-conversation-id="${theirs}"]`).click();
    await transcript.getByText('Is anyone there?').waitFor();
    await customerWrites(MINE, 'One more question');
    await shownMoreThan(before);
    assert.deepEqual((await shown()).slice(before), [
      { title: 'Ada Lovelace', body: 'One more question' },
    ]);
    // Clicking the notification opens that conversation.
    await page.evaluate('window.clickLastNotification()');
    await page.waitForURL(new RegExp(`/inbox/${mine}$`));
    await transcript.getByText('One more question').waitFor();
    await e.shot('notification-clicked');
  });

  it('follows a transfer: once the conversation is someone else’s, it no longer notifies me', async () => {
    const { page, t } = e;
    // Away from it, so only the assignment can keep it quiet.
    await page.locator(`[data-conversation-id="${theirs}"]`).click();
    await page.waitForURL(new RegExp(`/inbox/${theirs}$`));
    const r = await t.api('POST', `/v1/conversations/${mine}/assign`, { agentId: other });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await t.settle();
    await page.waitForTimeout(500);
    const before = (await shown()).length;
    await customerWrites(MINE, 'Hello again');
    await arrived('Hello again');
    await page.waitForTimeout(300);
    assert.equal((await shown()).length, before);
  });
});
