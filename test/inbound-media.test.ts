// Inbound media end to end (PROVIDERS.md B.4): a signed Meta webhook with an image → the bytes are
// copied from a fake Graph API into Parley's blob store, with retries and backoff, and served by
// GET /v1/media/{id} to the workspace that received them and to no other.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey, createWorkspace } from '../src/app/admin.ts';
import { MEDIA_MAX_ATTEMPTS, MEDIA_QUEUE } from '../src/app/media.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { postSigned, processAcknowledged } from './helpers/meta-webhooks.ts';
import { assertProblem, rawRequest } from './helpers/http-assert.ts';
import {
  EXPIRED_TOKEN,
  fakeMetaConnection,
  inboundBody,
  serveMedia,
  type FakeMeta,
} from './helpers/fake-provider-connections.ts';

const CUSTOMER = '447700900123';
/** A tiny JPEG-looking payload with bytes no text encoding survives. */
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  Buffer.from('JFIF\u0000'),
  Buffer.alloc(2048, 0xa5),
  Buffer.from([0xff, 0xd9]),
]);

let wamid = 0;

describe('inbound media', () => {
  let t: TestParley;
  let meta: FakeMeta;
  before(async () => {
    t = await startTestParley();
    meta = await fakeMetaConnection(t);
  });
  afterEach(() => meta.fake.reset());
  after(async () => {
    await meta.fake.close();
    await t.close();
  });

  /** A customer sends media; returns the stored message as the API shows it. */
  async function customerSends(
    type: string,
    media: Record<string, unknown>,
    id = `wamid.MEDIA${String(++wamid)}`,
  ): Promise<any> {
    const body = inboundBody(meta, { from: CUSTOMER, id, at: t.clock.now(), type, [type]: media });
    const response = await postSigned(t, meta.connectionId, body, meta.appSecret);
    assert.equal(response.status, 200, response.text);
    await processAcknowledged(t);
    const conversations = await t.api('GET', `/v1/conversations?channel=${meta.channelId}`);
    const transcript = await t.api(
      'GET',
      `/v1/conversations/${conversations.json.items[0].id}/messages?limit=200`,
    );
    const message = transcript.json.items.find((m: any) => m.providerMessageId === id);
    assert.ok(message, 'the message is in the transcript');
    return message;
  }

  async function messageNow(id: string): Promise<any> {
    return (await t.api('GET', `/v1/messages/${id}`)).json;
  }

  it('B.4: copies an image into the blob store at once and serves the exact bytes with their type', async () => {
    serveMedia(meta.fake, { mediaId: '65463453', bytes: JPEG, mimeType: 'image/jpeg' });
    const message = await customerSends('image', {
      mime_type: 'image/jpeg',
      sha256: createHash('sha256').update(JPEG).digest('base64'),
      id: '65463453',
      caption: 'the parcel arrived like this',
    });
    assert.equal(message.content.media.state, 'pending', 'the message points at its copy at once');
    const mediaId: string = message.content.media.id;
    assert.equal(message.content.media.url, `/v1/media/${mediaId}`);

    assert.equal(await t.parley.media.runOnce(), 1);
    const lookups = meta.fake.requests.filter((r) => r.path === '/v23.0/65463453');
    assert.equal(lookups.length, 1);
    assert.equal(lookups[0]!.headers.authorization, `Bearer ${meta.accessToken}`);

    const file = await rawRequest(t, { method: 'GET', url: `/v1/media/${mediaId}` });
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'image/jpeg');
    const served = await t.parley.http.inject({
      method: 'GET',
      url: `/v1/media/${mediaId}`,
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
    assert.ok(served.rawPayload.equals(JPEG), 'byte for byte');

    const stored = await messageNow(message.id);
    const sha256 = createHash('sha256').update(JPEG).digest('hex');
    assert.deepEqual(stored.content.media, {
      id: mediaId,
      state: 'stored',
      url: `/v1/media/${mediaId}`,
      contentType: 'image/jpeg',
      filename: null,
      size: JPEG.length,
      sha256,
    });
    assert.equal(stored.content.content.caption, 'the parcel arrived like this', 'content kept');
    assert.equal(served.headers.etag, `"${sha256}"`);
    const record = await t.parley.deps.store.providerRecords.media.get(mediaId);
    assert.ok(record?.blobKey);
    assert.ok(
      existsSync(join(t.parley.config.dataDir, 'media', ...record.blobKey.split('/'))),
      'a local file under PARLEY_DATA_DIR/media',
    );
    assert.match(record.blobKey, /\.jpg$/);
  });

  it('B.4: a document keeps its file name for the download', async () => {
    const pdf = Buffer.from('%PDF-1.7\n…\n%%EOF');
    serveMedia(meta.fake, { mediaId: '7771', bytes: pdf, mimeType: 'application/pdf' });
    const message = await customerSends('document', {
      mime_type: 'application/pdf',
      sha256: 'ignored',
      id: '7771',
      filename: 'Rechnung März.pdf',
    });
    await t.parley.media.runOnce();
    const file = await rawRequest(t, {
      method: 'GET',
      url: `/v1/media/${String(message.content.media.id)}`,
    });
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'application/pdf');
    assert.match(
      String(file.headers['content-disposition']),
      /filename\*=UTF-8''Rechnung%20M%C3%A4rz\.pdf/,
    );
  });

  it('B.4: retries a failing download with backoff until it goes through', async () => {
    const voice = Buffer.from('OggS voice note bytes');
    serveMedia(meta.fake, { mediaId: '8881', bytes: voice, mimeType: 'audio/ogg' });
    // The first attempt's three tries (the adapter retries twice itself) meet an outage.
    meta.fake.on(
      'GET',
      '/v23.0/8881',
      { status: 500, body: { error: { code: 131000, message: 'Something went wrong' } } },
      3,
    );
    const message = await customerSends('audio', {
      mime_type: 'audio/ogg; codecs=opus',
      sha256: 'x',
      id: '8881',
      voice: true,
    });
    const mediaId: string = message.content.media.id;
    await t.parley.media.runOnce();
    let record = await t.parley.deps.store.providerRecords.media.get(mediaId);
    assert.equal(record?.state, 'pending');
    assert.equal(record?.attempts, 1);
    assert.match(record?.error ?? '', /131000|Something went wrong|provider_unavailable/);
    assertProblem(
      await rawRequest(t, { method: 'GET', url: `/v1/media/${mediaId}` }),
      409,
      'media_pending',
      /still being downloaded/,
    );
    assert.equal(await t.parley.media.runOnce(), 0, 'not retried before its backoff');
    await t.clock.advance(3_000);
    assert.equal(await t.parley.media.runOnce(), 1);
    record = await t.parley.deps.store.providerRecords.media.get(mediaId);
    assert.equal(record?.state, 'stored');
    assert.equal(record?.attempts, 2);
    assert.equal(record?.contentType, 'audio/ogg', 'the type the download reported');
    const file = await rawRequest(t, { method: 'GET', url: `/v1/media/${mediaId}` });
    assert.equal(file.status, 200);
    assert.equal(file.text, voice.toString());
  });

  it('auth: a token the provider refuses fails the download at once, without retries, and says so', async () => {
    meta.fake.on('GET', '/v23.0/9991', EXPIRED_TOKEN);
    const message = await customerSends('sticker', {
      mime_type: 'image/webp',
      sha256: 'x',
      id: '9991',
      animated: false,
    });
    const mediaId: string = message.content.media.id;
    await t.parley.media.runOnce();
    const record = await t.parley.deps.store.providerRecords.media.get(mediaId);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.attempts, 1);
    assert.equal(await t.parley.deps.store.jobs.size(MEDIA_QUEUE), 0, 'nothing left to retry');
    assertProblem(
      await rawRequest(t, { method: 'GET', url: `/v1/media/${mediaId}` }),
      410,
      'media_unavailable',
      /could not be stored/,
    );
    assert.equal((await messageNow(message.id)).content.media.state, 'failed');
  });

  it('STA-2: a re-delivered media webhook queues one download, not two', async () => {
    serveMedia(meta.fake, { mediaId: '5551', bytes: JPEG, mimeType: 'image/jpeg' });
    const id = 'wamid.TWICE';
    const body = inboundBody(meta, {
      from: CUSTOMER,
      id,
      at: t.clock.now(),
      type: 'image',
      image: { mime_type: 'image/jpeg', sha256: 'x', id: '5551' },
    });
    for (let i = 0; i < 2; i++) {
      assert.equal((await postSigned(t, meta.connectionId, body, meta.appSecret)).status, 200);
      await processAcknowledged(t);
    }
    assert.equal(await t.parley.deps.store.jobs.size(MEDIA_QUEUE), 1);
    assert.equal(await t.parley.media.runOnce(), 1);
    assert.equal(meta.fake.requests.filter((r) => r.path === '/v23.0/5551').length, 1);
  });

  it('tenancy: another workspace gets 404 for the media, worded like a missing id', async () => {
    serveMedia(meta.fake, { mediaId: '4441', bytes: JPEG, mimeType: 'image/jpeg' });
    const message = await customerSends('image', {
      mime_type: 'image/jpeg',
      sha256: 'x',
      id: '4441',
    });
    await t.parley.media.runOnce();
    const mediaId: string = message.content.media.id;
    const other = await createWorkspace(t.parley.deps, 'Other Ltd');
    const { key } = await createApiKey(t.parley.deps, other.id, 'other admin');
    const theirs = await rawRequest(t, { method: 'GET', url: `/v1/media/${mediaId}`, auth: key });
    const missing = await rawRequest(t, {
      method: 'GET',
      url: '/v1/media/0190aaaa-0000-7000-8000-000000000000',
      auth: key,
    });
    assertProblem(theirs, 404, 'not_found');
    assertProblem(missing, 404, 'not_found');
    assert.equal(
      theirs.json.detail.replace(mediaId, 'ID'),
      missing.json.detail.replace('0190aaaa-0000-7000-8000-000000000000', 'ID'),
    );
    assertProblem(
      await rawRequest(t, { method: 'GET', url: `/v1/media/${mediaId}`, auth: null }),
      401,
      'unauthenticated',
    );
  });

  it(`B.4: gives up after ${String(MEDIA_MAX_ATTEMPTS)} attempts, keeping the error`, async () => {
    const message = await customerSends('video', {
      mime_type: 'video/mp4',
      sha256: 'x',
      id: '3331',
    });
    const mediaId: string = message.content.media.id;
    // Every lookup fails at the network level of the provider: a 503 with no body, retried.
    meta.fake.on('GET', '/v23.0/3331', { status: 503 });
    for (let i = 0; i < MEDIA_MAX_ATTEMPTS; i++) {
      await t.parley.media.runOnce();
      await t.clock.advance(10 * 60_000);
    }
    const record = await t.parley.deps.store.providerRecords.media.get(mediaId);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.attempts, MEDIA_MAX_ATTEMPTS);
    assert.equal(await t.parley.media.runOnce(), 0, 'no further attempts');
    assert.equal((await messageNow(message.id)).content.media.state, 'failed');
  });
});

describe('inbound media with the downloader running', () => {
  let t: TestParley;
  let meta: FakeMeta;
  before(async () => {
    t = await startTestParley();
    meta = await fakeMetaConnection(t);
    t.parley.media.start(); // as `parley start` runs it: woken by the received message
  });
  after(async () => {
    await meta.fake.close();
    await t.close();
  });

  it('B.4: downloads a received image by itself, without being driven', async () => {
    serveMedia(meta.fake, { mediaId: '1212', bytes: JPEG, mimeType: 'image/jpeg' });
    const body = inboundBody(meta, {
      from: CUSTOMER,
      id: 'wamid.BACKGROUND',
      at: t.clock.now(),
      type: 'image',
      image: { mime_type: 'image/jpeg', sha256: 'x', id: '1212' },
    });
    assert.equal((await postSigned(t, meta.connectionId, body, meta.appSecret)).status, 200);
    await processAcknowledged(t);
    const message = await t.parley.deps.store.messages.findByProviderId(
      meta.channelId,
      'wamid.BACKGROUND',
    );
    assert.ok(message);
    let media = await t.parley.deps.store.providerRecords.media.findByMessage(message.id);
    for (let i = 0; i < 100 && media?.state !== 'stored'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      media = await t.parley.deps.store.providerRecords.media.findByMessage(message.id);
    }
    assert.equal(media?.state, 'stored');
    assert.equal(media?.size, JPEG.length);
  });
});

describe('inbound media from the sandbox', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('B.4: a sandbox image is queued and its copy says why it is unavailable', async () => {
    await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      type: 'image',
      text: 'look',
    });
    await t.settle();
    await t.parley.media.runOnce();
    const conversations = await t.api('GET', `/v1/conversations?channel=${t.channel.id}`);
    const transcript = await t.api(
      'GET',
      `/v1/conversations/${conversations.json.items[0].id}/messages`,
    );
    const image = transcript.json.items.find((m: any) => m.type === 'image');
    assert.ok(image);
    const media = image.content.media;
    assert.ok(['stored', 'unavailable'].includes(media.state), media.state);
    const file = await rawRequest(t, { method: 'GET', url: media.url });
    if (media.state === 'stored') assert.equal(file.status, 200);
    else
      assertProblem(file, 410, 'media_unavailable', /sandbox connections offer no media download/);
  });
});
