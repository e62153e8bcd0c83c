// The results document keeps every section it was not asked to rewrite.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replaceSection } from './doc-sections.ts';
import { verdict } from './format.ts';

const doc = [
  '# Benchmarks',
  '',
  'Hand-written introduction.',
  '',
  '<!-- bench:p1 -->',
  '',
  'old P1 figures',
  '',
  '<!-- /bench:p1 -->',
  '',
  'Analysis of P1 written by hand.',
  '',
  '<!-- bench:p4 -->',
  '',
  'P4 figures from another run',
  '',
  '<!-- /bench:p4 -->',
  '',
].join('\n');

describe('replaceSection', () => {
  it('rewrites only the named section and keeps the others and the prose byte for byte', () => {
    const next = replaceSection(doc, 'p1', 'new P1 figures');
    assert.ok(next.includes('new P1 figures'));
    assert.ok(!next.includes('old P1 figures'));
    assert.ok(next.includes('P4 figures from another run'));
    assert.ok(next.includes('Analysis of P1 written by hand.'));
    assert.equal(next.replace('new P1 figures', 'old P1 figures'), doc);
  });

  it('appends a section that is not in the document yet', () => {
    const next = replaceSection(doc, 'p6', 'P6 figures');
    assert.ok(next.startsWith(doc));
    assert.ok(next.endsWith('<!-- bench:p6 -->\n\nP6 figures\n\n<!-- /bench:p6 -->\n'));
  });

  it('is stable when run twice with the same figures', () => {
    const once = replaceSection(doc, 'p4', 'same');
    assert.equal(replaceSection(once, 'p4', 'same'), once);
  });

  it('refuses a document whose markers are broken instead of guessing', () => {
    assert.throws(() => replaceSection('<!-- bench:p1 -->\nno end\n', 'p1', 'x'), /broken/);
  });
});

describe('verdict', () => {
  it('reads ratios above 1 as better than the target for throughput and for latency', () => {
    assert.equal(
      verdict({ label: 'rate', value: 20_000, unit: '/s', target: { op: '>=', value: 10_000 } }),
      'meets (2.00×)',
    );
    assert.equal(
      verdict({ label: 'p99', value: 50, unit: 'ms', target: { op: '<', value: 25 } }),
      'MISSES (0.50×)',
    );
    assert.equal(
      verdict({ label: 'stored', value: 3, unit: '', target: { op: '==', value: 4 } }),
      'FAILS',
    );
  });
});
