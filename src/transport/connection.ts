import type { PeerVerdict } from '../tls/verdict.js';
import type { CloseReasonText } from '../vocabulary.js';
import type { Endpoint, TransportProtocol } from './transport-context.js';

/** The connection-oriented transports: TCP and TLS streams (RFC 3261 section 18), WS and WSS (RFC 7118). */
export type ConnectionTransport = Exclude<TransportProtocol, 'udp'>;

/**
 * One open connection carrying SIP, whatever frames it: what the connection table reuses and
 * counts against the limits, and what the transport layer sends on. StreamConnection (TCP, TLS)
 * and WsConnection (WS, WSS) implement it.
 */
export interface Connection {
  readonly id: string;
  readonly transport: ConnectionTransport;
  readonly direction: 'inbound' | 'outbound';
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** For TLS and WSS: the verdict on the peer's certificate (server's when outbound, client's when inbound). */
  readonly peer: PeerVerdict | undefined;
  /** SIP domains this connection's server certificate was verified for when it was opened (outbound TLS and WSS). */
  readonly verifiedFor: Set<string>;
  readonly closed: boolean;
  /** Why the connection closed (empty while open): a vocabulary word, with a detail after `: ` for some. */
  readonly closeReason: CloseReasonText | '';
  /** Writes one SIP message; rejects with TransportError when the connection is closed or stalled. */
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the connection now; the reason is logged once. */
  close(reason: CloseReasonText): void;
}

let nextId = 1;

/** A connection id unique in the process, naming its transport (`tls-7`, `wss-12`). */
export function nextConnectionId(transport: ConnectionTransport): string {
  return `${transport}-${nextId++}`;
}
