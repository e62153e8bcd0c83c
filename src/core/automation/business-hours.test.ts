// Business calendars: weekly hours in an IANA zone, holidays, and DST changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calendarProblems, isOpen, localTime, type BusinessCalendar } from './business-hours.ts';

const LONDON: BusinessCalendar = {
  zone: 'Europe/London',
  weekly: {
    mon: [{ from: '09:00', to: '17:00' }],
    tue: [{ from: '09:00', to: '17:00' }],
    wed: [
      { from: '09:00', to: '12:30' },
      { from: '13:30', to: '17:00' },
    ],
    thu: [{ from: '09:00', to: '17:00' }],
    fri: [{ from: '09:00', to: '17:00' }],
    sat: [{ from: '10:00', to: '24:00' }],
  },
  holidays: ['2026-12-25'],
};

const at = (iso: string) => Date.parse(iso);

describe('business hours', () => {
  it('is open at 10:00 local on a weekday and closed at 22:00 local', () => {
    assert.equal(isOpen(LONDON, at('2026-03-02T10:00:00Z')), true); // Monday, GMT
    assert.equal(isOpen(LONDON, at('2026-03-02T22:00:00Z')), false);
  });

  it('opens at the start of a span and closes at its end', () => {
    assert.equal(isOpen(LONDON, at('2026-03-02T08:59:59Z')), false);
    assert.equal(isOpen(LONDON, at('2026-03-02T09:00:00Z')), true);
    assert.equal(isOpen(LONDON, at('2026-03-02T16:59:59Z')), true);
    assert.equal(isOpen(LONDON, at('2026-03-02T17:00:00Z')), false);
  });

  it('follows the clocks across the spring DST change: 09:30 BST is 08:30 UTC', () => {
    // British Summer Time starts on Sunday 2026-03-29 at 01:00 UTC.
    assert.equal(localTime('Europe/London', at('2026-03-30T08:30:00Z')).minutes, 9 * 60 + 30);
    assert.equal(isOpen(LONDON, at('2026-03-30T08:30:00Z')), true);
    assert.equal(isOpen(LONDON, at('2026-03-30T16:30:00Z')), false); // 17:30 BST
    // The Friday before, still GMT: the same UTC instants fall the other way.
    assert.equal(isOpen(LONDON, at('2026-03-27T08:30:00Z')), false);
    assert.equal(isOpen(LONDON, at('2026-03-27T16:30:00Z')), true);
  });

  it('follows the clocks across the autumn DST change', () => {
    // BST ends on Sunday 2026-10-25 at 01:00 UTC: Monday 09:00 local is 09:00 UTC again.
    assert.equal(isOpen(LONDON, at('2026-10-23T08:30:00Z')), true); // Friday 09:30 BST
    assert.equal(isOpen(LONDON, at('2026-10-26T08:30:00Z')), false); // Monday 08:30 GMT
  });

  it('uses the local date near midnight, not the UTC one', () => {
    const tokyo: BusinessCalendar = {
      zone: 'Asia/Tokyo',
      weekly: { mon: [{ from: '00:00', to: '08:00' }] },
    };
    // Sunday 2026-03-01 23:30 UTC is Monday 08:30 in Tokyo: closed; 22:30 UTC is 07:30: open.
    assert.equal(isOpen(tokyo, at('2026-03-01T22:30:00Z')), true);
    assert.equal(isOpen(tokyo, at('2026-03-01T23:30:00Z')), false);
  });

  it('is closed all day on a holiday, and on a day with no hours', () => {
    assert.equal(isOpen(LONDON, at('2026-12-25T11:00:00Z')), false); // a Friday
    assert.equal(isOpen(LONDON, at('2026-12-24T11:00:00Z')), true);
    assert.equal(isOpen(LONDON, at('2026-03-01T11:00:00Z')), false); // Sunday
  });

  it('keeps a lunch break and a span running to midnight', () => {
    assert.equal(isOpen(LONDON, at('2026-03-04T13:00:00Z')), false); // Wednesday lunch
    assert.equal(isOpen(LONDON, at('2026-03-04T14:00:00Z')), true);
    assert.equal(isOpen(LONDON, at('2026-03-07T23:59:00Z')), true); // Saturday 23:59
  });

  it('names what is wrong with a calendar', () => {
    assert.deepEqual(calendarProblems(LONDON), []);
    const problems = calendarProblems({
      zone: 'Mars/Olympus',
      weekly: { mon: [{ from: '18:00', to: '09:00' }], tue: [{ from: '9am', to: '17:00' }] },
      holidays: ['25/12/2026'],
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems.join('\n'), /Mars\/Olympus/);
    assert.match(problems.join('\n'), /past midnight/);
    assert.match(problems.join('\n'), /9am/);
    assert.match(problems.join('\n'), /25\/12\/2026/);
  });
});
