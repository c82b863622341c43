import { SipRequest } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import type { TransportProtocol } from '../transport/transport-context.js';
import { newBranch, newCallId, newTag } from './identifiers.js';

export interface OutOfDialogRequest {
  readonly method: string;
  readonly uri: SipUri;
  /** The From address of record; a tag is added. */
  readonly from: string;
  /** The To address; default: the Request-URI. */
  readonly to?: string;
  /** How this element is reached: the Via sent-by (section 18.1.1 uses it for responses). */
  readonly via: { readonly transport: TransportProtocol; readonly host: string; readonly port?: number };
  readonly cseq?: number;
  readonly maxForwards?: number;
  readonly userAgent?: string;
  /** Extra headers, as name and value, in order. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/**
 * A request outside a dialog as RFC 3261 section 8.1.1 builds it: Request-URI, To, From with a
 * tag, Call-ID, CSeq, Max-Forwards 70, and a Via with a fresh branch and rport (RFC 3581), so that
 * responses come back through NAT and to the port the request left from.
 */
export function buildRequest(spec: OutOfDialogRequest): SipRequest {
  const request = new SipRequest(spec.method, spec.uri);
  const sentBy = spec.via.port === undefined ? spec.via.host : `${spec.via.host}:${spec.via.port}`;
  request.addHeader('via', `SIP/2.0/${spec.via.transport.toUpperCase()} ${sentBy};branch=${newBranch()};rport`);
  request.addHeader('max-forwards', String(spec.maxForwards ?? 70));
  request.addHeader('to', `<${spec.to ?? spec.uri.toString()}>`);
  request.addHeader('from', `<${spec.from}>;tag=${newTag()}`);
  request.addHeader('call-id', newCallId(spec.via.host));
  request.addHeader('cseq', `${spec.cseq ?? 1} ${spec.method}`);
  if (spec.userAgent !== undefined) request.addHeader('user-agent', spec.userAgent);
  for (const [name, value] of spec.headers ?? []) request.addHeader(name, value);
  request.addHeader('content-length', '0');
  return request;
}
