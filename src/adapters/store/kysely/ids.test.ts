// Store ids: UUIDv7, strictly increasing in creation order so (created_at, id) ordering is stable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from './ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newId', () => {
  it('produces RFC 9562 version-7 UUIDs carrying the millisecond timestamp', () => {
    const at = Date.parse('2026-01-15T10:00:00Z');
    const id = newId(at);
    assert.match(id, UUID_V7);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at);
  });

  it('sorts as text in creation order, even thousands within one millisecond', () => {
    const at = Date.parse('2026-01-15T10:00:01Z');
    const ids = Array.from({ length: 10_000 }, () => newId(at));
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `order broken at ${i}`);
    for (const id of ids) assert.match(id, UUID_V7);
  });

  it('never goes backwards when the clock does', () => {
    const first = newId(Date.parse('2026-01-15T10:00:05Z'));
    const afterStep = newId(Date.parse('2026-01-15T10:00:04Z'));
    assert.ok(first < afterStep);
  });
});
