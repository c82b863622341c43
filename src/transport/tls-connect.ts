/**
 * Connect, handshake, verify: the socket side of TLS peer verification. The handshake runs with an
 * empty OpenSSL trust store and rejectUnauthorized false, because sipsec verifies the presented
 * chain itself (src/tls/verify-peer.ts); the socket is closed at once unless the verdict lets the
 * hop proceed. Used by the TLS and WSS transports, the tests and the benchmark.
 */
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import { srvHostIsIdentity } from '../dns/srv-identity.js';
import { TLS_LIMITS } from '../limits.js';
import type { TlsPolicy } from '../tls/policy.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { Reason } from '../tls/reasons.js';
import { transportFailureVerdict, type PeerVerdict } from '../tls/verdict.js';
import { verifyClient, verifyServer, type ServerTarget } from '../tls/verify-peer.js';
import { SecureContextCache } from './secure-context-cache.js';

export interface ConnectAndVerifyOptions {
  readonly host: string;
  readonly port: number;
  readonly target: ServerTarget;
  readonly trustStore: TrustStore;
  readonly policy?: Partial<TlsPolicy>;
  /** Verification time; defaults to now. */
  readonly time?: Date;
  /** SNI; default: the SRV host when DANE applies (RFC 7671 4.2), else the SIP domain; never an IP. */
  readonly servername?: string;
  /** SIP domains accepted besides the target's (SecurityRequirement.acceptedIdentities). */
  readonly acceptedIdentities?: readonly string[];
  /** Our certificate chain and key for mutual TLS. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
  readonly timeoutMs?: number;
  /** The local IP address to connect from (no fixed port); absent: the system's choice by its routes. */
  readonly localAddress?: string;
  /** Shared context cache; a module-wide cache is used when absent. */
  readonly contexts?: SecureContextCache;
}

export interface VerifiedConnection {
  /** The open socket when the verdict lets the hop proceed; null after it was closed. */
  readonly socket: TLSSocket | null;
  readonly verdict: PeerVerdict;
  /** The DER certificates the server presented, leaf first. */
  readonly presentedChain: readonly Buffer[];
  /**
   * The Node or OpenSSL error code (`ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER` ...) when the
   * socket failed before the handshake completed, so that the caller can name a refused connection
   * as such and need not read the library's message text.
   */
  readonly errorCode?: string;
}

const defaultContexts = new SecureContextCache();

/** Opens a TLS connection and verifies the server; resolves (never rejects) with the verdict. */
export function connectAndVerify(options: ConnectAndVerifyOptions): Promise<VerifiedConnection> {
  const contexts = options.contexts ?? defaultContexts;
  const secureContext = contexts.get(options.clientCertificate ? { cert: options.clientCertificate.cert, key: options.clientCertificate.key } : {});
  const servername = options.servername ?? defaultServername(options.target);
  const timeoutMs = options.timeoutMs ?? TLS_LIMITS.handshakeTimeoutMs;
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({
      host: options.host,
      port: options.port,
      secureContext,
      rejectUnauthorized: false,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      ...(servername !== undefined && isIP(servername) === 0 ? { servername } : {}),
    });
    const finish = (result: VerifiedConnection): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(result);
    };
    const fail = (reason: Reason, errorCode?: string): void => {
      socket.destroy();
      finish({ socket: null, verdict: transportFailureVerdict(reason), presentedChain: [], ...(errorCode !== undefined ? { errorCode } : {}) });
    };
    const onError = (err: NodeJS.ErrnoException): void => fail({ code: 'tls-handshake-failed', detail: err.message }, typeof err.code === 'string' ? err.code : undefined);
    const timer = setTimeout(() => fail({ code: 'tls-timeout', timeoutMs }), timeoutMs);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const presentedChain = peerChain(socket);
      if (presentedChain.length === 0) {
        fail({ code: 'tls-handshake-failed', detail: 'the server presented no certificate' });
        return;
      }
      let verdict: PeerVerdict;
      try {
        verdict = verifyServer({
          chain: presentedChain,
          target: options.target,
          trustStore: options.trustStore,
          ...(options.policy ? { policy: options.policy } : {}),
          ...(options.acceptedIdentities !== undefined && options.acceptedIdentities.length > 0 ? { acceptedIdentities: options.acceptedIdentities } : {}),
          ...(options.time ? { time: options.time } : {}),
        });
      } catch (err) {
        fail({ code: 'tls-handshake-failed', detail: `certificate does not parse: ${err instanceof Error ? err.message : String(err)}` });
        return;
      }
      // A failed hop is closed immediately (draft-gurbani A.2.1, RFC 5922 7.3).
      if (!verdict.proceed) socket.destroy();
      // Keep a late socket error from becoming an unhandled 'error' event.
      else socket.on('error', () => undefined);
      finish({ socket: verdict.proceed ? socket : null, verdict, presentedChain });
    });
  });
}

/**
 * The chain the peer presented, leaf first, as DER. With a context whose trust store is empty
 * (SecureContextCache's default), Node links only the presented certificates; with a populated
 * store it would append issuers from that store, which is why sipsec connects without one.
 */
export function peerChain(socket: TLSSocket): Buffer[] {
  // Not getPeerX509Certificate().issuerCertificate: seen on Node 20.20 with a one-certificate chain,
  // the first call leaves later calls (and getPeerCertificate) without a certificate, and on the
  // server side it carries no issuer links. getPeerCertificate(true) costs about 0.2 ms per certificate.
  const legacy: PeerCertificate = socket.getPeerCertificate(true);
  const issuerOf = (c: PeerCertificate): PeerCertificate | undefined => ('issuerCertificate' in c ? (c as DetailedPeerCertificate).issuerCertificate : undefined);
  // An empty object (no certificate) has no raw bytes.
  return walkChain(Buffer.isBuffer(legacy.raw) ? legacy : undefined, issuerOf, (c) => c.raw);
}

function walkChain<T>(first: T | undefined, next: (cert: T) => T | undefined, raw: (cert: T) => Buffer): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  for (let cert = first; cert !== undefined && chain.length <= TLS_LIMITS.maxPresentedCertificates; cert = next(cert)) {
    const der = raw(cert);
    const key = der.toString('base64');
    if (seen.has(key)) break;
    seen.add(key);
    chain.push(der);
  }
  return chain;
}

/** Verifies the client certificate of an inbound connection (RFC 5922 7.4). */
export function verifyInboundPeer(socket: TLSSocket, options: { readonly trustStore: TrustStore; readonly acceptedDomains?: readonly string[]; readonly policy?: Partial<TlsPolicy>; readonly time?: Date }): PeerVerdict {
  return verifyClient({ chain: peerChain(socket), ...options });
}

function defaultServername(target: ServerTarget): string | undefined {
  // The SRV host names the server only where it is an identity at all (the one rule), and SNI asks
  // for it only when DANE will decide (a secure TLSA RRset with records); RFC 5922 wants the domain.
  const daneLikely = target.tlsa?.state === 'secure' && target.tlsa.records.length > 0;
  return daneLikely && srvHostIsIdentity(target.sipDomain, target.srvHost, target.dnsState) ? target.srvHost : target.sipDomain;
}
