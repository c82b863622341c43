/**
 * A response the proxy makes itself (acting as a UAS, RFC 3261 section 16.3), as plain data until
 * the core builds it on the request: status, reason phrase, extra header fields in order.
 */
import { quote } from '../sip/header-scanner.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { buildResponse, warningDetail } from '../transaction/local-response.js';
import { newTag } from '../ua/identifiers.js';
import type { DestinationFailureWord, HopPolicyWord, ProxyRoutingWord } from './routing-words.js';

export interface LocalAnswer {
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export function answer(status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []): LocalAnswer {
  return { status, reason, headers };
}

/** `Warning: 399 <agent> "<word>: <detail>"` (RFC 3261 section 20.43), the detail bounded and printable. */
export function warning399(agent: string, word: ProxyRoutingWord | DestinationFailureWord | HopPolicyWord, detail: string): readonly [string, string] {
  return ['warning', `399 ${agent} ${quote(`${word}: ${warningDetail(detail)}`)}`];
}

/** `Reason: SIP;cause=<status>;text="<word>"` (RFC 3326): the check that failed, for grepping. */
export function reasonHeader(status: number, word: ProxyRoutingWord | DestinationFailureWord | HopPolicyWord): readonly [string, string] {
  return ['reason', `SIP;cause=${status};text=${quote(word)}`];
}

/** The response for `request`, with a To tag when the request has none (section 8.2.6.2). */
export function buildLocalResponse(request: SipRequest, spec: LocalAnswer): SipResponse {
  const response = buildResponse(request, spec.status, spec.reason, { toTag: newTag() });
  for (const [name, value] of spec.headers) response.addHeader(name, value);
  return response;
}
