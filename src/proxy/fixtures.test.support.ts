/** What the proxy's unit tests share: our listeners, and requests and responses written as text. */
import type { SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import { OwnAddresses } from './own-addresses.js';

export const OWN = new OwnAddresses([
  { transport: 'udp', address: '192.0.2.10', port: 5060, name: 'proxy.a.test' },
  { transport: 'tcp', address: '192.0.2.10', port: 5060, name: 'proxy.a.test' },
  { transport: 'tls', address: '192.0.2.10', port: 5061, name: 'proxy.a.test' },
]);

/** An INVITE from alice@a.test to `uri`, with extra header lines. */
export function invite(uri = 'sip:bob@b.test', extra: readonly string[] = [], method = 'INVITE'): SipRequest {
  const lines = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKcaller1;rport',
    'Max-Forwards: 70',
    'To: <sip:bob@b.test>',
    'From: <sip:alice@a.test>;tag=fromtag',
    'Call-ID: call-1@198.51.100.1',
    `CSeq: 1 ${method}`,
    ...extra,
    'Content-Length: 0',
  ];
  return parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)) as SipRequest;
}

/** A response with `status` to `request` (its Vias, From, To with a tag, Call-ID, CSeq), plus extra lines. */
export function reply(request: SipRequest, status: number, extra: readonly string[] = [], toTag: string | null = 'totag'): SipResponse {
  const lines = [`SIP/2.0 ${status} Whatever`];
  for (const h of request.headers) if (h.key === 'via') lines.push(`Via: ${h.value}`);
  lines.push(`To: ${request.header('to') ?? ''}${toTag === null ? '' : `;tag=${toTag}`}`);
  lines.push(`From: ${request.header('from') ?? ''}`, `Call-ID: ${request.callId()}`, `CSeq: ${request.header('cseq') ?? ''}`, ...extra, 'Content-Length: 0');
  return parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)) as SipResponse;
}
