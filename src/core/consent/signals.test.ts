// Opt-out and opt-in signals (OPT-5) and the one confirmation (OPT-6).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DAY, HOUR, MINUTE } from '../time.ts';
import { channelReach, type ConsentEvent } from './events.ts';
import { DEFAULT_KEYWORD_SET, matchKeyword, withKeywords } from './keywords.ts';
import { currentConsent, type ConsentQuery } from './ledger.ts';
import {
  consentEventsForInbound,
  keywordConsentEvents,
  marketingStoppedEvent,
  optOutConfirmationText,
  shouldConfirmOptOut,
  userPreferencesEvents,
  type SignalContext,
} from './signals.ts';

const t0 = Date.parse('2026-06-01T10:00:00Z');
let seq = 0;
const ctx = (at: number, channelId = 'C1'): SignalContext => ({
  id: `s${++seq}`,
  contact: '447700900123',
  channelId,
  at,
  messageId: `wamid.${seq}`,
});
const marketingIn: ConsentEvent = {
  id: 'm1',
  contact: '447700900123',
  kind: 'opt_in',
  purpose: 'marketing',
  reach: channelReach('C1'),
  source: 'checkbox',
  at: t0 - DAY,
  recordedBy: 'api-key:k1',
  implied: false,
  evidence: { text: 'Send me offers on WhatsApp', businessName: 'Acme' },
};
const state = (
  ledger: readonly ConsentEvent[],
  purpose: ConsentQuery['purpose'],
  now: number,
  channelId = 'C1',
) => currentConsent(ledger, { purpose, channelId, now }).state;

const fixtures = fileURLToPath(new URL('../../../../shared/fixtures/meta/', import.meta.url));
const noFixtures = existsSync(fixtures)
  ? false
  : 'needs ../shared/fixtures (absent on a fresh clone)';

describe('consent signals', () => {
  it('OPT-5: the default stop and start words match the whole trimmed message, case- and accent-insensitive', () => {
    for (const word of DEFAULT_KEYWORD_SET.stop)
      assert.equal(matchKeyword(word)?.action, 'stop', word);
    assert.equal(matchKeyword('  stop all ')?.keyword, 'STOP ALL');
    assert.equal(matchKeyword('Arrêt')?.keyword, 'ARRET');
    assert.equal(matchKeyword('Stop!')?.action, 'stop');
    assert.equal(matchKeyword('unstop')?.action, 'start');
    assert.equal(matchKeyword('please stop the delivery'), null);
    assert.equal(matchKeyword('stopping by later'), null);
    assert.deepEqual(matchKeyword('STOP')?.effect, {
      kind: 'opt_out',
      purpose: 'all',
      reach: 'workspace',
    });
  });

  it('OPT-5: CANCEL, END and QUIT are keywords only when a workspace adds them, per language', () => {
    for (const word of ['CANCEL', 'END', 'QUIT']) assert.equal(matchKeyword(word), null, word);
    const sets = withKeywords([{ language: 'en', stop: ['CANCEL', 'END', 'QUIT'], start: [] }]);
    assert.deepEqual(
      ['cancel', 'End', 'QUIT'].map((w) => matchKeyword(w, sets)?.language),
      ['en', 'en', 'en'],
    );
  });

  it('OPT-5: a stop keyword opts out of every purpose, workspace-wide, with its evidence', () => {
    const [stop] = consentEventsForInbound('STOP', ctx(t0), [marketingIn]);
    assert.ok(stop);
    assert.deepEqual(
      [
        stop.kind,
        stop.purpose,
        stop.reach,
        stop.source,
        stop.evidence.keyword,
        stop.evidence.channelId,
      ],
      ['opt_out', 'all', { kind: 'workspace' }, 'inbound_message', 'STOP', 'C1'],
    );
    const ledger = [marketingIn, stop];
    for (const purpose of ['marketing', 'utility', 'authentication'] as const)
      assert.equal(state(ledger, purpose, t0 + MINUTE, 'C2'), 'opted_out', purpose);
  });

  it('OPT-5: a start keyword restores what the matching stop removed, and nothing more', () => {
    const [stop] = consentEventsForInbound('stop', ctx(t0), [marketingIn]);
    const ledger = [marketingIn, stop!];
    const [start] = consentEventsForInbound('START', ctx(t0 + HOUR), ledger);
    assert.deepEqual(start?.restores, [stop!.id]);
    const after = [...ledger, start];
    const now = t0 + 2 * HOUR;
    assert.equal(state(after, 'marketing', now), 'opted_in'); // the marketing opt-in is back
    assert.equal(state(after, 'marketing', now, 'C2'), 'none'); // START granted no marketing elsewhere
    // with no stop in force, START changes nothing
    assert.deepEqual(keywordConsentEvents(matchKeyword('START')!, ctx(t0), [marketingIn]), []);
  });

  it('OPT-4/OPT-5: an ordinary inbound message records an implied utility opt-in; a keyword does not', () => {
    const [implied] = consentEventsForInbound('Where is my order?', ctx(t0), []);
    assert.deepEqual(
      [implied?.implied, implied?.purpose, implied?.reach],
      [true, 'utility', channelReach('C1')],
    );
    assert.equal(
      consentEventsForInbound('STOP', ctx(t0), []).some((e) => e.implied),
      false,
    );
    assert.equal(consentEventsForInbound(null, ctx(t0), [])[0]?.implied, true);
  });

  it('OPT-5: user_preferences stop opts out of marketing; resume restores it; 131050 also opts out of marketing', () => {
    const [stop] = userPreferencesEvents(
      'stop',
      ctx(t0),
      [marketingIn],
      'User requested to stop marketing messages',
    );
    assert.deepEqual(
      [stop?.kind, stop?.purpose, stop?.source],
      ['opt_out', 'marketing', 'user_preferences'],
    );
    const ledger = [marketingIn, stop!];
    assert.equal(state(ledger, 'marketing', t0 + MINUTE), 'opted_out');
    assert.equal(state(ledger, 'utility', t0 + MINUTE), 'none'); // utility untouched
    const failed = marketingStoppedEvent(ctx(t0 + HOUR));
    assert.deepEqual(
      [failed.kind, failed.purpose, failed.source],
      ['opt_out', 'marketing', 'provider_error'],
    );
    const [resume] = userPreferencesEvents('resume', ctx(t0 + 2 * HOUR), [...ledger, failed]);
    assert.deepEqual(resume?.restores, [stop!.id, failed.id]);
    assert.equal(state([...ledger, failed, resume], 'marketing', t0 + 3 * HOUR), 'opted_in');
    assert.deepEqual(userPreferencesEvents('signup', ctx(t0), ledger), []);
  });

  it(
    'OPT-5: a real user_preferences resume payload restores marketing',
    { skip: noFixtures },
    () => {
      const payload = JSON.parse(
        readFileSync(`${fixtures}pywa__user_marketing_preferences__resume.json`, 'utf8'),
      ) as {
        entry: Array<{
          changes: Array<{
            value: {
              metadata: { phone_number_id: string };
              user_preferences: Array<{
                wa_id: string;
                value: string;
                detail: string;
                timestamp: number;
              }>;
            };
          }>;
        }>;
      };
      const value = payload.entry[0]!.changes[0]!.value;
      const pref = value.user_preferences[0]!;
      const at = pref.timestamp * 1000;
      const signal = { contact: pref.wa_id, channelId: value.metadata.phone_number_id };
      const ledger = [
        {
          ...marketingIn,
          contact: pref.wa_id,
          reach: channelReach(signal.channelId),
          at: at - 2 * DAY,
        },
        ...userPreferencesEvents('stop', { ...signal, id: 'p1', at: at - DAY }, []),
      ];
      const events = userPreferencesEvents(
        pref.value,
        { ...signal, id: 'p2', at },
        ledger,
        pref.detail,
      );
      assert.equal(events[0]?.evidence.note, 'User requested to resume marketing messages');
      assert.equal(
        currentConsent([...ledger, ...events], {
          purpose: 'marketing',
          channelId: signal.channelId,
          now: at,
        }).state,
        'opted_in',
      );
    },
  );

  it('OPT-6: a keyword opt-out gets one confirmation; a repeated STOP, a webhook or an API opt-out gets none', () => {
    const [first] = consentEventsForInbound('STOP', ctx(t0), []);
    assert.equal(shouldConfirmOptOut(first!, [first!]), true);
    const [again] = consentEventsForInbound('stop', ctx(t0 + MINUTE), [first!]);
    assert.equal(shouldConfirmOptOut(again!, [first!, again!]), false);
    const [pref] = userPreferencesEvents('stop', ctx(t0), []);
    assert.equal(shouldConfirmOptOut(pref!, [pref!]), false);
    assert.match(
      optOutConfirmationText('Acme'),
      /no longer receive messages from Acme.*Reply START/,
    );
  });

  it('OPT-6: never marketing after an opt-out: a later implied opt-in does not bring marketing or utility back', () => {
    const [stop] = consentEventsForInbound('STOP', ctx(t0), [marketingIn]);
    const [implied] = consentEventsForInbound('thanks', ctx(t0 + HOUR), [marketingIn, stop!]);
    const ledger = [marketingIn, stop!, implied!];
    assert.equal(state(ledger, 'marketing', t0 + 2 * HOUR), 'opted_out');
    assert.equal(state(ledger, 'utility', t0 + 2 * HOUR), 'opted_out');
  });
});
