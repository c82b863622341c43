import { parseMessage } from '../sip/parse-message.js';
import type { SipRequest } from '../sip/message.js';

export interface RegisterSpec {
  readonly uri?: string;
  readonly to?: string;
  readonly from?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly method?: string;
  /** Extra header lines, written as given, e.g. ['Contact: <sip:bob@192.0.2.4>', 'Expires: 60']. */
  readonly headers?: readonly string[];
}

/** A REGISTER (or other request) parsed from text, as the transport would hand it up. */
export function registerRequest(spec: RegisterSpec = {}): SipRequest {
  const method = spec.method ?? 'REGISTER';
  const text = [
    `${method} ${spec.uri ?? 'sip:b.test'} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK-test;rport',
    'Max-Forwards: 70',
    `To: ${spec.to ?? '<sip:bob@b.test>'}`,
    `From: ${spec.from ?? '<sip:bob@b.test>'};tag=f1`,
    `Call-ID: ${spec.callId ?? 'call-1@192.0.2.4'}`,
    `CSeq: ${spec.cseq ?? 1} ${method}`,
    ...(spec.headers ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const message = parseMessage(Buffer.from(text));
  if (message.kind !== 'request') throw new Error('not a request');
  return message;
}
