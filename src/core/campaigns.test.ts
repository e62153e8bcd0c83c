// The campaign state machine and how a message's status becomes a recipient's outcome.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autoPauseReason, outcomeOfMessage, skipReasonOf, transition } from './campaigns.ts';

const NOW = Date.parse('2026-03-02T09:00:00Z');

describe('campaign state machine', () => {
  it('starts a draft at once, or schedules it while its start time is ahead', () => {
    assert.deepEqual(transition('draft', 'start', null, NOW), { ok: true, state: 'running' });
    assert.deepEqual(transition('draft', 'start', NOW + 1, NOW), { ok: true, state: 'scheduled' });
    assert.deepEqual(transition('draft', 'start', NOW, NOW), { ok: true, state: 'running' });
  });

  it('pauses running or scheduled campaigns and resumes only paused ones', () => {
    assert.equal(transition('running', 'pause', null, NOW).ok, true);
    assert.equal(transition('scheduled', 'pause', NOW + 5, NOW).ok, true);
    assert.equal(transition('draft', 'pause', null, NOW).ok, false);
    assert.deepEqual(transition('paused', 'resume', null, NOW), { ok: true, state: 'running' });
    assert.deepEqual(transition('paused', 'resume', NOW + 5, NOW), {
      ok: true,
      state: 'scheduled',
    });
    assert.equal(transition('running', 'resume', null, NOW).ok, false);
  });

  it('cancels anything not ended; nothing leaves completed or cancelled', () => {
    for (const s of ['draft', 'scheduled', 'running', 'paused'] as const)
      assert.deepEqual(transition(s, 'cancel', null, NOW), { ok: true, state: 'cancelled' });
    for (const s of ['completed', 'cancelled'] as const)
      for (const a of ['start', 'pause', 'resume', 'cancel'] as const) {
        const t = transition(s, a, null, NOW);
        assert.equal(t.ok, false);
        if (!t.ok) assert.match(t.detail, new RegExp(`${s} campaign cannot ${a}`));
      }
  });

  it('maps message statuses to outcomes: refused at dispatch is a skip, pending is queued', () => {
    assert.equal(outcomeOfMessage('pending'), 'queued');
    assert.equal(outcomeOfMessage('accepted'), 'queued');
    assert.equal(outcomeOfMessage('delivered'), 'delivered');
    assert.equal(outcomeOfMessage('failed'), 'failed');
    assert.equal(outcomeOfMessage('refused'), 'skipped');
  });

  it('a message flagged for review is under review until a status settles it', () => {
    assert.equal(outcomeOfMessage('pending', true), 'review');
    assert.equal(outcomeOfMessage('pending', false), 'queued');
    assert.equal(outcomeOfMessage('delivered', true), 'delivered');
  });

  it('OPT-7/LIM-4/LIM-5 refusals skip a recipient; 131048 and paused templates pause the campaign', () => {
    assert.equal(skipReasonOf('opted_out'), 'opted_out');
    assert.equal(skipReasonOf('market_blocked'), 'market_blocked');
    assert.equal(skipReasonOf('template_params'), 'invalid_params');
    assert.equal(skipReasonOf('spam_rate'), null);
    assert.equal(autoPauseReason('spam_rate'), 'spam_rate');
    assert.equal(autoPauseReason('template_paused'), 'template_paused');
    assert.equal(autoPauseReason('template_disabled'), 'template_disabled');
    assert.equal(autoPauseReason('opted_out'), null);
  });
});
