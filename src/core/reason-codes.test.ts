// Proves the §7 outcome table (WHATSAPP_RULES.md): every provider code maps to its reason, and each reason's retry class.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  REASONS,
  REASON_CODES,
  isRetryable,
  metaCodeForReason,
  reasonForHttpStatus,
  reasonForMetaCode,
  reasonForTwilioCode,
  type ReasonCode,
  type RetryClass,
} from './reason-codes.ts';

/** The rule book's §7 table, column by column (63018 is checked on its own below). */
const TABLE: ReadonlyArray<{
  reason: ReasonCode;
  meta: readonly number[];
  twilio: readonly number[];
  onPrem: readonly number[];
}> = [
  { reason: 'window_closed', meta: [131047], twilio: [63016], onPrem: [470] },
  { reason: 'opted_out', meta: [131050], twilio: [21610], onPrem: [] },
  { reason: 'marketing_user_cap', meta: [131049], twilio: [], onPrem: [] },
  { reason: 'template_not_approved', meta: [132001], twilio: [63027], onPrem: [2001] },
  { reason: 'template_paused', meta: [132015], twilio: [], onPrem: [] },
  { reason: 'template_disabled', meta: [132016], twilio: [], onPrem: [] },
  { reason: 'template_params', meta: [132000, 132012, 132005], twilio: [63028], onPrem: [2000] },
  { reason: 'throughput', meta: [130429, 4, 80007], twilio: [], onPrem: [429] },
  { reason: 'pair_rate', meta: [131056], twilio: [], onPrem: [] },
  { reason: 'spam_rate', meta: [131048], twilio: [], onPrem: [471] },
  { reason: 'messaging_limit', meta: [131064], twilio: [], onPrem: [1015] },
  { reason: 'recipient_unreachable', meta: [131026], twilio: [63003], onPrem: [1013] },
  { reason: 'experiment', meta: [130472], twilio: [63032], onPrem: [472] },
  { reason: 'account_restricted', meta: [131031, 368], twilio: [], onPrem: [] },
  { reason: 'payment_required', meta: [131042], twilio: [], onPrem: [] },
  { reason: 'market_blocked', meta: [130497], twilio: [], onPrem: [] },
  { reason: 'auth', meta: [190, 0, 10], twilio: [20003], onPrem: [] },
  { reason: 'invalid_request', meta: [100, 131051], twilio: [21211], onPrem: [] },
  { reason: 'media', meta: [131052, 131053], twilio: [63019], onPrem: [] },
  {
    reason: 'provider_unavailable',
    meta: [131000, 131016, 131057, 2],
    twilio: [],
    onPrem: [500],
  },
];

describe('§7: Meta Cloud API codes', () => {
  for (const { reason, meta } of TABLE)
    for (const code of meta)
      it(`§7: Meta ${code} → ${reason}`, () => {
        assert.equal(reasonForMetaCode(code), reason);
      });

  it('CSW-5: a late 131047 is recorded as window_closed and tells the sender to send a template', () => {
    assert.equal(reasonForMetaCode(131047), 'window_closed');
    assert.match(REASONS.window_closed.explanation, /template/);
  });

  it('§7: an unknown Meta code is an invalid request that is not retried', () => {
    assert.equal(reasonForMetaCode(999_999), 'invalid_request');
    assert.equal(isRetryable(reasonForMetaCode(999_999)), false);
  });
});

describe('§7: Meta codes for Parley refusals (Cloud-API-compatible endpoint)', () => {
  for (const { reason, meta } of TABLE)
    if (meta[0] !== undefined)
      it(`§7: ${reason} answers with Meta ${meta[0]}`, () => {
        assert.equal(metaCodeForReason(reason), meta[0]);
      });

  it('§7: every reason answers with a Meta code that maps back to it or is Parley-only', () => {
    const parleyOnly: Partial<Record<ReasonCode, number>> = {
      not_opted_in: 131050,
      recipient_not_allowed: 131030,
      channel_disabled: 133010,
    };
    for (const reason of REASON_CODES) {
      const code = metaCodeForReason(reason);
      if (parleyOnly[reason] !== undefined) assert.equal(code, parleyOnly[reason]);
      else assert.equal(reasonForMetaCode(code), reason, `${reason} → ${code}`);
    }
  });
});

describe('§7: Twilio codes', () => {
  for (const { reason, twilio } of TABLE)
    for (const code of twilio)
      it(`§7: Twilio ${code} → ${reason}`, () => {
        assert.equal(reasonForTwilioCode(code), reason);
      });

  it('§7: Twilio 63018 is throughput by default', () => {
    assert.equal(reasonForTwilioCode(63018), 'throughput');
    assert.equal(
      reasonForTwilioCode(63018, 'Rate limit exceeded for the WhatsApp sender'),
      'throughput',
    );
  });

  it('§7: Twilio 63018 is messaging_limit when its message names the messaging limit', () => {
    assert.equal(
      reasonForTwilioCode(63018, 'Business-initiated messaging limit reached for this sender'),
      'messaging_limit',
    );
    assert.equal(reasonForTwilioCode(63018, 'MESSAGING LIMIT exceeded'), 'messaging_limit');
  });

  it("CSW-5: Twilio's 63016 is window_closed", () => {
    assert.equal(reasonForTwilioCode(63016), 'window_closed');
  });

  it('§7: an unknown Twilio code is an invalid request that is not retried', () => {
    assert.equal(reasonForTwilioCode(30_000), 'invalid_request');
  });
});

describe('§7: on-premises (legacy) codes', () => {
  for (const { reason, onPrem } of TABLE)
    for (const code of onPrem)
      it(`§7: on-premises ${code} → ${reason}`, () => {
        assert.equal(reasonForMetaCode(code), reason);
      });
});

describe('§7: HTTP statuses', () => {
  const cases: ReadonlyArray<readonly [number, ReasonCode]> = [
    [429, 'throughput'],
    [500, 'provider_unavailable'],
    [502, 'provider_unavailable'],
    [503, 'provider_unavailable'],
    [504, 'provider_unavailable'],
    [408, 'provider_unavailable'],
    [401, 'auth'],
    [403, 'auth'],
    [400, 'invalid_request'],
    [404, 'invalid_request'],
  ];
  for (const [status, reason] of cases)
    it(`§7: HTTP ${status} → ${reason}`, () => {
      assert.equal(reasonForHttpStatus(status), reason);
    });
});

describe('§7: retry classes', () => {
  const RETRIED: Partial<Record<ReasonCode, RetryClass>> = {
    throughput: 'pace_channel',
    pair_rate: 'pace_pair',
    messaging_limit: 'defer',
    provider_unavailable: 'backoff',
    media: 'once',
  };
  for (const reason of REASON_CODES) {
    const want = RETRIED[reason];
    it(want ? `§7: ${reason} is retried (${want})` : `§7: ${reason} is not retried`, () => {
      assert.equal(REASONS[reason].retry, want ?? 'never');
      assert.equal(isRetryable(reason), want !== undefined);
      assert.notEqual(REASONS[reason].explanation.trim(), '');
    });
  }
});

const RULES_MD = fileURLToPath(new URL('../../../shared/spec/WHATSAPP_RULES.md', import.meta.url));

describe('§7: the table above is the rule book', () => {
  it(
    '§7: every reason and code of the rule book table is mapped as above',
    existsSync(RULES_MD) ? {} : { skip: 'needs ../shared/spec (absent on a fresh clone)' },
    () => {
      const text = readFileSync(RULES_MD, 'utf8');
      const section = text.slice(text.indexOf('## 7.'), text.indexOf('## 8.'));
      const rows = section.split('\n').filter((l) => l.startsWith('| `'));
      assert.ok(rows.length >= 19, 'found the table');
      const codesIn = (cell: string) =>
        cell
          .split(/[,;/]/)
          .map((c) => c.trim())
          .filter((c) => /^\d+$/.test(c))
          .map(Number);
      const seen = {
        meta: new Set<number>(),
        twilio: new Set<number>(),
        onPrem: new Set<number>(),
      };
      for (const row of rows) {
        const [, reasonCell = '', , meta = '', twilio = '', onPrem = ''] = row.split('|');
        const reasons = [...reasonCell.matchAll(/`(\w+)`/g)].map((m) => m[1] as ReasonCode);
        for (const r of reasons) assert.ok(REASON_CODES.includes(r), `${r} is a reason code`);
        const columns = { meta, twilio, onPrem } as const;
        for (const column of ['meta', 'twilio', 'onPrem'] as const)
          for (const code of codesIn(columns[column])) {
            seen[column].add(code);
            const mapped = TABLE.find((t) => t[column].includes(code))?.reason;
            assert.ok(
              mapped !== undefined && reasons.includes(mapped),
              `${column} ${code} belongs to ${reasons.join('/')}, tested as ${mapped}`,
            );
          }
      }
      for (const column of ['meta', 'twilio', 'onPrem'] as const)
        assert.deepEqual(
          [...seen[column]].sort((a, b) => a - b),
          TABLE.flatMap((t) => t[column]).sort((a, b) => a - b),
          `${column} codes`,
        );
    },
  );
});
