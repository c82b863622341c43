import { randomFillSync } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE } from '../sip/via.js';

// randomBytes() per identifier costs a few microseconds each (measured in bench/transport-tls),
// a fifth of a response's cost: draw from a pool refilled 4 KiB at a time instead.
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomSlice(length: number): Buffer {
  if (poolOffset + length > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const slice = POOL.subarray(poolOffset, poolOffset + length);
  poolOffset += length;
  return slice;
}

/** A branch unique in space and time, with the RFC 3261 magic cookie (section 8.1.1.7). */
export function newBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomSlice(12).toString('base64url')}`;
}

/** A From or To tag: at least 32 bits of randomness (section 19.3). */
export function newTag(): string {
  return randomSlice(8).toString('hex');
}

/** A Call-ID, globally unique (section 8.1.1.4); the host part names who made it. */
export function newCallId(host: string): string {
  return `${randomSlice(16).toString('base64url')}@${host}`;
}
