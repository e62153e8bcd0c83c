// Meta's X-Hub-Signature-256: the shared vectors, tampering, and signing bodies the way Meta does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeNonAscii, signMetaBody, verifyMetaSignature } from './meta-signature.ts';
import { NEEDS_FIXTURES, readFixtureJson } from './testing/shared-fixtures.ts';

interface Vectors {
  app_secret: string;
  vectors: Array<{ raw_body: string; x_hub_signature_256: string }>;
}
const vectors = (): Vectors =>
  readFixtureJson('meta/synthetic__x_hub_signature_256_vectors.json') as Vectors;

describe('verifyMetaSignature', () => {
  it(
    'PROVIDERS B.2: accepts every shared vector over its exact raw bytes',
    { skip: NEEDS_FIXTURES },
    () => {
      const { app_secret, vectors: list } = vectors();
      assert.equal(list.length, 2);
      for (const v of list) {
        assert.equal(
          verifyMetaSignature(Buffer.from(v.raw_body, 'utf8'), v.x_hub_signature_256, app_secret),
          true,
        );
      }
    },
  );

  it(
    'PROVIDERS B.2: refuses a tampered body, a wrong secret and a re-serialised body',
    { skip: NEEDS_FIXTURES },
    () => {
      const { app_secret, vectors: list } = vectors();
      const [plain, escaped] = list;
      assert.ok(plain && escaped);
      const tampered = Buffer.from(plain.raw_body.replace('Body Text', 'Body TexT'), 'utf8');
      assert.equal(verifyMetaSignature(tampered, plain.x_hub_signature_256, app_secret), false);
      assert.equal(
        verifyMetaSignature(Buffer.from(plain.raw_body), plain.x_hub_signature_256, 'wrong_secret'),
        false,
      );
      // Parsing and re-serialising turns the \u00e9 escapes into raw UTF-8: the signature no longer holds.
      const reserialised = Buffer.from(JSON.stringify(JSON.parse(escaped.raw_body)), 'utf8');
      assert.equal(
        verifyMetaSignature(reserialised, escaped.x_hub_signature_256, app_secret),
        false,
      );
    },
  );

  it('PROVIDERS B.2: treats a missing, malformed or empty-secret check as a failure, never a throw', () => {
    const body = Buffer.from('{}');
    const good = signMetaBody('{}', 's').signature;
    assert.equal(verifyMetaSignature(body, good, 's'), true);
    assert.equal(verifyMetaSignature(body, undefined, 's'), false);
    assert.equal(verifyMetaSignature(body, '', 's'), false);
    assert.equal(verifyMetaSignature(body, good.replace('sha256=', 'sha1='), 's'), false);
    assert.equal(verifyMetaSignature(body, good.slice(0, -2), 's'), false);
    assert.equal(verifyMetaSignature(body, `${good}00`, 's'), false);
    assert.equal(verifyMetaSignature(body, 'sha256=' + 'z'.repeat(64), 's'), false);
    assert.equal(verifyMetaSignature(body, good, ''), false);
  });

  it('PROVIDERS B.2: accepts upper-case hex digits in the header', () => {
    const { body, signature } = signMetaBody('{"a":1}', 'secret');
    assert.equal(
      verifyMetaSignature(body, `sha256=${signature.slice(7).toUpperCase()}`, 'secret'),
      true,
    );
  });
});

describe('signMetaBody', () => {
  it('PROVIDERS K: escapes every non-ASCII UTF-16 code unit as lowercase \\uXXXX, surrogates one by one', () => {
    assert.equal(escapeNonAscii('mangé 😀 ü'), 'mang\\u00e9 \\ud83d\\ude00 \\u00fc');
    assert.equal(escapeNonAscii('plain/ascii'), 'plain/ascii');
    const { body } = signMetaBody(JSON.stringify({ text: 'J’ai mangé 😀' }), 'secret');
    assert.equal(body.toString('utf8'), '{"text":"J\\u2019ai mang\\u00e9 \\ud83d\\ude00"}');
    assert.ok(
      [...body].every((byte) => byte < 0x80),
      'the signed bytes are pure ASCII',
    );
  });

  it('PROVIDERS K: signs exactly the bytes it returns, which parse back to the original text', () => {
    const original = { entry: [{ text: 'Grüße, 你好 😀' }] };
    const { body, signature } = signMetaBody(JSON.stringify(original), 'app-secret');
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyMetaSignature(body, signature, 'app-secret'), true);
    assert.deepEqual(JSON.parse(body.toString('utf8')), original);
  });

  it(
    'PROVIDERS B.2: reproduces the ASCII vector byte for byte, and agrees with Meta’s escaped vector',
    { skip: NEEDS_FIXTURES },
    () => {
      const { app_secret, vectors: list } = vectors();
      const [plain, escaped] = list;
      assert.ok(plain && escaped);
      const signed = signMetaBody(plain.raw_body, app_secret);
      assert.equal(signed.body.toString('utf8'), plain.raw_body);
      assert.equal(signed.signature, plain.x_hub_signature_256);
      // An already-escaped body is ASCII: signing it changes nothing, so Meta's signature comes out.
      assert.equal(
        signMetaBody(escaped.raw_body, app_secret).signature,
        escaped.x_hub_signature_256,
      );
    },
  );
});
