// Local days in a WABA's zone, including days that a DST switch makes 23 or 25 hours long.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ZoneCalendar, isValidTimeZone } from './local-calendar.ts';

const at = (iso: string) => Date.parse(iso);

describe('ZoneCalendar', () => {
  it('gives the UTC date and month by default', () => {
    const c = new ZoneCalendar();
    assert.deepEqual(c.dayOf(at('2025-07-31T23:59:59.999Z')), {
      date: '2025-07-31',
      month: '2025-07',
    });
    assert.deepEqual(c.dayOf(at('2025-08-01T00:00:00Z')), { date: '2025-08-01', month: '2025-08' });
  });

  it('changes the date at local midnight in the zone (Asia/Kolkata, UTC+05:30)', () => {
    const c = new ZoneCalendar('Asia/Kolkata');
    assert.equal(c.dayOf(at('2025-06-30T18:29:59Z')).date, '2025-06-30');
    assert.equal(c.dayOf(at('2025-06-30T18:30:00Z')).date, '2025-07-01');
  });

  it('stays exact across DST switches, also when a cached day is reused', () => {
    const berlin = new ZoneCalendar('Europe/Berlin');
    // 2025-03-30 is 23 hours long in Berlin
    assert.equal(berlin.dayOf(at('2025-03-29T22:59:59Z')).date, '2025-03-29');
    assert.equal(berlin.dayOf(at('2025-03-29T23:00:00Z')).date, '2025-03-30');
    assert.equal(berlin.dayOf(at('2025-03-30T21:59:59Z')).date, '2025-03-30');
    assert.equal(berlin.dayOf(at('2025-03-30T22:00:00Z')).date, '2025-03-31');
    // São Paulo's DST once started at midnight (2018-11-04 began at 01:00 local)
    const sp = new ZoneCalendar('America/Sao_Paulo');
    assert.equal(sp.dayOf(at('2018-11-04T02:59:59Z')).date, '2018-11-03');
    assert.equal(sp.dayOf(at('2018-11-04T03:00:00Z')).date, '2018-11-04');
    assert.equal(sp.dayOf(at('2018-11-05T01:59:59Z')).date, '2018-11-04');
    assert.equal(sp.dayOf(at('2018-11-05T02:00:00Z')).date, '2018-11-05');
  });

  it('agrees with Intl for every quarter hour of a DST year', () => {
    for (const zone of [
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'America/Sao_Paulo',
    ]) {
      const c = new ZoneCalendar(zone);
      const fmt = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
      for (
        let t = at('2018-01-01T00:00:00Z');
        t < at('2019-01-01T00:00:00Z');
        t += 15 * 60_000 + 7_000
      )
        assert.equal(c.dayOf(t).date, fmt.format(t), `${zone} ${new Date(t).toISOString()}`);
    }
  });

  it('returns the same object for every instant of a day', () => {
    const c = new ZoneCalendar('UTC');
    assert.equal(c.dayOf(at('2025-01-01T01:00:00Z')), c.dayOf(at('2025-01-01T23:00:00Z')));
  });

  it('knows IANA zone names', () => {
    assert.equal(isValidTimeZone('America/Sao_Paulo'), true);
    assert.equal(isValidTimeZone('Mars/Olympus'), false);
    assert.equal(isValidTimeZone(''), false);
  });
});
