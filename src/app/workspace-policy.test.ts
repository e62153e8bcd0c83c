import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { consentSettings, notificationSettings } from './workspace-policy.ts';
import type { Workspace } from '../ports/store.ts';

const DAY = 86_400_000;
const workspace = (settings: Workspace['settings']): Workspace => ({
  id: 'w',
  name: 'W',
  settings,
  createdAt: 0,
});

describe('workspace consent and notification settings', () => {
  it('OPT-4/LIM-7: an unconfigured workspace gets the rule book defaults', () => {
    const c = consentSettings(workspace({}));
    assert.equal(c.policy, 'standard');
    assert.equal(c.impliedLapseMs, 30 * DAY);
    assert.ok(c.keywordSets[0]?.stop.includes('STOP'));
    assert.equal(c.confirmationEnabled, true);
    assert.deepEqual(notificationSettings(workspace({})), {
      defaultChannelId: null,
      dedupeWindowMs: 10 * 60_000,
    });
  });

  it('OPT-4/OPT-5: a workspace sets its policy, lapse and own keywords, added to the defaults', () => {
    const c = consentSettings(
      workspace({
        consent: {
          policy: 'strict',
          impliedLapseDays: 7,
          keywords: [{ language: 'en', stop: ['CANCEL'], start: [] }],
        },
      }),
    );
    assert.equal(c.policy, 'strict');
    assert.equal(c.impliedLapseMs, 7 * DAY);
    assert.equal(c.keywordSets.length, 2);
    assert.deepEqual(c.keywordSets[1], { language: 'en', stop: ['CANCEL'], start: [] });
  });

  it('OPT-4: settings that cannot be read fall back to the defaults, never to a laxer policy', () => {
    const c = consentSettings(workspace({ consent: { policy: 'lax', impliedLapseDays: -1 } }));
    assert.equal(c.policy, 'standard');
    assert.equal(c.impliedLapseMs, 30 * DAY);
  });
});
