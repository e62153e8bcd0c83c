// Chatbot flows end to end: a sandbox customer writes, the flow answers through the policy core.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const CUSTOMER = '447700900123';

describe('automation: a keyword flow', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('answers a keyword (any case, accents ignored) and hands the conversation off', async () => {
    const created = await t.api('POST', '/v1/automations', {
      name: 'Opening hours',
      trigger: { type: 'keyword', keywords: ['horario', 'opening hours'] },
      steps: [
        { type: 'reply', text: 'We are open 9:00–17:00, Monday to Friday.' },
        { type: 'handoff', text: 'An agent will be with you shortly.' },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      text: '¿Cuál es su HORARIO?',
    });
    await t.settle(5_000);
    const sent = t.world.outbound(t.channel.providerKey).map((m) => JSON.stringify(m));
    assert.equal(sent.length, 2, sent.join('\n'));
    const list = await t.api('GET', '/v1/conversations');
    const runs = await t.api('GET', `/v1/conversations/${list.json.items[0].id}/automation-runs`);
    assert.equal(runs.json.items[0].status, 'handed_off', JSON.stringify(runs.json));
  });
});
