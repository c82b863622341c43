import type { TlsPolicy } from '../tls/policy.js';
import type { PeerVerdict } from '../tls/verdict.js';
import type { ServerTarget } from '../tls/verify-peer.js';

/** The wire protocols sipsec speaks (RFC 3261 section 18, RFC 7118 for WebSocket). */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Reliable transports carry no retransmissions (RFC 3261 section 17.1.1.2 timer A). */
export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

/** Transports whose hop is encrypted and may be verified. */
export function isSecureTransport(transport: TransportProtocol): boolean {
  return transport === 'tls' || transport === 'wss';
}

/** An IP address literal (no brackets) and port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Where a received message came from, as every layer above the transport sees it (DESIGN rule 1):
 * Via-trail checks, e2e-sec and connection reuse read this, and nothing re-derives it.
 */
export interface TransportContext {
  readonly transport: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** The connection the message arrived on, for stream transports; responses go back on it. */
  readonly connectionId: string | undefined;
  /** For TLS and WSS: the verdict on the peer's certificate (client certificates on inbound connections). */
  readonly peer: PeerVerdict | undefined;
  /** When the bytes were received (ms since the epoch). */
  readonly receivedAtMs: number;
  /** For TLS and WSS: what the connection negotiated. */
  readonly tls?: TlsSession;
  /**
   * Inbound TLS and WSS: the server name the peer asked for in its ClientHello (RFC 6066 section 3),
   * as it sent it, so that an element hosting several domains knows which one was asked for;
   * undefined when it sent none (peers addressed by IP) and on outbound connections and UDP.
   */
  readonly sni?: string;
}

/** What a TLS or WSS connection negotiated: `TLSv1.3`, `TLS_AES_256_GCM_SHA384`. */
export interface TlsSession {
  readonly protocol: string;
  readonly cipher: string;
}

/**
 * The hop a request went out on, as the transport reported it: what the TU needs to judge the hop
 * (the verdict, also when it refused the server) and to send again on the same connection.
 */
export interface HopReport {
  /** The stream connection; undefined for UDP, or when no connection was set up. */
  readonly connectionId: string | undefined;
  /** TLS and WSS: the verdict on the server. */
  readonly verdict: PeerVerdict | undefined;
  readonly tls: TlsSession | undefined;
}

/** A certificate chain (PEM, leaf first) and its key: ours, presented as TLS client (mutual TLS). */
export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * What one outbound hop must prove, decided by the caller for each send (DESIGN rule 2); the
 * TransportLayer's `clientCertificate` and `tlsPolicy` options are only the defaults of the fields
 * left out. The reference identity and what DNS proved about it stay in `Destination.tlsTarget`
 * (the SIP domain, SRV host, DNSSEC state, TLSA RRset): facts found by the locator, beside the
 * caller's demands here. An open TLS or WSS connection is reused for a send only when it was
 * opened with the same client certificate, policy and accepted identities and its server was
 * verified for the send's reference identity; never by address alone.
 */
export interface SecurityRequirement {
  /**
   * `required`: the hop must be TLS or WSS; a send over UDP, TCP or WS is refused at once with
   * `tls-required-not-offered`, nothing sent. `preferred` (the default): the caller tries TLS
   * destinations first (destinationsFor orders them so) and a plain hop is allowed.
   */
  readonly tls?: 'required' | 'preferred';
  /**
   * Our certificate to present when the server asks for one; `none` presents none even when the
   * layer has a default. Absent: the layer's `clientCertificate` option.
   */
  readonly clientCertificate?: ClientCertificate | 'none';
  /**
   * How the server is verified (DANE use, PKIX TLSA usages, a secure TLSA RRset without usable
   * records, wildcards, lenient A.2.2, depth): merged over the layer's `tlsPolicy`, itself merged
   * over the strict default. DNSSEC is not a choice: a bogus or indeterminate chain always fails
   * (DESIGN rule 7), and DANE is used only over a secure one.
   */
  readonly tlsPolicy?: Partial<TlsPolicy>;
  /**
   * SIP domains the server's certificate may carry instead of the reference identity (a configured
   * peer whose certificate names its own domain), matched by the same RFC 5922 rules; each
   * authenticates the hop as well as `tlsTarget.sipDomain` does. Absent: only the reference identity
   * (and the SRV host, under DANE over a secure chain).
   */
  readonly acceptedIdentities?: readonly string[];
}

/** Where to send a message: a transport, an address and port, optionally an existing connection. */
export interface Destination {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  /** Send on this connection (responses, in-dialog requests over a flow) instead of choosing one. */
  readonly connectionId?: string;
  /**
   * For TLS and WSS: what to verify the server against (the SIP domain always; the SRV host, DNSSEC state
   * and TLSA RRset from the locator). Required for a new outbound TLS or WSS connection.
   */
  readonly tlsTarget?: ServerTarget;
  /**
   * What this hop must prove (TLS required, our client certificate, policy, accepted identities);
   * absent: TLS preferred and the layer's defaults. A named `connectionId` is used as named
   * (responses, flows): reuse and verification rules do not apply to it, `tls: 'required'` does.
   */
  readonly security?: SecurityRequirement;
  /**
   * RFC 5923: the sender offers the connection this request goes out on for the peer's requests
   * back (its top Via carries `alias`: the caller writes the Via, as sipsec proxy does for TLS hops
   * that present our client certificate). Informative here: every connection takes the requests
   * that arrive on it, and the layer chooses the connection by the same rules either way.
   */
  readonly offersAlias?: boolean;
  /**
   * For WS and WSS (RFC 7118): the HTTP request path of the opening handshake; default '/'. Used
   * when a connection is opened; an open connection to the same peer is reused whatever its path.
   */
  readonly wsPath?: string;
  /**
   * For WS and WSS: the Host header of the opening handshake; default the SIP domain of
   * `tlsTarget`, else the address. It names the HTTP host only: the WSS server is always verified
   * against `tlsTarget`.
   */
  readonly wsHost?: string;
}

/**
 * Why a message could not be sent, in the verdict vocabulary (DESIGN "One vocabulary"): the
 * transaction layer turns it into a 503 with Warning 399 at once instead of waiting for a timer.
 */
export type TransportFailureReason =
  | 'tls-handshake-failed'
  | 'tls-timeout'
  | 'tls-required-not-offered'
  | 'no-client-certificate'
  | 'peer-not-authenticated'
  | 'connection-refused'
  | 'connection-reset'
  | 'connection-limit'
  | 'message-too-large'
  | 'unreachable'
  /** The WebSocket opening handshake did not end in 101 with the `sip` subprotocol (RFC 7118 section 4.1). */
  | 'ws-handshake-failed';

/** Thrown (or rejected) by a transport send; `reason` is a vocabulary word, `verdict` the TLS evidence. */
export class TransportError extends Error {
  readonly code = 'TRANSPORT_ERR_SEND' as const;
  constructor(
    readonly reason: TransportFailureReason,
    readonly detail: string,
    readonly verdict?: PeerVerdict,
    options?: ErrorOptions,
  ) {
    super(`${reason}: ${detail}`, options);
    this.name = 'TransportError';
  }
}

/** A TransportLayer option that cannot be used (checked at start, before any socket is opened); `option` names it. */
export class TransportConfigError extends Error {
  readonly code = 'TRANSPORT_ERR_CONFIG' as const;
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'TransportConfigError';
  }
}
