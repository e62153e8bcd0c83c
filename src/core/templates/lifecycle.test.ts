// Template status lifecycle (TPL-8) and what it allows: sending and editing (TPL-9).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DAY, HOUR, MINUTE } from '../time.ts';
import {
  applyTemplateUpdate,
  checkTemplateEdit,
  draftTemplate,
  effectiveTemplateStatus,
  nextEditAllowedAt,
  templateSendDecision,
  type TemplateState,
  type TemplateUpdate,
} from './lifecycle.ts';

const t0 = Date.parse('2026-04-01T08:00:00Z');
const status = (event: string, at: number, reason?: string): TemplateUpdate =>
  reason === undefined ? { kind: 'status', event, at } : { kind: 'status', event, at, reason };

function run(
  updates: TemplateUpdate[],
  start: TemplateState = draftTemplate('UTILITY'),
): TemplateState {
  return updates.reduce(applyTemplateUpdate, start);
}

const approved = run([status('PENDING', t0), status('APPROVED', t0 + HOUR)]);

const fixtures = fileURLToPath(new URL('../../../../shared/fixtures/meta/', import.meta.url));
const noFixtures = existsSync(fixtures)
  ? false
  : 'needs ../shared/fixtures (absent on a fresh clone)';

describe('template lifecycle', () => {
  it('TPL-8: DRAFT → PENDING → APPROVED or REJECTED by status webhook, keeping the rejection reason', () => {
    assert.equal(draftTemplate().status, 'DRAFT');
    assert.equal(run([status('PENDING', t0)]).status, 'PENDING');
    assert.equal(approved.status, 'APPROVED');
    const rejected = run([status('PENDING', t0), status('REJECTED', t0 + HOUR, 'INVALID_FORMAT')]);
    assert.equal(rejected.status, 'REJECTED');
    assert.equal(rejected.rejectionReason, 'INVALID_FORMAT');
  });

  it('TPL-8: the first pause lasts 3 h, the second 6 h, the third disables the template', () => {
    const first = applyTemplateUpdate(approved, status('PAUSED', t0 + 2 * HOUR));
    assert.equal(first.status, 'PAUSED');
    assert.equal(first.pausedUntil, t0 + 5 * HOUR);
    assert.equal(effectiveTemplateStatus(first, t0 + 5 * HOUR - 1), 'PAUSED');
    assert.equal(effectiveTemplateStatus(first, t0 + 5 * HOUR), 'APPROVED');
    // a duplicate webhook for the same pause is not a second pause
    assert.equal(applyTemplateUpdate(first, status('PAUSED', t0 + 2 * HOUR + MINUTE)), first);
    const second = run([status('APPROVED', t0 + 6 * HOUR), status('PAUSED', t0 + DAY)], first);
    assert.equal(second.pauseCount, 2);
    assert.equal(second.pausedUntil, t0 + DAY + 6 * HOUR);
    const third = run([status('PAUSED', t0 + 3 * DAY)], second);
    assert.equal(third.status, 'DISABLED');
    assert.equal(third.pauseCount, 3);
  });

  it('TPL-8: late webhooks older than the applied status change nothing; category and quality updates move only their field', () => {
    const paused = applyTemplateUpdate(approved, status('PAUSED', t0 + 2 * HOUR));
    assert.equal(applyTemplateUpdate(paused, status('PENDING', t0 + 30 * MINUTE)), paused);
    const recat = applyTemplateUpdate(approved, {
      kind: 'category',
      newCategory: 'MARKETING',
      at: t0 + DAY,
    });
    assert.equal(recat.category, 'MARKETING');
    assert.equal(recat.status, 'APPROVED');
    const red = applyTemplateUpdate(approved, { kind: 'quality', newQuality: 'RED', at: t0 + DAY });
    assert.equal(red.quality, 'RED');
    assert.equal(
      applyTemplateUpdate(approved, { kind: 'quality', newQuality: 'PURPLE', at: t0 }),
      approved,
    );
  });

  it('TPL-8: REINSTATED returns to APPROVED; UNARCHIVED returns to the status before ARCHIVED', () => {
    const paused = applyTemplateUpdate(approved, status('PAUSED', t0 + 2 * HOUR));
    const reinstated = applyTemplateUpdate(paused, status('REINSTATED', t0 + 3 * HOUR));
    assert.equal(reinstated.status, 'APPROVED');
    assert.equal(reinstated.pausedUntil, null);
    const rejected = run([status('REJECTED', t0 + 2 * HOUR)], approved);
    const archived = applyTemplateUpdate(rejected, status('ARCHIVED', t0 + DAY));
    assert.equal(archived.status, 'ARCHIVED');
    assert.equal(
      applyTemplateUpdate(archived, status('UNARCHIVED', t0 + 2 * DAY)).status,
      'REJECTED',
    );
    for (const event of [
      'IN_APPEAL',
      'FLAGGED',
      'LIMIT_EXCEEDED',
      'PENDING_DELETION',
      'DELETED',
      'LOCKED',
    ])
      assert.equal(applyTemplateUpdate(approved, status(event, t0 + DAY)).status, event);
  });

  it('TPL-8: applies real message_template_status_update payloads', { skip: noFixtures }, () => {
    for (const [file, expected] of [
      ['pywa__template_status_update__approved.json', 'APPROVED'],
      ['pywa__template_status_update__rejected.json', 'REJECTED'],
    ] as const) {
      const payload = JSON.parse(readFileSync(`${fixtures}${file}`, 'utf8')) as {
        entry: Array<{
          time: number;
          changes: Array<{
            value: { event: string; reason?: string; message_template_category: string };
          }>;
        }>;
      };
      const entry = payload.entry[0]!;
      const value = entry.changes[0]!.value;
      const state = run(
        [
          status(value.event, entry.time * 1000, value.reason),
          { kind: 'category', newCategory: value.message_template_category, at: entry.time * 1000 },
        ],
        run([status('PENDING', 0)], draftTemplate()),
      );
      assert.equal(state.status, expected);
      assert.ok(state.category !== null);
    }
  });

  it('TPL-9: only APPROVED templates may be sent: paused 132015, disabled 132016, others 132001', () => {
    assert.deepEqual(templateSendDecision(approved, t0 + 2 * HOUR), { allowed: true });
    const paused = applyTemplateUpdate(approved, status('PAUSED', t0 + 2 * HOUR));
    const refusal = templateSendDecision(paused, t0 + 3 * HOUR);
    assert.equal(refusal.allowed, false);
    assert.equal(!refusal.allowed && refusal.reason, 'template_paused');
    assert.match(
      !refusal.allowed ? refusal.detail : '',
      /until 2026-04-01T13:00:00\.000Z .*132015/,
    );
    assert.deepEqual(templateSendDecision(paused, t0 + 5 * HOUR), { allowed: true });
    const disabled = run([status('PAUSED', t0 + DAY), status('PAUSED', t0 + 2 * DAY)], paused);
    const off = templateSendDecision(disabled, t0 + 3 * DAY);
    assert.equal(!off.allowed && off.reason, 'template_disabled');
    const pending = templateSendDecision(run([status('PENDING', t0)]), t0);
    assert.equal(!pending.allowed && pending.reason, 'template_not_approved');
    assert.match(!pending.allowed ? pending.detail : '', /PENDING.*132001/);
  });

  it('TPL-9: only APPROVED, REJECTED or PAUSED templates may be edited; an approved category is fixed', () => {
    const pending = run([status('PENDING', t0)]);
    const d = checkTemplateEdit(pending, [], {}, t0);
    assert.equal(d.allowed, false);
    assert.match(!d.allowed ? d.detail : '', /this one is PENDING/);
    const rejected = run([status('REJECTED', t0 + HOUR)], pending);
    assert.deepEqual(
      checkTemplateEdit(rejected, [t0, t0 + MINUTE], { category: 'MARKETING' }, t0 + HOUR),
      { allowed: true },
    );
    const recat = checkTemplateEdit(approved, [], { category: 'MARKETING' }, t0 + DAY);
    assert.match(
      !recat.allowed ? recat.detail : '',
      /category cannot be changed \(it is UTILITY; MARKETING was asked\)/,
    );
    assert.deepEqual(checkTemplateEdit(approved, [], { category: 'UTILITY' }, t0 + DAY), {
      allowed: true,
    });
  });

  it('TPL-9: approved templates allow 1 edit per 24 h and 10 per 30 days', () => {
    const now = t0 + 40 * DAY;
    const lastDay = checkTemplateEdit(approved, [now - 23 * HOUR], {}, now);
    assert.match(
      !lastDay.allowed ? lastDay.detail : '',
      /1 edit per 24 hours; the next edit is possible from/,
    );
    assert.equal(nextEditAllowedAt([now - 23 * HOUR], now), now + HOUR);
    assert.deepEqual(checkTemplateEdit(approved, [now - DAY], {}, now), { allowed: true });
    const ten = Array.from({ length: 10 }, (_, i) => now - 29 * DAY + i * 2 * DAY);
    const month = checkTemplateEdit(approved, ten, {}, now);
    assert.match(!month.allowed ? month.detail : '', /10 edits per 30 days/);
    assert.equal(nextEditAllowedAt(ten, now), now + DAY);
    assert.deepEqual(checkTemplateEdit(approved, ten.slice(1), {}, now), { allowed: true });
  });
});
