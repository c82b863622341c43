/**
 * Every default and limit of sipsec, one frozen object per layer.
 * Constructors merge user options over these once; nothing else hard-codes a number.
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
