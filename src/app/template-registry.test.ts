import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKyselyStore } from '../adapters/store/kysely/index.ts';
import type { Store } from '../ports/store.ts';
import { PolicyError } from './policy-errors.ts';
import { checkDefinition, lifecycleOf, saveTemplate } from './template-registry.ts';
import { draftTemplate } from '../core/templates/lifecycle.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const HOUR = 3_600_000;

describe('template registry records', () => {
  let store: Store;
  before(async () => {
    store = await createKyselyStore({ sqliteFile: ':memory:' });
    await store.migrate();
  });
  after(async () => store.close());

  it('TPL-1..6: a definition breaking a rule is refused with every finding, naming the rules', () => {
    assert.throws(
      () =>
        checkDefinition({
          name: 'Bad Name',
          language: 'xx',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'Hello' }],
        }),
      (e: unknown) =>
        e instanceof PolicyError &&
        e.code === 'template_invalid' &&
        /TPL-1/.test(e.message) &&
        /TPL-6/.test(e.message) &&
        Array.isArray(e.extensions.findings),
    );
  });

  it('TPL-8: the lifecycle keeps what the status column cannot (pause count and end)', async () => {
    const workspace = await store.workspaces.create({ name: 'W' });
    const record = await saveTemplate(
      store,
      {
        workspaceId: workspace.id,
        channelId: null,
        name: 'order_update',
        language: 'en',
        category: 'UTILITY',
        status: 'PAUSED',
        parameterFormat: 'POSITIONAL',
        components: [{ type: 'BODY', text: 'Hi' }],
        providerTemplateId: '1',
      },
      {
        state: {
          ...draftTemplate('UTILITY'),
          status: 'PAUSED',
          pauseCount: 2,
          pausedUntil: T0 + 6 * HOUR,
          statusAt: T0,
        },
        submittedAt: T0 - HOUR,
      },
      T0,
    );
    const lifecycle = await lifecycleOf(store, record);
    assert.equal(lifecycle.state.pauseCount, 2);
    assert.equal(lifecycle.state.pausedUntil, T0 + 6 * HOUR);
    assert.equal(lifecycle.submittedAt, T0 - HOUR);
  });

  it('TPL-8: a status written to the record without the lifecycle is applied as an event, so the two never disagree', async () => {
    const workspace = await store.workspaces.create({ name: 'W2' });
    const record = await saveTemplate(
      store,
      {
        workspaceId: workspace.id,
        channelId: null,
        name: 'promo',
        language: 'en',
        category: 'MARKETING',
        status: 'APPROVED',
        parameterFormat: 'POSITIONAL',
        components: [{ type: 'BODY', text: 'Hi' }],
        providerTemplateId: '2',
      },
      {
        state: { ...draftTemplate('MARKETING'), status: 'APPROVED', statusAt: T0 },
        submittedAt: null,
      },
      T0,
    );
    const drifted = await store.templates.upsert({ ...record, status: 'PAUSED', at: T0 + HOUR });
    const lifecycle = await lifecycleOf(store, drifted);
    assert.equal(lifecycle.state.status, 'PAUSED');
    assert.equal(lifecycle.state.pauseCount, 1);
    assert.equal(lifecycle.state.pausedUntil, T0 + HOUR + 3 * HOUR);
  });
});
