/**
 * The proxy's Via branch (RFC 3261 section 16.6 item 8) and loop detection with it (section 16.3
 * item 4). A branch is `z9hG4bK` `sx` <loop hash> `.` <distinguisher>: the magic cookie makes it
 * an RFC 3261 branch, the hash covers every field that affects how the request is routed, and
 * the distinguisher makes each branch unique. A request that comes back with one of our Vias
 * whose hash equals the hash of the request now has looped; a different hash is a spiral.
 *
 * The hash leaves out the topmost Via that section 16.6 item 8 lists among "a common way": on a
 * looped request the topmost Via is the previous hop's, never the one we hashed, so with it no loop
 * would ever be found (resiprocate and Kamailio leave it out too).
 */
import { createHash } from 'node:crypto';
import type { SipRequest } from '../sip/message.js';
import { BRANCH_MAGIC_COOKIE, branchOf } from '../sip/via.js';
import { newBranch } from '../ua/identifiers.js';
import type { OwnAddresses } from './own-addresses.js';

const PREFIX = `${BRANCH_MAGIC_COOKIE}sx`;
const HASH_CHARS = 20;

/**
 * The loop hash of a request as received (before any change by this proxy): Request-URI, To and
 * From tags, Call-ID, CSeq number, and every Route, Proxy-Require and Proxy-Authorization value.
 * Not the method (section 16.6 item 8: a CANCEL or ACK must hash like its INVITE). Hex (a token).
 */
export function loopHash(request: SipRequest): string {
  const h = createHash('sha256');
  const part = (text: string | undefined): void => {
    h.update(text ?? '');
    h.update('\u0000');
  };
  part(request.uri.toString());
  part(request.toTag());
  part(request.fromTag());
  part(request.callId());
  part(String(request.cseq().seq));
  for (const name of ['route', 'proxy-require', 'proxy-authorization']) for (const field of request.fields(name)) part(field.value);
  return h.digest('hex').slice(0, HASH_CHARS);
}

/** A new branch for one forwarded copy: the loop hash and a fresh distinguisher. */
export function proxyBranch(hash: string): string {
  return `${PREFIX}${hash}.${newBranch().slice(BRANCH_MAGIC_COOKIE.length)}`;
}

/** The same branch for the same request: stateless forwarding of an ACK (section 16.11), keyed by its own top branch. */
export function statelessBranch(hash: string, request: SipRequest): string {
  const top = request.topVia();
  const received = top === undefined ? '' : (branchOf(top) ?? '');
  return `${PREFIX}${hash}.${createHash('sha256').update(received).digest('hex').slice(0, 16)}`;
}

/** The loop hash inside one of our branches, or undefined for a branch we did not make. */
export function hashOfBranch(branch: string | undefined): string | undefined {
  if (branch?.startsWith(PREFIX) !== true) return undefined;
  const hash = branch.slice(PREFIX.length, PREFIX.length + HASH_CHARS);
  return branch.charAt(PREFIX.length + HASH_CHARS) === '.' ? hash : undefined;
}

/** Whether the request carries a Via of ours with this very hash: it has looped (section 16.3 item 4). */
export function hasLooped(request: SipRequest, hash: string, own: OwnAddresses): boolean {
  for (const via of request.via()) {
    if (own.isOwnVia(via) && hashOfBranch(branchOf(via)) === hash) return true;
  }
  return false;
}
