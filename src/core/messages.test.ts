// Proves the outbound limits LIM-6 and the interactive limits (PROVIDERS.md §A.3), and what counts as free-form (CSW-3).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANIMATED_STICKER_MAX_BYTES,
  MEDIA_TYPES,
  OUTBOUND_TYPES,
  checkMediaFile,
  checkOutboundLimits,
  isFreeForm,
  type InteractiveBody,
  type MediaBody,
  type OutboundContent,
} from './messages.ts';

const KB = 1024;
const MB = 1024 * KB;

/** Asserts the content may go. */
function passes(content: OutboundContent): void {
  assert.equal(checkOutboundLimits(content), null);
}

/** Asserts the content is refused as invalid_request with a detail matching `detail`. */
function refused(content: OutboundContent, detail: RegExp): void {
  const r = checkOutboundLimits(content);
  assert.ok(r, 'refused');
  assert.equal(r.allowed, false);
  assert.equal(r.reason, 'invalid_request');
  assert.match(r.detail, detail);
}

const text = (body: string, preview_url?: boolean): OutboundContent => ({
  type: 'text',
  text: preview_url === undefined ? { body } : { body, preview_url },
});

function media(type: (typeof MEDIA_TYPES)[number], body: MediaBody): OutboundContent {
  return { type, [type]: body } as OutboundContent;
}

const interactive = (i: InteractiveBody): OutboundContent => ({
  type: 'interactive',
  interactive: i,
});

const buttons = (...titles: string[]): InteractiveBody => ({
  type: 'button',
  body: { text: 'Shall we confirm your booking?' },
  action: {
    buttons: titles.map((title, n) => ({ type: 'reply', reply: { id: `b${n}`, title } })),
  },
});

type Section = NonNullable<InteractiveBody['action']['sections']>[number];
const rows = (n: number, prefix = 'r'): Section['rows'] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, title: `Option ${i}` }));
const list = (sections: Section[], button = 'Choose'): InteractiveBody => ({
  type: 'list',
  body: { text: 'Pick a delivery slot' },
  action: { button, sections },
});

const EMOJI = '😀'; // one code point, two UTF-16 units

describe('LIM-6: text', () => {
  it('LIM-6: a text body of 4096 characters goes; 4097 is refused', () => {
    passes(text('a'.repeat(4096)));
    refused(text('a'.repeat(4097)), /text\.body is 4097 characters; WhatsApp allows at most 4096/);
  });

  it('LIM-6: the text limit counts Unicode code points, so 4096 emoji go', () => {
    passes(text(EMOJI.repeat(4096)));
    refused(text(EMOJI.repeat(4097)), /4097 characters/);
  });

  it('LIM-6: an empty or blank text is refused', () => {
    refused(text(''), /must not be empty/);
    refused(text('  \n '), /must not be empty/);
  });

  it('LIM-6: a link preview needs an http(s) URL in the body', () => {
    passes(text('Track it at https://example.com/t/42', true));
    refused(text('Track it in the app', true), /preview_url/);
    passes(text('Track it in the app', false));
  });
});

describe('LIM-6: media', () => {
  for (const type of MEDIA_TYPES) {
    it(`LIM-6: ${type} needs exactly one of id or link`, () => {
      passes(media(type, { id: '1234567890' }));
      passes(media(type, { link: 'https://cdn.example.com/file' }));
      refused(media(type, {}), new RegExp(`${type} needs exactly one of id or link`));
      refused(
        media(type, { id: '1234567890', link: 'https://cdn.example.com/file' }),
        /exactly one of id or link/,
      );
    });

    it(`LIM-6: a ${type} link must be an http(s) URL`, () => {
      refused(media(type, { link: 'ftp://example.com/file' }), /link must be an http\(s\) URL/);
    });
  }

  for (const type of ['image', 'video', 'document'] as const)
    it(`LIM-6: a ${type} takes a caption of up to 1024 characters`, () => {
      passes(media(type, { id: 'm1', caption: 'c'.repeat(1024) }));
      refused(media(type, { id: 'm1', caption: 'c'.repeat(1025) }), /caption is 1025 characters/);
    });

  for (const type of ['audio', 'sticker'] as const)
    it(`LIM-6: ${type} messages take no caption`, () => {
      refused(media(type, { id: 'm1', caption: 'hello' }), /take no caption/);
    });

  it('LIM-6: only documents take a filename', () => {
    passes(media('document', { id: 'm1', filename: 'invoice-42.pdf' }));
    refused(media('image', { id: 'm1', filename: 'photo.jpg' }), /only document/);
  });
});

describe('LIM-6: media files', () => {
  const ok = (
    t: (typeof MEDIA_TYPES)[number],
    mimeType: string,
    bytes: number,
    animated?: boolean,
  ) =>
    assert.equal(
      checkMediaFile(t, { mimeType, bytes, animated }),
      null,
      `${t} ${mimeType} ${bytes}`,
    );
  const no = (
    t: (typeof MEDIA_TYPES)[number],
    mimeType: string,
    bytes: number,
    detail: RegExp,
    animated?: boolean,
  ) => {
    const r = checkMediaFile(t, { mimeType, bytes, animated });
    assert.ok(r, `${t} ${mimeType} ${bytes} refused`);
    assert.equal(r.reason, 'invalid_request');
    assert.match(r.detail, detail);
  };

  it('LIM-6: images are jpeg or png of at most 5 MB', () => {
    ok('image', 'image/jpeg', 5 * MB);
    ok('image', 'image/png', 1);
    no('image', 'image/jpeg', 5 * MB + 1, /at most 5242880/);
    no('image', 'image/gif', 10 * KB, /image files must be image\/jpeg, image\/png/);
  });

  it('LIM-6: audio is aac, amr, mpeg, mp4 or ogg-opus of at most 16 MB', () => {
    for (const m of ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'])
      ok('audio', m, 16 * MB);
    ok('audio', 'audio/ogg; codecs=opus', 100 * KB);
    no('audio', 'audio/ogg; codecs=vorbis', 100 * KB, /Opus/);
    no('audio', 'audio/wav', 100 * KB, /audio files must be/);
    no('audio', 'audio/mpeg', 16 * MB + 1, /at most/);
  });

  it('LIM-6: video is mp4 or 3gpp of at most 16 MB', () => {
    ok('video', 'video/mp4', 16 * MB);
    ok('video', 'video/3gpp', 1 * MB);
    no('video', 'video/quicktime', 1 * MB, /video files must be/);
    no('video', 'video/mp4', 16 * MB + 1, /at most/);
  });

  it('LIM-6: a document may be any type up to 100 MB', () => {
    ok('document', 'application/pdf', 100 * MB);
    ok('document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 1);
    no('document', 'application/pdf', 100 * MB + 1, /at most/);
  });

  it('LIM-6: a sticker is webp of at most 100 KB, or 500 KB when animated', () => {
    ok('sticker', 'image/webp', 100 * KB);
    no('sticker', 'image/webp', 100 * KB + 1, /at most 102400 \(100 KB\)/);
    ok('sticker', 'image/webp', ANIMATED_STICKER_MAX_BYTES, true);
    assert.equal(ANIMATED_STICKER_MAX_BYTES, 500 * KB);
    no('sticker', 'image/webp', 500 * KB + 1, /500 KB/, true);
    no('sticker', 'image/png', 10 * KB, /sticker files must be image\/webp/);
  });

  it('LIM-6: MIME types are compared without regard to case', () => {
    ok('image', 'IMAGE/JPEG', 1);
  });
});

describe('LIM-6: reply buttons', () => {
  it('LIM-6: one to three reply buttons go', () => {
    passes(interactive(buttons('Yes')));
    passes(interactive(buttons('Yes', 'No', 'Later')));
  });

  it('LIM-6: no buttons or four buttons are refused', () => {
    refused(interactive(buttons()), /reply buttons: 0 given; WhatsApp allows 1 to 3/);
    refused(interactive(buttons('A', 'B', 'C', 'D')), /reply buttons: 4 given/);
  });

  it('LIM-6: a button title of 20 characters goes; 21 is refused', () => {
    passes(interactive(buttons('t'.repeat(20))));
    passes(interactive(buttons(EMOJI.repeat(20))));
    refused(
      interactive(buttons('Yes', 't'.repeat(21))),
      /buttons\[1\]\.reply\.title is 21 characters; WhatsApp allows at most 20/,
    );
  });

  it('LIM-6: button titles must be unique within the message', () => {
    refused(interactive(buttons('Yes', 'No', 'Yes')), /"Yes" is not unique/);
  });

  it('LIM-6: a button id is at most 256 characters', () => {
    const i = buttons('Yes');
    i.action.buttons![0]!.reply.id = 'x'.repeat(256);
    passes(interactive(i));
    i.action.buttons![0]!.reply.id = 'x'.repeat(257);
    refused(interactive(i), /buttons\[0\]\.reply\.id is 257 characters/);
  });

  it('LIM-6: interactive body 1024, header text 60 and footer 60 characters at most', () => {
    const i = buttons('Yes');
    i.body = { text: 'b'.repeat(1024) };
    i.header = { type: 'text', text: 'h'.repeat(60) };
    i.footer = { text: 'f'.repeat(60) };
    passes(interactive(i));
    refused(interactive({ ...i, body: { text: 'b'.repeat(1025) } }), /body\.text is 1025/);
    refused(interactive({ ...i, header: { type: 'text', text: 'h'.repeat(61) } }), /header\.text/);
    refused(interactive({ ...i, footer: { text: 'f'.repeat(61) } }), /footer\.text is 61/);
  });
});

describe('LIM-6: lists', () => {
  it('LIM-6: ten rows in all across several titled sections go', () => {
    passes(
      interactive(
        list([
          { title: 'Morning', rows: rows(4, 'm') },
          { title: 'Afternoon', rows: rows(3, 'a') },
          { title: 'Evening', rows: rows(3, 'e') },
        ]),
      ),
    );
  });

  it('LIM-6: eleven rows in all are refused even when no section has more than ten', () => {
    refused(
      interactive(
        list([
          { title: 'Morning', rows: rows(6, 'm') },
          { title: 'Evening', rows: rows(5, 'e') },
        ]),
      ),
      /list rows: 11 given in all; WhatsApp allows 1 to 10/,
    );
  });

  it('LIM-6: a list needs at least one row', () => {
    refused(interactive(list([{ title: 'Empty', rows: [] }])), /list rows: 0 given/);
  });

  it('LIM-6: ten sections go; eleven are refused', () => {
    const sections = (n: number): Section[] =>
      Array.from({ length: n }, (_, i) => ({ title: `S${i}`, rows: rows(1, `s${i}-`) }));
    passes(interactive(list(sections(10))));
    refused(interactive(list(sections(11))), /list sections: 11 given; WhatsApp allows 1 to 10/);
    refused(interactive(list([])), /list sections: 0 given/);
  });

  it('LIM-6: a section title is required when there are several sections, optional with one', () => {
    passes(interactive(list([{ rows: rows(3) }])));
    refused(
      interactive(list([{ title: 'Morning', rows: rows(2, 'm') }, { rows: rows(2, 'e') }])),
      /sections\[1\]\.title is required when there are several sections/,
    );
    refused(
      interactive(
        list([
          { title: '', rows: rows(2, 'm') },
          { title: 'Evening', rows: rows(2, 'e') },
        ]),
      ),
      /sections\[0\]\.title is required/,
    );
  });

  it('LIM-6: a section title is at most 24 characters', () => {
    passes(interactive(list([{ title: 's'.repeat(24), rows: rows(1) }])));
    refused(
      interactive(list([{ title: 's'.repeat(25), rows: rows(1) }])),
      /sections\[0\]\.title is 25 characters; WhatsApp allows at most 24/,
    );
  });

  it('LIM-6: a row id is at most 200, a row title 24 and a row description 72 characters', () => {
    const row = (r: Partial<Section['rows'][number]>) =>
      interactive(list([{ rows: [{ id: 'r1', title: 'Row', ...r }] }]));
    passes(row({ id: 'i'.repeat(200), title: 't'.repeat(24), description: 'd'.repeat(72) }));
    passes(row({ title: EMOJI.repeat(24), description: EMOJI.repeat(72) }));
    refused(
      row({ id: 'i'.repeat(201) }),
      /rows\[0\]\.id is 201 characters; WhatsApp allows at most 200/,
    );
    refused(
      row({ title: 't'.repeat(25) }),
      /rows\[0\]\.title is 25 characters; WhatsApp allows at most 24/,
    );
    refused(
      row({ description: 'd'.repeat(73) }),
      /rows\[0\]\.description is 73 characters; WhatsApp allows at most 72/,
    );
  });

  it('LIM-6: the list button label is required and at most 20 characters', () => {
    passes(interactive(list([{ rows: rows(1) }], 'b'.repeat(20))));
    refused(
      interactive(list([{ rows: rows(1) }], 'b'.repeat(21))),
      /action\.button is 21 characters/,
    );
    const noButton = list([{ rows: rows(1) }]);
    delete noButton.action.button;
    refused(interactive(noButton), /needs action\.button/);
  });
});

describe('CSW-3: what is free-form', () => {
  it('CSW-3: every outbound type but a template is free-form', () => {
    for (const type of OUTBOUND_TYPES)
      assert.equal(isFreeForm({ type }), type !== 'template', type);
  });
});
