import type tls from 'node:tls';
import type { TlsPolicy } from '../tls/policy.js';
import { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { verifyInboundPeer } from './tls-connect.js';
import type { TransportLog } from './transport-log.js';

/**
 * The server side of TLS shared by the TLS and WSS listeners once a handshake is over or has
 * failed: the client certificate verified by sipsec (RFC 5922 section 7.4) and refused when one is
 * required, and a log line for every handshake that failed.
 */
export class InboundTls {
  constructor(
    private readonly options: { readonly trustStore: TrustStore | undefined; readonly policy: TlsPolicy; readonly requireClientCertificate: boolean; readonly handshakeTimeoutMs: number },
    private readonly log: TransportLog,
  ) {}

  /** Verifies an inbound TLS client's certificate; refuses it when a verified one is required. */
  admitClient(socket: tls.TLSSocket): { admitted: boolean; verdict: PeerVerdict | undefined } {
    const verdict = this.#verifyClient(socket);
    if (this.options.requireClientCertificate && verdict?.authenticated !== true) {
      this.log({ level: 'warn', event: 'client-certificate-refused', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason: verdict?.reasons.map((r) => r.code).join(',') ?? 'no-client-certificate' });
      return { admitted: false, verdict };
    }
    this.log({
      level: 'info', event: 'tls-accepted', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      reason: verdict === undefined ? 'no-client-certificate' : verdict.authenticated ? 'client-authenticated' : 'client-not-authenticated',
      detail: `identities ${verdict?.peerIdentities.join(',') || '-'}`,
    });
    return { admitted: true, verdict };
  }

  logHandshakeFailures(server: tls.Server): void {
    server.on('tlsClientError', (err: Error & { code?: string }, socket) => {
      const reason = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'tls-timeout' : 'tls-handshake-failed';
      const detail = reason === 'tls-timeout' ? `no handshake within tlsHandshakeTimeoutMs = ${this.options.handshakeTimeoutMs}` : err.message;
      this.log({ level: 'warn', event: 'tls-handshake-failed', remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason, detail });
      // With a tlsClientError listener Node leaves the socket open (seen on Node 20 for
      // ERR_TLS_HANDSHAKE_TIMEOUT): without this a silent peer would hold it until the idle limit or forever.
      socket.destroy();
    });
  }

  #verifyClient(socket: tls.TLSSocket): PeerVerdict | undefined {
    const trustStore = this.options.trustStore ?? TrustStore.system();
    try {
      return verifyInboundPeer(socket, { trustStore, policy: this.options.policy });
    } catch (err) {
      this.log({ level: 'warn', event: 'client-certificate-unverifiable', reason: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }
}
