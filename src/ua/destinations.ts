/**
 * From a SIP or SIPS URI to the ordered destinations a request is sent to, each with what its
 * server is verified against: RFC 3263 location (src/dns/locator.ts), TLS first where the options
 * (or a request that arrived over TLS) say so (draft-johansson-dispatch-dane-sip Appendix A), the
 * TLSA RRset of each TLS target, default ports, and the ServerTarget (SIP domain, SRV host, DNSSEC
 * state, TLSA) of each. `sipsec options` and the proxy both start here.
 */
import { locateInputOf } from '../dns/locate-uri.js';
import { locate, sendableTargets, type LocateOptions, type LocateResult, type LookupStep, type SendableTarget } from '../dns/locator.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { SipTransport } from '../dns/sip-transport.js';
import { lookupTlsaForTarget } from '../dns/tlsa-lookup.js';
import type { TlsaRrset } from '../dns/tlsa-record.js';
import type { SipUri } from '../sip/uri.js';
import type { ServerTarget } from '../tls/verify-peer.js';
import { isSecureTransport, type Destination, type TransportProtocol } from '../transport/transport-context.js';

/** Ports when none is given: RFC 3261 section 19.1.2; RFC 7118 section 5.5 for WebSocket (80, and 443 for sips). */
export const DEFAULT_PORT: Readonly<Record<TransportProtocol, number>> = Object.freeze({ udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 });

export interface DestinationsOptions extends Omit<LocateOptions, 'receivedOn'> {
  /**
   * The transport the request carrying this URI arrived on: one that came over TLS or WSS is sent
   * on TLS first, so that a hop does not downgrade (the locator's `receivedOn`).
   */
  readonly receivedOn?: TransportProtocol;
  /** Look up the TLSA RRset of each TLS target (RFC 7673); default true. */
  readonly tlsa?: boolean;
}

/** One destination, in failover order, with the locator's target it came from. */
export interface LocatedDestination {
  readonly destination: Destination;
  /** The locator's target: SRV host, DNSSEC state, the lookups that led here, the identities. */
  readonly located: SendableTarget;
}

export interface DestinationsResult {
  /** Every destination, in RFC 3263 section 4.3 failover order; TLS ones carry `tlsTarget`. */
  readonly destinations: readonly LocatedDestination[];
  /** The locator's result (domain, every target, every lookup). */
  readonly located: LocateResult;
  /**
   * Lookups that did not give a usable answer, with their states: the locator's failures (bogus,
   * indeterminate, timeout, resolver unreachable) and the TLSA lookups that were bogus or
   * indeterminate (RFC 7673 section 3.4: their target's verifier refuses the server).
   */
  readonly failedLookups: readonly LookupStep[];
}

/**
 * The destinations of a SIP or SIPS URI (RFC 3263 section 4). Throws DnsError for a URI that
 * cannot be located (DNS_ERR_BAD_TARGET: sips with transport=udp, an unsupported transport, a
 * parameter without a value; DNS_ERR_BAD_NAME); a DNS failure is no throw but a failed lookup.
 * SCTP targets are located but left out (not spoken); WebSocket is not located (RFC 7118 has no
 * RFC 3263 procedure): give its address with directDestination.
 */
export async function destinationsFor(resolver: DnsResolver, uri: SipUri, options: DestinationsOptions = {}): Promise<DestinationsResult> {
  const { receivedOn, tlsa = true, ...locateOptions } = options;
  const locatedOn = receivedOn === undefined ? undefined : locatorTransport(receivedOn);
  const located = await locate(resolver, locateInputOf(uri), { ...locateOptions, ...(locatedOn !== undefined ? { receivedOn: locatedOn } : {}) });
  const targets = sendableTargets(located.targets);
  const rrsets = await Promise.all(targets.map((t) => (tlsa && t.transport === 'tls' ? lookupTlsaForTarget(resolver, t) : Promise.resolve(undefined))));
  const destinations = targets.map((target, i): LocatedDestination => {
    const rrset = rrsets[i];
    const tlsTarget = target.transport === 'tls' ? serverTarget(uri.host, target, rrset) : undefined;
    return { destination: { transport: target.transport, address: target.address, port: target.port, ...(tlsTarget ? { tlsTarget } : {}) }, located: target };
  });
  const seen = new Set<string>();
  const tlsaFailures = rrsets.flatMap((r) => (r === undefined || (r.state !== 'bogus' && r.state !== 'indeterminate') || seen.has(r.name) ? [] : (seen.add(r.name), [tlsaStep(r)])));
  const failedLookups = [...located.lookups.filter((l) => l.result === 'failure' || l.state === 'bogus' || l.state === 'indeterminate'), ...tlsaFailures];
  return { destinations, located, failedLookups };
}

/** What a TLS destination's server is verified against: the URI's host as SIP domain, and what DNS proved. */
function serverTarget(sipDomain: string, target: SendableTarget, tlsa: TlsaRrset | undefined): ServerTarget {
  return {
    sipDomain,
    ...(target.srvHost !== undefined ? { srvHost: target.srvHost } : {}),
    dnsState: target.dnssec,
    ...(tlsa !== undefined ? { tlsa } : {}),
  };
}

function tlsaStep(rrset: TlsaRrset): LookupStep {
  return {
    name: rrset.name, type: 'TLSA', state: rrset.state, result: 'failure',
    ...(rrset.state === 'bogus' ? { failure: 'bogus' as const } : {}),
    ...(rrset.why !== undefined ? { why: rrset.why } : {}),
  };
}

function locatorTransport(transport: TransportProtocol): SipTransport {
  return transport === 'wss' ? 'tls' : transport === 'ws' ? 'tcp' : transport;
}

/**
 * A destination given by address instead of located (`sipsec options --to`, a configured next
 * hop): the transport the URI asks for (transportOf), its default port unless one is given, the
 * URI's host as the SIP domain to verify a TLS or WSS server against, and for WebSocket the URI's
 * host as the handshake's Host (RFC 7118).
 */
export function directDestination(uri: SipUri, to: { readonly address: string; readonly port?: number | undefined }): Destination {
  const transport = transportOf(uri);
  return {
    transport,
    address: to.address,
    port: to.port ?? DEFAULT_PORT[transport],
    ...(isSecureTransport(transport) ? { tlsTarget: { sipDomain: uri.host } } : {}),
    ...(transport === 'ws' || transport === 'wss' ? { wsHost: uri.host } : {}),
  };
}

/**
 * The transport a URI asks for: sips means TLS, or WSS with transport=ws (RFC 7118 section 5.2
 * defines only `ws`; `sips:` makes it secure); transport=wss is accepted as WSS too; UDP when the
 * URI says nothing (RFC 3263 section 4.1 for a numeric host).
 */
export function transportOf(uri: SipUri): TransportProtocol {
  const param = uri.param('transport');
  const asked = typeof param === 'string' ? param.toLowerCase() : undefined;
  if (asked === 'ws' || asked === 'wss') return uri.scheme === 'sips' || asked === 'wss' ? 'wss' : 'ws';
  if (uri.scheme === 'sips') return 'tls';
  if (asked === 'udp' || asked === 'tcp' || asked === 'tls') return asked;
  return 'udp';
}
