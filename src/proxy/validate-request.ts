/**
 * Request validation, RFC 3261 section 16.3: what a proxy checks before it forwards anything.
 * Each failed check is answered as a UAS would (section 8.2). Pure: no I/O.
 */
import { SipParseError } from '../sip/errors.js';
import { canonicalHeaderName } from '../sip/header-names.js';
import type { SipRequest } from '../sip/message.js';
import { answer, type LocalAnswer } from './local-answer.js';
import { hasLooped, loopHash } from './loop-branch.js';
import type { OwnAddresses } from './own-addresses.js';
import type { ProxyRoutingWord } from './routing-words.js';

export type Validation =
  | { readonly ok: true; readonly hash: string }
  | { readonly ok: false; readonly answer: LocalAnswer; readonly word: ProxyRoutingWord };

export interface ValidationOptions {
  readonly own: OwnAddresses;
  /** Option tags this proxy understands in Proxy-Require (section 16.3 item 5); none by default. */
  readonly proxyRequireSupported?: readonly string[];
}

/**
 * Item 1 to 5 of section 16.3, in the RFC's order: reasonable syntax (the headers the proxy reads
 * must parse; others are left alone and forwarded unchanged), URI scheme (416), Max-Forwards
 * (483), loop detection (482, the branch hash of section 16.6 item 8), Proxy-Require (420 with
 * Unsupported). Item 6 (Proxy-Authorization) is the authorizer's, after targets are known.
 */
export function validateRequest(request: SipRequest, options: ValidationOptions): Validation {
  let maxForwards: number | undefined;
  let hash: string;
  try {
    request.from();
    request.to();
    request.callId();
    request.cseq();
    request.via();
    request.routes();
    maxForwards = request.maxForwards();
    hash = loopHash(request);
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    const header = err.header ?? 'Header';
    return { ok: false, word: 'bad-request', answer: answer(400, `Bad ${canonicalHeaderName(header)}`) };
  }
  if (request.uri.type !== 'sip') return { ok: false, word: 'unsupported-uri-scheme', answer: answer(416, 'Unsupported URI Scheme') };
  for (const route of request.routes()) {
    if (route.uri.type !== 'sip') return { ok: false, word: 'unsupported-uri-scheme', answer: answer(416, 'Unsupported URI Scheme') };
  }
  if (maxForwards === 0) return { ok: false, word: 'too-many-hops', answer: answer(483, 'Too Many Hops') };
  if (hasLooped(request, hash, options.own)) return { ok: false, word: 'loop-detected', answer: answer(482, 'Loop Detected') };
  let proxyRequire: string[];
  try {
    proxyRequire = request.proxyRequire();
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    return { ok: false, word: 'bad-request', answer: answer(400, 'Bad Proxy-Require') };
  }
  const supported = new Set((options.proxyRequireSupported ?? []).map((t) => t.toLowerCase()));
  const unsupported = proxyRequire.filter((tag) => !supported.has(tag.toLowerCase()));
  if (unsupported.length > 0) return { ok: false, word: 'bad-extension', answer: answer(420, 'Bad Extension', [['unsupported', unsupported.join(', ')]]) };
  return { ok: true, hash };
}
