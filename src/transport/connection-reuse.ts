/**
 * Which open TLS connection may carry a send to a SIP domain it was not opened for: RFC 5923
 * aliases (a peer's inbound connection, offered with Via `alias`) and outbound connections already
 * verified for another domain. The rule is sofia-sip's, made strict: a connection carries a send
 * only when its peer would have been authenticated for the send's target had we opened a new
 * connection, and the peer sees us as the send would present us; never by address alone.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { paramValue } from '../sip/header-scanner.js';
import type { SipRequest } from '../sip/message.js';
import { serializeVia, type Via } from '../sip/via.js';
import { normalizeDnsName } from '../tls/identity.js';
import { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { verifyServer, type ServerTarget } from '../tls/verify-peer.js';
import type { Connection } from './connection.js';
import type { ConnectionTable } from './connection-table.js';
import type { HopSecurity } from './hop-security.js';
import { peerChain } from './tls-connect.js';
import type { Destination } from './transport-context.js';
import type { TransportLog } from './transport-log.js';

/** RFC 5923 section 8.2: a Via sent-by without a port names the TLS default port. */
const DEFAULT_TLS_PORT = 5061;

export interface ConnectionReuseOptions {
  /** Honour Via `alias` (RFC 5923); off: no inbound connection ever carries our requests. */
  readonly aliases: boolean;
  readonly table: ConnectionTable;
  readonly trustStore: TrustStore | undefined;
  readonly log: TransportLog;
}

/** Why an alias was refused: words of the vocabulary (the peer's certificate, the Via it sent). */
/** A connection that may carry a send, and the verdict on its peer for the send's target. */
export interface ReusedConnection {
  readonly connection: Connection;
  readonly verdict: PeerVerdict;
}

type AliasRefusal = 'no-client-certificate' | 'peer-not-authenticated' | 'via-sent-by-mismatch';

export class ConnectionReuse {
  /** The first Via `alias` on a connection decides for it: honoured or refused, logged once. */
  readonly #decided = new WeakSet<Connection>();
  /** Per connection: its peer's verdict as the server of a send's target (null: refused), by requirement and domain. */
  readonly #verified = new WeakMap<Connection, Map<string, PeerVerdict | null>>();
  /** The fingerprint of the certificate we presented on an inbound connection, read once. */
  readonly #ours = new WeakMap<Connection, string | null>();
  /** The leaf fingerprint of each client certificate a send asked for (a process presents a handful). */
  readonly #fingerprints = new Map<string, string | null>();

  constructor(private readonly options: ConnectionReuseOptions) {}

  /**
   * RFC 5923 sections 8.2 and 9.2 for a request that arrived on an inbound TLS connection: a top
   * Via with `alias` makes the connection a candidate for our requests to its sent-by host and
   * port, only when the client presented a certificate that authenticated (RFC 5922 section 7.4)
   * and that certificate covers the sent-by host. Otherwise the request goes on as if the
   * parameter were absent, and `alias-refused` is logged with the evidence.
   */
  considerAlias(request: SipRequest, connection: Connection): void {
    if (!this.options.aliases || connection.transport !== 'tls' || connection.direction !== 'inbound' || connection.closed) return;
    let via: Via | undefined;
    try {
      via = request.topVia();
    } catch {
      // A Via that does not parse offers nothing; the layer above answers the request 400.
      return;
    }
    if (via === undefined || paramValue(via.params, 'alias') === undefined) return;
    if (this.#decided.has(connection)) return;
    this.#decided.add(connection);
    const port = via.port ?? DEFAULT_TLS_PORT;
    const sentBy = `${via.host}:${port}`;
    const peer = connection.peer;
    const refusal = aliasRefusal(via, peer);
    const identities = peer?.peerIdentities.join(',') || '-';
    const evidence = `Via: ${serializeVia(via)}; certificate identities ${identities}`;
    if (refusal !== undefined) {
      this.options.log({ level: 'warn', event: 'alias-refused', connection: connection.id, remote: connection.remote, reason: refusal.word, detail: `${refusal.why}; ${evidence}` });
      return;
    }
    this.options.table.addAlias(connection, [normalizeDnsName(via.host), connection.remote.address], port);
    this.options.log({ level: 'info', event: 'alias-added', connection: connection.id, remote: connection.remote, reason: 'client-authenticated', detail: `for ${sentBy}; ${evidence}` });
  }

  /**
   * An open connection that may carry this send, with the verdict on its peer for this send's
   * target: an outbound one to the same address opened under the same requirement whose server
   * verifies for the target (the domain it was opened for, or another its certificate covers), or
   * an alias that fits the send (aliasFits).
   */
  find(destination: Destination, sipDomain: string, security: HopSecurity, openedUnder: (connection: Connection) => string | undefined): ReusedConnection | undefined {
    const { table } = this.options;
    const target = destination.tlsTarget;
    if (target === undefined) return undefined;
    let verdict: PeerVerdict | undefined;
    const outbound = table.findReusable(destination.transport, destination.address, destination.port, (c) =>
      c.direction === 'outbound' && c.peer?.authenticated === true && openedUnder(c) === security.reuseKey && (verdict = this.#verdictFor(c, target, sipDomain, security)) !== undefined);
    if (outbound !== undefined && verdict !== undefined) return { connection: outbound, verdict };
    if (destination.transport !== 'tls' || !this.options.aliases) return undefined;
    const names = [sipDomain, ...(target.srvHost !== undefined ? [normalizeDnsName(target.srvHost)] : []), destination.address];
    const alias = table.findAlias('tls', names, destination.port, (c) => (verdict = this.#aliasFits(c, target, sipDomain, security)) !== undefined);
    return alias !== undefined && verdict !== undefined ? { connection: alias, verdict } : undefined;
  }

  /**
   * What "fits" means for an alias, where we are the TLS server: the peer authenticated with its
   * client certificate when it connected, it verifies now as the server of the send's target
   * under the send's policy (TLSA included: an RRset is never bypassed), and the certificate we
   * presented on the connection (our server certificate, chosen by SNI) is the client certificate
   * the send would present. A send that presents none never takes an alias: an alias is mutual TLS.
   */
  #aliasFits(connection: Connection, target: ServerTarget, sipDomain: string, security: HopSecurity): PeerVerdict | undefined {
    if (connection.direction !== 'inbound' || connection.peer?.authenticated !== true) return undefined;
    const presented = security.clientCertificate === undefined ? undefined : this.#leafFingerprint(security.clientCertificate.cert);
    if (presented === undefined || presented !== this.#ourCertificate(connection)) return undefined;
    return this.#verdictFor(connection, target, sipDomain, security);
  }

  /**
   * The verdict on the peer as the server of `target` under `security` when it authenticates:
   * an outbound connection's own for the domain it was opened for, else the peer's chain verified
   * again, once per connection, requirement and domain.
   */
  #verdictFor(connection: Connection, target: ServerTarget, sipDomain: string, security: HopSecurity): PeerVerdict | undefined {
    if (connection.direction === 'outbound' && connection.verifiedFor.has(sipDomain)) return connection.peer;
    let byKey = this.#verified.get(connection);
    if (byKey === undefined) {
      byKey = new Map<string, PeerVerdict | null>();
      this.#verified.set(connection, byKey);
    }
    const key = `${security.reuseKey}|${sipDomain}`;
    const known = byKey.get(key);
    if (known !== undefined) return known ?? undefined;
    const socket = socketOf(connection);
    let verdict: PeerVerdict | undefined;
    if (socket !== undefined) {
      try {
        verdict = verifyServer({
          chain: peerChain(socket),
          target,
          trustStore: this.options.trustStore ?? TrustStore.system(),
          policy: security.policy,
          ...(security.acceptedIdentities.length > 0 ? { acceptedIdentities: security.acceptedIdentities } : {}),
        });
      } catch {
        verdict = undefined;
      }
    }
    const authenticated = verdict?.authenticated === true ? verdict : undefined;
    byKey.set(key, authenticated ?? null);
    if (authenticated !== undefined) {
      // Once per connection and domain: which connection was taken for whom, and why.
      this.options.log({
        level: 'info', event: 'connection-reused', connection: connection.id, remote: connection.remote, reason: authenticated.attempted,
        detail: `${connection.direction} connection verified for ${sipDomain} as ${authenticated.matchedIdentity ?? '-'}; identities ${authenticated.peerIdentities.join(',') || '-'}`,
      });
    }
    return authenticated;
  }

  /** The SHA-256 fingerprint of the first certificate of a PEM chain, in Node's notation; undefined if it does not parse. */
  #leafFingerprint(pem: string): string | undefined {
    let fingerprint = this.#fingerprints.get(pem);
    if (fingerprint === undefined) {
      try {
        fingerprint = new X509Certificate(pem).fingerprint256;
      } catch {
        fingerprint = null;
      }
      this.#fingerprints.set(pem, fingerprint);
    }
    return fingerprint ?? undefined;
  }

  #ourCertificate(connection: Connection): string | undefined {
    let fingerprint = this.#ours.get(connection);
    if (fingerprint === undefined) {
      const local = socketOf(connection)?.getCertificate();
      fingerprint = local !== null && local !== undefined && 'fingerprint256' in local ? local.fingerprint256 : null;
      this.#ours.set(connection, fingerprint);
    }
    return fingerprint ?? undefined;
  }
}

function aliasRefusal(via: Via, peer: PeerVerdict | undefined): { word: AliasRefusal; why: string } | undefined {
  if (peer === undefined || peer.chain.length === 0) return { word: 'no-client-certificate', why: 'the client presented no certificate (RFC 5923 section 9.2)' };
  if (!peer.authenticated) return { word: 'peer-not-authenticated', why: `the client certificate did not authenticate (${peer.reasons.map((r) => r.code).join(',') || 'not authenticated'})` };
  if (via.transport !== 'TLS') return { word: 'via-sent-by-mismatch', why: `the Via transport is ${via.transport}, the connection TLS` };
  if (via.hostKind !== 'domain') return { word: 'via-sent-by-mismatch', why: 'the Via sent-by is an address, which no certificate identity covers' };
  const host = normalizeDnsName(via.host);
  if (!peer.peerIdentities.includes(host)) return { word: 'via-sent-by-mismatch', why: `the client certificate does not cover the Via sent-by host ${host}` };
  return undefined;
}

function socketOf(connection: Connection): tls.TLSSocket | undefined {
  const socket: unknown = 'socket' in connection ? connection.socket : undefined;
  return socket instanceof tls.TLSSocket ? socket : undefined;
}
