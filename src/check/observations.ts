/**
 * What the probes saw, as plain JSON-safe data: the evaluators (evaluate.ts) turn it into findings
 * without any I/O, so every rule can be tested from a hand-written observation.
 */
import type { DnssecState } from '../dns/dnssec-state.js';
import type { DnsFailure, DnsRecordType } from '../dns/records.js';

/** One DNS question and its answer, with the DNSSEC state and, for a failure, why. */
export interface DnsLookupObservation {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly state: DnssecState;
  /**
   * `nxdomain` and `nodata` prove the name or type absent; `failure` is a lookup that got no usable
   * answer (timeout, SERVFAIL, bogus...), `unanswered` one still waiting when the check was cut short:
   * neither proves anything absent.
   */
  readonly result: 'records' | 'nxdomain' | 'nodata' | 'failure' | 'unanswered';
  /** The records in zone-file presentation (RDATA only). */
  readonly records: readonly string[];
  /** For a `failure`: its kind (timeout, servfail, network, bogus...). */
  readonly failure?: DnsFailure;
  readonly why?: string;
}

/** SIP services a domain may publish: RFC 3263 section 4.1 and RFC 7118 section 5.5 (WebSocket). */
export type ServiceName = 'tls' | 'tcp' | 'udp' | 'ws' | 'wss';

export interface ServiceObservation {
  readonly service: ServiceName;
  /** Where it was found: a NAPTR record, an SRV RRset asked for directly, or the address fallback. */
  readonly via: 'naptr' | 'srv' | 'address';
  /** The SRV owner name (or the domain for the address fallback). */
  readonly name: string;
}

/** One place a TLS client would connect to, as the DNS described it. */
export interface TlsTargetPlan {
  /** The SRV target host (or the domain itself when there was no SRV). */
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly family: 4 | 6;
  readonly srvHost?: string;
  /** Weakest state of the NAPTR, SRV and address lookups that led here. */
  readonly chainState: DnssecState;
  /** The TLSA RRset at `_port._tcp.host`; absent when it was not asked (chain not secure, RFC 7673 3.2). */
  readonly tlsa?: { readonly name: string; readonly state: DnssecState; readonly records: readonly string[]; readonly why?: string };
}

export interface DnsObservation {
  readonly domain: string;
  /** False when the check was cut short before the DNS probe finished: services and targets are incomplete. */
  readonly complete: boolean;
  readonly lookups: readonly DnsLookupObservation[];
  readonly services: readonly ServiceObservation[];
  readonly tlsTargets: readonly TlsTargetPlan[];
}

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersionName[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export interface TlsObservation {
  /** TCP connect and the default handshake (TLS 1.2 or later) succeeded. */
  readonly connected: boolean;
  /** Why not, when not. */
  readonly error?: string;
  /** SNI sent: the SIP domain. */
  readonly servername: string;
  readonly protocol?: string;
  readonly cipher?: string;
  /** The leaf's public key, e.g. `EC prime256v1` or `RSA 2048`. */
  readonly key?: string;
  /** The chain as presented, leaf first, DER in base64. */
  readonly chain: readonly string[];
  readonly ocspStapled: boolean;
  /** Whether the server sent a CertificateRequest; null when it could not be told (no openssl). */
  readonly clientCertificateRequested: boolean | null;
  /** Each version offered alone: accepted, refused, or null when not tried. */
  readonly versions: Readonly<Record<TlsVersionName, boolean | null>>;
}

export interface SipObservation {
  /** The OPTIONS was sent (only over a hop the verifier authenticated). */
  readonly sent: boolean;
  readonly answered: boolean;
  readonly status?: number;
  readonly reason?: string;
  readonly server?: string;
  readonly userAgent?: string;
  readonly allow?: string;
  readonly supported?: string;
  /** Why there was no answer. */
  readonly error?: string;
}

export interface TargetObservation {
  readonly plan: TlsTargetPlan;
  readonly tls: TlsObservation;
  readonly sip: SipObservation;
}

/** Everything one check gathered about one domain. */
export interface Observations {
  readonly domain: string;
  /** When the probes ran: the time certificates are judged at. */
  readonly checkedAt: string;
  readonly dns: DnsObservation;
  readonly targets: readonly TargetObservation[];
  /** Set when the check was cut short (timeout, interrupt): what was gathered is incomplete. */
  readonly cutShort?: string;
}
