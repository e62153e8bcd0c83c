// Proves the customer service window rules CSW-1..CSW-5 (WHATSAPP_RULES.md §2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../test/helpers/manual-clock.ts';
import {
  DEFAULT_DISPATCH_MARGIN,
  NO_WINDOW,
  closeOnLateWindowFailure,
  isWindowOpen,
  mayDispatchFreeForm,
  opensWindow,
  recordInbound,
  windowAfterEvent,
  windowClosesAt,
  type CareWindowState,
} from './care-window.ts';
import { decideSend } from './eligibility.ts';
import type { InboundMessage, OtherNotice, StatusUpdate } from './inbound.ts';
import type { ProviderStatus } from './message-status.ts';
import { DAY, HOUR, MINUTE, SECOND } from './time.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');

function userMessage(type: string, at: number): InboundMessage {
  return {
    kind: 'message',
    channelKey: 'pn-1',
    providerMessageId: `wamid.${type}.${at}`,
    from: '447700900123',
    at,
    type,
    content: {},
  };
}

function statusOf(status: ProviderStatus, at: number): StatusUpdate {
  return {
    kind: 'status',
    channelKey: 'pn-1',
    providerMessageId: 'wamid.out.1',
    status,
    at,
    recipient: '447700900123',
  };
}

const openedAt = (at: number): CareWindowState => recordInbound(NO_WINDOW, at);

describe('CSW-1: what opens the window', () => {
  const userTypes = [
    'text',
    'image',
    'video',
    'audio',
    'document',
    'sticker',
    'location',
    'contacts',
    'button',
    'interactive',
    'reaction',
    'order',
  ];

  for (const type of userTypes)
    it(`CSW-1: a user's ${type} message opens the window at its own timestamp`, () => {
      assert.equal(opensWindow(type), true);
      const state = windowAfterEvent(NO_WINDOW, userMessage(type, T0));
      assert.equal(state.lastInboundAt, T0);
      assert.equal(isWindowOpen(state, T0), true);
      assert.equal(windowClosesAt(state), T0 + DAY);
    });

  it('CSW-1: an inbound user call counts as user activity and restarts the window', () => {
    assert.equal(opensWindow('call'), true);
    const state = windowAfterEvent(openedAt(T0), userMessage('call', T0 + 20 * HOUR));
    assert.equal(windowClosesAt(state), T0 + 44 * HOUR);
  });

  for (const type of ['system', 'unsupported'])
    it(`CSW-1: a ${type} inbound neither opens nor restarts the window`, () => {
      assert.equal(opensWindow(type), false);
      const fresh = windowAfterEvent(NO_WINDOW, userMessage(type, T0));
      assert.equal(isWindowOpen(fresh, T0), false);
      assert.equal(windowClosesAt(fresh), null);
      const later = windowAfterEvent(openedAt(T0), userMessage(type, T0 + 23 * HOUR));
      assert.equal(
        windowClosesAt(later),
        T0 + DAY,
        'still closes 24 h after the real user message',
      );
    });

  it('CSW-1: status webhooks never open the window for a contact who has not written', () => {
    let state = NO_WINDOW;
    for (const s of ['accepted', 'sent', 'delivered', 'read', 'failed'] as const)
      state = windowAfterEvent(state, statusOf(s, T0));
    assert.equal(isWindowOpen(state, T0), false);
    assert.equal(windowClosesAt(state), null);
  });

  it('CSW-1: other notices (e.g. echoes of messages the business sent from the app) leave it untouched', () => {
    const echo: OtherNotice = {
      kind: 'notice',
      channelKey: 'pn-1',
      field: 'smb_message_echoes',
      at: T0 + 23 * HOUR,
      value: { to: '447700900123', type: 'text' },
    };
    const state = openedAt(T0);
    assert.equal(windowAfterEvent(state, echo), state);
  });
});

describe('CSW-2: 24 h from the latest user message, half-open', () => {
  it('CSW-2: is open at t + 24 h − 1 ms and closed at exactly t + 24 h', () => {
    const state = openedAt(T0);
    assert.equal(windowClosesAt(state), T0 + DAY);
    assert.equal(isWindowOpen(state, T0), true);
    assert.equal(isWindowOpen(state, T0 + DAY - 1), true);
    assert.equal(isWindowOpen(state, T0 + DAY), false);
    assert.equal(isWindowOpen(state, T0 + 2 * DAY), false);
  });

  it('CSW-2: each new user message restarts the full 24 hours', () => {
    const state = recordInbound(openedAt(T0), T0 + 20 * HOUR);
    assert.equal(windowClosesAt(state), T0 + 44 * HOUR);
    assert.equal(isWindowOpen(state, T0 + 44 * HOUR - 1), true);
    assert.equal(isWindowOpen(state, T0 + 44 * HOUR), false);
  });

  it('CSW-2: a user message after the window closed opens a new 24 hours', () => {
    const before = openedAt(T0);
    assert.equal(isWindowOpen(before, T0 + 29 * HOUR), false);
    const state = recordInbound(before, T0 + 30 * HOUR);
    assert.equal(isWindowOpen(state, T0 + 30 * HOUR), true);
    assert.equal(windowClosesAt(state), T0 + 54 * HOUR);
  });

  it('CSW-2: an older user message that arrives late does not shorten the window', () => {
    const latest = openedAt(T0 + 10 * HOUR);
    const afterLate = recordInbound(latest, T0 + 2 * HOUR);
    assert.equal(windowClosesAt(afterLate), T0 + 34 * HOUR);
    assert.equal(isWindowOpen(afterLate, T0 + 34 * HOUR - 1), true);
    const viaWebhook = windowAfterEvent(latest, userMessage('text', T0 + 2 * HOUR));
    assert.equal(windowClosesAt(viaWebhook), T0 + 34 * HOUR);
  });

  it('CSW-2: a business message never extends the window, templates included', () => {
    let state = openedAt(T0);
    // The business sends a template and a text an hour before the close; their statuses arrive.
    for (const s of ['accepted', 'sent', 'delivered', 'read'] as const)
      state = windowAfterEvent(state, statusOf(s, T0 + 23 * HOUR + 5 * SECOND));
    assert.equal(windowClosesAt(state), T0 + DAY);
    assert.equal(isWindowOpen(state, T0 + DAY), false);
    assert.equal(decideSend(state, true, T0 + DAY).allowed, false);
  });
});

describe('CSW-3: free-form only while open; templates always', () => {
  it('CSW-3: free-form is allowed while the window is open and refused once it closed', () => {
    const state = openedAt(T0);
    assert.deepEqual(decideSend(state, true, T0 + HOUR), { allowed: true });
    const closed = decideSend(state, true, T0 + DAY);
    assert.equal(closed.allowed, false);
    assert.equal(!closed.allowed && closed.reason, 'window_closed');
  });

  it('CSW-3: a template may be sent with the window closed or never opened', () => {
    assert.deepEqual(decideSend(NO_WINDOW, false, T0), { allowed: true });
    assert.deepEqual(decideSend(openedAt(T0), false, T0 + 3 * DAY), { allowed: true });
  });

  it('CSW-3: free-form to a contact who never wrote is refused', () => {
    const d = decideSend(NO_WINDOW, true, T0);
    assert.equal(!d.allowed && d.reason, 'window_closed');
  });
});

describe('CSW-4: decided at dispatch with a safety margin', () => {
  it('CSW-4: the default margin is 60 s', () => {
    assert.equal(DEFAULT_DISPATCH_MARGIN, 60 * SECOND);
  });

  it('CSW-4: free-form may be dispatched until 60 s before the close, not at or after that', () => {
    const state = openedAt(T0);
    const close = T0 + DAY;
    assert.equal(mayDispatchFreeForm(state, close - MINUTE - 1), true);
    assert.equal(mayDispatchFreeForm(state, close - MINUTE), false);
    assert.equal(mayDispatchFreeForm(state, close - 1), false, 'still open, but inside the margin');
    assert.equal(isWindowOpen(state, close - 1), true);
  });

  it('CSW-4: a message allowed at request time fails with window_closed when it is dispatched too late', async () => {
    const clock = new ManualClock(T0);
    const state = recordInbound(NO_WINDOW, clock.now());
    await clock.advance(DAY - 2 * MINUTE);
    assert.deepEqual(decideSend(state, true, clock.now()), { allowed: true }, 'at request time');
    await clock.advance(90 * SECOND); // it waited in the queue
    const atDispatch = decideSend(state, true, clock.now());
    assert.equal(isWindowOpen(state, clock.now()), true, 'the window itself is still open');
    assert.equal(!atDispatch.allowed && atDispatch.reason, 'window_closed');
  });

  it('CSW-4: the margin is configurable', () => {
    const state = openedAt(T0);
    const close = T0 + DAY;
    assert.equal(mayDispatchFreeForm(state, close - 1, 0), true, 'no margin: up to the last ms');
    assert.equal(mayDispatchFreeForm(state, close, 0), false);
    assert.equal(mayDispatchFreeForm(state, close - 5 * MINUTE - 1, 5 * MINUTE), true);
    assert.equal(mayDispatchFreeForm(state, close - 5 * MINUTE, 5 * MINUTE), false);
    assert.equal(decideSend(state, true, close - 2 * MINUTE, 5 * MINUTE).allowed, false);
    assert.equal(decideSend(state, true, close - 2 * MINUTE, 0).allowed, true);
  });
});

describe('CSW-5: a late window-closed failure', () => {
  const sentAt = T0 + 3 * HOUR;
  const failedAt = sentAt + 4 * SECOND;

  it('CSW-5: a free-form message failing late with no newer inbound closes the window at its send time', () => {
    const state = closeOnLateWindowFailure(openedAt(T0), { freeForm: true, sentAt, failedAt });
    assert.equal(windowClosesAt(state), sentAt);
    assert.equal(isWindowOpen(state, failedAt), false);
    const d = decideSend(state, true, failedAt);
    assert.equal(!d.allowed && d.reason, 'window_closed');
    assert.deepEqual(decideSend(state, false, failedAt), { allowed: true }, 'a template may go');
  });

  it("CSW-5: a template's late 63016 does not close the window", () => {
    const before = openedAt(T0);
    const state = closeOnLateWindowFailure(before, { freeForm: false, sentAt, failedAt });
    assert.deepEqual(state, before);
    assert.equal(isWindowOpen(state, failedAt), true);
  });

  it('CSW-5: an inbound newer than the send time keeps the window open', () => {
    const before = openedAt(sentAt + 1);
    const state = closeOnLateWindowFailure(before, { freeForm: true, sentAt, failedAt });
    assert.deepEqual(state, before);
    assert.equal(isWindowOpen(state, failedAt), true);
  });

  it('CSW-5: an inbound at the very send time is not newer, so the window closes', () => {
    const state = closeOnLateWindowFailure(openedAt(sentAt), { freeForm: true, sentAt, failedAt });
    assert.equal(isWindowOpen(state, failedAt), false);
  });

  it('CSW-5: a user message after the send time reopens the window for a full 24 h', () => {
    const closed = closeOnLateWindowFailure(openedAt(T0), { freeForm: true, sentAt, failedAt });
    const reopened = recordInbound(closed, failedAt + MINUTE);
    assert.equal(isWindowOpen(reopened, failedAt + MINUTE), true);
    assert.equal(windowClosesAt(reopened), failedAt + MINUTE + DAY);
  });

  it('CSW-5: a user message older than the failed send, arriving late, does not reopen it', () => {
    const closed = closeOnLateWindowFailure(openedAt(T0), { freeForm: true, sentAt, failedAt });
    const state = recordInbound(closed, sentAt - MINUTE);
    assert.equal(isWindowOpen(state, failedAt + MINUTE), false);
  });

  it('CSW-5: with several failed sends, only a user message newer than the latest reopens it, in any report order', () => {
    const first = { freeForm: true, sentAt: T0 + HOUR, failedAt: T0 + 5 * HOUR };
    const second = { freeForm: true, sentAt: T0 + 2 * HOUR, failedAt: T0 + 5 * HOUR + 1 };
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      let state = openedAt(T0);
      for (const f of order) state = closeOnLateWindowFailure(state, f);
      // The user wrote between the two sends; the message only reaches us now.
      state = recordInbound(state, T0 + 90 * MINUTE);
      assert.equal(isWindowOpen(state, T0 + 6 * HOUR), false);
      assert.equal(windowClosesAt(state), second.sentAt);
    }
  });
});
