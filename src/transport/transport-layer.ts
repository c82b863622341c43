import { isIP } from 'node:net';
import type { CloseReasonText } from '../vocabulary.js';
import { mergeLimits, SIP_LIMITS, TRANSPORT_LIMITS, type SipLimits, type TransportLimits } from '../limits.js';
import type { SipMessage } from '../sip/message.js';
import type { ParseResult } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import { resolveTlsPolicy, type TlsPolicy } from '../tls/policy.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { ConnectionAdmission } from './admission.js';
import type { Connection, ConnectionTransport } from './connection.js';
import { ConnectionFactory } from './connection-factory.js';
import { ConnectionTable } from './connection-table.js';
import { ConnectionReuse } from './connection-reuse.js';
import { HopSecurityResolver } from './hop-security.js';
import { InboundTls } from './inbound-tls.js';
import { listenerName, type ListenerContext, type ListenerSpec, type Listening } from './listener.js';
import { OutboundConnector } from './outbound-connector.js';
import { ReceivePath } from './receive-path.js';
import { SecureContextCache } from './secure-context-cache.js';
import { listenStream } from './stream-listener.js';
import { isSecureTransport, TransportConfigError, TransportError, type ClientCertificate, type Destination, type TlsSession, type TransportContext } from './transport-context.js';
import { stderrTransportLog, type TransportLog } from './transport-log.js';
import { UdpSockets } from './udp-listener.js';
import { listenWs } from './ws-listener.js';

export type { ServerCertificate } from './tls-server-options.js';

/** An address that binds every address of its family: connecting from it would say nothing. */
function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
export type { ListenerSpec } from './listener.js';

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
  /** The default policy of outbound hops (a send's `security.tlsPolicy` is merged over it) and the policy of inbound client verification. */
  readonly tlsPolicy?: Partial<TlsPolicy>;
  /** Our default certificate for outbound mutual TLS; a send's `security.clientCertificate` overrides it. */
  readonly clientCertificate?: ClientCertificate;
  /** Close inbound TLS connections whose client presents no certificate that verifies. Default false. */
  readonly requireClientCertificate?: boolean;
  /**
   * RFC 5923 connection reuse: an inbound TLS connection whose request's top Via carries `alias`
   * becomes a candidate for our requests to the Via's sent-by host and port, when the client's
   * certificate authenticated and covers that host (else `alias-refused` is logged); such a
   * connection carries a send only when it fits the send's requirement (connection-reuse.ts).
   * Default false: a library user opts in (`sipsec proxy` has it on, policy `connection-reuse`).
   */
  readonly connectionReuse?: boolean;
  /**
   * New outbound TCP, TLS, WS and WSS connections leave from the address of this layer's first
   * listener of the same transport and address family that is bound to one address (not 0.0.0.0 or
   * ::), with a port the system picks: a far side that checks the source address (its PTR, a
   * firewall rule) sees the address we listen on. A transport without such a listener, or a
   * destination that is no IP address, connects from the system's choice. Default false (the
   * system chooses by its routes); `sipsec proxy` turns it on. UDP always sends from its listener.
   */
  readonly bindOutboundToListener?: boolean;
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
 * Every socket of a SIP element: listeners for UDP, TCP, TLS, WS and WSS (several at once, IPv4 and
 * IPv6), outbound connections, and the table that reuses them. Received bytes are parsed here and
 * handed up with their TransportContext; everything above is plain data. The layer composes its
 * parts: the listeners (udp-listener, stream-listener, ws-listener), admission under the connection
 * limits (admission), outbound selection and connect (outbound-connector), the receive path
 * (receive-path); it owns their lifetime (start, graceful close).
 */
export class TransportLayer {
  readonly #options: TransportLayerOptions;
  readonly #limits: TransportLimits;
  readonly #sipLimits: SipLimits;
  /** The TLS policy, resolved (and checked) once. */
  readonly #policy: TlsPolicy;
  readonly #log: TransportLog;
  readonly #connections = new ConnectionTable();
  readonly #contexts = new SecureContextCache();
  readonly #listening: Listening[] = [];
  readonly #receive: ReceivePath;
  readonly #admission: ConnectionAdmission;
  readonly #udp: UdpSockets;
  readonly #outbound: OutboundConnector;
  readonly #security: HopSecurityResolver;
  readonly #listenerContext: ListenerContext;
  /** `draining`: listeners refuse new connections, existing ones still carry messages both ways. */
  #state: 'open' | 'draining' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #cutDrainShort: (() => void) | undefined;
  #tableEmptied: (() => void) | undefined;

  private constructor(options: TransportLayerOptions) {
    this.#options = options;
    // Everything is checked here, once: a wrong value fails the start, naming its field.
    this.#limits = mergeLimits('limits', TRANSPORT_LIMITS, options.limits);
    this.#sipLimits = mergeLimits('sipLimits', SIP_LIMITS, options.sipLimits);
    this.#policy = resolveTlsPolicy(options.tlsPolicy);
    this.#log = options.log ?? stderrTransportLog;
    const limits = this.#limits;
    const log = this.#log;
    this.#security = new HopSecurityResolver(this.#policy, options.clientCertificate);
    const reuse = new ConnectionReuse({ aliases: options.connectionReuse === true, table: this.#connections, trustStore: options.trustStore, log });
    this.#receive = new ReceivePath({
      onMessage: options.onMessage,
      onInvalid: options.onInvalid,
      // Before the request goes up: an alias it offers is there for the first request back.
      onStreamRequest: (request, connection) => reuse.considerAlias(request, connection),
    }, this.#sipLimits, log);
    this.#admission = new ConnectionAdmission(this.#connections, limits, log);
    this.#udp = new UdpSockets(this.#receive, log);
    const connections = new ConnectionFactory(limits, this.#sipLimits, this.#receive, (connection) => this.#closedConnection(connection), log);
    this.#listenerContext = {
      limits,
      sipLimits: this.#sipLimits,
      log,
      contexts: this.#contexts,
      table: this.#connections,
      admission: this.#admission,
      inboundTls: new InboundTls({ trustStore: options.trustStore, policy: this.#policy, requireClientCertificate: options.requireClientCertificate === true, handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs }, log),
      connections,
      state: () => this.#state,
    };
    this.#outbound = new OutboundConnector({
      limits,
      sipLimits: this.#sipLimits,
      trustStore: options.trustStore,
      security: this.#security,
      contexts: this.#contexts,
      table: this.#connections,
      reuse,
      admission: this.#admission,
      connections,
      isClosed: () => this.#isClosed(),
      localAddressFor: (transport, remoteAddress) => this.#outboundLocalAddress(transport, remoteAddress),
      log: this.#log,
    });
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
   * Whether this stream connection (TCP, TLS, WS, WSS) is still open: a registrar asks it to answer
   * at once (480, or RFC 5626's 430) when a user's flow is gone instead of waiting for a send to fail.
   */
  hasConnection(connectionId: string): boolean {
    const connection = this.#connections.byId(connectionId);
    return connection !== undefined && !connection.closed;
  }

  /**
   * Sends one message. Connection destinations (TCP, TLS, WS, WSS) reuse a connection (the given
   * connectionId, or one to the same peer opened under the same security requirement and verified
   * for the same SIP domain) or open one; a new TLS or WSS connection presents the requirement's
   * client certificate and is verified against destination.tlsTarget under its policy first, before
   * any byte of SIP or HTTP is sent. A requirement of TLS on a plain destination is refused
   * (`tls-required-not-offered`). Rejects with TransportError naming the failure.
   */
  async send(message: SipMessage, destination: Destination): Promise<SendResult> {
    if (this.#state === 'closed') throw new TransportError('unreachable', 'the transport layer is closed');
    if (!isSecureTransport(destination.transport) && this.#security.resolve(destination.security).tlsRequired) {
      throw new TransportError('tls-required-not-offered', `the hop requires TLS and the destination is ${destination.transport.toUpperCase()} ${destination.address}:${destination.port}`);
    }
    const bytes = serializeMessage(message);
    if (bytes.length > this.#sipLimits.maxMessageBytes) {
      throw new TransportError('message-too-large', `${bytes.length} bytes, limit ${this.#sipLimits.maxMessageBytes}`);
    }
    if (destination.transport === 'udp') {
      await this.#udp.send(bytes, destination);
      return { connectionId: undefined, peer: undefined };
    }
    const { connection, peer } = await this.#outbound.connectionFor(destination, destination.transport);
    await connection.send(bytes);
    const session = this.#receive.sessionOf(connection);
    return { connectionId: connection.id, peer, ...(session !== undefined ? { tls: session } : {}) };
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
    this.#admission.destroyHandshaking();
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

  #listen(spec: ListenerSpec): Promise<Listening> {
    const transport = spec.transport;
    if (transport === 'udp') return this.#udp.listen(spec);
    if (transport === 'ws' || transport === 'wss') return listenWs({ ...spec, transport }, this.#listenerContext);
    if (spec.path !== undefined) throw new TypeError(`${listenerName(spec)}: path is for WS and WSS listeners only`);
    return listenStream({ ...spec, transport }, this.#listenerContext);
  }

  /** bindOutboundToListener: the bound address of the first listener of this transport and the remote's family, unless it is a wildcard. */
  #outboundLocalAddress(transport: ConnectionTransport, remoteAddress: string): string | undefined {
    if (this.#options.bindOutboundToListener !== true) return undefined;
    const family = isIP(remoteAddress);
    if (family === 0) return undefined;
    const listener = this.#listening.find((l) => l.spec.transport === transport && isIP(l.endpoint.address) === family && !isWildcardAddress(l.endpoint.address));
    return listener?.endpoint.address;
  }

  #closedConnection(connection: Connection): void {
    this.#connections.remove(connection);
    this.#options.onConnectionClosed?.(connection.id, connection.closeReason);
    if (this.#connections.size === 0) this.#tableEmptied?.();
  }
}
