// The template picker's form: what a template asks for (text, a media header, URL button
// suffixes) and the components the send carries, as Cloud API template components.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buttonUrl,
  complete,
  componentsOf,
  formOf,
  type FormValues,
} from '../ui/src/inbox/template-form.ts';

const parcelReady = [
  { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::x'] } },
  { type: 'BODY', text: 'Hi {{1}}, parcel {{2}} is ready.' },
  {
    type: 'BUTTONS',
    buttons: [
      { type: 'QUICK_REPLY', text: 'Thanks' },
      { type: 'URL', text: 'Track', url: 'https://track.example.com/p/{{1}}' },
      { type: 'URL', text: 'Shop', url: 'https://shop.example.com/' },
    ],
  },
];

describe('template picker form', () => {
  it('asks for the image header and the dynamic URL button, not the static one', () => {
    const form = formOf(parcelReady);
    assert.equal(form.headerMedia, 'image');
    assert.deepEqual(
      form.slots.map((s) => `${s.component}:${s.key}`),
      ['body:1', 'body:2'],
    );
    assert.deepEqual(form.urlButtons, [
      { index: 1, text: 'Track', url: 'https://track.example.com/p/{{1}}' },
    ]);
    assert.equal(buttonUrl(form.urlButtons[0]!, 'PX-77'), 'https://track.example.com/p/PX-77');
  });

  it('is incomplete until the header media and the button suffix are given', () => {
    const form = formOf(parcelReady);
    const values: FormValues = {
      text: { 'body:1': 'Ada', 'body:2': 'PX-77' },
      headerMedia: null,
      buttons: {},
    };
    assert.equal(complete(form, values), false);
    assert.equal(complete(form, { ...values, headerMedia: { id: 'u1' } }), false);
    assert.equal(
      complete(form, { ...values, headerMedia: { id: 'u1' }, buttons: { 1: 'PX-77' } }),
      true,
    );
  });

  it('builds header media (upload id or link), body text and the URL button as components', () => {
    const form = formOf(parcelReady);
    const text = { 'body:1': 'Ada', 'body:2': 'PX-77' };
    assert.deepEqual(
      componentsOf(form, { text, headerMedia: { id: 'u1' }, buttons: { 1: 'PX-77' } }),
      [
        { type: 'header', parameters: [{ type: 'image', image: { id: 'u1' } }] },
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Ada' },
            { type: 'text', text: 'PX-77' },
          ],
        },
        {
          type: 'button',
          sub_type: 'url',
          index: '1',
          parameters: [{ type: 'text', text: 'PX-77' }],
        },
      ],
    );
    const linked = componentsOf(form, {
      text,
      headerMedia: { link: 'https://cdn.example.com/p.jpg' },
      buttons: { 1: 'x' },
    });
    assert.deepEqual(linked[0], {
      type: 'header',
      parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/p.jpg' } }],
    });
  });

  it('keeps a document header’s file name; a text header stays text parameters', () => {
    const doc = formOf([
      { type: 'HEADER', format: 'DOCUMENT' },
      { type: 'BODY', text: 'Invoice' },
    ]);
    assert.deepEqual(
      componentsOf(doc, { text: {}, headerMedia: { id: 'u2', filename: 'inv.pdf' }, buttons: {} }),
      [
        {
          type: 'header',
          parameters: [{ type: 'document', document: { id: 'u2', filename: 'inv.pdf' } }],
        },
      ],
    );
    const textHeader = formOf([
      { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
      { type: 'BODY', text: 'Hello {{name}}' },
    ]);
    assert.equal(textHeader.headerMedia, null);
    assert.deepEqual(
      componentsOf(textHeader, {
        text: { 'header:1': '42', 'body:name': 'Ada' },
        headerMedia: null,
        buttons: {},
      }),
      [
        { type: 'header', parameters: [{ type: 'text', text: '42' }] },
        { type: 'body', parameters: [{ type: 'text', text: 'Ada', parameter_name: 'name' }] },
      ],
    );
  });
});
