/**
 * The seams between the parts of `sipsec proxy`: the stateful proxy core (RFC 3261 section 16),
 * the registrar service and local user look-up (section 10, RFC 5626 flows), the outbound hop
 * (RFC 3263 destinations, verified mutual TLS) and the process that wires them from the config.
 * Each part is built and tested against these interfaces alone, so that one can change without
 * the others: the core never reads YAML, the registrar never routes.
 */
import type { DnssecState } from '../dns/dnssec-state.js';
import type { DestinationsResult } from '../ua/destinations.js';
import type { ResponseSpec } from '../registrar/response-spec.js';
import type { SipRequest } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { Destination, TransportContext, TransportProtocol } from '../transport/transport-context.js';
import type { HopPolicyWord } from './routing-words.js';

/** The SIP domains this process is responsible for (section 16.5: "the domain of this proxy"). */
export interface LocalDomains {
  /** Whether `host` (a URI host, any case) is one of ours; IP addresses of our listeners count too. */
  isLocal(host: string): boolean;
}

/** One place a request for a local user is sent: a binding, made sendable. */
export interface LocalTarget {
  /** The registered Contact, which becomes the Request-URI (section 16.5). */
  readonly uri: SipUri;
  /**
   * Where it is sent: over the binding's flow (`connectionId` set, RFC 5626 or the connection of
   * the REGISTER) or to the Contact's address.
   */
  readonly destination: Destination;
  /** RFC 3327 Path of the binding, pushed as Route headers in this order. */
  readonly path: readonly string[];
  /** q-value (section 16.6 forks to all; kept for logs and later sequential forking). */
  readonly q: number | undefined;
  readonly instanceId: string | undefined;
}

/** What a request for a local address-of-record finds (section 16.5). */
export type LocalLookup =
  /** Live bindings, at least one reachable. */
  | { readonly kind: 'targets'; readonly targets: readonly LocalTarget[] }
  /** The AOR is not a user of the domain: 404. */
  | { readonly kind: 'unknown-user' }
  /**
   * A user with no binding, or only bindings whose flow is gone (RFC 5626 section 5.3: 430 for an
   * outbound flow; 480 otherwise, at once, never a timeout). `why` is a vocabulary word for the
   * Warning: 'not-registered' | 'flow-failed' | 'sips-not-deliverable' (a sips request, RFC 5630,
   * and the live bindings are reached over neither TLS nor WSS).
   */
  | { readonly kind: 'unavailable'; readonly status: 480 | 430; readonly why: 'not-registered' | 'flow-failed' | 'sips-not-deliverable' }
  /** The user forwards every request (users.yaml `forward:`) to this URI, usually in another domain. */
  | { readonly kind: 'forward'; readonly target: SipUri }
  /** The location backend failed: 500 with Retry-After (issue 13 item 9). */
  | { readonly kind: 'store-failed'; readonly retryAfterS: number; readonly detail: string };

export interface LocalUsers {
  /**
   * Targets for a request-URI whose host is local. `sipsOnly`: the request is sips (RFC 5630), so
   * only bindings reachable over TLS or WSS are targets.
   */
  lookup(requestUri: SipUri, options: { readonly sipsOnly: boolean }): Promise<LocalLookup>;
}

/** Answers a REGISTER for a local domain; the core hands every such request here. */
export interface RegistrarHandler {
  /** Must answer `tx` with a final response, whatever happens (store failure: 500 Retry-After). */
  handleRegister(tx: ServerTransaction, request: SipRequest, context: TransportContext): Promise<void>;
}

/** Whether a request may use this proxy to reach another domain (no open relay, section 16 + 22.3). */
export type Authorization =
  | { readonly kind: 'authorized'; readonly user: string }
  /** 407 with Proxy-Authenticate (or 400/403): the response to send, from the authenticator. */
  | { readonly kind: 'refused'; readonly response: ResponseSpec };

export interface RequestAuthorizer {
  /**
   * A request from a local user (From host local) for a domain that is not ours: digest
   * Proxy-Authorization in the From domain's realm. Never called for in-dialog requests that
   * carry our Record-Route, nor for ACK and CANCEL (section 22.1: they cannot be challenged).
   */
  authorize(request: SipRequest, context: TransportContext): Authorization;
}

/** What the outbound side knows of the request it locates a next hop for. */
export interface OutboundQuery {
  readonly receivedOn: TransportProtocol;
  /**
   * The From domain (lower case) of the request: with several local domains, the client
   * certificate presented on the hop is that domain's (its identity is what the far proxy checks
   * the From domain against, draft-gurbani 5.2).
   */
  readonly fromDomain: string | undefined;
}

/**
 * How a hop's server is verified, as the verifier decides from what DNS proved (PeerVerdict's
 * `attempted`): `dane` (secure chain and a secure TLSA RRset: DANE only, no fallback), `rfc5922`
 * (insecure, or secure without TLSA), `none` (bogus or indeterminate: the hop aborts).
 */
export type HopRule = 'dane' | 'rfc5922' | 'none';

/** A DNSSEC policy (require-dnssec, require-dane) that left no destination to send to. */
export interface OutboundRefusal {
  readonly word: Extract<HopPolicyWord, 'dnssec-required' | 'dane-required'>;
  readonly detail: string;
}

/** The destinations with what the outbound side decided about them, for the core's log and answer. */
export interface OutboundDestinations extends DestinationsResult {
  /** Per destination, in order: the rule its server is verified by and its chain's DNSSEC state. */
  readonly hops?: readonly { readonly rule: HopRule; readonly dnssec: DnssecState }[];
  /** Which DNSSEC policies were on. */
  readonly require?: { readonly dnssec: boolean; readonly dane: boolean };
  /** Set (with no destination) when a DNSSEC policy refused every destination the locator found. */
  readonly refusal?: OutboundRefusal;
}

/** The outbound side: from a URI to destinations with their security requirement (issue 10 item 6). */
export interface OutboundRouter {
  /**
   * Destinations for a request-URI (or top Route) of another domain: RFC 3263, TLS first
   * (draft-johansson Appendix A), TLSA, our client certificate for mutual TLS, the DNSSEC policies.
   */
  destinations(uri: SipUri, query: OutboundQuery): Promise<OutboundDestinations>;
}

/**
 * The hop-security policies of the config's `policy:` section (issue 15, docs/PROXY.md
 * "Policies"), with their defaults: each is the safe choice except where the doc says why not.
 */
export interface HopPolicies {
  /**
   * `mutual-tls` (draft-gurbani 5.2, default on): a request from another domain must come over TLS
   * with a client certificate verified as a SIP domain certificate (RFC 5922 section 7.4), and its
   * From domain must be one of that certificate's identities (or allowed for it by `peers`).
   */
  readonly mutualTls: boolean;
  /** `peers`: certificate identity (lower case) to the other domains it may speak for (a hosting provider). */
  readonly peers: ReadonlyMap<string, readonly string[]>;
  /** `reverse-dns` (default off, seed 5.2 says why it is weak): the source address's PTR, forward-confirmed, must be a certificate identity. */
  readonly reverseDns: boolean;
  /** `via-trail` (draft-gurbani 5.5, default on): the top Via sent-by of a request from another domain is a name its certificate covers. */
  readonly viaTrail: boolean;
  /** `promote-sips` (draft-gurbani 5.3, default off: see docs/PROXY.md for the trade-off). */
  readonly promoteSips: boolean;
  /** `require-dnssec` (seed 004, default off): no send to a domain whose NAPTR/SRV/address chain is not secure. */
  readonly requireDnssec: boolean;
  /** `require-dane` (seed 004, default off): no send to a domain without a usable TLSA RRset. */
  readonly requireDane: boolean;
  /** `connection-reuse` (RFC 5923, default on): honour Via `alias` from mutually authenticated peers, and send it. */
  readonly connectionReuse: boolean;
}

export const DEFAULT_HOP_POLICIES: HopPolicies = Object.freeze({
  mutualTls: true,
  peers: new Map<string, readonly string[]>(),
  reverseDns: false,
  viaTrail: true,
  promoteSips: false,
  requireDnssec: false,
  requireDane: false,
  connectionReuse: true,
});

/** A policy's answer for one request: go on, or refuse it with a final response that says why. */
export type PolicyDecision =
  | { readonly kind: 'pass' }
  | {
      readonly kind: 'refuse';
      readonly status: number;
      readonly reasonPhrase: string;
      readonly word: HopPolicyWord;
      /** The Warning text after the word: short, for the caller. */
      readonly text: string;
      /** For the `policy-refused` log line: the peer certificate identities, the header values... */
      readonly evidence: Readonly<Record<string, unknown>>;
    };

/**
 * The checks on a request as it arrives, before any routing (issue 15 items 1 and 2): mutual
 * authentication between domains, the Via trail. The core answers a refusal at once (Warning 399
 * and Reason with the word), logs it with the evidence and counts it; an ACK is dropped instead.
 * CANCEL is never checked: it only matches a transaction that passed.
 */
export interface InboundPolicy {
  check(request: SipRequest, context: TransportContext): PolicyDecision | Promise<PolicyDecision>;
}
