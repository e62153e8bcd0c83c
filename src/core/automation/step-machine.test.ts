// The step machine: outcomes, answers, placeholders and what a bot reply is sent as.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkOutboundLimits } from '../messages.ts';
import type { Step } from './flow.ts';
import { START, advance, fill, hasLapsed, pick, readAnswer, replyMessage } from './step-machine.ts';

const steps: Step[] = [
  { type: 'reply', text: 'one' },
  { type: 'ask', text: 'two?', attribute: 'two' },
  { type: 'handoff' },
];
const values = {
  contact: { name: 'Ada', phone: '447700900123' },
  attributes: { n: 3, city: 'Leeds' },
};

describe('step machine', () => {
  it('moves step by step, waits on a question, ends on a hand-off', () => {
    const a = advance(steps, START, { kind: 'next' });
    assert.deepEqual([a.step, a.status], [1, 'running']);
    const waiting = advance(steps, a, { kind: 'wait', until: 5_000 });
    assert.deepEqual([waiting.step, waiting.status, waiting.waitingUntil], [1, 'waiting', 5_000]);
    assert.equal(hasLapsed(waiting, 4_999), false);
    assert.equal(hasLapsed(waiting, 5_000), true);
    const b = advance(steps, { ...waiting, status: 'running' }, { kind: 'next' });
    const done = advance(steps, b, { kind: 'handoff' });
    assert.equal(done.status, 'handed_off');
  });

  it('completes after the last step and keeps the reason of a failure', () => {
    const last = advance(steps, { ...START, step: 2 }, { kind: 'next' });
    assert.equal(last.status, 'completed');
    const failed = advance(steps, START, { kind: 'fail', reason: 'refused' });
    assert.deepEqual([failed.status, failed.reason, failed.step], ['failed', 'refused', 0]);
  });

  it('reads an answer: a tapped id before text, refused when it does not fit', () => {
    const ask = { type: 'ask', text: 'Order?', attribute: 'o', validate: '^\\d{4,}$' } as const;
    assert.deepEqual(readAnswer(ask, { text: ' 1042 ', payload: null }), {
      accepted: true,
      value: '1042',
    });
    assert.deepEqual(readAnswer(ask, { text: 'soon', payload: null }), { accepted: false });
    const open = { type: 'ask', text: 'Size?', attribute: 's' } as const;
    assert.deepEqual(readAnswer(open, { text: 'Large', payload: 'size.l' }), {
      accepted: true,
      value: 'size.l',
    });
    assert.deepEqual(readAnswer(open, { text: '  ', payload: null }), { accepted: false });
  });

  it('fills placeholders, never leaving one behind', () => {
    assert.equal(
      fill(
        'Hi {{contact.name}} ({{ contact.phone }}), {{attributes.n}} in {{attributes.city}}{{attributes.none}}.',
        values,
      ),
      'Hi Ada (+447700900123), 3 in Leeds.',
    );
  });

  it('picks a value at a dotted path', () => {
    assert.equal(pick({ a: { b: [{ c: 'x' }] } }, 'a.b.0.c'), 'x');
    assert.equal(pick({ a: 1 }, 'a.b'), undefined);
  });

  it('sends text, reply buttons, lists and templates in the Cloud API shapes, within the limits', () => {
    const text = replyMessage({ text: 'Hi {{contact.name}}' }, values);
    assert.deepEqual(text, { type: 'text', text: { body: 'Hi Ada' } });
    const buttons = replyMessage(
      {
        text: 'Pick',
        footer: 'Parley',
        buttons: [
          { id: 'a', title: 'A' },
          { id: 'b', title: 'B' },
        ],
      },
      values,
    );
    assert.equal(buttons.type, 'interactive');
    assert.equal(checkOutboundLimits(buttons), null);
    const list = replyMessage(
      {
        text: 'Pick',
        list: { button: 'Options', sections: [{ rows: [{ id: 'r1', title: 'One' }] }] },
      },
      values,
    );
    assert.equal(list.type === 'interactive' && list.interactive.type, 'list');
    assert.equal(checkOutboundLimits(list), null);
    const template = replyMessage(
      {
        template: {
          name: 'order_update',
          language: 'en',
          components: [{ type: 'body', parameters: [{ type: 'text', text: '{{contact.name}}' }] }],
        },
      },
      values,
    );
    assert.deepEqual(template, {
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
      },
    });
  });
});
