// Request-body rules of the builder itself (the provider tests check whole bodies against Meta's OpenAPI).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutboundContent } from '../../../core/messages.ts';
import type { SendRequest } from '../../../ports/provider.ts';
import { buildMarkReadBody, buildMetaMessageBody } from './meta-request-build.ts';

const request = (content: OutboundContent, extra: Partial<SendRequest> = {}): SendRequest => ({
  channel: { channelId: 'ch_1', providerKey: '106540352242922', phoneNumber: '15550783881' },
  to: '15551234567',
  content,
  ...extra,
});

describe('buildMetaMessageBody', () => {
  it('A.3: audio and sticker never carry a caption; only document carries a filename', () => {
    const audio = buildMetaMessageBody(
      request({ type: 'audio', audio: { id: '1', caption: 'no', filename: 'no.ogg' } }),
    );
    assert.deepEqual(audio.audio, { id: '1' });
    const sticker = buildMetaMessageBody(
      request({ type: 'sticker', sticker: { link: 'https://x.example/s.webp', caption: 'no' } }),
    );
    assert.deepEqual(sticker.sticker, { link: 'https://x.example/s.webp' });
    const image = buildMetaMessageBody(
      request({ type: 'image', image: { id: '2', caption: 'yes', filename: 'no.jpg' } }),
    );
    assert.deepEqual(image.image, { id: '2', caption: 'yes' });
    const document = buildMetaMessageBody(
      request({ type: 'document', document: { id: '3', caption: 'yes', filename: 'yes.pdf' } }),
    );
    assert.deepEqual(document.document, { id: '3', caption: 'yes', filename: 'yes.pdf' });
  });

  it('A.3: a media object holds exactly one of id or link (the uploaded id wins)', () => {
    const body = buildMetaMessageBody(
      request({ type: 'video', video: { id: '4', link: 'https://x.example/v.mp4' } }),
    );
    assert.deepEqual(body.video, { id: '4' });
  });

  it('A.2: adds context.message_id for a reply and biz_opaque_callback_data, nothing else', () => {
    const body = buildMetaMessageBody(
      request({ type: 'text', text: { body: 'hi' } }, { replyTo: 'wamid.IN1', callbackData: 'cb' }),
    );
    assert.deepEqual(body, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '15551234567',
      type: 'text',
      text: { body: 'hi' },
      context: { message_id: 'wamid.IN1' },
      biz_opaque_callback_data: 'cb',
    });
  });

  it('A.3: leaves out members that are undefined instead of sending nulls', () => {
    const body = buildMetaMessageBody(
      request({
        type: 'interactive',
        interactive: {
          type: 'button',
          header: undefined,
          body: { text: 'b' },
          action: { buttons: [{ type: 'reply', reply: { id: '1', title: 'Yes' } }] },
        },
      }),
    );
    assert.deepEqual(body.interactive, {
      type: 'button',
      body: { text: 'b' },
      action: { buttons: [{ type: 'reply', reply: { id: '1', title: 'Yes' } }] },
    });
    const location = buildMetaMessageBody(
      request({ type: 'location', location: { latitude: 1, longitude: 2, name: undefined } }),
    );
    assert.deepEqual(location.location, { latitude: 1, longitude: 2 });
  });

  it('A.3: a template without components and without a policy sends just name and language', () => {
    const body = buildMetaMessageBody(
      request({ type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } }),
    );
    assert.deepEqual(body.template, { name: 'hello_world', language: { code: 'en_US' } });
  });
});

describe('buildMarkReadBody', () => {
  it('A.3: is the mark-as-read body of the /messages endpoint', () => {
    assert.deepEqual(buildMarkReadBody('wamid.IN1'), {
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN1',
    });
  });
});
