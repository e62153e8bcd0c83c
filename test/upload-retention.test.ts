// Uploads no message used expire after the retention (30 days by default), bytes and record;
// an upload a message links to is kept, since the link serves it to the provider and transcript.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const DAY = 86_400_000;
const CUSTOMER = '447700900123';

describe('upload retention', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Hello' });
    await t.settle();
  });
  after(async () => t.close());

  const upload = async (text: string): Promise<string> => {
    const response = await t.parley.http.inject({
      method: 'POST',
      url: `/v1/media?channelId=${t.channel.id}`,
      headers: {
        authorization: `Bearer ${t.apiKey}`,
        'content-type': 'application/pdf',
        'x-filename': 'menu.pdf',
      },
      payload: Buffer.from(`%PDF-1.4 ${text}`),
    });
    assert.equal(response.statusCode, 201, response.body);
    return (JSON.parse(response.body) as { id: string }).id;
  };
  const read = (id: string) =>
    t.parley.http.inject({
      method: 'GET',
      url: `/v1/media/${id}`,
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
  const sendDocument = (id: string) =>
    t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'document',
      document: { id },
    });

  it('an upload no message used is deleted (bytes and record) after 30 days; one a message sent is kept and still served', async () => {
    const unused = await upload('never sent');
    const sent = await upload('sent');
    const blobKey = (await t.parley.deps.store.uploads.get(unused))?.blobKey ?? '';
    assert.ok(await t.parley.deps.blobs.get(blobKey));
    const message = await sendDocument(sent);
    assert.equal(message.status, 202, JSON.stringify(message.json));
    await t.settle();

    await t.clock.advance(29 * DAY);
    assert.equal(await t.parley.media.expireUploads(), 0, 'within the retention');
    assert.equal((await read(unused)).statusCode, 200);

    await t.clock.advance(2 * DAY);
    assert.equal(await t.parley.media.expireUploads(), 1);
    assert.equal((await read(unused)).statusCode, 404);
    assert.equal(await t.parley.deps.store.uploads.get(unused), null, 'the record is gone');
    assert.equal(await t.parley.deps.blobs.get(blobKey), null, 'and its bytes');
    const kept = await read(sent);
    assert.equal(kept.statusCode, 200);
    assert.equal(kept.body, '%PDF-1.4 sent');
    // An expired id is refused precisely, as any unknown one of this workspace.
    const late = await sendDocument(unused);
    assert.equal(late.status, 400, JSON.stringify(late.json));
    assert.match(JSON.stringify(late.json), /not a valid media id/);
    assert.equal(await t.parley.media.expireUploads(), 0);
  });
});
