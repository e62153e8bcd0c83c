// Proves which webhooks may be processed side by side: one user's stay in one lane, in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InboundMessage, OtherNotice, StatusUpdate } from './inbound.ts';
import { orderingKeysOf, planLanes } from './webhook-lanes.ts';

const message = (from: string, extra: Partial<InboundMessage> = {}): InboundMessage => ({
  kind: 'message',
  channelKey: '100',
  providerMessageId: `wamid.${from}.${Math.random()}`,
  from,
  at: 0,
  type: 'text',
  content: { body: 'hi' },
  ...extra,
});
const status = (recipient?: string): StatusUpdate => ({
  kind: 'status',
  channelKey: '100',
  providerMessageId: 'wamid.out',
  status: 'delivered',
  at: 0,
  ...(recipient === undefined ? {} : { recipient }),
});
const notice: OtherNotice = {
  kind: 'notice',
  field: 'message_template_status_update',
  at: 0,
  value: {},
};

describe('ordering keys of a webhook', () => {
  it('a message and a status about the same user share a key, whatever the number format', () => {
    assert.deepEqual(
      orderingKeysOf([message('15550001111')]),
      orderingKeysOf([status('+1 555 000 1111')]),
    );
  });

  it('a number change is about the old and the new number', () => {
    const keys = orderingKeysOf([
      message('15550001111', {
        type: 'system',
        content: { type: 'user_changed_number', wa_id: '15550002222' },
      }),
    ]);
    assert.deepEqual(keys, ['user:15550001111', 'user:15550002222']);
  });

  it('a notice or a status without its recipient is about no one known', () => {
    assert.equal(orderingKeysOf([message('1'), notice]), null);
    assert.equal(orderingKeysOf([status()]), null);
  });
});

describe('planning lanes', () => {
  const k = (...users: string[]) => users.map((u) => `user:${u}`);

  it('one user’s webhooks share a lane in arrival order; others spread over the lanes', () => {
    const plan = planLanes([k('a'), k('b'), k('a'), k('c'), k('a'), k('d')], 3, 10);
    assert.equal(plan.taken, 6);
    const laneOfA = plan.lanes.find((l) => l.includes(0));
    assert.deepEqual(laneOfA, [0, 2, 4]);
    assert.equal(plan.lanes.length, 3);
    for (const lane of plan.lanes)
      assert.deepEqual(
        lane,
        [...lane].sort((x, y) => x - y),
      );
    assert.deepEqual(
      plan.lanes.flat().sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5],
    );
  });

  it('a webhook about users already in two lanes ends the round before it', () => {
    const plan = planLanes([k('a'), k('b'), k('a', 'b'), k('c')], 2, 10);
    assert.equal(plan.taken, 2);
    assert.deepEqual(plan.lanes, [[0], [1]]);
  });

  it('a webhook of unknown users waits, then runs alone', () => {
    assert.deepEqual(planLanes([k('a'), null, k('b')], 4, 10), { lanes: [[0]], taken: 1 });
    assert.deepEqual(planLanes([null, k('b')], 4, 10), { lanes: [[0]], taken: 1 });
  });

  it('a full lane ends the round; nothing after it jumps ahead', () => {
    const plan = planLanes([k('a'), k('a'), k('a'), k('b')], 2, 2);
    assert.equal(plan.taken, 2);
    assert.deepEqual(plan.lanes, [[0, 1]]);
  });

  it('one lane takes the prefix in order', () => {
    assert.deepEqual(planLanes([k('a'), k('b'), k('c')], 1, 2), { lanes: [[0, 1]], taken: 2 });
    assert.deepEqual(planLanes([], 4, 10), { lanes: [], taken: 0 });
  });
});
