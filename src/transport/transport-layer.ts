import dgram from 'node:dgram';
import type { CloseReasonText } from '../vocabulary.js';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { mergeLimits, SIP_LIMITS, TRANSPORT_LIMITS, type SipLimits, type TransportLimits } from '../limits.js';
import type { SipMessage } from '../sip/message.js';
import { inspectMessage, type ParseResult } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import type { FramingError } from '../sip/stream-framer.js';
import { resolveTlsPolicy, type TlsPolicy } from '../tls/policy.js';
import { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import type { Connection, ConnectionTransport } from './connection.js';
import { ConnectionTable } from './connection-table.js';
import { SecureContextCache } from './secure-context-cache.js';
import { StreamConnection } from './stream-connection.js';
import { connectAndVerify, verifyInboundPeer } from './tls-connect.js';
import { tlsServerOptions, type ServerCertificate } from './tls-server-options.js';
import { TransportConfigError, TransportError, type Destination, type Endpoint, type TlsSession, type TransportContext, type TransportProtocol } from './transport-context.js';
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
  /**
   * Where to listen. Default none: a client that only opens TCP, TLS, WS or WSS connections needs
   * no listener; sending over UDP needs a UDP listener of the destination's address family.
   */
  readonly listeners?: readonly ListenerSpec[];
  /**
   * Trust anchors for verifying TLS peers (servers we connect to, clients presenting certificates).
   * Default: the roots Node ships (TrustStore.system()), so that every hop is verified unless the
   * caller chooses other anchors; TrustStore.empty() leaves only DANE-EE and DANE-TA to authenticate.
   */
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
  /** TLS and WSS: the protocol version and cipher suite the connection negotiated. */
  readonly tls?: TlsSession;
}

interface Listening {
  readonly spec: ListenerSpec;
  readonly endpoint: Endpoint;
  /**
   * Stops taking new connections (stream listeners: the kernel refuses new connects from then on);
   * resolves once the listener is fully closed, which for a stream listener is after its last connection.
   */
  readonly stopAccepting: () => Promise<void>;
  /** Drops what the connection table does not hold (HTTP connections that never upgraded) and closes UDP sockets. */
  readonly closeRemaining: () => void;
}

/** How TransportLayer.close() ends. */
export interface TransportCloseOptions {
  /** Close every connection and socket now, cutting short a graceful close in progress. */
  readonly force?: boolean;
  /**
   * The caller's work, typically TransactionLayer.close(): existing connections and UDP sockets keep
   * carrying messages until it settles or gracefulCloseMs elapses, whichever comes first. Absent:
   * nothing is waited for.
   */
  readonly after?: PromiseLike<unknown>;
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
  /** The TLS policy, resolved (and checked) once. */
  readonly #policy: TlsPolicy;
  readonly #log: TransportLog;
  readonly #connections = new ConnectionTable();
  readonly #pendingConnects = new Map<string, Promise<Connection>>();
  readonly #contexts = new SecureContextCache();
  readonly #listening: Listening[] = [];
  readonly #udpSockets: Array<{ socket: dgram.Socket; family: 4 | 6; endpoint: Endpoint }> = [];
  /** `draining`: listeners refuse new connections, existing ones still carry messages both ways. */
  #state: 'open' | 'draining' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #cutDrainShort: (() => void) | undefined;
  #tableEmptied: (() => void) | undefined;
  /**
   * Inbound TLS connections accepted but not through their TLS handshake, and WS and WSS ones not
   * through their WebSocket upgrade, by remote address and port, so that handshakes in progress
   * count against the connection limits: a hostile address must not cost more handshakes than it
   * may hold connections.
   */
  readonly #handshaking = new Map<string, { readonly socket: net.Socket; readonly release: () => void }>();
  readonly #handshakesPerAddress = new Map<string, number>();

  private constructor(options: TransportLayerOptions) {
    this.#options = options;
    // Everything is checked here, once: a wrong value fails the start, naming its field.
    this.#limits = mergeLimits('limits', TRANSPORT_LIMITS, options.limits);
    this.#sipLimits = mergeLimits('sipLimits', SIP_LIMITS, options.sipLimits);
    this.#policy = resolveTlsPolicy(options.tlsPolicy);
    this.#log = options.log ?? stderrTransportLog;
  }

  /** Binds every listener; rejects (and closes what was opened) if one cannot be bound. */
  static async start(options: TransportLayerOptions): Promise<TransportLayer> {
    const listeners: unknown = options.listeners ?? [];
    // Checked here for callers without the type checker: a raw "not iterable" TypeError says nothing.
    if (!Array.isArray(listeners)) throw new TransportConfigError('listeners', 'must be an array of listener specs ({ transport, address, port })');
    const layer = new TransportLayer(options);
    try {
      for (const spec of listeners as readonly ListenerSpec[]) layer.#listening.push(await layer.#listen(spec));
    } catch (err) {
      await layer.close({ force: true });
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
    if (this.#state === 'closed') throw new TransportError('unreachable', 'the transport layer is closed');
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
    const session = this.#sessionOf(connection);
    return { connectionId: connection.id, peer: connection.peer, ...(session !== undefined ? { tls: session } : {}) };
  }

  /** True from the first close() on, graceful or not. */
  get closing(): boolean {
    return this.#state !== 'open';
  }

  /**
   * Stops listening at once, so that new TCP, TLS, WS and WSS connects are refused. Without `force`,
   * existing connections and the UDP sockets keep carrying messages both ways (responses, ACKs and
   * retransmissions of running transactions; outbound sends too) until `after` settles or
   * gracefulCloseMs elapses; then every connection and socket is closed. A connection still open at
   * the deadline is closed with reason `graceful-close-deadline`, logged. With `force`, all of it
   * closes now, also when a graceful close is already waiting. Resolves when everything is closed.
   */
  close(options: TransportCloseOptions = {}): Promise<void> {
    if (options.force === true) this.#cutDrainShort?.();
    this.#closing ??= this.#shutdown(options);
    return this.#closing;
  }

  // A method, not a field read: TypeScript would keep a narrowing of #state across an await.
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  async #shutdown(options: TransportCloseOptions): Promise<void> {
    // Called in the same turn as close(), so that no connection is accepted after close() returns.
    const listenersClosed = Promise.all(this.#listening.map((l) => l.stopAccepting()));
    let reason: CloseReasonText = 'local-close';
    if (options.force !== true) {
      this.#state = 'draining';
      if ((await this.#drain(options.after)) === 'deadline') {
        reason = 'graceful-close-deadline';
        const open = this.#connections.size;
        this.#log({ level: open > 0 ? 'warn' : 'info', event: 'graceful-close-deadline', reason: `gracefulCloseMs = ${this.#limits.gracefulCloseMs} elapsed with ${open} connection(s) open` });
      }
    }
    this.#state = 'closed';
    // onConnectionClosed has been called for every connection by the time close() resolves.
    const tableEmpty = this.#connections.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#tableEmptied = resolve));
    for (const connection of this.#connections.all()) connection.close(reason);
    for (const l of this.#listening) l.closeRemaining();
    // Sockets still in their TLS handshake are in no table; a listener's close would wait for them.
    for (const { socket } of [...this.#handshaking.values()]) socket.destroy();
    await Promise.all([listenersClosed, tableEmpty]);
  }

  /** Waits for the caller's work, bounded by gracefulCloseMs; a forced close() ends the wait. */
  #drain(after: PromiseLike<unknown> | undefined): Promise<'done' | 'deadline' | 'forced'> {
    if (after === undefined) return Promise.resolve('done');
    let timer: NodeJS.Timeout | undefined;
    return new Promise<'done' | 'deadline' | 'forced'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.#limits.gracefulCloseMs);
      this.#cutDrainShort = () => resolve('forced');
      // A failed wait is still the end of the caller's work: the layer closes either way.
      after.then(() => resolve('done'), () => resolve('done'));
    }).finally(() => {
      clearTimeout(timer);
      this.#cutDrainShort = undefined;
    });
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
    // Node drops a connection over maxConnections before any 'connection' event: say so.
    server.on('drop', (data?: net.DropArgument) => {
      this.#log({ level: 'warn', event: 'connection-refused', remote: { address: data?.remoteAddress ?? '', port: data?.remotePort ?? 0 }, reason: 'connection-limit', detail: `maxConnections = ${this.#limits.maxConnections} reached on ${where}` });
    });
    this.#limitHandshakes(server, where);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, spec.address, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', (err: Error) => this.#log({ level: 'warn', event: 'listener-error', reason: err.message }));
    const address = server.address() as net.AddressInfo;
    const isHttp = server instanceof http.Server || server instanceof https.Server;
    return {
      spec,
      endpoint: { address: address.address, port: address.port },
      stopAccepting: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive HTTP connections of WS listeners could upgrade later: not new connections, but new work.
          if (isHttp) server.closeIdleConnections();
        }),
      // HTTP connections of WS listeners that never upgraded would hold the listener's close.
      closeRemaining: () => {
        if (isHttp) server.closeAllConnections();
      },
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
      headersTimeoutMs: this.#limits.wsUpgradeTimeoutMs,
      // An upgrade is new work: refused once close() began, like a new connection. The socket's own
      // count since its accept ends here: it is the connection being admitted.
      admit: (remote, socket) => {
        this.#releaseHandshake(socket);
        return this.#state !== 'open' ? 'transport-closing' : this.#underLimits(remote.address) ? undefined : 'connection-limit';
      },
      onOpen: (ws, socket, peer) => {
        this.#releaseHandshake(socket);
        if (this.#isClosed()) {
          ws.terminate();
          return;
        }
        const connection = new WsConnection(ws, socket, transport, 'inbound', peer, this.#limits, this.#wsEvents, this.#log);
        this.#connections.add(connection);
      },
      log: this.#log,
    });
    if (server instanceof tls.Server) this.#logTlsClientErrors(server);
    return server;
  }

  #logTlsClientErrors(server: tls.Server): void {
    server.on('tlsClientError', (err: Error & { code?: string }, socket) => {
      const reason = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'tls-timeout' : 'tls-handshake-failed';
      const detail = reason === 'tls-timeout' ? `no handshake within tlsHandshakeTimeoutMs = ${this.#limits.tlsHandshakeTimeoutMs}` : err.message;
      this.#log({ level: 'warn', event: 'tls-handshake-failed', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason, detail });
      // With a tlsClientError listener Node leaves the socket open (seen on Node 20 for
      // ERR_TLS_HANDSHAKE_TIMEOUT): without this a silent peer would hold it until the idle limit or forever.
      socket.destroy();
    });
  }

  /**
   * Applies the connection limits to the raw TCP connection of a TLS, WS or WSS listener, before a
   * handshake costs anything, and counts the connection against them until its TLS handshake (TLS)
   * or its WebSocket upgrade (WS, WSS) ends: until then it is in no table, and an address must not
   * hold such connections unbounded. WS and WSS connections get a deadline for the upgrade too.
   */
  #limitHandshakes(server: net.Server, where: string): void {
    const isHttp = server instanceof http.Server || server instanceof https.Server;
    if (!isHttp && !(server instanceof tls.Server)) return;
    const before = isHttp && !(server instanceof tls.Server) ? 'the WebSocket upgrade' : 'the TLS handshake';
    // Before the server's own listener takes the socket, so that a refused one never starts a handshake.
    server.prependListener('connection', (socket: net.Socket) => {
      const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      const refusal = this.#limitExceeded(remote.address);
      if (refusal !== undefined) {
        this.#log({ level: 'warn', event: 'connection-refused', remote, reason: 'connection-limit', detail: `${refusal}, before ${before} on ${where}` });
        socket.destroy();
        return;
      }
      const key = handshakeKey(socket);
      let released = false;
      // Node's HTTP header timeout is only checked by a 30 s sweep: the upgrade deadline is ours.
      const upgradeTimer = isHttp
        ? setTimeout(() => {
            this.#log({ level: 'warn', event: 'connection-closed', remote, reason: 'upgrade-timeout', detail: `no WebSocket upgrade within wsUpgradeTimeoutMs = ${this.#limits.wsUpgradeTimeoutMs} on ${where}` });
            socket.destroy();
          }, this.#limits.wsUpgradeTimeoutMs).unref()
        : undefined;
      const release = (): void => {
        if (released) return;
        released = true;
        clearTimeout(upgradeTimer);
        this.#handshaking.delete(key);
        const left = (this.#handshakesPerAddress.get(remote.address) ?? 1) - 1;
        if (left <= 0) this.#handshakesPerAddress.delete(remote.address);
        else this.#handshakesPerAddress.set(remote.address, left);
      };
      this.#handshaking.set(key, { socket, release });
      this.#handshakesPerAddress.set(remote.address, (this.#handshakesPerAddress.get(remote.address) ?? 0) + 1);
      socket.once('close', release);
    });
    // Registered after the listeners that admit the connection (#createTlsServer): those still count
    // this handshake, so release it first there too (#accept). WS and WSS connections are released
    // at their upgrade (admit) or their close.
    if (!isHttp) server.on('secureConnection', (socket: tls.TLSSocket) => this.#releaseHandshake(socket));
  }

  #releaseHandshake(socket: net.Socket): void {
    this.#handshaking.get(handshakeKey(socket))?.release();
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
    return this.#limitExceeded(address) === undefined;
  }

  /** The limit one more connection from or to this address would exceed, counting handshakes in progress. */
  #limitExceeded(address: string): string | undefined {
    const total = this.#connections.size + this.#handshaking.size;
    if (total >= this.#limits.maxConnections) return `maxConnections = ${this.#limits.maxConnections} reached`;
    const perAddress = this.#connections.countForAddress(address) + (this.#handshakesPerAddress.get(address) ?? 0);
    if (perAddress >= this.#limits.maxConnectionsPerAddress) return `maxConnectionsPerAddress = ${this.#limits.maxConnectionsPerAddress} reached for ${address}`;
    return undefined;
  }

  #verifyClient(socket: tls.TLSSocket): PeerVerdict | undefined {
    const trustStore = this.#options.trustStore ?? TrustStore.system();
    try {
      return verifyInboundPeer(socket, { trustStore, policy: this.#policy });
    } catch (err) {
      this.#log({ level: 'warn', event: 'client-certificate-unverifiable', reason: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  #accept(socket: net.Socket, transport: 'tcp' | 'tls', peer: PeerVerdict | undefined): void {
    const address = socket.remoteAddress ?? '';
    // A TLS handshake that began before close() and ended after it has nothing left to serve it.
    if (this.#state === 'closed') {
      socket.destroy();
      return;
    }
    // This connection's own handshake no longer counts: it is the connection being admitted.
    this.#releaseHandshake(socket);
    const refusal = this.#limitExceeded(address);
    if (refusal !== undefined) {
      this.#log({ level: 'warn', event: 'connection-refused', remote: { address, port: socket.remotePort ?? 0 }, reason: 'connection-limit', detail: refusal });
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
    if (this.#connections.size === 0) this.#tableEmptied?.();
  }

  #contextOf(connection: Connection): TransportContext {
    const session = this.#sessionOf(connection);
    return {
      transport: connection.transport,
      local: connection.local,
      remote: connection.remote,
      connectionId: connection.id,
      peer: connection.peer,
      receivedAtMs: Date.now(),
      ...(session === undefined ? {} : { tls: session }),
    };
  }

  /** A connection's TLS session, read from its socket once (two native calls) and kept with it. */
  readonly #sessions = new WeakMap<Connection, TlsSession | null>();

  #sessionOf(connection: Connection): TlsSession | undefined {
    let session = this.#sessions.get(connection);
    if (session === undefined) {
      if (connection.transport !== 'tls' && connection.transport !== 'wss') return undefined;
      session = tlsSessionOf(connection) ?? null;
      this.#sessions.set(connection, session);
    }
    return session ?? undefined;
  }

  #framingLost(connection: StreamConnection, error: FramingError): void {
    if (error.head === undefined) return;
    // Read what can be read of the header section so the layer above can answer 400/513 before the close.
    const result = inspectMessage(error.head, { framing: 'datagram', limits: this.#sipLimits });
    const faults = [{ code: error.code, detail: error.message }, ...(result.ok ? [] : result.faults)];
    const status = error.response;
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
    // A UDP socket keeps receiving while draining: ACKs and retransmissions of running transactions
    // arrive on it, and only the transaction layer can tell them from new requests (which it answers 503).
    let closed: () => void = () => undefined;
    const socketClosed = new Promise<void>((resolve) => (closed = resolve));
    return { spec, endpoint, stopAccepting: () => socketClosed, closeRemaining: () => socket.close(() => closed()) };
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
    if (this.#isClosed()) {
      socket.destroy();
      throw new TransportError('unreachable', 'the transport layer is closed');
    }
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
      if (this.#isClosed()) {
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
    const trustStore = this.#options.trustStore ?? TrustStore.system();
    const { socket, verdict, errorCode } = await connectAndVerify({
      host: destination.address,
      port: destination.port,
      target,
      trustStore,
      contexts: this.#contexts,
      // One deadline for TCP connect and handshake together, the same limit as a plain TCP connect.
      timeoutMs: this.#limits.connectTimeoutMs,
      policy: this.#policy,
      ...(this.#options.clientCertificate ? { clientCertificate: this.#options.clientCertificate } : {}),
    });
    if (socket === null) {
      const where = `${destination.address}:${destination.port}`;
      if (errorCode === 'ECONNREFUSED') throw new TransportError('connection-refused', `${where} refused the connection`, verdict);
      if (errorCode === 'ECONNRESET') throw new TransportError('connection-reset', `${where} reset the connection during the TLS handshake`, verdict);
      if (errorCode === 'EHOSTUNREACH' || errorCode === 'ENETUNREACH') throw new TransportError('unreachable', `${where}: ${errorCode}`, verdict);
      const [first] = verdict.reasons;
      const reason = first?.code === 'tls-timeout' ? 'tls-timeout' : first?.code === 'tls-handshake-failed' ? 'tls-handshake-failed' : 'peer-not-authenticated';
      // Vocabulary words only: this text reaches Warning headers, and OpenSSL's messages carry file paths.
      const detail = reason === 'tls-handshake-failed'
        ? `TLS handshake with ${where} failed${errorCode !== undefined && /^[A-Z0-9_]{1,64}$/.test(errorCode) ? ` (${errorCode})` : ''}`
        : verdict.reasons.map((r) => r.code).join(', ') || 'not authenticated';
      throw new TransportError(reason, detail, verdict);
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
        // Our words in the failure (it reaches a Warning header); Node's text stays on the cause.
        const where = `${destination.address}:${destination.port}`;
        if (err.code === 'ECONNREFUSED') reject(new TransportError('connection-refused', `${where} refused the connection`, undefined, { cause: err }));
        else reject(new TransportError('unreachable', `TCP connect to ${where} failed (${err.code ?? 'error'})`, undefined, { cause: err }));
      });
    });
  }
}

/** What a TLS or WSS connection negotiated; StreamConnection and WsConnection both keep their socket. */
function tlsSessionOf(connection: Connection): TlsSession | undefined {
  const socket: unknown = 'socket' in connection ? connection.socket : undefined;
  if (!(socket instanceof tls.TLSSocket)) return undefined;
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher() as tls.CipherNameAndProtocol | undefined;
  return protocol === null || cipher === undefined ? undefined : { protocol, cipher: cipher.standardName };
}

/** One inbound connection: the listener's port too, since one client port can reach two listeners. */
function handshakeKey(socket: net.Socket): string {
  return `${socket.localPort ?? 0}|${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}
