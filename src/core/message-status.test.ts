// Proves the status rules STA-1 (forward-only merge, Twilio vocabulary, delivery instant) and the pure part of STA-2.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MESSAGE_STATUSES,
  PROVIDER_STATUSES,
  deliveryInstant,
  mergeStatus,
  normaliseTwilioStatus,
  type MessageStatus,
  type ProviderStatus,
} from './message-status.ts';

// The rule book's answer for every (current, incoming) pair, written out by hand.
// Columns: accepted, sent, delivered, read, played, failed.
const EXPECTED: Record<MessageStatus, readonly MessageStatus[]> = {
  pending: ['accepted', 'sent', 'delivered', 'read', 'played', 'failed'],
  accepted: ['accepted', 'sent', 'delivered', 'read', 'played', 'failed'],
  sent: ['sent', 'sent', 'delivered', 'read', 'played', 'failed'],
  delivered: ['delivered', 'delivered', 'delivered', 'read', 'played', 'delivered'],
  read: ['read', 'read', 'read', 'read', 'played', 'read'],
  played: ['played', 'played', 'played', 'played', 'played', 'played'],
  failed: ['failed', 'failed', 'delivered', 'read', 'played', 'failed'],
  refused: ['refused', 'refused', 'refused', 'refused', 'refused', 'refused'],
};

const merged = (events: readonly ProviderStatus[], start: MessageStatus = 'pending') =>
  events.reduce<MessageStatus>(mergeStatus, start);

describe('STA-1: forward-only merge', () => {
  for (const current of MESSAGE_STATUSES)
    for (const [i, incoming] of PROVIDER_STATUSES.entries()) {
      const want = EXPECTED[current][i];
      it(`STA-1: ${current} + ${incoming} → ${want}`, () => {
        assert.equal(mergeStatus(current, incoming), want);
      });
    }

  it('STA-1: a late delivered after read changes nothing', () => {
    assert.equal(merged(['sent', 'read', 'delivered']), 'read');
  });

  it('STA-1: failed overrides accepted and sent only', () => {
    assert.equal(merged(['accepted', 'failed']), 'failed');
    assert.equal(merged(['accepted', 'sent', 'failed']), 'failed');
    assert.equal(merged(['sent', 'delivered', 'failed']), 'delivered');
    assert.equal(merged(['delivered', 'read', 'failed']), 'read');
  });

  it('STA-1: a failed message is not revived by a late accepted or sent', () => {
    assert.equal(merged(['failed', 'sent']), 'failed');
    assert.equal(merged(['failed', 'accepted']), 'failed');
  });

  it('STA-1: the outcome never depends on the order webhooks arrive in', () => {
    for (const a of PROVIDER_STATUSES)
      for (const b of PROVIDER_STATUSES)
        for (const c of PROVIDER_STATUSES)
          assert.equal(merged([a, b, c]), merged([c, b, a]), `${a},${b},${c} vs ${c},${b},${a}`);
  });

  it('STA-1: a delivered report wins over failed whichever arrives first', () => {
    assert.equal(merged(['sent', 'failed', 'delivered']), 'delivered');
    assert.equal(merged(['sent', 'delivered', 'failed']), 'delivered');
  });

  it('STA-1: voice messages go on to played after read', () => {
    assert.equal(merged(['sent', 'delivered', 'read', 'played']), 'played');
    assert.equal(merged(['played', 'read']), 'played');
  });

  it('STA-1: a message refused locally keeps its outcome whatever a provider says', () => {
    for (const s of PROVIDER_STATUSES) assert.equal(mergeStatus('refused', s), 'refused');
  });
});

describe('STA-2: re-delivery changes nothing (pure part)', () => {
  it('STA-2: merging the same status event twice gives the same status as once', () => {
    for (const current of MESSAGE_STATUSES)
      for (const s of PROVIDER_STATUSES) {
        const once = mergeStatus(current, s);
        assert.equal(mergeStatus(once, s), once, `${current} + ${s} twice`);
      }
  });

  it('STA-2: duplicated events do not move the delivery instant', () => {
    const events = [
      { status: 'sent', at: 1_000 },
      { status: 'delivered', at: 2_000 },
      { status: 'read', at: 3_000 },
    ];
    assert.equal(deliveryInstant([...events, ...events]), deliveryInstant(events));
  });
});

describe("STA-1: Twilio's status vocabulary", () => {
  const cases: ReadonlyArray<readonly [string, ProviderStatus | undefined]> = [
    ['queued', 'accepted'],
    ['sending', 'accepted'],
    ['scheduled', 'accepted'],
    ['accepted', 'accepted'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['undelivered', 'failed'],
    ['canceled', 'failed'],
    ['failed', 'failed'],
    ['receiving', undefined],
    ['received', undefined],
    ['', undefined],
  ];
  for (const [twilio, want] of cases)
    it(`STA-1: Twilio "${twilio}" means ${want ?? 'no outbound status'}`, () => {
      assert.equal(normaliseTwilioStatus(twilio), want);
    });

  it('STA-1: a Twilio canceled message that was only queued ends failed', () => {
    const events = ['queued', 'sending', 'canceled'].map((s) => normaliseTwilioStatus(s));
    assert.equal(merged(events.filter((s) => s !== undefined)), 'failed');
  });
});

describe('STA-1: delivery instant', () => {
  it('STA-1: is the delivered time when there is one', () => {
    assert.equal(
      deliveryInstant([
        { status: 'sent', at: 100 },
        { status: 'read', at: 250 },
        { status: 'delivered', at: 300 },
      ]),
      300,
    );
  });

  it('STA-1: is the earliest read or played time when delivered never came', () => {
    assert.equal(
      deliveryInstant([
        { status: 'played', at: 700 },
        { status: 'read', at: 500 },
        { status: 'read', at: 600 },
      ]),
      500,
    );
    assert.equal(deliveryInstant([{ status: 'played', at: 900 }]), 900);
  });

  it('STA-1: is the earliest delivered time when delivered is reported twice', () => {
    assert.equal(
      deliveryInstant([
        { status: 'delivered', at: 400 },
        { status: 'delivered', at: 350 },
      ]),
      350,
    );
  });

  it('STA-1: is null for a message that was only accepted, sent or failed', () => {
    assert.equal(deliveryInstant([]), null);
    assert.equal(
      deliveryInstant([
        { status: 'accepted', at: 1 },
        { status: 'sent', at: 2 },
        { status: 'failed', at: 3 },
      ]),
      null,
    );
  });
});
