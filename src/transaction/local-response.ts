import { quote } from '../sip/header-scanner.js';
import { MAX_DETAIL_CHARS } from '../sip/errors.js';
import { SipResponse, type SipRequest } from '../sip/message.js';
import type { Via } from '../sip/via.js';
import type { TransportFailure } from './fsm.js';

/**
 * A response built from a request as RFC 3261 section 8.2.6.2 says: every Via in order, From,
 * To (with `toTag` added when it has none), Call-ID and CSeq copied; a 100 Trying also copies
 * Timestamp (section 8.2.6.1). Content-Length 0; the caller adds anything else.
 */
export function buildResponse(request: SipRequest, status: number, reason: string, options: { toTag?: string } = {}): SipResponse {
  const response = new SipResponse(status, reason);
  // Field by field as received: the same values in the same order (section 8.2.6.2), without
  // splitting each comma-separated Via field and writing its values back one by one.
  for (const h of request.headers) if (h.key === 'via') response.addHeader('via', h.value);
  copy(request, response, 'from');
  const to = request.header('to');
  if (to !== undefined) {
    const addTag = options.toTag !== undefined && status !== 100 && request.toTag() === undefined;
    response.addHeader('to', addTag ? `${to};tag=${options.toTag}` : to);
  }
  copy(request, response, 'call-id');
  copy(request, response, 'cseq');
  if (status === 100) copy(request, response, 'timestamp');
  response.addHeader('content-length', '0');
  return response;
}

/**
 * The final response a client transaction gives its TU when the request could not be sent
 * (RFC 3261 section 8.1.3.1: a transport failure is treated as a 503; DESIGN rule 6: at once, with
 * the reason): `Warning: 399 <agent> "<reason>: <detail>"` and `Reason: SIP;cause=503;text="<reason>"`.
 */
export function buildTransportFailureResponse(request: SipRequest, failure: TransportFailure, warnAgent: string): SipResponse {
  const response = buildResponse(request, 503, 'Service Unavailable');
  response.addHeader('warning', `399 ${warnAgent} ${quote(`${printable(failure.reason)}: ${warningDetail(failure.detail)}`)}`);
  response.addHeader('reason', `SIP;cause=503;text=${quote(printable(failure.reason))}`);
  return response;
}

/**
 * The 408 a client transaction gives its TU when Timer B or F fires (sections 17.1.1.2, 17.1.2.2
 * and 8.1.3.1), with `Reason: SIP;cause=408;text="timerB"` naming the timer.
 */
export function buildTimeoutResponse(request: SipRequest, timer: 'timerB' | 'timerF'): SipResponse {
  const response = buildResponse(request, 408, 'Request Timeout');
  response.addHeader('reason', `SIP;cause=408;text=${quote(timer)}`);
  return response;
}

/** The warn-agent of a locally made Warning: our own sent-by (the request's top Via), RFC 3261 section 20.43. */
export function warnAgentOf(via: Via | undefined): string {
  if (via === undefined) return 'sipsec';
  const host = via.hostKind === 'ipv6' ? `[${via.host}]` : via.host;
  return via.port === undefined ? host : `${host}:${via.port}`;
}

/**
 * A failure's detail as a Warning header may carry it: bounded and escaped (boundedDetail), and
 * never a library's own text: OpenSSL's messages name error codes and source files
 * (`error:0A00010B:SSL routines:...:ssl/record/...c:354`), which belong in the log, not in a
 * header that travels to the caller.
 */
export function warningDetail(detail: string): string {
  if (/error:[0-9A-Fa-f]{8}:|\.c:\d+/.test(detail)) return 'the connection failed (details in the log)';
  const text = printable(detail);
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 3)}...` : text;
}

/** Control characters cannot appear in a quoted-string (RFC 3261 section 25.1 qdtext). */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

function copy(from: SipRequest, to: SipResponse, name: string): void {
  const value = from.header(name);
  if (value !== undefined) to.addHeader(name, value);
}
