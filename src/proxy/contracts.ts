/**
 * The seams between the parts of `sipsec proxy`: the stateful proxy core (RFC 3261 section 16),
 * the registrar service and local user look-up (section 10, RFC 5626 flows), the outbound hop
 * (RFC 3263 destinations, verified mutual TLS) and the process that wires them from the config.
 * Each part is built and tested against these interfaces alone, so that one can change without
 * the others: the core never reads YAML, the registrar never routes.
 */
import type { DestinationsResult } from '../ua/destinations.js';
import type { ResponseSpec } from '../registrar/response-spec.js';
import type { SipRequest } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { Destination, TransportContext, TransportProtocol } from '../transport/transport-context.js';

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
   * Warning: 'not-registered' | 'flow-failed'.
   */
  | { readonly kind: 'unavailable'; readonly status: 480 | 430; readonly why: 'not-registered' | 'flow-failed' }
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

/** The outbound side: from a URI to destinations with their security requirement (issue 10 item 6). */
export interface OutboundRouter {
  /**
   * Destinations for a request-URI (or top Route) of another domain: RFC 3263, TLS first
   * (draft-johansson Appendix A), TLSA, our client certificate for mutual TLS.
   */
  destinations(uri: SipUri, receivedOn: TransportProtocol): Promise<DestinationsResult>;
}
