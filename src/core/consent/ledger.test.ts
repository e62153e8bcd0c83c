// Reading the consent ledger: scopes (OPT-3), policies and implied opt-ins (OPT-4), the send
// decision (OPT-7) and the record itself (OPT-1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DAY, HOUR } from '../time.ts';
import {
  WORKSPACE_REACH,
  channelReach,
  type ConsentEvent,
  type ConsentPurpose,
  type ConsentReach,
} from './events.ts';
import { consentDecision, currentConsent, type ConsentQuery } from './ledger.ts';
import { impliedOptInEvent } from './signals.ts';

const t0 = Date.parse('2026-06-01T10:00:00Z');
let seq = 0;
function ev(
  kind: ConsentEvent['kind'],
  purpose: ConsentPurpose,
  reach: ConsentReach,
  at: number,
  extra: Partial<ConsentEvent> = {},
): ConsentEvent {
  return {
    id: `e${++seq}`,
    contact: '447700900123',
    kind,
    purpose,
    reach,
    source: 'web_form',
    at,
    recordedBy: 'api-key:k1',
    implied: false,
    evidence: {
      text: 'Yes, send me WhatsApp messages from Acme',
      textVersion: 'v3',
      businessName: 'Acme',
    },
    ...extra,
  };
}
const C1 = channelReach('C1');
const C2 = channelReach('C2');
const q = (purpose: ConsentQuery['purpose'], extra: Partial<ConsentQuery> = {}): ConsentQuery => ({
  purpose,
  channelId: 'C1',
  now: t0 + 10 * DAY,
  ...extra,
});

describe('consent ledger', () => {
  it('OPT-1: Parley is the record: no event, no template; appending an opt-in changes the answer', () => {
    const ledger: ConsentEvent[] = [];
    assert.equal(consentDecision(ledger, q('utility')).allowed, false);
    ledger.push(ev('opt_in', 'utility', C1, t0));
    assert.deepEqual(consentDecision(ledger, q('utility')), { allowed: true });
    // the answer cites the record that decided
    assert.equal(currentConsent(ledger, q('utility')).event?.id, ledger[0]?.id);
  });

  it('OPT-3: the latest event among covering scopes decides (purpose or all × number or workspace)', () => {
    const ledger = [
      ev('opt_in', 'marketing', C1, t0),
      ev('opt_out', 'all', WORKSPACE_REACH, t0 + DAY),
      ev('opt_in', 'marketing', C2, t0 + 2 * DAY),
    ];
    assert.equal(currentConsent(ledger, q('marketing')).state, 'opted_out');
    assert.equal(currentConsent(ledger, q('marketing', { channelId: 'C2' })).state, 'opted_in');
    assert.equal(currentConsent(ledger, q('utility', { channelId: 'C2' })).state, 'opted_out');
    // an event for another number or purpose does not cover this one
    assert.equal(currentConsent([ev('opt_in', 'marketing', C2, t0)], q('marketing')).state, 'none');
    assert.equal(currentConsent([ev('opt_in', 'utility', C1, t0)], q('marketing')).state, 'none');
    // events later than now are not yet in force
    assert.equal(
      currentConsent([ev('opt_in', 'utility', C1, t0 + 20 * DAY)], q('utility')).state,
      'none',
    );
  });

  it('OPT-3: on a tie, opt-out wins', () => {
    const a = ev('opt_in', 'marketing', WORKSPACE_REACH, t0);
    const b = ev('opt_out', 'marketing', C1, t0);
    assert.equal(currentConsent([a, b], q('marketing')).state, 'opted_out');
    assert.equal(currentConsent([b, a], q('marketing')).state, 'opted_out');
  });

  it('OPT-3: authentication follows utility unless it has events of its own', () => {
    const utilityIn = ev('opt_in', 'utility', C1, t0);
    const follows = currentConsent([utilityIn], q('authentication'));
    assert.equal(follows.state, 'opted_in');
    assert.equal(follows.decidedBy, 'utility');
    const own = currentConsent(
      [utilityIn, ev('opt_out', 'authentication', C1, t0 - DAY)],
      q('authentication'),
    );
    assert.equal(own.state, 'opted_out');
    assert.equal(own.decidedBy, 'authentication');
    const refusal = consentDecision([ev('opt_out', 'utility', C1, t0)], q('authentication'));
    assert.match(!refusal.allowed ? refusal.detail : '', /authentication follows utility/);
  });

  it('OPT-4: an inbound message implies a utility opt-in at that number, lapsing 30 days after it (configurable)', () => {
    const implied = impliedOptInEvent({
      id: 'in1',
      contact: '447700900123',
      channelId: 'C1',
      at: t0,
    });
    const status = currentConsent([implied], q('utility', { now: t0 + 29 * DAY }));
    assert.equal(status.basis, 'implied');
    assert.equal(status.expiresAt, t0 + 30 * DAY);
    assert.equal(currentConsent([implied], q('utility', { now: t0 + 30 * DAY })).state, 'none');
    assert.equal(
      currentConsent([implied], q('utility', { now: t0 + 2 * DAY, impliedLapseMs: DAY })).state,
      'none',
    );
    assert.equal(
      currentConsent([implied], q('utility', { channelId: 'C2', now: t0 + DAY })).state,
      'none',
    );
    const lapsed = consentDecision([implied], q('utility', { now: t0 + 31 * DAY }));
    assert.match(
      !lapsed.allowed ? lapsed.detail : '',
      /implied by the contact's message of 2026-06-01T10:00:00\.000Z has lapsed/,
    );
  });

  it('OPT-4: an implied opt-in never overrides an explicit opt-out and never counts for marketing', () => {
    const out = ev('opt_out', 'utility', C1, t0);
    const implied = impliedOptInEvent({
      id: 'in2',
      contact: '447700900123',
      channelId: 'C1',
      at: t0 + HOUR,
    });
    assert.equal(
      currentConsent([out, implied], q('utility', { now: t0 + 2 * HOUR })).state,
      'opted_out',
    );
    const marketing = consentDecision([implied], q('marketing', { now: t0 + 2 * HOUR }));
    assert.equal(!marketing.allowed && marketing.reason, 'not_opted_in');
    assert.match(
      !marketing.allowed ? marketing.detail : '',
      /marketing always needs an explicit opt-in/,
    );
  });

  it('OPT-4: strict needs an explicit opt-in for every template; permissive sends without one but warns, never after an opt-out', () => {
    const implied = impliedOptInEvent({
      id: 'in3',
      contact: '447700900123',
      channelId: 'C1',
      at: t0,
    });
    const now = t0 + DAY;
    const strict = consentDecision([implied], q('utility', { now, policy: 'strict' }));
    assert.equal(!strict.allowed && strict.reason, 'not_opted_in');
    assert.match(!strict.allowed ? strict.detail : '', /strict policy/);
    assert.deepEqual(consentDecision([implied], q('utility', { now, policy: 'standard' })), {
      allowed: true,
    });
    const permissive = consentDecision([], q('marketing', { now, policy: 'permissive' }));
    assert.equal(permissive.allowed, true);
    assert.match(permissive.allowed ? (permissive.warning ?? '') : '', /permissive consent policy/);
    const optedOut = consentDecision(
      [ev('opt_out', 'marketing', WORKSPACE_REACH, t0)],
      q('marketing', { now, policy: 'permissive' }),
    );
    assert.equal(!optedOut.allowed && optedOut.reason, 'opted_out');
  });

  it('OPT-7: a refusal says opted_out or not_opted_in and names the scope', () => {
    const out = consentDecision(
      [
        ev('opt_out', 'all', WORKSPACE_REACH, t0, {
          source: 'inbound_message',
          evidence: { keyword: 'STOP' },
        }),
      ],
      q('marketing'),
    );
    assert.equal(!out.allowed && out.reason, 'opted_out');
    assert.match(
      !out.allowed ? out.detail : '',
      /opted out of all purposes workspace-wide on 2026-06-01T10:00:00\.000Z \(source inbound_message, keyword "STOP"\): no marketing template may be sent/,
    );
    const missing = consentDecision([ev('opt_in', 'utility', C1, t0)], q('marketing'));
    assert.equal(!missing.allowed && missing.reason, 'not_opted_in');
    assert.match(
      !missing.allowed ? missing.detail : '',
      /^Missing consent: marketing on channel C1 \(or workspace-wide\)/,
    );
  });
});
