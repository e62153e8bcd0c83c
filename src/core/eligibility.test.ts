// Proves the eligibility answer (CSW-2..CSW-5 brought together): open or not, until when, and why not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  NO_WINDOW,
  closeOnLateWindowFailure,
  mayDispatchFreeForm,
  recordInbound,
} from './care-window.ts';
import { decideSend, eligibility } from './eligibility.ts';
import { DAY, HOUR, MINUTE, SECOND } from './time.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const CLOSE = T0 + DAY;
const opened = recordInbound(NO_WINDOW, T0);

function refusalDetail(d: ReturnType<typeof decideSend>): string {
  assert.equal(d.allowed, false);
  return d.allowed ? '' : d.detail;
}

describe('eligibility', () => {
  it('CSW-2: an open window says until when it is open and until when free-form may be queued', () => {
    assert.deepEqual(eligibility(opened, T0 + HOUR), {
      windowOpen: true,
      windowClosesAt: CLOSE,
      freeFormUntil: CLOSE - MINUTE,
      freeFormAllowed: true,
      templatesAllowed: true,
    });
  });

  it('CSW-4: inside the dispatch margin the window is open but free-form is no longer allowed', () => {
    const e = eligibility(opened, CLOSE - 30 * SECOND);
    assert.equal(e.windowOpen, true);
    assert.equal(e.freeFormAllowed, false);
    assert.equal(e.templatesAllowed, true);
  });

  it('CSW-4: a configured margin moves freeFormUntil', () => {
    const e = eligibility(opened, T0, 10 * MINUTE);
    assert.equal(e.freeFormUntil, CLOSE - 10 * MINUTE);
    assert.equal(eligibility(opened, CLOSE - 10 * MINUTE, 10 * MINUTE).freeFormAllowed, false);
    assert.equal(eligibility(opened, CLOSE - 1, 0).freeFormAllowed, true);
  });

  it('CSW-2: after the close only templates are allowed, and the answer still says when it closed', () => {
    assert.deepEqual(eligibility(opened, CLOSE), {
      windowOpen: false,
      windowClosesAt: CLOSE,
      freeFormUntil: CLOSE - MINUTE,
      freeFormAllowed: false,
      templatesAllowed: true,
    });
  });

  it('CSW-3: a contact who never wrote has no window and may only get a template', () => {
    assert.deepEqual(eligibility(NO_WINDOW, T0), {
      windowOpen: false,
      windowClosesAt: null,
      freeFormUntil: null,
      freeFormAllowed: false,
      templatesAllowed: true,
    });
    const detail = refusalDetail(decideSend(NO_WINDOW, true, T0));
    assert.match(detail, /never written/);
    assert.match(detail, /template/);
  });

  it('CSW-4: freeFormAllowed, decideSend and mayDispatchFreeForm agree at every instant around the close', () => {
    const offsets = [-3, -2, -1, 0, 1, 2, 3];
    for (const margin of [0, MINUTE, 5 * MINUTE])
      for (const now of [
        ...offsets.map((d) => CLOSE - margin + d),
        ...offsets.map((d) => CLOSE + d),
        T0,
        CLOSE - margin / 2,
      ]) {
        const allowed = mayDispatchFreeForm(opened, now, margin);
        assert.equal(eligibility(opened, now, margin).freeFormAllowed, allowed, `at ${now}`);
        assert.equal(decideSend(opened, true, now, margin).allowed, allowed, `at ${now}`);
      }
  });

  it('CSW-2: the refusal says when the window closed and that it was 24 h after the contact wrote', () => {
    const detail = refusalDetail(decideSend(opened, true, CLOSE + HOUR));
    assert.match(detail, /closed at 2026-03-03T09:00:00\.000Z/);
    assert.match(detail, /24 h after the contact last wrote/);
    assert.match(detail, /send a template/);
  });

  it('CSW-4: inside the margin the refusal says when the window closes, not that it already closed', () => {
    const detail = refusalDetail(decideSend(opened, true, CLOSE - 30 * SECOND));
    assert.match(detail, /closes at 2026-03-03T09:00:00\.000Z/);
    assert.match(detail, /60 s dispatch margin/);
    assert.doesNotMatch(detail, /closed at/);
  });

  it('CSW-5: after a late window failure the refusal gives the failed send time as the close', () => {
    const sentAt = T0 + 3 * HOUR;
    const state = closeOnLateWindowFailure(opened, {
      freeForm: true,
      sentAt,
      failedAt: sentAt + 5,
    });
    const e = eligibility(state, sentAt + HOUR);
    assert.equal(e.windowOpen, false);
    assert.equal(e.windowClosesAt, sentAt);
    const detail = refusalDetail(decideSend(state, true, sentAt + HOUR));
    assert.match(detail, /closed at 2026-03-02T12:00:00\.000Z/);
    assert.match(detail, /WhatsApp reported it closed/);
  });
});
