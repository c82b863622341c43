/**
 * Every default and limit of sipsec, one frozen object per layer.
 * Constructors merge user options over these once. Every limit a peer can push against and every
 * default an operator may want to change is here; the numbers left in other modules are internal
 * sizes (scratch buffers, a pool) and short grace delays, each named where it is used.
 * This module imports nothing so that every layer may read it.
 */

/** Limits of the SIP message parser and stream framer. */
export const SIP_LIMITS = Object.freeze({
  /**
   * Largest message accepted, start line to end of body. RFC 3261 section 18.1.1 keeps UDP
   * requests under 1300 bytes unless the path MTU allows more; streams carry larger bodies
   * (SDP with many codecs, multipart). 64 KiB is the largest UDP datagram and ample for SIP.
   */
  maxMessageBytes: 65_535,
  /** Header fields (lines, after unfolding) in one message; hostile peers send thousands. */
  maxHeaderCount: 256,
  /** One header line after unfolding; the longest legitimate values are Via/Route lists. */
  maxLineBytes: 16_384,
  /** Comma-separated values in one header field (e.g. Contact in a REGISTER). */
  maxHeaderValues: 512,
  /** Bytes kept while waiting for the end of a header section on a stream. */
  maxHeaderSectionBytes: 65_535,
});

export type SipLimits = { readonly [K in keyof typeof SIP_LIMITS]: number };

/** Defaults and limits of TLS peer verification (src/tls, docs/TLS-VERIFICATION.md). */
export const TLS_LIMITS = Object.freeze({
  /**
   * Largest depth (leaf = 0) at which a trust anchor may sit; draft-gurbani Appendix A.3 leaves the
   * number open. 5 allows a leaf, up to four intermediates and the root: Postfix's DANE default,
   * and more than public WebPKI chains use (leaf, one or two intermediates, root).
   */
  maxChainDepth: 5,
  /** Certificates the peer may present; more is refused before any parsing work. */
  maxPresentedCertificates: 16,
  /**
   * Signature checks one verification may spend while building paths, bounding CPU on hostile
   * chains with many same-named issuers (like Go crypto/x509 maxChainSignatureChecks = 100).
   */
  maxSignatureChecks: 100,
  /** TLS handshake deadline of the connect-and-verify client. */
  handshakeTimeoutMs: 10_000,
  /** Secure contexts kept by the context cache (contexts cost ~30 ms to build with system roots). */
  maxCachedSecureContexts: 64,
  /** Parsed peer certificates kept by the verifier (parsing one costs about a millisecond). */
  maxCachedCertificates: 1_024,
});

export type TlsLimits = { readonly [K in keyof typeof TLS_LIMITS]: number };

/** Defaults and limits of the DNS resolvers and the RFC 3263 locator (src/dns, docs/DNS.md). */
export const DNS_LIMITS = Object.freeze({
  /**
   * Deadline of one query attempt. A stub resolver's usual 5 s (glibc resolv.conf `timeout:5`);
   * the in-process validator gives up by itself within about this time (see unboundMaxRttMs).
   */
  queryTimeoutMs: 5_000,
  /** Further attempts after a timeout (glibc `attempts:2` means one retry). Failures other than timeouts are not retried; libunbound, which retries upstream itself, gets 0. */
  queryRetries: 1,
  /** Answers kept by the cache (least recently used dropped first). */
  cacheMaxEntries: 10_000,
  /** Longest time an answer is cached, whatever its TTL (unbound `cache-max-ttl` is 1 day). */
  cacheMaxTtlSeconds: 86_400,
  /** Longest time a negative answer is cached (RFC 2308 section 5 suggests 1 to 3 hours; unbound `cache-max-negative-ttl` is 3600). */
  cacheMaxNegativeTtlSeconds: 3_600,
  /** Negative TTL when a denial carries no SOA (RFC 2308 section 5: such answers SHOULD NOT be cached long). */
  negativeTtlWithoutSoaSeconds: 0,
  /** How long a bogus answer is cached: unbound's `val-bogus-ttl` default, so that a forged answer is not re-fetched in a loop. */
  bogusTtlSeconds: 60,
  /** Answers from the system resolver carry no TTL for SRV/NAPTR/PTR in Node: cache them this long. */
  systemAnswerTtlSeconds: 60,
  /** Longest CNAME chain followed (unbound follows at most 11 restarts; 8 is BIND's default). */
  maxCnameChain: 8,
  /** Largest UDP answer advertised in EDNS(0) (DNS Flag Day 2020: 1232 avoids fragmentation). */
  ednsUdpPayloadBytes: 1_232,
  /** Largest DNS message read over TCP (a 16-bit length prefix). */
  maxTcpMessageBytes: 65_535,
  /**
   * libunbound `infra-cache-max-rtt`: the longest wait for one upstream server. Unbound's default
   * of 120 s lets an unresponsive server hold a query (and a libuv thread) for minutes; 2 s makes
   * libunbound give up on a server that never answers within a few seconds.
   */
  unboundMaxRttMs: 2_000,
  /** libunbound `outbound-msg-retry`: resends to one upstream server (unbound's default is 5). */
  unboundOutboundRetries: 2,
  /**
   * libunbound `max-sent-count`: upstream queries for one question (unbound's default is 32).
   * With unboundMaxRttMs this bounds how long libunbound works on a question when no server
   * answers (measured here: about 8 s with 16, 25 s with 32); a cold-cache lookup of a name
   * three zones deep with DNSSEC needs well under 16.
   */
  unboundMaxSentCount: 16,
  /** SRV records taken from one SRV answer (hostile zones may publish thousands). */
  maxSrvRecords: 32,
  /** NAPTR records considered from one answer. */
  maxNaptrRecords: 32,
  /** Addresses used per host name and family. */
  maxAddressesPerHost: 8,
  /** Targets returned by the locator, all paths together. */
  maxTargets: 64,
  /** Default SIP ports (RFC 3261 section 19.1.2): 5060 for UDP, TCP and SCTP, 5061 for TLS. */
  sipPort: 5_060,
  sipsPort: 5_061,
});

export type DnsLimits = { readonly [K in keyof typeof DNS_LIMITS]: number };

/** RFC 3261 section 17.1.1.1 and Table 4: the base timers every transaction timer derives from. */
const T1_MS = 500;
const T2_MS = 4_000;
const T4_MS = 5_000;

/**
 * Transaction timers (src/transaction, docs/TRANSACTIONS.md), RFC 3261 Table 4 and RFC 6026.
 * Timers A, E and G start at T1 and double (E and G capped at T2); the others are below. Over a
 * reliable transport D, I, J and K are zero and A, E, G never run. Derived values are recomputed
 * from t1Ms/t2Ms/t4Ms by the transaction layer when only those are overridden (resolveTxTimers).
 */
export const TX_TIMERS = Object.freeze({
  /** T1: RTT estimate (section 17.1.1.1); 500 ms default. */
  t1Ms: T1_MS,
  /** T2: longest retransmit interval for non-INVITE requests and INVITE responses. */
  t2Ms: T2_MS,
  /** T4: longest time a message stays in the network. */
  t4Ms: T4_MS,
  /** Timer B: INVITE transaction timeout, 64*T1 (section 17.1.1.2). */
  timerBMs: 64 * T1_MS,
  /** Timer C: proxy INVITE transaction timeout, > 3 min (section 16.6 step 11); run by the proxy core, not here. */
  timerCMs: 180_000,
  /**
   * Timer D: wait for response retransmits, > 32 s for UDP (section 17.1.1.2). 32 s is 64*T1 at the
   * default T1; sipsec derives it as 64*T1 so that short test timers stay consistent.
   */
  timerDMs: 64 * T1_MS,
  /** Timer F: non-INVITE transaction timeout, 64*T1 (section 17.1.2.2). */
  timerFMs: 64 * T1_MS,
  /** Timer H: wait time for ACK receipt, 64*T1 (section 17.2.1). */
  timerHMs: 64 * T1_MS,
  /** Timer I: wait time for ACK retransmits, T4 for UDP (section 17.2.1). */
  timerIMs: T4_MS,
  /** Timer J: wait time for non-INVITE request retransmits, 64*T1 for UDP (section 17.2.2). */
  timerJMs: 64 * T1_MS,
  /** Timer K: wait time for response retransmits, T4 for UDP (section 17.1.2.2). */
  timerKMs: T4_MS,
  /** Timer L (RFC 6026 section 8.7): INVITE server transaction in Accepted, 64*T1. */
  timerLMs: 64 * T1_MS,
});

export type TxTimers = { readonly [K in keyof typeof TX_TIMERS]: number };

/** Limits of the transaction layer (src/transaction). */
export const TX_LIMITS = Object.freeze({
  /**
   * Live transactions, client and server together. Each holds a request (up to maxMessageBytes) and
   * timers for up to 64*T1; beyond this a new client transaction is refused with TX_ERR_LIMIT and a
   * new server request is answered 503 with Retry-After statelessly (RFC 3261 section 21.5.4).
   */
  maxTransactions: 32_768,
  /**
   * Bytes of SIP messages that live transactions hold together: each one's request and, for a
   * server transaction, the last response it retransmits (retained-bytes.ts counts them). Without
   * it maxTransactions requests of maxMessageBytes would hold about 2 GiB: a UDP peer sending large
   * requests keeps each one for Timer J (64*T1). 64 MiB holds maxTransactions messages of 2 KiB (an
   * INVITE with SDP); beyond it new requests get the overload 503 and new client transactions
   * TX_ERR_LIMIT. Checked when a transaction starts, against its request.
   */
  maxTransactionBytes: 67_108_864,
  /** Retry-After seconds of the 503 sent when the transaction table is full or the layer is closing. */
  overloadRetryAfterSeconds: 5,
});

export type TxLimits = { readonly [K in keyof typeof TX_LIMITS]: number };

/** Limits of the transport layer (src/transport, docs/TRANSPORTS.md). */
export const TRANSPORT_LIMITS = Object.freeze({
  /** A stream connection with no traffic for this long is closed (RFC 5626 keep-alives count as traffic). */
  idleTimeoutMs: 120_000,
  /**
   * Time from the first byte of a message to its last on a stream: a slow peer (slowloris) holding a
   * partial message is cut off. 32 s is 64*T1, the longest any transaction waits. On WS and WSS the
   * same deadline holds for one WebSocket message (all its fragments) or one control frame, inbound.
   */
  messageCompleteTimeoutMs: 32_000,
  /**
   * Time from the TCP accept of a WS or WSS listener to the 101 of the WebSocket opening handshake
   * (WSS: the TLS handshake included). Enforced by a timer on each socket: Node's own HTTP header
   * timeout is checked only by a 30 s sweep, so a peer that never finishes its request lived about
   * a minute. A client sends its one HTTP request right after connecting; 20 s is the TLS handshake
   * deadline and as long again.
   */
  wsUpgradeTimeoutMs: 20_000,
  /**
   * WebSocket control frames (ping, pong) a peer may send between two of its data messages; one
   * more closes the connection (`control-frame-limit`). ws answers every ping with a pong, so a
   * peer that pings without end, or without reading, costs a write each. RFC 7118 section 6 lets a
   * client keep its connection open with pings: one every 15 s for an hour without a SIP message
   * (a REGISTER refresh or a CRLF keep-alive resets the count) stays under 256.
   */
  wsMaxControlFramesBetweenMessages: 256,
  /** Outbound connect deadline: the TCP connect, and for TLS and WSS the TLS handshake with it. */
  connectTimeoutMs: 10_000,
  /** Inbound TLS handshake deadline (outbound: connectTimeoutMs covers connect and handshake). */
  tlsHandshakeTimeoutMs: 10_000,
  /** Open connections from or to one IP address. */
  maxConnectionsPerAddress: 64,
  /** Open connections in all. */
  maxConnections: 10_000,
  /** Bytes queued for writing on one connection before it is treated as stalled and closed. */
  maxWriteBufferBytes: 1_048_576,
  /**
   * Longest time a graceful TransportLayer.close({ after }) keeps existing connections and UDP
   * sockets serving while the caller's work (TransactionLayer.close()) finishes; then they are closed.
   * 5 s covers a transaction over a reliable transport waiting for its final response or ACK from a
   * peer that is still there (RFC 3261 timers D, I, J and K are zero on streams); a UDP transaction
   * in Completed (Timer J, 64*T1) or an INVITE in Accepted (Timer L) is cut short.
   */
  gracefulCloseMs: 5_000,
  /**
   * After a stream's framing is lost (a bad Content-Length, an oversized message), how long the
   * connection stays open to carry the 400 already queued before it is closed: the peer gets the
   * reason, and a peer that does not read it cannot hold the connection.
   */
  framingLostDrainMs: 1_000,
});

export type TransportLimits = { readonly [K in keyof typeof TRANSPORT_LIMITS]: number };

/** Digest authentication of the registrar and proxy (src/registrar/digest.ts, docs/REGISTRAR.md). */
export const AUTH_LIMITS = Object.freeze({
  /**
   * How long a nonce is accepted after it was issued; later it is answered with stale=true and a
   * fresh nonce. 300 s outlives a REGISTER's retransmissions (64*T1 = 32 s) and a call set-up with
   * its re-challenges, and keeps the window for replaying captured credentials short.
   */
  nonceLifetimeSeconds: 300,
  /**
   * How far in the future a nonce's time stamp may lie: instances sharing the secret may disagree
   * on the clock by this much (NTP keeps them well within it).
   */
  nonceClockSkewSeconds: 30,
  /**
   * Nonces whose nonce-counts are remembered, per process (least recently used dropped first).
   * Each costs about 100 bytes: 65 536 is about 6.5 MB, enough for every nonce of a domain that
   * authenticates 200 requests a second over a nonce lifetime. A dropped nonce is answered with
   * stale=true, so the bound never opens a replay.
   */
  maxTrackedNonces: 65_536,
  /**
   * Nonce-counts below the highest seen for a nonce that are still accepted once each (an
   * out-of-order window like IPsec's, RFC 4303 section 3.4.3): requests sent in parallel with one
   * nonce may arrive out of order over UDP.
   */
  nonceCountWindow: 32,
  /** Bytes of random data in each nonce (96 bits: never repeats within a lifetime). */
  nonceRandomBytes: 12,
});

export type AuthLimits = { readonly [K in keyof typeof AUTH_LIMITS]: number };

/** Registrar rules (src/registrar/registrar.ts, RFC 3261 section 10.3, docs/REGISTRAR.md). */
export const REGISTRAR_LIMITS = Object.freeze({
  /** Expiry when neither the Contact expires parameter nor Expires is given (section 10.3 step 7: locally configured); 3600 is the RFC's suggested client default (section 10.2.1.1). */
  defaultExpiresSeconds: 3_600,
  /**
   * Shortest registration accepted (423 with Min-Expires below it, section 10.3 step 7). 60 s is
   * the Min-Expires example of RFC 3261 section 20.23, and bounds the refresh rate a UA may impose.
   */
  minExpiresSeconds: 60,
  /** Longest registration granted; a longer request is shortened (section 10.3 step 7 allows it). One day bounds how long a binding of a vanished UA lingers. */
  maxExpiresSeconds: 86_400,
  /**
   * Bindings one address-of-record may hold. Every binding is a fork branch of each call to the
   * AOR (RFC 3261 section 16.6), so this bounds the fan-out a user can cause; 10 is ample for a
   * user's phones and soft clients.
   */
  maxBindingsPerAor: 10,
  /** Bytes of a binding's stored User-Agent value; longer ones are cut (they are for operators' eyes only). */
  maxUserAgentBytes: 256,
  /** Path header values kept per binding (RFC 3327); a longer Path is refused with 400. */
  maxPathEntries: 8,
});

export type RegistrarLimits = { readonly [K in keyof typeof REGISTRAR_LIMITS]: number };

/** The location store (src/registrar/location-store.ts, docs/REGISTRAR.md). */
export const LOCATION_LIMITS = Object.freeze({
  /**
   * Interval of the sweep of expired bindings: the SQLite backend's own, and the proxy's process
   * sweeper (src/proxy/expiry-sweeper.ts). Reads already hide expired bindings; this only gives
   * their space back, so once a minute is plenty.
   */
  sweepIntervalMs: 60_000,
  /**
   * How long an SQLite operation waits for another process's write lock before it fails as
   * unavailable: a REGISTER waits briefly rather than failing at once, and never for long.
   */
  sqliteBusyTimeoutMs: 2_000,
  /** Retry-After seconds the proxy sends with its 500 while the location backend is unavailable. */
  unavailableRetryAfterSeconds: 5,
  /**
   * Deadline of one Redis operation; past it the store reports LocationUnavailableError rather
   * than letting a REGISTER wait on a dead server (its transaction would time out at 32 s).
   */
  redisCommandTimeoutMs: 2_000,
  /** Attempts of one optimistic Redis update (WATCH/MULTI) before it is reported as a conflict. */
  redisUpdateAttempts: 8,
  /** Longest pause between Redis reconnection attempts. */
  redisMaxReconnectDelayMs: 2_000,
});

export type LocationLimits = { readonly [K in keyof typeof LOCATION_LIMITS]: number };

/** Defaults and limits of `sipsec check` (src/check, docs/CHECK.md). */
export const CHECK_LIMITS = Object.freeze({
  /** A certificate of the chain expiring within this many days is a warning (the default). */
  expiryWarningDays: 30,
  /**
   * Deadline of one domain's whole check. Long enough for a DNS lookup that times out once and
   * retries (DNS_LIMITS.queryTimeoutMs) plus the handshakes and an OPTIONS; a domain that hangs
   * is cut here and reported, never holding up a batch.
   */
  domainTimeoutMs: 30_000,
  /** Deadline of one TCP connect plus TLS handshake of a probe (TLS_LIMITS.handshakeTimeoutMs). */
  handshakeTimeoutMs: 10_000,
  /** Wait for the OPTIONS answer (Timer F is 64*T1; a probe need not wait 32 s). */
  optionsTimeoutMs: 8_000,
  /** Domains in flight at once in batch mode, by default and at most (each holds a few sockets). */
  concurrency: 10,
  maxConcurrency: 256,
  /** TLS targets probed per domain (addresses of all SRV hosts); the rest are listed, not probed. */
  maxTargetsPerDomain: 16,
});

/** A limit given to a constructor that is unknown or out of range; `field` names it (`transport.limits.idleTimeoutMs`). */
export class LimitError extends RangeError {
  readonly code = 'ERR_SIPSEC_LIMIT' as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'LimitError';
  }
}

/**
 * Merges a caller's overrides over a family of defaults once, at construction, so that a wrong
 * value fails where it is given and not on the first message that meets it: every key must be one
 * of the family's, every value a finite number > 0, and a whole number where the default is one.
 */
export function mergeLimits<L extends Readonly<Record<string, number>>>(family: string, defaults: L, overrides: Partial<Record<keyof L, number>> | undefined): L {
  const out: Record<string, number> = { ...defaults };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (!(name in defaults)) throw new LimitError(`${family}.${name}`, 'is not a known limit');
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new LimitError(`${family}.${name}`, `must be a number > 0, not ${String(value)}`);
    if (Number.isInteger(defaults[name]) && !Number.isInteger(value)) throw new LimitError(`${family}.${name}`, `must be a whole number, not ${value}`);
    out[name] = value;
  }
  return Object.freeze(out) as unknown as L;
}
