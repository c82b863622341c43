import { SipRequest, type SipResponse } from '../sip/message.js';

/**
 * The ACK a client transaction sends for a 300-699 response to its INVITE, RFC 3261 section
 * 17.1.1.3: the Request-URI, Call-ID and From of the original request, the To of the response
 * (with its tag), a single Via equal to the original top Via (so the same branch), the CSeq
 * number of the original with method ACK, and the original's Route header fields. The ACK for a
 * 2xx is the TU's (section 13.2.2.4) and is not built here.
 */
export function buildAckForNon2xx(request: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', request.uri);
  const topVia = request.headerValues('via')[0];
  if (topVia !== undefined) ack.addHeader('via', topVia);
  for (const route of request.headerValues('route')) ack.addHeader('route', route);
  ack.addHeader('max-forwards', request.header('max-forwards') ?? '70');
  copy(request, ack, 'from');
  copy(response, ack, 'to');
  copy(request, ack, 'call-id');
  ack.addHeader('cseq', `${request.cseq().seq} ACK`);
  ack.addHeader('content-length', '0');
  return ack;
}

/**
 * The CANCEL for a pending request, RFC 3261 section 9.1: the same Request-URI, Call-ID, To, From
 * and CSeq number, method CANCEL, a single Via equal to the request's top Via, and its Route
 * header fields. The TU sends it as its own non-INVITE client transaction (its key differs from
 * the INVITE's by the CSeq method, section 17.1.3), and only after a provisional response.
 */
export function buildCancel(request: SipRequest): SipRequest {
  const cancel = new SipRequest('CANCEL', request.uri);
  const topVia = request.headerValues('via')[0];
  if (topVia !== undefined) cancel.addHeader('via', topVia);
  for (const route of request.headerValues('route')) cancel.addHeader('route', route);
  cancel.addHeader('max-forwards', request.header('max-forwards') ?? '70');
  copy(request, cancel, 'from');
  copy(request, cancel, 'to');
  copy(request, cancel, 'call-id');
  cancel.addHeader('cseq', `${request.cseq().seq} CANCEL`);
  cancel.addHeader('content-length', '0');
  return cancel;
}

function copy(from: SipRequest | SipResponse, to: SipRequest, name: string): void {
  const value = from.header(name);
  if (value !== undefined) to.addHeader(name, value);
}
