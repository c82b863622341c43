import net from 'node:net';
import type tls from 'node:tls';
import type { SipLimits, TransportLimits } from '../limits.js';
import { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import type { TransportLog } from './transport-log.js';
import type { ConnectionAdmission } from './admission.js';
import type { Connection, ConnectionTransport } from './connection.js';
import type { ConnectionFactory } from './connection-factory.js';
import type { ConnectionTable } from './connection-table.js';
import type { ConnectionReuse } from './connection-reuse.js';
import type { SecureContextCache } from './secure-context-cache.js';
import type { HopSecurity, HopSecurityResolver } from './hop-security.js';
import { normalizeDomain } from './hop-security.js';
import { connectAndVerify } from './tls-connect.js';
import { TransportError, type Destination } from './transport-context.js';
import { handshakeWs } from './ws-transport.js';

export interface OutboundOptions {
  readonly limits: TransportLimits;
  readonly sipLimits: SipLimits;
  readonly trustStore: TrustStore | undefined;
  /** Each send's SecurityRequirement over the layer's defaults. */
  readonly security: HopSecurityResolver;
  readonly contexts: SecureContextCache;
  readonly table: ConnectionTable;
  /** Which open TLS or WSS connection may carry a send (connection-reuse.ts). */
  readonly reuse: ConnectionReuse;
  readonly admission: ConnectionAdmission;
  readonly connections: ConnectionFactory;
  readonly isClosed: () => boolean;
  /**
   * The local address a new connection of this transport to this remote address leaves from, or
   * undefined for the system's choice (TransportLayerOptions.bindOutboundToListener).
   */
  readonly localAddressFor: (transport: ConnectionTransport, remoteAddress: string) => string | undefined;
  readonly log: TransportLog;
}

/**
 * Outbound selection and connect for the connection transports (TCP, TLS, WS, WSS): the connection
 * a destination names, else one to reuse, else the connect already under way to the same place
 * under the same requirement, else a new one, within the connection limits, its TLS server
 * verified before any byte of SIP or HTTP. A TLS or WSS connection is reused only when it was
 * opened under the same security requirement (client certificate, policy, accepted identities)
 * and its server verifies for the send's SIP domain (DESIGN rule 5, sofia-sip's rule), or it is
 * an RFC 5923 alias that fits the send (connection-reuse.ts): never by address alone, so a send
 * that asks for another client certificate gets its own connection.
 */
export class OutboundConnector {
  readonly #pending = new Map<string, Promise<Connection>>();
  /** The requirement each outbound TLS or WSS connection was opened (and verified) under. */
  readonly #openedUnder = new WeakMap<Connection, string>();

  constructor(private readonly options: OutboundOptions) {}

  /** The connection for a send and the verdict on its peer for this send (undefined on TCP and WS). */
  async connectionFor(destination: Destination, transport: ConnectionTransport): Promise<{ connection: Connection; peer: PeerVerdict | undefined }> {
    if (destination.connectionId !== undefined) {
      const connection = this.options.table.byId(destination.connectionId);
      if (connection !== undefined && !connection.closed) return { connection, peer: connection.peer };
      // RFC 3261 section 18.2.2: if the connection is gone, open a new one to the same address.
    }
    const security = this.options.security.resolve(destination.security);
    const sipDomain = destination.tlsTarget === undefined ? undefined : normalizeDomain(destination.tlsTarget.sipDomain);
    const secure = transport === 'tls' || transport === 'wss';
    if (secure) {
      const reused = sipDomain === undefined ? undefined : this.options.reuse.find(destination, sipDomain, security, (c) => this.#openedUnder.get(c));
      if (reused !== undefined) return { connection: reused.connection, peer: reused.verdict };
    } else {
      const reusable = this.options.table.findReusable(transport, destination.address, destination.port, () => true);
      if (reusable !== undefined) return { connection: reusable, peer: undefined };
    }
    const key = `${transport}|${destination.address}|${destination.port}|${sipDomain ?? ''}|${secure ? security.reuseKey : ''}`;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#connect(transport, destination, sipDomain, security).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    const connection = await pending;
    return { connection, peer: connection.peer };
  }

  async #connect(transport: ConnectionTransport, destination: Destination, sipDomain: string | undefined, security: HopSecurity): Promise<Connection> {
    const { limits, sipLimits, admission, connections, table, isClosed } = this.options;
    if (!admission.underLimits(destination.address)) {
      throw new TransportError('connection-limit', `connection limit reached for ${destination.address}`);
    }
    const secure = transport === 'tls' || transport === 'wss';
    const localAddress = this.options.localAddressFor(transport, destination.address);
    const { socket, verdict } = secure
      ? await this.#connectTls(destination, sipDomain, security, localAddress)
      : { socket: await connectTcp(destination, limits.connectTimeoutMs, localAddress), verdict: undefined };
    if (isClosed()) {
      socket.destroy();
      throw new TransportError('unreachable', 'the transport layer is closed');
    }
    let connection: Connection;
    if (transport === 'tcp' || transport === 'tls') {
      connection = connections.stream(socket, transport, 'outbound', verdict);
    } else {
      const ws = await handshakeWs(socket, {
        secure,
        host: destination.wsHost ?? sipDomain ?? destination.address,
        port: destination.port,
        path: destination.wsPath ?? '/',
        maxPayloadBytes: sipLimits.maxMessageBytes,
        timeoutMs: limits.connectTimeoutMs,
      });
      if (isClosed()) {
        ws.terminate();
        throw new TransportError('unreachable', 'the transport layer is closed');
      }
      connection = connections.ws(ws, socket, transport, 'outbound', verdict);
    }
    if (verdict?.authenticated === true && sipDomain !== undefined) {
      connection.verifiedFor.add(sipDomain);
      this.#openedUnder.set(connection, security.reuseKey);
    }
    table.add(connection);
    if (verdict !== undefined) {
      // Every verified hop, once per connection: an operator sees which rule authenticated whom.
      this.options.log({
        level: 'info', event: 'tls-connected', connection: connection.id, remote: { address: destination.address, port: destination.port },
        reason: verdict.attempted, detail: `${sipDomain ?? '-'} as ${verdict.matchedIdentity ?? '-'}; identities ${verdict.peerIdentities.join(',') || '-'}`,
      });
    }
    return connection;
  }

  /**
   * TLS for TLS and WSS destinations: connect presenting the requirement's client certificate,
   * handshake and verify the server against the SIP domain (and the accepted identities) under the
   * requirement's policy (connectAndVerify); an unauthenticated hop is already closed when this rejects.
   */
  async #connectTls(destination: Destination, sipDomain: string | undefined, security: HopSecurity, localAddress: string | undefined): Promise<{ socket: tls.TLSSocket; verdict: PeerVerdict }> {
    const target = destination.tlsTarget;
    if (target === undefined || sipDomain === undefined) {
      throw new TransportError('peer-not-authenticated', `a ${destination.transport.toUpperCase()} destination needs the SIP domain to verify the server against`);
    }
    const { limits, contexts } = this.options;
    const { policy, clientCertificate, acceptedIdentities } = security;
    const trustStore = this.options.trustStore ?? TrustStore.system();
    const { socket, verdict, errorCode } = await connectAndVerify({
      host: destination.address,
      port: destination.port,
      target,
      trustStore,
      contexts,
      // One deadline for TCP connect and handshake together, the same limit as a plain TCP connect.
      timeoutMs: limits.connectTimeoutMs,
      policy,
      ...(localAddress !== undefined ? { localAddress } : {}),
      ...(acceptedIdentities.length > 0 ? { acceptedIdentities } : {}),
      ...(clientCertificate ? { clientCertificate } : {}),
    });
    if (socket === null) throw tlsFailure(`${destination.address}:${destination.port}${localAddress !== undefined ? ` from ${localAddress}` : ''}`, verdict, errorCode);
    return { socket, verdict };
  }
}

/** Why a TLS connect failed, in the vocabulary: a refused or reset TCP connection is named as such, not as a failed handshake. */
function tlsFailure(where: string, verdict: PeerVerdict, errorCode: string | undefined): TransportError {
  if (errorCode === 'ECONNREFUSED') return new TransportError('connection-refused', `${where} refused the connection`, verdict);
  if (errorCode === 'ECONNRESET') return new TransportError('connection-reset', `${where} reset the connection during the TLS handshake`, verdict);
  // EINVAL, EADDRNOTAVAIL: the bound local address cannot reach there (a loopback listener's address toward another host).
  if (errorCode === 'EHOSTUNREACH' || errorCode === 'ENETUNREACH' || errorCode === 'EINVAL' || errorCode === 'EADDRNOTAVAIL') return new TransportError('unreachable', `${where}: ${errorCode}`, verdict);
  const [first] = verdict.reasons;
  const reason = first?.code === 'tls-timeout' ? 'tls-timeout' : first?.code === 'tls-handshake-failed' ? 'tls-handshake-failed' : 'peer-not-authenticated';
  // Vocabulary words only: this text reaches Warning headers, and OpenSSL's messages carry file paths.
  const detail = reason === 'tls-handshake-failed'
    ? `TLS handshake with ${where} failed${errorCode !== undefined && /^[A-Z0-9_]{1,64}$/.test(errorCode) ? ` (${errorCode})` : ''}`
    : verdict.reasons.map((r) => r.code).join(', ') || 'not authenticated';
  return new TransportError(reason, detail, verdict);
}

function connectTcp(destination: Destination, timeoutMs: number, localAddress: string | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: destination.address, port: destination.port, ...(localAddress !== undefined ? { localAddress } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError('unreachable', `TCP connect to ${destination.address}:${destination.port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Our words in the failure (it reaches a Warning header); Node's text stays on the cause.
      const where = `${destination.address}:${destination.port}${localAddress !== undefined ? ` from ${localAddress}` : ''}`;
      if (err.code === 'ECONNREFUSED') reject(new TransportError('connection-refused', `${where} refused the connection`, undefined, { cause: err }));
      else reject(new TransportError('unreachable', `TCP connect to ${where} failed (${err.code ?? 'error'})`, undefined, { cause: err }));
    });
  });
}
