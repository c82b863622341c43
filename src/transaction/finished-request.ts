import type { HeaderField } from '../sip/message.js';
import { SipRequest, SipResponse } from '../sip/message.js';
import { parseUri } from '../sip/uri.js';

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
  const kept = request.headers.filter((field) => KEPT.has(field.key)).map(detachedField);
  return new SipRequest(request.method, detachedUri(request.uri), kept, new Uint8Array(0), request.version, request.headerEncoding);
}

/**
 * The final response a server transaction keeps for retransmissions, as a message of its own: the
 * same fields and body (so it serializes the same), without the received datagram and the parsed
 * header caches of the TU's object (a forwarded response has parsed Via, Contact, Record-Route).
 */
export function finishedResponse(response: SipResponse): SipResponse {
  return new SipResponse(response.status, response.reason, response.headers.map(detachedField), response.body, response.version, response.headerEncoding);
}

/**
 * The 2xx an INVITE server transaction keeps in RFC 6026 Accepted, which never resends it (the TU
 * retransmits its 2xx itself, section 13.3.1.4): its status line and the fields of KEPT, enough
 * for the To tag an RFC 2543 ACK is matched by and for a look at the status.
 */
export function acceptedResponse(response: SipResponse): SipResponse {
  const kept = response.headers.filter((field) => KEPT.has(field.key)).map(detachedField);
  return new SipResponse(response.status, response.reason, kept, new Uint8Array(0), response.version, response.headerEncoding);
}

function detachedField(field: HeaderField): HeaderField {
  const copy = { name: field.name, key: field.key, value: detached(field.value) };
  return field.raw === undefined ? copy : { ...copy, raw: detached(field.raw) };
}

/** The same URI parsed from a text of its own (its parts are slices of the message's text otherwise). */
function detachedUri(uri: SipRequest['uri']): SipRequest['uri'] {
  try {
    return parseUri(detached(uri.toString()));
  } catch {
    return uri;
  }
}

/**
 * A string with storage of its own. The parser's header values are slices of the whole message's
 * text, and V8 keeps that whole text alive for as long as one slice of it lives.
 */
function detached(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
