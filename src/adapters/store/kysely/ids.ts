// Store-generated ids: UUIDv7 (RFC 9562), so ids sort by creation time and break `created_at` ties stably.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomBytes(count: number): Buffer {
  // One syscall per few hundred ids keeps id generation off the webhook hot path's profile.
  if (poolOffset + count > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + count);
  poolOffset += count;
  return slice;
}

let lastMs = -1;
let counter = 0;

/**
 * A new UUIDv7 string. Within one millisecond a 12-bit counter (RFC 9562 §6.2 method 1) keeps
 * ids strictly increasing in this process, so two rows created in the same millisecond still
 * sort in creation order.
 */
export function newId(nowMs: number = Date.now()): string {
  let ms = Math.floor(nowMs);
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted: borrow the next millisecond rather than lose monotonicity.
      ms = ++lastMs;
      counter = (randomBytes(1)[0] ?? 0) & 0x3ff;
    }
  } else {
    lastMs = ms;
    // Start low in the counter space so many ids fit in the same millisecond.
    counter = ((randomBytes(1)[0] ?? 0) << 2) & 0x3ff;
  }
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  randomBytes(8).copy(bytes, 8);
  // RFC 9562 variant bits (10xx) in the top of byte 8.
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
