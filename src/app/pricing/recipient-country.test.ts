// PRC-5: recipient number → country with libphonenumber-js, cached.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countryOfNumber, createCountryResolver } from './recipient-country.ts';

describe('recipient country', () => {
  it('PRC-5: resolves the country of E.164 numbers, including NANP countries sharing +1', () => {
    assert.equal(countryOfNumber('+12125550123'), 'US');
    assert.equal(countryOfNumber('+14165550123'), 'CA');
    assert.equal(countryOfNumber('+17875550123'), 'PR');
    assert.equal(countryOfNumber('+919876543210'), 'IN');
    assert.equal(countryOfNumber('+5511987654321'), 'BR');
    assert.equal(countryOfNumber('+4915123456789'), 'DE');
    assert.equal(countryOfNumber('+77012345678'), 'KZ');
  });

  it("PRC-5: places numbers in reserved ranges by their calling code's main country (the spec's own +447700900123)", () => {
    assert.equal(countryOfNumber('+447700900123'), 'GB');
  });

  it('accepts wa_id digits without the plus sign', () => {
    assert.equal(countryOfNumber('447700900123'), 'GB');
  });

  it('has no country for non-geographic codes and non-numbers', () => {
    assert.equal(countryOfNumber('+80012345678'), null);
    assert.equal(countryOfNumber('+999123456'), null);
    assert.equal(countryOfNumber('bob'), null);
    assert.equal(countryOfNumber(''), null);
  });

  it('caches answers and stays bounded', () => {
    const resolve = createCountryResolver(2);
    assert.equal(resolve('+12125550123'), 'US');
    assert.equal(resolve('+12125550123'), 'US');
    assert.equal(resolve('+919876543210'), 'IN');
    assert.equal(resolve('bob'), null);
    assert.equal(resolve('+4915123456789'), 'DE');
  });
});
