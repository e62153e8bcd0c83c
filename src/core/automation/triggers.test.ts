// Trigger matching and the order flows are tried in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flowProblems, normaliseText, type FlowDefinition, type Trigger } from './flow.ts';
import { matches, selectFlow, type InboundFacts } from './triggers.ts';

const facts = (over: Partial<InboundFacts> = {}): InboundFacts => ({
  channelId: 'c1',
  text: null,
  payload: null,
  referral: null,
  firstOfContact: false,
  firstOfConversation: false,
  open: null,
  ...over,
});

const flow = (
  name: string,
  trigger: Trigger,
  over: Partial<FlowDefinition> = {},
): FlowDefinition => ({
  name,
  trigger,
  steps: [{ type: 'reply', text: name }],
  ...over,
});

describe('triggers', () => {
  it('normalises case, accents and punctuation', () => {
    assert.equal(normaliseText('  ¡MENÚ, por favor!  '), 'menu por favor');
    assert.equal(normaliseText('Straße Çava'), 'straße cava');
  });

  it('matches a keyword as a whole word or phrase, any case and accents', () => {
    const t: Trigger = { type: 'keyword', keywords: ['menu', 'opening hours'] };
    assert.equal(matches(t, facts({ text: 'Menú please' })), true);
    assert.equal(matches(t, facts({ text: 'what are your OPENING  hours?' })), true);
    assert.equal(matches(t, facts({ text: 'menus' })), false);
    assert.equal(matches(t, facts({ text: null })), false);
  });

  it('an exact keyword matches only a message that is nothing else', () => {
    const t: Trigger = { type: 'keyword', keywords: ['stop'], match: 'exact' };
    assert.equal(matches(t, facts({ text: 'STOP!' })), true);
    assert.equal(matches(t, facts({ text: 'please stop' })), false);
  });

  it('matches a pattern on the raw text, any case by default', () => {
    const t: Trigger = { type: 'pattern', pattern: '^order\\s*#?\\d{4,}$' };
    assert.equal(matches(t, facts({ text: 'ORDER #1042' })), true);
    assert.equal(matches(t, facts({ text: 'order 12' })), false);
  });

  it('matches a tapped button or list row by its payload', () => {
    const t: Trigger = { type: 'payload', payloads: ['menu.track'] };
    assert.equal(matches(t, facts({ payload: 'menu.track', text: 'Track' })), true);
    assert.equal(matches(t, facts({ text: 'menu.track' })), false);
  });

  it('matches an ad arrival, optionally only for given ads', () => {
    assert.equal(matches({ type: 'ad_arrival' }, facts({ referral: { sourceId: 'ad1' } })), true);
    assert.equal(matches({ type: 'ad_arrival' }, facts()), false);
    const only: Trigger = { type: 'ad_arrival', sourceIds: ['ad2'] };
    assert.equal(matches(only, facts({ referral: { sourceId: 'ad1' } })), false);
    assert.equal(matches(only, facts({ referral: { sourceId: 'ad2' } })), true);
  });

  it('outside hours fires only when a calendar says closed', () => {
    const t: Trigger = { type: 'outside_hours' };
    assert.equal(matches(t, facts({ open: false })), true);
    assert.equal(matches(t, facts({ open: true })), false);
    assert.equal(matches(t, facts({ open: null })), false);
  });

  it('first message of a contact or of a conversation', () => {
    const contact: Trigger = { type: 'first_message', of: 'contact' };
    const conversation: Trigger = { type: 'first_message', of: 'conversation' };
    const returning = facts({ firstOfConversation: true, firstOfContact: false });
    assert.equal(matches(contact, returning), false);
    assert.equal(matches(conversation, returning), true);
  });

  it('tries flows by priority, then by how specific the trigger is, then by age', () => {
    const welcome = flow('welcome', { type: 'first_message', of: 'conversation' });
    const keyword = flow('keyword', { type: 'keyword', keywords: ['hi'] });
    const closed = flow('closed', { type: 'outside_hours' }, { priority: 10 });
    const f = facts({ text: 'hi', firstOfConversation: true, open: true });
    const candidates = [welcome, keyword, closed].map((x, order) => ({ flow: x, order }));
    assert.equal(selectFlow(candidates, f)?.name, 'keyword');
    assert.equal(selectFlow(candidates, { ...f, open: false })?.name, 'closed');
    assert.equal(selectFlow(candidates, { ...f, text: 'hello' })?.name, 'welcome');
  });

  it('never picks a disabled flow or one scoped to other channels', () => {
    const off = flow('off', { type: 'keyword', keywords: ['hi'] }, { enabled: false });
    const elsewhere = flow(
      'elsewhere',
      { type: 'keyword', keywords: ['hi'] },
      { channels: ['c2'] },
    );
    const candidates = [off, elsewhere].map((x, order) => ({ flow: x, order }));
    assert.equal(selectFlow(candidates, facts({ text: 'hi' })), null);
    assert.equal(selectFlow(candidates, facts({ text: 'hi', channelId: 'c2' }))?.name, 'elsewhere');
  });

  it('finds the problems a definition has beyond its shape', () => {
    assert.deepEqual(flowProblems(flow('ok', { type: 'keyword', keywords: ['x'] })), []);
    const problems = flowProblems({
      name: 'bad',
      trigger: { type: 'pattern', pattern: '[' },
      steps: [
        { type: 'reply', text: 'a', template: { name: 't', language: 'en' } },
        { type: 'handoff' },
        { type: 'ask', text: 'q', attribute: 'a', validate: '(' },
      ],
    });
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});
