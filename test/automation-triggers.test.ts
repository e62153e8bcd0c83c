// Automation triggers that depend on time and history: outside business hours (per channel
// calendar, across a DST change), first messages, a question that survives a restart, and flows
// declared in the config file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyConfigFile } from '../src/app/bootstrap.ts';
import { ConfigError, loadConfigFile } from '../src/app/config.ts';
import { DEMO_WORKSPACE } from '../src/app/bootstrap.ts';
import { DEMO_FLOWS, ensureDemoFlows } from '../src/app/automation/demo-flows.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';

function textsTo(t: TestParley, customer: string): string[] {
  return t.world
    .outbound(t.channel.providerKey)
    .filter((m) => m.to === customer)
    .map((m) => {
      const c = m.content as { body?: unknown };
      return typeof c.body === 'string' ? c.body : `[${m.type}]`;
    });
}

const LONDON_OFFICE = {
  zone: 'Europe/London',
  weekly: {
    mon: [{ from: '09:00', to: '17:00' }],
    tue: [{ from: '09:00', to: '17:00' }],
    wed: [{ from: '09:00', to: '17:00' }],
    thu: [{ from: '09:00', to: '17:00' }],
    fri: [{ from: '09:00', to: '17:00' }],
  },
  holidays: ['2026-04-03'],
};

describe('automation: outside business hours', () => {
  let t: TestParley;
  const customer = '447700900201';
  // Friday 27 March 2026, 22:00 in London (GMT); British Summer Time starts on Sunday the 29th.
  before(async () => {
    t = await startTestParley({ start: '2026-03-27T22:00:00Z' });
  });
  after(async () => t.close());

  const write = async (iso: string, text: string) => {
    await t.clock.advanceTo(Date.parse(iso));
    await t.world.userWrites(t.channel.providerKey, { from: customer, text });
    await t.settle(5_000);
  };

  it('keeps a calendar per channel and refuses a bad one without saving it', async () => {
    const bad = await t.api('PUT', `/v1/channels/${t.channel.id}/business-hours`, {
      ...LONDON_OFFICE,
      zone: 'Europe/Atlantis',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'automation_invalid');
    assert.match(bad.json.detail, /Europe\/Atlantis/);
    const none = await t.api('GET', `/v1/channels/${t.channel.id}/business-hours`);
    assert.equal(none.status, 404);
    const set = await t.api('PUT', `/v1/channels/${t.channel.id}/business-hours`, LONDON_OFFICE);
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const got = await t.api('GET', `/v1/channels/${t.channel.id}/business-hours`);
    assert.deepEqual(got.json, LONDON_OFFICE);
  });

  it('answers at 22:00 local, not at 10:00, and follows the clocks across the DST change', async () => {
    const flow = await t.api('POST', '/v1/automations', {
      name: 'Closed',
      trigger: { type: 'outside_hours' },
      steps: [{ type: 'reply', text: 'We are closed; we open at 9:00 (UK time) on weekdays.' }],
    });
    assert.equal(flow.status, 201, JSON.stringify(flow.json));
    const closed = 'We are closed; we open at 9:00 (UK time) on weekdays.';

    await write('2026-03-27T22:00:00Z', 'Hello?'); // Friday 22:00 GMT
    assert.deepEqual(textsTo(t, customer), [closed]);

    await write('2026-03-30T08:30:00Z', 'Are you there?'); // Monday 09:30 BST: open
    assert.equal(textsTo(t, customer).length, 1);

    await write('2026-03-30T10:00:00Z', 'Hello again'); // 11:00 BST: open
    assert.equal(textsTo(t, customer).length, 1);

    await write('2026-03-30T16:30:00Z', 'Still there?'); // 17:30 BST: closed
    assert.deepEqual(textsTo(t, customer), [closed, closed]);

    await write('2026-04-03T10:00:00Z', 'Open on Good Friday?'); // a holiday
    assert.deepEqual(textsTo(t, customer), [closed, closed, closed]);
  });
});

describe('automation: first messages', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    for (const [name, of] of [
      ['Welcome', 'contact'],
      ['Welcome back', 'conversation'],
    ] as const) {
      const created = await t.api('POST', '/v1/automations', {
        name,
        priority: of === 'contact' ? 10 : 20,
        trigger: { type: 'first_message', of },
        steps: [{ type: 'reply', text: `${name}!` }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
    }
  });
  after(async () => t.close());

  it('greets a new contact once, and a returning one in each new conversation', async () => {
    const customer = '447700900202';
    const write = async (text: string) => {
      await t.world.userWrites(t.channel.providerKey, { from: customer, text });
      await t.settle(5_000);
    };
    await write('Hi');
    await write('Anyone?');
    assert.deepEqual(textsTo(t, customer), ['Welcome!']);
    const list = await t.api('GET', '/v1/conversations');
    const closed = await t.api('PATCH', `/v1/conversations/${list.json.items[0].id}`, {
      state: 'closed',
    });
    assert.equal(closed.status, 200, JSON.stringify(closed.json));
    await t.clock.advance(3_600_000);
    await write('Me again');
    assert.deepEqual(textsTo(t, customer), ['Welcome!', 'Welcome back!']);
  });
});

describe('automation: a waiting question survives a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-automation-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps waiting for the answer across a restart and goes on from there', async () => {
    const customer = '447700900203';
    const first = await startTestParley({ env: { PARLEY_DATA_DIR: dir } });
    try {
      const created = await first.api('POST', '/v1/automations', {
        name: 'Postcode',
        trigger: { type: 'keyword', keywords: ['delivery'] },
        steps: [
          { type: 'ask', text: 'What is your postcode?', attribute: 'postcode' },
          { type: 'reply', text: 'We deliver to {{attributes.postcode}} on Tuesdays.' },
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      await first.world.userWrites(first.channel.providerKey, {
        from: customer,
        text: 'delivery?',
      });
      await first.settle(5_000);
      assert.deepEqual(textsTo(first, customer), ['What is your postcode?']);
    } finally {
      await first.close();
    }

    const second = await startTestParley({
      env: { PARLEY_DATA_DIR: dir },
      start: '2026-03-02T10:00:00Z',
      // A new sandbox world: other message ids than the first run's.
      seed: 7,
    });
    try {
      await second.world.userWrites(second.channel.providerKey, {
        from: customer,
        text: 'LS1 4AP',
      });
      await second.settle(5_000);
      assert.deepEqual(textsTo(second, customer), ['We deliver to LS1 4AP on Tuesdays.']);
    } finally {
      await second.close();
    }
  });
});

describe('automation: flows declared in the config file', () => {
  let t: TestParley;
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  before(async () => {
    t = await startTestParley();
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const yaml = (greeting: string) => `
workspaces:
  - name: ${DEMO_WORKSPACE}
    connections:
      - name: Sandbox
        provider: sandbox
        channels:
          - name: Parley Demo Shop
            providerKey: "${t.channel.providerKey}"
            phoneNumber: "+${t.channel.phoneNumber}"
            businessHours:
              zone: Europe/Madrid
              weekly:
                mon: [{ from: "09:00", to: "18:00" }]
    automations:
      - name: Greeting
        channels: [Parley Demo Shop]
        trigger: { type: keyword, keywords: [hola] }
        steps:
          - type: reply
            text: "${greeting}"
`;

  const apply = async (text: string) => {
    const file = join(dir, 'parley.yaml');
    writeFileSync(file, text);
    await applyConfigFile(t.parley.deps, loadConfigFile(file, {}));
  };

  it('upserts declared flows and calendars by name at start, and they run', async () => {
    await apply(yaml('¡Hola! ¿En qué podemos ayudar?'));
    await apply(yaml('¡Hola! ¿Qué necesitas?')); // a second start with a changed file
    const list = await t.api('GET', '/v1/automations');
    assert.equal(list.json.items.length, 1);
    const [flow] = list.json.items;
    assert.equal(flow.source, 'config');
    assert.deepEqual(flow.channels, [t.channel.id]);
    assert.equal(flow.steps[0].text, '¡Hola! ¿Qué necesitas?');
    const hours = await t.api('GET', `/v1/channels/${t.channel.id}/business-hours`);
    assert.equal(hours.json.zone, 'Europe/Madrid');

    await t.world.userWrites(t.channel.providerKey, { from: '34600000001', text: 'HOLA' });
    await t.settle(5_000);
    assert.deepEqual(textsTo(t, '34600000001'), ['¡Hola! ¿Qué necesitas?']);
  });

  it('refuses a config file with a bad flow, naming where, and changes nothing', async () => {
    const before = snapshotStore(t);
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      yaml('x').replace('type: reply', 'type: reply\n            buttons: [{ id: a }]'),
    );
    assert.throws(
      () => loadConfigFile(file, {}),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /automations\.0\.steps\.0\.buttons\.0\.title/);
        return true;
      },
    );
    writeFileSync(file, yaml('x').replace('keywords: [hola]', 'keywords: ["!!!"]'));
    await assert.rejects(
      applyConfigFile(t.parley.deps, loadConfigFile(file, {})),
      (error: Error) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, /automations\[0\] "Greeting": trigger.keywords/);
        return true;
      },
    );
    const after = snapshotStore(t);
    assert.deepEqual(after, before, describeChanges(before, after));
  });
});

describe('automation: the demo flows', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await ensureDemoFlows(t.parley.deps, t.channel.workspaceId);
    await ensureDemoFlows(t.parley.deps, t.channel.workspaceId); // a second start adds nothing
  });
  after(async () => t.close());

  it('are all valid and created once', async () => {
    const list = await t.api('GET', '/v1/automations');
    assert.equal(list.json.items.length, DEMO_FLOWS.length);
  });

  it('a customer opens the menu, taps "Track an order", gives the number and is handed to an agent', async () => {
    const customer = '447700900301';
    const write = async (input: Record<string, unknown>) => {
      await t.world.userWrites(t.channel.providerKey, { from: customer, name: 'Amelia', ...input });
      await t.settle(5_000);
    };
    await write({ text: 'Menu' });
    await write({
      type: 'interactive',
      content: {
        type: 'button_reply',
        button_reply: { id: 'menu.track', title: 'Track an order' },
      },
    });
    await write({ text: '#1042' });
    const sent = t.world.outbound(t.channel.providerKey).filter((m) => m.to === customer);
    assert.deepEqual(
      sent.map((m) => m.type),
      ['interactive', 'text', 'text'],
    );
    assert.equal(
      (sent[2]?.content as { body: string }).body,
      'Thanks! An agent is looking up order #1042.',
    );
  });

  it("a simulated customer's order question is tagged and handed to agents", async () => {
    const customer = '447700900302';
    await t.world.userWrites(t.channel.providerKey, {
      from: customer,
      text: 'Hallo, wo ist meine Bestellung #4821? Die Sendungsverfolgung zeigt nichts an.',
    });
    await t.settle(5_000);
    assert.deepEqual(textsTo(t, customer), [
      'Thanks for your message! An agent will check your order and answer here shortly.',
    ]);
  });
});
