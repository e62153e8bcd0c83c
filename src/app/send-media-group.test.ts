// A media message with extra media becomes consecutive one-media messages, checked before any is stored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mediaGroupContents } from './send-media-group.ts';

describe('media groups', () => {
  it('LIM-6: the message first (with its caption), then one message per extra media, typed', () => {
    assert.deepEqual(
      mediaGroupContents(
        { type: 'image', image: { link: 'https://x.example/1.jpg', caption: 'Hi' } },
        [
          { link: 'https://x.example/2.jpg' },
          { type: 'document', link: 'https://x.example/3.pdf', filename: '3.pdf' },
        ],
      ),
      [
        { type: 'image', image: { link: 'https://x.example/1.jpg', caption: 'Hi' } },
        { type: 'image', image: { link: 'https://x.example/2.jpg' } },
        { type: 'document', document: { link: 'https://x.example/3.pdf', filename: '3.pdf' } },
      ],
    );
  });

  it('LIM-6: names the extra media WhatsApp would refuse, and refuses extras on a non-media message', () => {
    assert.deepEqual(
      mediaGroupContents({ type: 'video', video: { link: 'https://x.example/1.mp4' } }, [
        { link: 'https://x.example/2.mp4' },
        { type: 'sticker', link: 'https://x.example/s.webp', caption: 'no' },
      ]),
      { detail: 'extraMedia[1]: sticker messages take no caption' },
    );
    const refused = mediaGroupContents({ type: 'text', text: { body: 'hi' } }, [
      { link: 'https://x.example/a.jpg' },
    ]);
    assert.ok(!Array.isArray(refused));
    assert.match(refused.detail, /extraMedia goes with a media message/);
  });
});
