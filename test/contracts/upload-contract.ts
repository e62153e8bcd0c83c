// Store contract cases for uploaded media (the Cloud-API-compatible endpoint's `POST …/media`).
// Run on every dialect from test/store.contract.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/ports/store.ts';
import type { NewUploadRecord } from '../../src/ports/upload-store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;

const upload = (overrides: Partial<NewUploadRecord> = {}): NewUploadRecord => ({
  workspaceId: 'ws-1',
  channelId: 'ch-1',
  mimeType: 'image/png',
  filename: 'receipt.png',
  // Larger than 2^31: sizes are bigint columns on both dialects.
  size: 3_000_000_000,
  sha256: 'a'.repeat(64),
  blobKey: 'ws-1/uploads/2026/03/x.png',
  linkToken: 't'.repeat(43),
  createdAt: T0,
  ...overrides,
});

export function runUploadContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Upload store contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    const store = (): Store => {
      if (!subject) throw new Error('store not ready');
      return subject.store;
    };
    before(async () => {
      subject = await makeStore();
    });
    after(async () => {
      await subject?.cleanup();
    });

    it('keeps an upload as created and reads it back by id', async () => {
      const created = await store().uploads.create(upload());
      assert.equal(created.deletedAt, null);
      assert.deepEqual(await store().uploads.get(created.id), created);
      assert.equal((await store().uploads.get(created.id))?.size, 3_000_000_000);
      assert.equal(created.filename, 'receipt.png');
    });

    it('gives every upload its own id and answers null for an unknown one', async () => {
      const a = await store().uploads.create(upload());
      const b = await store().uploads.create(upload({ filename: null }));
      assert.notEqual(a.id, b.id);
      assert.equal((await store().uploads.get(b.id))?.filename, null);
      assert.equal(await store().uploads.get('no-such-upload'), null);
    });

    it('marks an upload deleted once: a second delete or an unknown id answers false', async () => {
      const created = await store().uploads.create(upload());
      assert.equal(await store().uploads.markDeleted(created.id, T0 + 1_000), true);
      assert.equal((await store().uploads.get(created.id))?.deletedAt, T0 + 1_000);
      assert.equal(await store().uploads.markDeleted(created.id, T0 + 2_000), false);
      assert.equal((await store().uploads.get(created.id))?.deletedAt, T0 + 1_000);
      assert.equal(await store().uploads.markDeleted('no-such-upload', T0), false);
    });

    it('retention removes the uploads no message used, oldest first, and keeps the used and the recent', async () => {
      const at = (days: number) => T0 - days * DAY;
      const oldest = await store().uploads.create(upload({ createdAt: at(50) }));
      const old = await store().uploads.create(upload({ createdAt: at(40) }));
      const used = await store().uploads.create(upload({ createdAt: at(45) }));
      const recent = await store().uploads.create(upload({ createdAt: at(10) }));
      assert.equal(await store().uploads.markUsed(used.id, at(44)), true);
      assert.equal((await store().uploads.get(used.id))?.usedAt, at(44));
      const first = await store().uploads.removeUnused(at(30), 1);
      assert.deepEqual(
        first.map((u) => u.id),
        [oldest.id],
      );
      const rest = await store().uploads.removeUnused(at(30), 10);
      assert.deepEqual(
        rest.map((u) => [u.id, u.blobKey]),
        [[old.id, old.blobKey]],
      );
      assert.equal(await store().uploads.get(oldest.id), null);
      assert.equal(await store().uploads.get(old.id), null);
      assert.ok(await store().uploads.get(used.id));
      assert.ok(await store().uploads.get(recent.id));
      // A message can no longer link to a removed or deleted upload.
      assert.equal(await store().uploads.markUsed(old.id, T0), false);
      assert.equal(await store().uploads.markDeleted(recent.id, T0), true);
      assert.equal(await store().uploads.markUsed(recent.id, T0), false);
      assert.deepEqual(await store().uploads.removeUnused(at(30), 10), []);
    });
  });
}
