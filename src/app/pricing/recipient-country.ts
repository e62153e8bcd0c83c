// PRC-5, first half: the recipient's country from an E.164 number (libphonenumber-js), cached per contact.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import metadata from 'libphonenumber-js/metadata.min';

const ISO_COUNTRY = /^[A-Z]{2}$/;

/**
 * The ISO 3166-1 alpha-2 country of a WhatsApp number (`+447700900123`, or wa_id digits), or
 * null when it is not a number with a country. Numbers libphonenumber-js cannot place within a
 * shared calling code (reserved ranges such as the UK's 07700 900xxx) take the code's main
 * country, because Meta prices by country calling code.
 * @see https://developers.facebook.com/docs/whatsapp/pricing#rates
 */
export function countryOfNumber(contact: string): string | null {
  const text = /^\d+$/.test(contact) ? `+${contact}` : contact;
  const phone = parsePhoneNumberFromString(text);
  if (phone === undefined) return null;
  if (phone.country !== undefined) return phone.country;
  const main = metadata.country_calling_codes[phone.countryCallingCode]?.[0];
  return main !== undefined && ISO_COUNTRY.test(main) ? main : null;
}

/**
 * A cached `countryOfNumber`: parsing costs tens of microseconds, a usage log repeats the same
 * few thousand contacts millions of times. The cache is cleared when full, so memory stays
 * bounded on logs with unbounded contacts.
 */
export function createCountryResolver(maxEntries = 200_000): (contact: string) => string | null {
  const cache = new Map<string, string | null>();
  return (contact) => {
    const hit = cache.get(contact);
    if (hit !== undefined) return hit;
    const country = countryOfNumber(contact);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(contact, country);
    return country;
  };
}
