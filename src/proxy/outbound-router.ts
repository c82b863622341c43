/**
 * The proxy's way to another domain: RFC 3263 location of the Request-URI (or the top Route) with
 * TLS first (draft-johansson-dispatch-dane-sip Appendix A), and only TLS: a hop between two
 * domains is always verified TLS (issue 13 item 7), so a UDP or TCP target that DNS also offers is
 * never a fallback for a TLS one that failed verification (that would let whoever breaks the TLS
 * hop choose the cleartext one). A domain that offers no TLS target gets no destination, and the
 * core answers `tls-required-not-offered`.
 */
import type { DnsResolver } from '../dns/resolver.js';
import type { SipUri } from '../sip/uri.js';
import type { ClientCertificate, SecurityRequirement } from '../transport/transport-context.js';
import { destinationsFor, type DestinationsResult } from '../ua/destinations.js';
import type { OutboundQuery, OutboundRouter } from './contracts.js';

export interface LocatingRouterOptions {
  readonly resolver: DnsResolver;
  /** Presented on every hop (mutual TLS, RFC 5922 section 7.4 lets the far proxy check our domain). */
  readonly clientCertificate?: ClientCertificate;
}

export class LocatingRouter implements OutboundRouter {
  readonly #resolver: DnsResolver;
  readonly #security: SecurityRequirement;

  constructor(options: LocatingRouterOptions) {
    this.#resolver = options.resolver;
    // One object for every hop: the transport resolves a requirement once per object.
    this.#security = { tls: 'required', ...(options.clientCertificate !== undefined ? { clientCertificate: options.clientCertificate } : {}) };
  }

  async destinations(uri: SipUri, _query: OutboundQuery): Promise<DestinationsResult> {
    // Located as if it had come over TLS whatever it came on: TLS first for sip: URIs too.
    const result = await destinationsFor(this.#resolver, uri, { receivedOn: 'tls' });
    const destinations = result.destinations
      .filter((d) => d.destination.transport === 'tls')
      .map((d) => ({ ...d, destination: { ...d.destination, security: this.#security } }));
    return { ...result, destinations };
  }
}
