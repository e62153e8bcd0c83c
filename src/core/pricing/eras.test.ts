// The era table: one era per local date, in order, with the documented start dates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERAS, eraOn } from './eras.ts';

describe('eras', () => {
  it('starts each era on its documented local date', () => {
    assert.deepEqual(
      ERAS.map((e) => [e.id, e.startsOn]),
      [
        ['nbp', '0000-01-01'],
        ['cbp2022', '2022-02-01'],
        ['cbp2023', '2023-06-01'],
        ['cbp2024', '2024-11-01'],
        ['pmp2025', '2025-07-01'],
        ['pmp2026', '2026-10-01'],
      ],
    );
  });

  it('picks the era in force on a date, the day before and on each start', () => {
    assert.equal(eraOn('2019-06-01').id, 'nbp');
    assert.equal(eraOn('2022-01-31').id, 'nbp');
    assert.equal(eraOn('2022-02-01').id, 'cbp2022');
    assert.equal(eraOn('2023-05-31').id, 'cbp2022');
    assert.equal(eraOn('2023-06-01').id, 'cbp2023');
    assert.equal(eraOn('2024-10-31').id, 'cbp2023');
    assert.equal(eraOn('2024-11-01').id, 'cbp2024');
    assert.equal(eraOn('2025-06-30').id, 'cbp2024');
    assert.equal(eraOn('2025-07-01').id, 'pmp2025');
    assert.equal(eraOn('2026-09-30').id, 'pmp2025');
    assert.equal(eraOn('2026-10-01').id, 'pmp2026');
    assert.equal(eraOn('2030-01-01').id, 'pmp2026');
  });

  it('FEP-3: FEP lasts 24 h in cbp2022, 72 h from 2023-06-01, and does not exist in nbp', () => {
    assert.deepEqual(
      ERAS.map((e) => e.fepHours),
      [null, 24, 72, 72, 72, 72],
    );
  });
});
