/**
 * The one vocabulary: every word sipsec puts in a verdict, a failure, a Warning or Reason header, a
 * log line or a metrics label, by family, each with one line saying what it means (the model is
 * Go x509's InvalidReason). The types of the modules that produce the words are checked against
 * these lists at compile time (src/vocabulary.test.ts), and docs/VOCABULARY.md against them by a
 * test, so a word cannot be added, renamed or dropped in one place only. The lists are
 * append-only: a word no longer produced stays, marked as such in its doc line.
 *
 * Free text never stands where a word does: a failure is a word plus a separate, bounded detail,
 * so that counting by word (logs, metrics) stays bounded whatever a peer sends.
 */

/** A word and what it means. */
export interface Word<W extends string> {
  readonly word: W;
  readonly doc: string;
}

function family<const W extends string>(entries: readonly (readonly [W, string])[]): readonly Word<W>[] {
  return Object.freeze(entries.map(([word, doc]) => Object.freeze({ word, doc })));
}

/** DNSSEC state of an answer (RFC 4035 section 4.3), as libunbound reports it. */
export const DNSSEC_STATES = family([
  ['secure', 'validated from a trust anchor: the only state that enables DANE'],
  ['insecure', 'proven unsigned (an insecure delegation): RFC 5922 decides, no DANE'],
  ['bogus', 'validation failed: the answer is not used, no fallback'],
  ['indeterminate', 'no trust anchor decides: treated like bogus, no fallback'],
]);

/** Reasons of a TLS peer verdict (src/tls/reasons.ts). */
export const TLS_REASONS = family([
  ['name-mismatch', 'no identity of the certificate matches the reference identity (RFC 5922 section 7.2)'],
  ['no-identity', 'the certificate holds no SIP domain identity'],
  ['no-reference-identity', 'nothing to match the certificate to: no SIP domain, SRV host or --name was given'],
  ['wildcard-refused', 'a wildcard identity, which RFC 5922 section 7.2 does not match'],
  ['wildcard-accepted', 'note: a left-most wildcard matched under the allowWildcard opt-in'],
  ['cn-ignored-san-present', 'note: the CN is no identity because the certificate has a subjectAltName'],
  ['uri-san-has-user', 'note: a SAN URI names a user, not a domain, and is ignored'],
  ['uri-san-not-sip', 'note: a SAN URI that is not sip: is ignored'],
  ['expired', 'a certificate of the path is past its notAfter'],
  ['not-yet-valid', 'a certificate of the path is before its notBefore'],
  ['unknown-ca', 'no path to a trust anchor'],
  ['chain-too-deep', "the path or the presented chain exceeds sipsec's own depth limit"],
  ['path-length-exceeded', "a CA's pathLenConstraint is exceeded (RFC 5280 section 4.2.1.9)"],
  ['bad-signature', 'a signature of the path does not verify'],
  ['not-a-ca', 'an issuer without basicConstraints cA or keyCertSign'],
  ['wrong-purpose', 'keyUsage or extendedKeyUsage forbids this use (server or client authentication)'],
  ['unsupported-critical-extension', 'a critical extension sipsec does not process (RFC 5280 section 4.2)'],
  ['dane-match', 'note: a TLSA record matched'],
  ['dane-no-match', 'a secure TLSA RRset with usable records, none of which matched: no fallback'],
  ['dane-no-usable-records', 'a secure TLSA RRset whose records are all unusable (RFC 7671 section 4.3)'],
  ['dnssec-bogus', 'the NAPTR/SRV/address chain or the TLSA RRset is bogus'],
  ['dnssec-indeterminate', 'the NAPTR/SRV/address chain or the TLSA RRset is indeterminate'],
  ['tls-handshake-failed', 'no TLS session: the handshake failed'],
  ['tls-timeout', 'no TLS session within the deadline'],
  ['no-client-certificate', 'an inbound TLS peer presented no client certificate'],
]);

/** How a TLS peer was authenticated (src/tls/verdict.ts). */
export const VERIFICATION_METHODS = family([
  ['dane-ee', 'a DANE-EE (3) TLSA record matched the leaf; names and dates are not checked'],
  ['dane-ta', 'a DANE-TA (2) TLSA record matched a CA of the chain; the path and names are checked'],
  ['pkix-ee', 'a PKIX-EE (1) TLSA record matched and the PKIX path verified'],
  ['pkix-ta', 'a PKIX-TA (0) TLSA record matched a CA and the PKIX path verified'],
  ['rfc5922', 'no DANE applies: PKIX path and RFC 5922 identity'],
  ['none', 'not authenticated'],
]);

/** Why a send failed (TransportError.reason), in the 503's Warning and Reason. */
export const TRANSPORT_FAILURES = family([
  ['tls-handshake-failed', 'no TLS session could be set up'],
  ['tls-timeout', 'no TLS session within the deadline'],
  ['tls-required-not-offered', 'the hop requires TLS (SecurityRequirement.tls) and the destination is UDP, TCP or WS: nothing was sent'],
  ['no-client-certificate', 'reserved: an inbound peer without a certificate'],
  ['peer-not-authenticated', "the TLS server's certificate did not verify; the verdict's reasons say which check failed"],
  ['connection-refused', 'nothing listens there'],
  ['connection-reset', 'the connection closed before the final response'],
  ['connection-limit', 'the per-address or total connection limit is reached'],
  ['message-too-large', 'the serialized message exceeds maxMessageBytes'],
  ['unreachable', 'no route, no listener of that family, connect timeout'],
  ['ws-handshake-failed', 'the WebSocket upgrade did not end in 101 with the sip subprotocol (RFC 7118 section 4.1)'],
]);

/** Failure words the transaction layer adds to the transport's (TransportFailure.reason). */
export const TRANSACTION_FAILURES = family([
  ['transport-failure', 'a send failed with an error that is not a TransportError'],
  ['layer-closed', 'the transaction layer was closed with force before a final response'],
]);

/** How a response given to a client TU came to be (ResponseInfo.origin). */
export const RESPONSE_ORIGINS = family([
  ['network', 'received from the network'],
  ['timeout', 'the 408 of Timer B or F'],
  ['transport-error', 'the 503 of a failed send or a lost connection'],
  ['closed', 'the 503 of a transaction layer closed with force'],
]);

/** Why a connection was closed (connection-closed log lines, onConnectionClosed). */
export const CLOSE_REASONS = family([
  ['idle-timeout', 'no traffic for idleTimeoutMs'],
  ['message-incomplete-timeout', 'a message not complete within messageCompleteTimeoutMs of its first byte'],
  ['write-buffer-full', 'the peer does not read: more than maxWriteBufferBytes queued'],
  ['framing-lost', 'the stream cannot be framed any more (detail: the SIP_ERR_* code)'],
  ['peer-closed', 'the peer closed the connection'],
  ['local-close', 'closed by this side (close())'],
  ['graceful-close-deadline', 'still open when a graceful close reached gracefulCloseMs'],
  ['socket-error', 'the socket failed (detail: the error text, for logs only)'],
  ['control-frame-limit', 'more WebSocket pings or pongs in a row than wsMaxControlFramesBetweenMessages'],
  ['upgrade-timeout', 'no WebSocket upgrade within wsUpgradeTimeoutMs'],
  ['message-too-large', 'a WebSocket message over maxMessageBytes (closed with status 1009)'],
  ['invalid-utf8', 'a WebSocket text frame that is not UTF-8 (RFC 6455 section 8.1)'],
  ['websocket-error', 'another WebSocket protocol error (detail: the error text, for logs only)'],
]);

/** What ended a `requestOnce` attempt (RequestOnceResult.outcome), besides the transport's words. */
export const REQUEST_OUTCOMES = family([
  ['response', 'a final response from the network'],
  ['aborted', "the caller's signal ended the attempt"],
  ['timeout', 'no final response by the deadline'],
  ['connect-timeout', 'the deadline passed while connecting'],
  ['framing-error', 'the peer sent bytes that are no SIP message'],
]);

/** Message faults (src/sip/errors.ts): the parser's codes. */
export const SIP_FAULTS = family([
  ['SIP_ERR_EMPTY', 'no message, only line breaks'],
  ['SIP_ERR_MESSAGE_TOO_LARGE', 'more bytes than maxMessageBytes (answered 513)'],
  ['SIP_ERR_TOO_MANY_HEADERS', 'more header fields than maxHeaders'],
  ['SIP_ERR_LINE_TOO_LONG', 'a line longer than maxLineBytes'],
  ['SIP_ERR_TOO_MANY_VALUES', 'more comma-separated values than maxHeaderValues'],
  ['SIP_ERR_NO_HEADER_END', 'the header section has no empty line'],
  ['SIP_ERR_BAD_START_LINE', 'the start line is neither a request line nor a status line'],
  ['SIP_ERR_BAD_VERSION', 'not SIP/2.0 (answered 505)'],
  ['SIP_ERR_BAD_METHOD', 'the method is not a token'],
  ['SIP_ERR_BAD_STATUS', 'the status code is not 100-699'],
  ['SIP_ERR_BAD_REQUEST_URI', 'the Request-URI does not parse'],
  ['SIP_ERR_BAD_URI', 'a URI in a header does not parse'],
  ['SIP_ERR_BAD_HEADER_NAME', 'a header name that is not a token'],
  ['SIP_ERR_BAD_HEADER_VALUE', 'a header value that does not parse'],
  ['SIP_ERR_MISSING_HEADER', 'a request without To, From, Call-ID, CSeq or Via; a stream message without Content-Length'],
  ['SIP_ERR_DUPLICATE_HEADER', 'a header that must appear once appears twice'],
  ['SIP_ERR_CSEQ_METHOD_MISMATCH', 'the CSeq method is not the request method'],
  ['SIP_ERR_VALUE_OUT_OF_RANGE', 'a number outside its range'],
  ['SIP_ERR_BAD_CONTENT_LENGTH', 'Content-Length is not a number, negative, or given twice differently'],
  ['SIP_ERR_BODY_TRUNCATED', 'fewer body bytes than Content-Length'],
]);

/** Words of the proxy core's refusals and hop failures (src/proxy/routing-words.ts), in Warning, Reason and logs. */
export const PROXY_ROUTING = family([
  ['bad-request', 'a header the proxy must read does not parse (400 naming it)'],
  ['unsupported-uri-scheme', 'a Request-URI or Route that is not sip or sips (416)'],
  ['too-many-hops', 'Max-Forwards reached 0 (483)'],
  ['loop-detected', 'the request came back with a Via of ours carrying its own loop hash (482)'],
  ['bad-extension', 'Proxy-Require names an option tag the proxy does not support (420 with Unsupported)'],
  ['relay-refused', 'neither from a user of a local domain nor for one: the proxy is no open relay (403)'],
  ['not-authorized', 'a local user to another domain without valid credentials (the authorizer\'s 407, 403 or 400)'],
  ['not-found', 'a request addressed to the proxy itself that it does not serve (404)'],
  ['unknown-user', 'the Request-URI names no user of the local domain (404)'],
  ['not-registered', 'the user has no registered contact (480)'],
  ['flow-failed', 'the connection the user registered on is gone (430 for an outbound flow, 480 otherwise)'],
  ['location-unavailable', 'the location store did not answer (500 with Retry-After)'],
  ['no-destination', 'the next hop could not be located: no target, or the locator failed'],
  ['no-transaction', 'a CANCEL matching no INVITE transaction (481)'],
  ['no-target', 'an ACK with nowhere to go: no Route and a Request-URI of a local domain (dropped)'],
  ['timer-c', 'no final response from a branch within Timer C (RFC 3261 section 16.8): 408, or CANCEL when it rang'],
]);

/** The words of the hop-security policies (issue 15, docs/PROXY.md "Policies"): refusals and log-only events. */
export const HOP_POLICY = family([
  ['no-client-certificate', 'a request from another domain without a TLS client certificate verified as a SIP domain certificate (403; draft-gurbani 5.2)'],
  ['from-domain-not-certified', 'the From domain of a request from another domain is not an identity of the peer certificate, nor allowed for it by `policy.peers` (403)'],
  ['reverse-dns-mismatch', 'the source address of a peer does not resolve (PTR, forward-confirmed) to an identity of its certificate (403; optional check)'],
  ['via-sent-by-mismatch', 'the top Via of a request from another domain is not a name covered by the peer certificate (403; draft-gurbani 5.5)'],
  ['sips-not-deliverable', 'a sips request for a user with no binding reachable over TLS or WSS (480; RFC 5630)'],
  ['dnssec-required', 'require-dnssec: the NAPTR/SRV/address chain of the next hop is not DNSSEC-secure (500: a hop failure, section 16.7 step 6)'],
  ['dane-required', 'require-dane: the next hop has no usable TLSA RRset (500: a hop failure, section 16.7 step 6)'],
  ['alias-refused', 'a Via alias (RFC 5923) from a peer that is not mutually authenticated or whose certificate does not cover the Via host: the connection is not reused (logged only)'],
]);

type WordOf<F extends readonly Word<string>[]> = F[number]['word'];

export type DnssecStateWord = WordOf<typeof DNSSEC_STATES>;
export type TlsReasonWord = WordOf<typeof TLS_REASONS>;
export type VerificationMethodWord = WordOf<typeof VERIFICATION_METHODS>;
export type TransportFailureWord = WordOf<typeof TRANSPORT_FAILURES>;
export type TransactionFailureWord = WordOf<typeof TRANSACTION_FAILURES>;
export type ResponseOriginWord = WordOf<typeof RESPONSE_ORIGINS>;
export type CloseReasonWord = WordOf<typeof CLOSE_REASONS>;
/** A close reason as connections report it: the word, optionally followed by `: ` and a detail. */
export type CloseReasonText = CloseReasonWord | `${CloseReasonWord}: ${string}`;
export type RequestOutcomeWord = WordOf<typeof REQUEST_OUTCOMES>;
export type SipFaultWord = WordOf<typeof SIP_FAULTS>;
export type ProxyRoutingWordOf = WordOf<typeof PROXY_ROUTING>;
export type HopPolicyWordOf = WordOf<typeof HOP_POLICY>;

/** Every family, by the heading docs/VOCABULARY.md gives it. */
export const VOCABULARY: Readonly<Record<string, readonly Word<string>[]>> = Object.freeze({
  'DNSSEC states': DNSSEC_STATES,
  'TLS verdict reasons': TLS_REASONS,
  'Verification methods': VERIFICATION_METHODS,
  'Transport failures': TRANSPORT_FAILURES,
  'Transaction failures': TRANSACTION_FAILURES,
  'Response origins': RESPONSE_ORIGINS,
  'Connection close reasons': CLOSE_REASONS,
  'Request outcomes': REQUEST_OUTCOMES,
  'SIP message faults': SIP_FAULTS,
  'Proxy routing': PROXY_ROUTING,
  'Hop policies': HOP_POLICY,
});

/** The word a close reason text starts with (`framing-lost: SIP_ERR_LINE_TOO_LONG` gives `framing-lost`). */
export function closeReasonWord(text: CloseReasonText): CloseReasonWord {
  const colon = text.indexOf(':');
  return (colon < 0 ? text : text.slice(0, colon)) as CloseReasonWord;
}
