import { randomBytes } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE } from '../sip/via.js';

/** A branch unique in space and time, with the RFC 3261 magic cookie (section 8.1.1.7). */
export function newBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomBytes(12).toString('base64url')}`;
}

/** A From or To tag: at least 32 bits of randomness (section 19.3). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A Call-ID, globally unique (section 8.1.1.4); the host part names who made it. */
export function newCallId(host: string): string {
  return `${randomBytes(16).toString('base64url')}@${host}`;
}
