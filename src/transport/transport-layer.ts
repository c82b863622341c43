import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { SIP_LIMITS, TRANSPORT_LIMITS, type SipLimits, type TransportLimits } from '../limits.js';
import type { SipMessage } from '../sip/message.js';
import { inspectMessage, type ParseResult } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import type { FramingError } from '../sip/stream-framer.js';
import type { TlsPolicy } from '../tls/policy.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import type { Connection, ConnectionTransport } from './connection.js';
import { ConnectionTable } from './connection-table.js';
import { SecureContextCache } from './secure-context-cache.js';
import { StreamConnection } from './stream-connection.js';
import { connectAndVerify, verifyInboundPeer } from './tls-connect.js';
import { tlsServerOptions, type ServerCertificate } from './tls-server-options.js';
import { TransportError, type Destination, type Endpoint, type TransportContext, type TransportProtocol } from './transport-context.js';
import { stderrTransportLog, type TransportLog } from './transport-log.js';
import { WsConnection } from './ws-connection.js';
import { createWsServer, handshakeWs } from './ws-transport.js';

export type { ServerCertificate } from './tls-server-options.js';

export interface ListenerSpec {
  readonly transport: TransportProtocol;
  /** IP address to bind (127.0.0.1, ::1, 0.0.0.0 ...). */
  readonly address: string;
  /** 0 picks a free port; see TransportLayer.listening(). */
  readonly port: number;
  /** TLS and WSS listeners: one or more certificates (SNI picks one per hosted domain). */
  readonly certificates?: readonly ServerCertificate[];
  /**
   * WS and WSS listeners: the only HTTP request path upgraded (query ignored, others get 404);
   * absent: any path. The `sip` subprotocol is always required (RFC 7118 section 4.1).
   */
  readonly path?: string;
}

export interface TransportLayerOptions {
  readonly listeners: readonly ListenerSpec[];
  /** Trust anchors for verifying TLS peers (servers we connect to, clients presenting certificates). */
  readonly trustStore?: TrustStore;
  readonly tlsPolicy?: Partial<TlsPolicy>;
  /** Our certificate for outbound mutual TLS. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
  /** Close inbound TLS connections whose client presents no certificate that verifies. Default false. */
  readonly requireClientCertificate?: boolean;
  readonly limits?: Partial<TransportLimits>;
  readonly sipLimits?: Partial<SipLimits>;
  readonly onMessage: (message: SipMessage, context: TransportContext) => void;
  /** A message that failed to parse; for requests `result.response` says what to answer. */
  readonly onInvalid?: (result: Extract<ParseResult, { ok: false }>, context: TransportContext) => void;
  /**
   * A connection (TCP, TLS, WS, WSS) closed, by either side or by a limit. Client transactions waiting for a
   * response on it will get none: the layer above fails them at once with this reason.
   */
  readonly onConnectionClosed?: (connectionId: string, reason: string) => void;
  readonly log?: TransportLog;
}

/** Where a message went: the connection (all but UDP) and the verdict on its TLS or WSS peer. */
export interface SendResult {
  readonly connectionId: string | undefined;
  readonly peer: PeerVerdict | undefined;
}

interface Listening {
  readonly spec: ListenerSpec;
  readonly endpoint: Endpoint;
  readonly close: () => Promise<void>;
}

/**
 * Every socket of a SIP element: listeners for UDP, TCP, TLS, WS and WSS (several at once, IPv4 and IPv6),
 * outbound connections, and the table that reuses them. Received bytes are parsed here and handed
 * up with their TransportContext; everything above is plain data.
 */
export class TransportLayer {
  readonly #options: TransportLayerOptions;
  readonly #limits: TransportLimits;
  readonly #sipLimits: SipLimits;
  readonly #log: TransportLog;
  readonly #connections = new ConnectionTable();
  readonly #pendingConnects = new Map<string, Promise<Connection>>();
  readonly #contexts = new SecureContextCache();
  readonly #listening: Listening[] = [];
  readonly #udpSockets: Array<{ socket: dgram.Socket; family: 4 | 6; endpoint: Endpoint }> = [];
  #closed = false;

  private constructor(options: TransportLayerOptions) {
    this.#options = options;
    this.#limits = { ...TRANSPORT_LIMITS, ...options.limits };
    this.#sipLimits = { ...SIP_LIMITS, ...options.sipLimits };
    this.#log = options.log ?? stderrTransportLog;
    for (const [name, value] of Object.entries(this.#limits)) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`transport limit ${name} must be a positive number, not ${value}`);
    }
  }

  /** Binds every listener; rejects (and closes what was opened) if one cannot be bound. */
  static async start(options: TransportLayerOptions): Promise<TransportLayer> {
    const layer = new TransportLayer(options);
    try {
      for (const spec of options.listeners) layer.#listening.push(await layer.#listen(spec));
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  /** The bound endpoint of each listener, in the order given. */
  listening(): Array<{ transport: ListenerSpec['transport']; address: string; port: number }> {
    return this.#listening.map((l) => ({ transport: l.spec.transport, ...l.endpoint }));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Sends one message. Connection destinations (TCP, TLS, WS, WSS) reuse a connection (the given
   * connectionId, or one to the same peer verified for the same SIP domain) or open one; a new TLS
   * or WSS connection is verified against destination.tlsTarget first, before any byte of SIP or
   * HTTP is sent. Rejects with TransportError naming the failure.
   */
  async send(message: SipMessage, destination: Destination): Promise<SendResult> {
    if (this.#closed) throw new TransportError('unreachable', 'the transport layer is closed');
    const bytes = serializeMessage(message);
    if (bytes.length > this.#sipLimits.maxMessageBytes) {
      throw new TransportError('message-too-large', `${bytes.length} bytes, limit ${this.#sipLimits.maxMessageBytes}`);
    }
    if (destination.transport === 'udp') {
      await this.#sendUdp(bytes, destination);
      return { connectionId: undefined, peer: undefined };
    }
    const connection = await this.#connectionFor(destination, destination.transport);
    await connection.send(bytes);
    return { connectionId: connection.id, peer: connection.peer };
  }

  /** Stops listening, closes every connection and socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Listeners stop accepting first; a stream server's close completes once its connections are gone.
    const closing = Promise.all(this.#listening.map((l) => l.close()));
    for (const connection of this.#connections.all()) connection.close('local-close');
    await closing;
  }

  async #listen(spec: ListenerSpec): Promise<Listening> {
    if (spec.transport === 'udp') return this.#listenUdp(spec);
    const where = `${spec.transport.toUpperCase()} listener ${spec.address}:${spec.port}`;
    if (spec.transport !== 'ws' && spec.transport !== 'wss' && spec.path !== undefined) throw new TypeError(`${where}: path is for WS and WSS listeners only`);
    const server =
      spec.transport === 'tcp'
        ? net.createServer((socket) => this.#accept(socket, 'tcp', undefined))
        : spec.transport === 'tls'
          ? this.#createTlsServer(spec, where)
          : this.#createWsServer(spec, where);
    server.maxConnections = this.#limits.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, spec.address, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', (err: Error) => this.#log({ level: 'warn', event: 'listener-error', reason: err.message }));
    const address = server.address() as net.AddressInfo;
    return {
      spec,
      endpoint: { address: address.address, port: address.port },
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // HTTP connections of WS listeners that never upgraded (keep-alive) would hold the close.
          if (server instanceof http.Server || server instanceof https.Server) server.closeAllConnections();
        }),
    };
  }

  #createTlsServer(spec: ListenerSpec, where: string): tls.Server {
    const server = tls.createServer(tlsServerOptions(spec.certificates ?? [], this.#contexts, this.#limits.tlsHandshakeTimeoutMs, where));
    server.on('secureConnection', (socket) => {
      const { admitted, verdict } = this.#admitTlsClient(socket);
      if (admitted) this.#accept(socket, 'tls', verdict);
      else socket.destroy();
    });
    this.#logTlsClientErrors(server);
    return server;
  }

  /**
   * An HTTP or HTTPS server upgrading to SIP over WebSocket (RFC 7118): the same certificate choice
   * and client-certificate verification as the TLS listener, the same connection limits (checked
   * before the handshake completes), and one SIP message per WebSocket message.
   */
  #createWsServer(spec: ListenerSpec, where: string): http.Server | https.Server {
    const transport = spec.transport === 'wss' ? 'wss' : 'ws';
    const server = createWsServer({
      ...(transport === 'wss' ? { tls: tlsServerOptions(spec.certificates ?? [], this.#contexts, this.#limits.tlsHandshakeTimeoutMs, where), verifyTlsClient: (socket: tls.TLSSocket) => this.#admitTlsClient(socket) } : {}),
      ...(spec.path !== undefined ? { path: spec.path } : {}),
      maxPayloadBytes: this.#sipLimits.maxMessageBytes,
      headersTimeoutMs: Math.min(this.#limits.messageCompleteTimeoutMs, this.#limits.idleTimeoutMs),
      admit: (remote) => (this.#underLimits(remote.address) ? undefined : 'connection-limit'),
      onOpen: (ws, socket, peer) => {
        const connection = new WsConnection(ws, socket, transport, 'inbound', peer, this.#limits, this.#wsEvents, this.#log);
        this.#connections.add(connection);
      },
      log: this.#log,
    });
    if (server instanceof tls.Server) this.#logTlsClientErrors(server);
    return server;
  }

  #logTlsClientErrors(server: tls.Server): void {
    server.on('tlsClientError', (err, socket) => {
      this.#log({ level: 'warn', event: 'tls-handshake-failed', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason: err.message });
    });
  }

  /** Verifies an inbound TLS client's certificate; refuses it when a verified one is required. */
  #admitTlsClient(socket: tls.TLSSocket): { admitted: boolean; verdict: PeerVerdict | undefined } {
    const verdict = this.#verifyClient(socket);
    if (this.#options.requireClientCertificate === true && verdict?.authenticated !== true) {
      this.#log({ level: 'warn', event: 'client-certificate-refused', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason: verdict?.reasons.map((r) => r.code).join(',') ?? 'no-client-certificate' });
      return { admitted: false, verdict };
    }
    return { admitted: true, verdict };
  }

  /** Whether one more connection from or to this address stays within the connection limits. */
  #underLimits(address: string): boolean {
    return this.#connections.size < this.#limits.maxConnections && this.#connections.countForAddress(address) < this.#limits.maxConnectionsPerAddress;
  }

  #verifyClient(socket: tls.TLSSocket): PeerVerdict | undefined {
    const trustStore = this.#options.trustStore;
    if (trustStore === undefined) return undefined;
    try {
      return verifyInboundPeer(socket, { trustStore, ...(this.#options.tlsPolicy ? { policy: this.#options.tlsPolicy } : {}) });
    } catch (err) {
      this.#log({ level: 'warn', event: 'client-certificate-unverifiable', reason: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  #accept(socket: net.Socket, transport: 'tcp' | 'tls', peer: PeerVerdict | undefined): void {
    const address = socket.remoteAddress ?? '';
    if (!this.#underLimits(address)) {
      this.#log({ level: 'warn', event: 'connection-refused', remote: { address, port: socket.remotePort ?? 0 }, reason: 'connection-limit' });
      socket.destroy();
      return;
    }
    this.#connections.add(this.#wrap(socket, transport, 'inbound', peer));
  }

  #wrap(socket: net.Socket, transport: 'tcp' | 'tls', direction: 'inbound' | 'outbound', peer: PeerVerdict | undefined): StreamConnection {
    return new StreamConnection(socket, transport, direction, peer, this.#limits, this.#sipLimits, {
      onMessage: (connection, bytes) => this.#receive(bytes, this.#contextOf(connection), 'stream'),
      onFramingError: (connection, error) => this.#framingLost(connection, error),
      onClose: (connection) => this.#closedConnection(connection),
    }, this.#log);
  }

  // RFC 7118 section 5: a WebSocket message is one whole SIP message, framed like a datagram.
  readonly #wsEvents = {
    onMessage: (connection: WsConnection, bytes: Buffer): void => this.#receive(bytes, this.#contextOf(connection), 'datagram'),
    onClose: (connection: WsConnection): void => this.#closedConnection(connection),
  };

  #closedConnection(connection: Connection): void {
    this.#connections.remove(connection);
    this.#options.onConnectionClosed?.(connection.id, connection.closeReason);
  }

  #contextOf(connection: Connection): TransportContext {
    return {
      transport: connection.transport,
      local: connection.local,
      remote: connection.remote,
      connectionId: connection.id,
      peer: connection.peer,
      receivedAtMs: Date.now(),
    };
  }

  #framingLost(connection: StreamConnection, error: FramingError): void {
    if (error.head === undefined) return;
    // Read what can be read of the header section so the layer above can answer 400/513 before the close.
    const result = inspectMessage(error.head, { framing: 'datagram', limits: this.#sipLimits });
    const faults = [{ code: error.code, detail: error.message }, ...(result.ok ? [] : result.faults)];
    const status = error.code === 'SIP_ERR_MESSAGE_TOO_LARGE' ? { status: 513, reason: 'Message Too Large' } : { status: 400, reason: `Bad Request (${error.message})` };
    const kind = result.ok ? result.message.kind : result.kind;
    this.#options.onInvalid?.(
      { ok: false, faults, message: result.message, kind, response: kind === 'request' ? status : undefined },
      this.#contextOf(connection),
    );
  }

  #receive(bytes: Buffer, context: TransportContext, framing: 'stream' | 'datagram'): void {
    const result = inspectMessage(bytes, { framing, limits: this.#sipLimits });
    if (result.ok) {
      this.#options.onMessage(result.message, context);
      return;
    }
    this.#log({ level: 'info', event: 'invalid-message', remote: context.remote, reason: result.faults.map((f) => f.code).join(',') });
    this.#options.onInvalid?.(result, context);
  }

  async #listenUdp(spec: ListenerSpec): Promise<Listening> {
    const family = net.isIPv6(spec.address) ? 6 : 4;
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(spec.port, spec.address, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    const local = socket.address();
    const endpoint = { address: local.address, port: local.port };
    socket.on('message', (bytes, rinfo) => {
      // RFC 5626 section 4.4.2 keep-alives over UDP are STUN; a bare CRLF datagram is ignored.
      if (bytes.length <= 4 && bytes.toString('latin1').trim() === '') return;
      this.#receive(bytes, {
        transport: 'udp',
        local: endpoint,
        remote: { address: rinfo.address, port: rinfo.port },
        connectionId: undefined,
        peer: undefined,
        receivedAtMs: Date.now(),
      }, 'datagram');
    });
    socket.on('error', (err) => this.#log({ level: 'warn', event: 'udp-error', reason: err.message }));
    this.#udpSockets.push({ socket, family, endpoint });
    return { spec, endpoint, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  }

  #sendUdp(bytes: Buffer, destination: Destination): Promise<void> {
    const family = net.isIPv6(destination.address) ? 6 : 4;
    const udp = this.#udpSockets.find((u) => u.family === family);
    if (udp === undefined) return Promise.reject(new TransportError('unreachable', `no UDP listener for IPv${family}`));
    return new Promise((resolve, reject) => {
      udp.socket.send(bytes, destination.port, destination.address, (err) => {
        if (err) reject(new TransportError('unreachable', err.message, undefined, { cause: err }));
        else resolve();
      });
    });
  }

  async #connectionFor(destination: Destination, transport: ConnectionTransport): Promise<Connection> {
    if (destination.connectionId !== undefined) {
      const connection = this.#connections.byId(destination.connectionId);
      if (connection !== undefined && !connection.closed) return connection;
      // RFC 3261 section 18.2.2: if the connection is gone, open a new one to the same address.
    }
    const sipDomain = destination.tlsTarget?.sipDomain.toLowerCase().replace(/\.$/, '');
    const reusable = this.#connections.findReusable(transport, destination.address, destination.port, sipDomain);
    if (reusable !== undefined) return reusable;
    const key = `${transport}|${destination.address}|${destination.port}|${sipDomain ?? ''}`;
    const pending = this.#pendingConnects.get(key);
    if (pending !== undefined) return pending;
    const connecting = this.#connect(transport, destination, sipDomain).finally(() => this.#pendingConnects.delete(key));
    this.#pendingConnects.set(key, connecting);
    return connecting;
  }

  async #connect(transport: ConnectionTransport, destination: Destination, sipDomain: string | undefined): Promise<Connection> {
    if (!this.#underLimits(destination.address)) {
      throw new TransportError('connection-limit', `connection limit reached for ${destination.address}`);
    }
    const secure = transport === 'tls' || transport === 'wss';
    const { socket, verdict } = secure ? await this.#connectTls(destination, sipDomain) : { socket: await this.#connectTcp(destination), verdict: undefined };
    let connection: Connection;
    if (transport === 'tcp' || transport === 'tls') {
      connection = this.#wrap(socket, transport, 'outbound', verdict);
    } else {
      const ws = await handshakeWs(socket, {
        secure,
        host: destination.wsHost ?? sipDomain ?? destination.address,
        port: destination.port,
        path: destination.wsPath ?? '/',
        maxPayloadBytes: this.#sipLimits.maxMessageBytes,
        timeoutMs: this.#limits.connectTimeoutMs,
      });
      if (this.#closed) {
        ws.terminate();
        throw new TransportError('unreachable', 'the transport layer is closed');
      }
      connection = new WsConnection(ws, socket, transport, 'outbound', verdict, this.#limits, this.#wsEvents, this.#log);
    }
    if (verdict?.authenticated === true && sipDomain !== undefined) connection.verifiedFor.add(sipDomain);
    this.#connections.add(connection);
    return connection;
  }

  /**
   * TLS for TLS and WSS destinations: connect, handshake and verify the server against the SIP
   * domain (connectAndVerify); an unauthenticated hop is already closed when this rejects.
   */
  async #connectTls(destination: Destination, sipDomain: string | undefined): Promise<{ socket: tls.TLSSocket; verdict: PeerVerdict }> {
    const target = destination.tlsTarget;
    if (target === undefined || sipDomain === undefined) {
      throw new TransportError('peer-not-authenticated', `a ${destination.transport.toUpperCase()} destination needs the SIP domain to verify the server against`);
    }
    const trustStore = this.#options.trustStore;
    if (trustStore === undefined) throw new TransportError('peer-not-authenticated', `no trust store is configured for ${destination.transport.toUpperCase()}`);
    const { socket, verdict } = await connectAndVerify({
      host: destination.address,
      port: destination.port,
      target,
      trustStore,
      contexts: this.#contexts,
      ...(this.#options.tlsPolicy ? { policy: this.#options.tlsPolicy } : {}),
      ...(this.#options.clientCertificate ? { clientCertificate: this.#options.clientCertificate } : {}),
    });
    if (socket === null) {
      const [first] = verdict.reasons;
      const reason = first?.code === 'tls-timeout' ? 'tls-timeout' : first?.code === 'tls-handshake-failed' ? 'tls-handshake-failed' : 'peer-not-authenticated';
      throw new TransportError(reason, verdict.reasons.map((r) => r.code).join(', ') || 'not authenticated', verdict);
    }
    return { socket, verdict };
  }

  #connectTcp(destination: Destination): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: destination.address, port: destination.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError('unreachable', `TCP connect to ${destination.address}:${destination.port} timed out after ${this.#limits.connectTimeoutMs} ms`));
      }, this.#limits.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new TransportError(err.code === 'ECONNREFUSED' ? 'connection-refused' : 'unreachable', err.message, undefined, { cause: err }));
      });
    });
  }
}
