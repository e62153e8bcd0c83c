// The local-disk BlobStore: bytes and content type survive a round trip and a reopen; keys stay inside the root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBlobStore, InvalidBlobKeyError } from './local-blob-store.ts';

describe('local blob store', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the exact bytes and the content type, also for a store opened later on the same folder', async () => {
    const root = join(dir, 'media');
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x80, 0xfe]);
    await createLocalBlobStore(root).put('ws1/2026/03/abc.jpg', bytes, 'image/jpeg');
    const again = await createLocalBlobStore(root).get('ws1/2026/03/abc.jpg');
    assert.ok(again);
    assert.deepEqual(again.data, bytes);
    assert.equal(again.contentType, 'image/jpeg');
    assert.deepEqual(readFileSync(join(root, 'ws1', '2026', '03', 'abc.jpg')), bytes);
  });

  it('answers null for a key never written', async () => {
    const store = createLocalBlobStore(join(dir, 'empty'));
    assert.equal(await store.get('nothing/here'), null);
  });

  it('replaces a blob written twice under one key, type included', async () => {
    const store = createLocalBlobStore(join(dir, 'replace'));
    await store.put('k', Buffer.from('first'), 'text/plain');
    await store.put('k', Buffer.from('second'), 'audio/ogg; codecs=opus');
    const got = await store.get('k');
    assert.equal(got?.data.toString(), 'second');
    assert.equal(got?.contentType, 'audio/ogg; codecs=opus');
  });

  it('refuses keys that could leave the folder or hide in it, writing nothing', async () => {
    const root = join(dir, 'guarded');
    const store = createLocalBlobStore(root);
    for (const key of [
      '',
      '../outside',
      'a/../../b',
      '/etc/passwd',
      '.meta/x',
      'a//b',
      'a/.hidden',
      'a\\b',
      'x'.repeat(513),
    ]) {
      await assert.rejects(
        store.put(key, Buffer.from('x'), 'text/plain'),
        InvalidBlobKeyError,
        key,
      );
      await assert.rejects(store.get(key), InvalidBlobKeyError, key);
    }
    assert.equal(existsSync(root), false);
    assert.equal(existsSync(join(dir, 'outside')), false);
  });

  it('leaves no partial files behind after writes', async () => {
    const root = join(dir, 'tidy');
    const store = createLocalBlobStore(root);
    await store.put('one', Buffer.alloc(64 * 1024, 7), 'application/pdf');
    assert.deepEqual(readdirSync(root).sort(), ['.meta', 'one']);
  });

  it('serves the bytes as application/octet-stream when the content type was lost', async () => {
    const root = join(dir, 'damaged');
    const store = createLocalBlobStore(root);
    await store.put('doc', Buffer.from('%PDF'), 'application/pdf');
    writeFileSync(join(root, '.meta', 'doc.json'), '{not json');
    const got = await store.get('doc');
    assert.equal(got?.data.toString(), '%PDF');
    assert.equal(got?.contentType, 'application/octet-stream');
  });

  it('deletes a blob with its content type', async () => {
    const root = join(dir, 'delete');
    const store = createLocalBlobStore(root);
    await store.put('gone', Buffer.from('x'), 'text/plain');
    assert.equal(await store.delete('gone'), true);
    assert.equal(await store.get('gone'), null);
    assert.equal(existsSync(join(root, '.meta', 'gone.json')), false);
    assert.equal(await store.delete('gone'), false);
  });
});
