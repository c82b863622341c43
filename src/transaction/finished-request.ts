import { SipRequest } from '../sip/message.js';

/**
 * The header fields a finished transaction still reads from its request: its keys and RFC 2543
 * matching (top Via, From tag, Call-ID, CSeq; the Request-URI and To for 17.2.3), and a response
 * or log line built from it afterwards (section 8.2.6 copies Via, From, To, Call-ID, CSeq).
 */
const KEPT: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * The small copy of a request that a transaction keeps once it has its final response and only
 * absorbs or answers retransmissions (RFC 3261 sections 17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2): the
 * start line and the fields above, without the body, the other fields or the parsed caches. The
 * request as received (or sent) is what the TU got; the transaction lets go of it here.
 */
export function finishedRequest(request: SipRequest): SipRequest {
  const kept = request.headers.filter((field) => KEPT.has(field.key));
  return new SipRequest(request.method, request.uri, kept, new Uint8Array(0), request.version, request.headerEncoding);
}
