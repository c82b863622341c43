/**
 * The WebSocket side of RFC 7118: the HTTP(S) server that accepts the opening handshake of SIP
 * WebSocket clients, and the client handshake over a socket the transport layer has opened (and,
 * for WSS, verified). Both sides require the `sip` subprotocol (section 4.1) and refuse
 * permessage-deflate; what flows after the handshake is WsConnection's.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import type { PeerVerdict } from '../tls/verdict.js';
import { TransportError, type Endpoint } from './transport-context.js';
import type { TransportLog } from './transport-log.js';

/** The WebSocket subprotocol of SIP (RFC 7118 sections 4.1 and 10.1). */
export const SIP_SUBPROTOCOL = 'sip';

export interface WsServerOptions {
  /** Present for WSS: the TLS server options (tls-server-options.ts). */
  readonly tls?: tls.TlsOptions;
  /** The only request path accepted (query ignored); absent: any path. */
  readonly path?: string;
  /** Largest WebSocket message accepted, in bytes: SIP_LIMITS.maxMessageBytes. */
  readonly maxPayloadBytes: number;
  /**
   * Node's deadline for the HTTP request of the opening handshake; checked only by Node's periodic
   * sweep, so the caller enforces its own upgrade deadline on each socket as well.
   */
  readonly headersTimeoutMs: number;
  /** WSS: verifies the client certificate after the TLS handshake; `admitted: false` closes the socket. */
  readonly verifyTlsClient?: (socket: tls.TLSSocket) => { readonly admitted: boolean; readonly verdict: PeerVerdict | undefined };
  /**
   * Called before the handshake completes, with the socket to upgrade; a refusal word
   * (`connection-limit`) answers 503 and closes.
   */
  readonly admit: (remote: Endpoint, socket: net.Socket) => string | undefined;
  /** A SIP WebSocket connection is open; `peer` is the client-certificate verdict on WSS. */
  readonly onOpen: (ws: WebSocket, socket: net.Socket, peer: PeerVerdict | undefined) => void;
  readonly log: TransportLog;
}

/**
 * An HTTP (WS) or HTTPS (WSS) server, not yet listening, that upgrades requests carrying the `sip`
 * subprotocol. Refused: another path (404), no `sip` in Sec-WebSocket-Protocol (400, RFC 7118
 * section 4.1), a connection limit (503); a plain HTTP request gets 426 Upgrade Required.
 */
export function createWsServer(options: WsServerOptions): http.Server | https.Server {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: options.maxPayloadBytes,
    // Compression would let a small frame expand past what the peer sent, and SIP gains little from it.
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
  });
  const verdicts = new WeakMap<net.Socket, PeerVerdict>();
  const server = options.tls === undefined ? http.createServer() : https.createServer(options.tls);
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.headersTimeoutMs;
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(426, { upgrade: 'websocket', connection: 'close', 'content-type': 'text/plain' });
    res.end(`a SIP WebSocket server (RFC 7118): upgrade with Sec-WebSocket-Protocol: ${SIP_SUBPROTOCOL}\n`);
  });
  const verifyTlsClient = options.verifyTlsClient;
  if (options.tls !== undefined && verifyTlsClient !== undefined) {
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const { admitted, verdict } = verifyTlsClient(socket);
      if (!admitted) {
        socket.destroy();
        return;
      }
      if (verdict !== undefined) verdicts.set(socket, verdict);
    });
  }
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const refuse = (status: number, reason: string, why: string): void => {
      options.log({ level: 'warn', event: 'websocket-upgrade-refused', remote, reason: why });
      refuseUpgrade(socket, status, reason);
    };
    if (options.path !== undefined && pathOf(req.url) !== options.path) {
      refuse(404, 'Not Found', `path ${req.url ?? ''} is not ${options.path}`);
      return;
    }
    if (!offeredProtocols(req.headers['sec-websocket-protocol']).includes(SIP_SUBPROTOCOL)) {
      refuse(400, 'Bad Request', 'sip-subprotocol-missing');
      return;
    }
    const refusal = options.admit(remote, socket);
    if (refusal !== undefined) {
      refuse(503, 'Service Unavailable', refusal);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => options.onOpen(ws, socket, verdicts.get(socket)));
  });
  server.on('clientError', (err: Error, socket: net.Socket) => {
    options.log({ level: 'debug', event: 'websocket-client-error', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason: err.message });
    socket.destroy();
  });
  return server;
}

export interface WsHandshakeTarget {
  readonly secure: boolean;
  /** The Host header (RFC 6455 section 4.1): the SIP domain or the address. */
  readonly host: string;
  readonly port: number;
  /** The request path; '/' when not given. */
  readonly path: string;
  readonly maxPayloadBytes: number;
  readonly timeoutMs: number;
}

/**
 * Runs the client side of the opening handshake on an open socket (TCP, or TLS already verified
 * by the caller), asking for the `sip` subprotocol. Rejects with TransportError
 * `ws-handshake-failed` (and destroys the socket) when the server does not answer 101 with `sip`:
 * RFC 7118 section 4.1 makes that a transaction error.
 */
export function handshakeWs(socket: net.Socket, target: WsHandshakeTarget): Promise<WebSocket> {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const url = `${target.secure ? 'wss' : 'ws'}://${host}:${target.port}${target.path.startsWith('/') ? target.path : `/${target.path}`}`;
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [SIP_SUBPROTOCOL], {
        // The socket is the caller's: no DNS, no second connect, no second TLS handshake.
        createConnection: (() => socket) as unknown as typeof net.createConnection,
        maxPayload: target.maxPayloadBytes,
        perMessageDeflate: false,
        handshakeTimeout: target.timeoutMs,
        followRedirects: false,
      });
    } catch (err) {
      socket.destroy();
      reject(new TransportError('ws-handshake-failed', `bad WebSocket URL ${url}`, undefined, { cause: err }));
      return;
    }
    const fail = (detail: string, cause?: Error): void => {
      ws.removeAllListeners('open');
      socket.destroy();
      reject(new TransportError('ws-handshake-failed', detail, undefined, cause ? { cause } : undefined));
    };
    ws.once('error', (err: Error) => fail(err.message, err));
    ws.once('open', () => {
      ws.removeAllListeners('error');
      if (ws.protocol !== SIP_SUBPROTOCOL) {
        fail(`the server chose subprotocol '${ws.protocol}', not '${SIP_SUBPROTOCOL}'`);
        return;
      }
      resolve(ws);
    });
  });
}

/** The subprotocols a client offers in Sec-WebSocket-Protocol (comma-separated, RFC 6455 section 11.3.4). */
function offeredProtocols(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim());
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function refuseUpgrade(socket: net.Socket, status: number, reason: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
