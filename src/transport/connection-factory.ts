import type net from 'node:net';
import type { WebSocket } from 'ws';
import type { SipLimits, TransportLimits } from '../limits.js';
import type { PeerVerdict } from '../tls/verdict.js';
import type { Connection } from './connection.js';
import type { ReceivePath } from './receive-path.js';
import { StreamConnection } from './stream-connection.js';
import type { TransportLog } from './transport-log.js';
import { WsConnection } from './ws-connection.js';

/**
 * Builds connections, inbound and outbound, wired the same way: what they frame goes to the
 * receive path, their close to the layer's bookkeeping. TCP and TLS are framed as streams; WS and
 * WSS carry one SIP message per WebSocket message, framed like a datagram (RFC 7118 section 5).
 */
export class ConnectionFactory {
  readonly #wsEvents;

  constructor(
    private readonly limits: TransportLimits,
    private readonly sipLimits: SipLimits,
    private readonly receive: ReceivePath,
    private readonly onClose: (connection: Connection) => void,
    private readonly log: TransportLog,
  ) {
    this.#wsEvents = {
      onMessage: (connection: WsConnection, bytes: Buffer): void => receive.datagram(bytes, receive.contextOf(connection)),
      onClose: (connection: WsConnection): void => onClose(connection),
    };
  }

  stream(socket: net.Socket, transport: 'tcp' | 'tls', direction: 'inbound' | 'outbound', peer: PeerVerdict | undefined): StreamConnection {
    return new StreamConnection(socket, transport, direction, peer, this.limits, this.sipLimits, {
      onMessage: (connection, bytes) => this.receive.stream(bytes, connection),
      onFramingError: (connection, error) => this.receive.framingLost(connection, error),
      onClose: (connection) => this.onClose(connection),
    }, this.log);
  }

  ws(ws: WebSocket, socket: net.Socket, transport: 'ws' | 'wss', direction: 'inbound' | 'outbound', peer: PeerVerdict | undefined): WsConnection {
    return new WsConnection(ws, socket, transport, direction, peer, this.limits, this.#wsEvents, this.log);
  }
}
