// The byte reader and the JSON.parse reader must accept, refuse and read every line alike.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageLineReader } from './usage-log-bytes.ts';
import { parseUsageLine } from './usage-log.ts';

const BASE =
  '{"type":"delivered","at":"2025-07-03T10:05:00Z","waba":"W1","channel":"C1","contact":"+447700900123","message":"m1","template_category":"utility"}';
const INBOUND =
  '{"type":"inbound","at":"2025-07-03T10:00:00.250+02:00","waba":"W1","channel":"C1","contact":"+447700900123","entry_point":"page_cta","tz":"Europe/Berlin"}';

/** What the byte reader makes of a line, in the shape parseUsageLine answers. */
function viaBytes(reader: UsageLineReader, line: string): unknown {
  const bytes = Buffer.from(`xx${line}yy`, 'utf8'); // the line sits inside a larger buffer
  const problem = reader.read(bytes, 2, bytes.length - 2);
  if (problem !== null) return problem;
  return { ...reader.line.event, atText: reader.line.atText() };
}

function viaJson(line: string): unknown {
  const r = parseUsageLine(line);
  return typeof r === 'string' ? r : { ...r };
}

const VARIANTS = [
  BASE,
  INBOUND,
  ' { "type" : "delivered" , "at" : "2025-07-03T10:05:00Z" , "waba":"W1","channel":"C1","contact":"+447700900123","message":"m1" } ',
  '{"message":"m1","contact":"+447700900123","channel":"C1","waba":"W1","at":"2025-07-03T10:05:00Z","type":"delivered"}',
  BASE.replace('"m1"', '"wamid.\\"q\\""'),
  BASE.replace('"m1"', '"m\\u00e9"'),
  BASE.replace('"m1"', '"mé💬"'),
  BASE.replace('"W1"', '"Wé"'),
  BASE.replace('"m1"', '"m\t1"'),
  BASE.replace('"m1"', '""'),
  BASE.replace('"W1"', '""'),
  BASE.replace('"utility"', '""'),
  BASE.replace('"utility"', '"utilities"'),
  BASE.replace('"utility"', '"marketing_lite"'),
  BASE.replace('"utility"', '"authentication_international"'),
  BASE.replace('"utility"', 'null'),
  BASE.replace('"W1"', '1'),
  BASE.replace('}', ',"tz":null}'),
  BASE.replace('}', ',"tz":""}'),
  BASE.replace('}', ',"extra":{"a":[1,"}"]},"n":2}'),
  BASE.replace('}', ',"x\\"y":"z"}'),
  BASE.replace('}', ',"note":"a\\\\"}'),
  BASE.replace('}', ',"note":"x\\",\\"type\\":\\"inbound"}'),
  BASE.replace('"delivered"', '"sent"'),
  BASE.replace('"type":"delivered",', ''),
  BASE.replace('"message":"m1",', ''),
  BASE.replace('10:05:00Z', '10:05:00'),
  BASE.replace('2025-07-03', '2025-02-29'),
  BASE.replace('}', ',"type":"inbound"}'),
  BASE + ' x',
  BASE.slice(0, -1),
  '{}',
  '[]',
  '',
  '   ',
  'null',
  '{"type":"delivered"',
  INBOUND.replace('"page_cta"', '"ad"'),
  INBOUND.replace('"page_cta"', '""'),
  INBOUND.replace(',"tz":"Europe/Berlin"', ''),
];

describe('UsageLineReader', () => {
  it('reads, and refuses with the same reason, exactly what parseUsageLine does', () => {
    const reader = new UsageLineReader();
    for (const line of VARIANTS) assert.deepEqual(viaBytes(reader, line), viaJson(line), line);
  });

  it('agrees with parseUsageLine on thousands of damaged lines', () => {
    const reader = new UsageLineReader();
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const alphabet = '{}[]":,\\ \tnull0123456789TZ+-.aeéutypdliv';
    for (let n = 0; n < 20_000; n++) {
      const source = n % 2 === 0 ? BASE : INBOUND;
      const chars = Array.from(source);
      const edits = 1 + Math.floor(next() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(next() * chars.length);
        const op = next();
        const c = alphabet[Math.floor(next() * alphabet.length)] ?? ' ';
        if (op < 0.4) chars[at] = c;
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      const line = chars.join('');
      assert.deepEqual(viaBytes(reader, line), viaJson(line), line);
    }
  });

  it('keeps every distinct id apart, beyond the size of its intern table', () => {
    const reader = new UsageLineReader();
    for (let i = 0; i < 70_000; i++) {
      const contact = `+4477${String(i).padStart(8, '0')}`;
      const line = BASE.replace('+447700900123', contact);
      assert.equal(reader.read(Buffer.from(line), 0, Buffer.byteLength(line)), null);
      assert.equal(reader.line.event.contact, contact);
    }
  });
});
