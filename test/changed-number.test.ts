// A user changes their WhatsApp number (B.4 `system` / `user_changed_number`, signed Meta webhooks
// over HTTP): history, care window and consent move to the new number and the transcript says so;
// whoever gets the old number later inherits nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readLedger, recordConsent } from '../src/app/consent-ledger.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { postSigned, processAcknowledged } from './helpers/meta-webhooks.ts';
import {
  fakeMetaConnection,
  inboundBody,
  type FakeMeta,
} from './helpers/fake-provider-connections.ts';

const OLD = '447700900111';
const NEW = '447700900999';
const MINUTE = 60_000;

let serial = 0;

describe('user_changed_number', () => {
  let t: TestParley;
  let meta: FakeMeta;
  before(async () => {
    t = await startTestParley();
    meta = await fakeMetaConnection(t);
  });
  after(async () => {
    await meta.fake.close();
    await t.close();
  });

  async function deliver(body: string): Promise<void> {
    const response = await postSigned(t, meta.connectionId, body, meta.appSecret);
    assert.equal(response.status, 200, response.text);
    await processAcknowledged(t);
  }

  const writes = (from: string, text: string, id = `wamid.CN${String(++serial)}`) =>
    deliver(inboundBody(meta, { from, id, at: t.clock.now(), type: 'text', text: { body: text } }));

  const changesNumber = (from: string, to: string, id = `wamid.SYS${String(++serial)}`) =>
    inboundBody(meta, {
      from,
      id,
      at: t.clock.now(),
      type: 'system',
      system: {
        body: `User A changed from ${from} to ${to}`,
        wa_id: to,
        type: 'user_changed_number',
      },
    });

  async function contactByWaId(waId: string) {
    return t.parley.deps.store.contacts.findByWaId(t.channel.workspaceId, waId);
  }

  async function transcriptOf(contactId: string) {
    const list = await t.api('GET', `/v1/conversations?contact=${contactId}`);
    const out: any[] = [];
    for (const c of list.json.items) {
      const page = await t.api('GET', `/v1/conversations/${c.id}/messages?limit=200`);
      out.push(...page.json.items);
    }
    return out;
  }

  it('B.4/CSW-1: the contact takes the new number with its history, open window and consent; the transcript says so', async () => {
    await writes(OLD, 'Hi, where is my order?');
    const contact = await contactByWaId(OLD);
    assert.ok(contact);
    await recordConsent(t.parley.deps, t.channel.workspaceId, contact, {
      kind: 'opt_in',
      purpose: 'marketing',
      channelId: null,
      source: 'web_form',
      recordedBy: 'api-key:test',
      evidence: {
        text: 'Yes, send me offers on WhatsApp',
        businessName: 'Parley Demo Shop',
        url: 'https://shop.example/signup',
      },
    });
    const ledgerBefore = await readLedger(
      t.parley.deps,
      t.parley.deps.store,
      t.channel.workspaceId,
      OLD,
    );
    assert.ok(ledgerBefore.some((e) => e.kind === 'opt_in' && e.purpose === 'marketing'));

    await t.clock.advance(10 * MINUTE);
    await deliver(changesNumber(OLD, NEW));

    const moved = await contactByWaId(NEW);
    assert.equal(moved?.id, contact.id, 'the same contact, now at the new number');
    assert.equal(await contactByWaId(OLD), null, 'nobody is at the old number any more');
    const shown = await t.api('GET', `/v1/contacts/${contact.id}`);
    assert.equal(shown.json.phoneNumber, `+${NEW}`);

    const transcript = await transcriptOf(contact.id);
    assert.deepEqual(
      transcript.map((m) => m.type),
      ['text', 'system'],
      'history and the notice stay together',
    );
    assert.match(
      transcript[1].text,
      new RegExp(`changed their WhatsApp number from \\+${OLD} to \\+${NEW}`),
    );

    // CSW-1: the window the customer opened at the old number stays open at the new one.
    const eligibility = await t.api(
      'GET',
      `/v1/contacts/${contact.id}/eligibility?channel=${meta.channelId}`,
    );
    assert.equal(eligibility.json.window.open, true);
    assert.equal(eligibility.json.allowed.freeForm, true);

    // OPT-3: consent goes along as copies for the new number; the old number's ledger is untouched.
    const ledgerNew = await readLedger(
      t.parley.deps,
      t.parley.deps.store,
      t.channel.workspaceId,
      NEW,
    );
    const carried = ledgerNew.find((e) => e.kind === 'opt_in' && e.purpose === 'marketing');
    assert.ok(carried, 'the marketing opt-in now covers the new number');
    assert.equal(carried.contact, NEW);
    assert.equal(carried.evidence.text, 'Yes, send me offers on WhatsApp');
    assert.match(carried.evidence.note ?? '', new RegExp(`carried over from \\+${OLD}`));
    assert.deepEqual(
      (await readLedger(t.parley.deps, t.parley.deps.store, t.channel.workspaceId, OLD)).map(
        (e) => e.id,
      ),
      ledgerBefore.map((e) => e.id),
      'the ledger is append-only',
    );

    // A reply now goes to the new number.
    const sent = await t.api('POST', '/v1/messages', {
      channelId: meta.channelId,
      to: `+${NEW}`,
      type: 'text',
      text: { body: 'Your order ships today.' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.contactId, contact.id);
    await t.parley.dispatcher.runOnce();
    const request = meta.fake.requests.filter((r) => r.path.endsWith('/messages')).at(-1);
    assert.equal((request?.json as { to?: string }).to, NEW);
  });

  it('B.4: whoever writes from the old number later is a new contact with no history', async () => {
    await t.clock.advance(MINUTE);
    await writes(OLD, 'Hello? New phone who dis');
    const stranger = await contactByWaId(OLD);
    const original = await contactByWaId(NEW);
    assert.ok(stranger && original);
    assert.notEqual(stranger.id, original.id);
    const transcript = await transcriptOf(stranger.id);
    assert.deepEqual(
      transcript.map((m) => m.text),
      ['Hello? New phone who dis'],
    );
    const ledger = await readLedger(t.parley.deps, t.parley.deps.store, t.channel.workspaceId, OLD);
    assert.ok(
      !ledger.some(
        (e) => e.purpose === 'marketing' && e.kind === 'opt_in' && e.at > t.clock.now() - MINUTE,
      ),
      'no new marketing consent appears for the stranger',
    );
  });

  it('B.4: when the new number already has a contact, the old history moves to it; the old open thread closes', async () => {
    const from = '447700900222';
    const to = '447700900333';
    await writes(from, 'order 17?');
    await t.clock.advance(MINUTE);
    await writes(to, 'this is my new phone');
    const oldContact = await contactByWaId(from);
    const newContact = await contactByWaId(to);
    assert.ok(oldContact && newContact);
    const oldConversation = (await t.api('GET', `/v1/conversations?contact=${oldContact.id}`)).json
      .items[0];

    await t.clock.advance(MINUTE);
    const notice = changesNumber(from, to, 'wamid.MERGE1');
    await deliver(notice);
    await deliver(notice); // STA-2: a re-delivery moves nothing twice

    const transcript = await transcriptOf(newContact.id);
    assert.deepEqual(
      transcript.map((m) => m.type).sort(),
      ['system', 'text', 'text'],
      'both histories under the new contact',
    );
    assert.deepEqual((await transcriptOf(oldContact.id)).length, 0);
    const closed = (await t.api('GET', `/v1/conversations/${String(oldConversation.id)}`)).json;
    assert.equal(closed.state, 'closed');
    assert.equal(closed.contactId, newContact.id);
    const open = (await t.api('GET', `/v1/conversations?contact=${newContact.id}&state=open`)).json;
    assert.equal(open.items.length, 1, 'one open thread per number and contact');
    const record = await t.parley.deps.store.providerRecords.numberChanges.findByMessage(
      transcript.find((m) => m.type === 'system').id,
    );
    assert.equal(record?.fromContactId, oldContact.id);
    assert.equal(record?.toContactId, newContact.id);
  });

  it('a system notice about something else changes no contact', async () => {
    const before = await contactByWaId(NEW);
    await deliver(
      inboundBody(meta, {
        from: NEW,
        id: 'wamid.OTHER-SYSTEM',
        at: t.clock.now(),
        type: 'system',
        system: { body: 'Security code changed', type: 'customer_identity_changed' },
      }),
    );
    const after = await contactByWaId(NEW);
    assert.equal(after?.id, before?.id);
    assert.equal(after?.waId, NEW);
    const notice = (await transcriptOf(after.id)).find(
      (m) => m.providerMessageId === 'wamid.OTHER-SYSTEM',
    );
    assert.equal(notice?.text, 'Security code changed', 'shown as the provider wrote it');
    assert.equal(
      await t.parley.deps.store.providerRecords.numberChanges.findByMessage(notice.id),
      null,
    );
  });
});
