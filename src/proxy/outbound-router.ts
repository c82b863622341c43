/**
 * The proxy's way to another domain: RFC 3263 location of the Request-URI (or the top Route) with
 * TLS first (draft-johansson-dispatch-dane-sip Appendix A), and only TLS: a hop between two
 * domains is always verified TLS (issue 13 item 7), so a UDP or TCP target that DNS also offers is
 * never a fallback for a TLS one that failed verification (that would let whoever breaks the TLS
 * hop choose the cleartext one). A domain that offers no TLS target gets no destination, and the
 * core answers `tls-required-not-offered`.
 *
 * On top of that, the DNSSEC policies of draft-johansson (seed 004, issue 15 item 5):
 * `require-dnssec` keeps only destinations whose NAPTR/SRV/address chain is secure, `require-dane`
 * only those with a usable TLSA RRset over a secure chain; when none is left the result carries
 * the refusal. The rules that hold whatever the policies (bogus aborts, a TLSA RRset is never
 * bypassed) are the verifier's (src/tls/verify-peer.ts); each destination's `rule` says which of
 * them its server will be verified by.
 */
import type { DnssecState } from '../dns/dnssec-state.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { SipUri } from '../sip/uri.js';
import { DEFAULT_TLS_POLICY } from '../tls/policy.js';
import { selectUsableRecords } from '../tls/tlsa.js';
import type { ClientCertificate, SecurityRequirement } from '../transport/transport-context.js';
import { destinationsFor, type LocatedDestination } from '../ua/destinations.js';
import type { HopRule, OutboundDestinations, OutboundQuery, OutboundRefusal, OutboundRouter } from './contracts.js';

export interface LocatingRouterOptions {
  readonly resolver: DnsResolver;
  /**
   * Our domains' certificates (lower-case domain to chain and key), presented as client
   * certificate on each hop (mutual TLS: RFC 5922 section 7.4 lets the far proxy check our
   * domain). The hop of a request presents its From domain's; a request whose From domain is not
   * ours presents the first entry's (see clientCertificateFor). Empty: the transport's default.
   */
  readonly clientCertificates?: ReadonlyMap<string, ClientCertificate>;
  /** `require-dnssec` (default off): no destination whose chain is not DNSSEC-secure. */
  readonly requireDnssec?: boolean;
  /** `require-dane` (default off): no destination without a usable TLSA RRset over a secure chain. */
  readonly requireDane?: boolean;
}

export class LocatingRouter implements OutboundRouter {
  readonly #resolver: DnsResolver;
  /**
   * One requirement object per domain, made once: the transport resolves a requirement once per
   * object, and reuses a connection only for the same requirement (so a connection opened with one
   * domain's certificate never carries another domain's requests).
   */
  readonly #security: ReadonlyMap<string, SecurityRequirement>;
  readonly #fallback: SecurityRequirement;
  readonly #requireDnssec: boolean;
  readonly #requireDane: boolean;

  constructor(options: LocatingRouterOptions) {
    this.#resolver = options.resolver;
    const security = new Map<string, SecurityRequirement>();
    for (const [domain, clientCertificate] of options.clientCertificates ?? []) {
      security.set(domain.toLowerCase(), Object.freeze({ tls: 'required', clientCertificate }));
    }
    this.#security = security;
    this.#fallback = security.values().next().value ?? Object.freeze({ tls: 'required' });
    this.#requireDnssec = options.requireDnssec ?? false;
    this.#requireDane = options.requireDane ?? false;
  }

  /**
   * The requirement of a hop for a request from `fromDomain`: its own certificate when the domain
   * is ours; otherwise the first domain's. A request whose From domain is not ours (an in-dialog
   * request of the far side relayed on, a request retargeted to a third domain) cannot be covered
   * by any certificate of ours, so a far proxy that checks the From domain against the client
   * certificate (draft-gurbani 5.2) refuses it whatever we present, unless its operator lets our
   * certificate speak for that domain (`peers`); the first domain's is the one identity of this
   * process that such an operator can name, and the one it presents to clients without SNI.
   */
  securityFor(fromDomain: string | undefined): SecurityRequirement {
    return (fromDomain === undefined ? undefined : this.#security.get(fromDomain.toLowerCase())) ?? this.#fallback;
  }

  async destinations(uri: SipUri, query: OutboundQuery): Promise<OutboundDestinations> {
    // Located as if it had come over TLS whatever it came on: TLS first for sip: URIs too.
    const result = await destinationsFor(this.#resolver, uri, { receivedOn: 'tls' });
    const security = this.securityFor(query.fromDomain);
    const tls = result.destinations.filter((d) => d.destination.transport === 'tls');
    const require = { dnssec: this.#requireDnssec, dane: this.#requireDane };
    const { kept, refusal } = applyDnssecPolicies(uri.host, tls, require);
    const destinations = kept.map((d) => ({ ...d, destination: { ...d.destination, security } }));
    return {
      ...result,
      destinations,
      hops: destinations.map((d) => ({ rule: hopRule(d), dnssec: d.located.dnssec })),
      require,
      ...(refusal !== undefined ? { refusal } : {}),
    };
  }
}

/**
 * The rule the verifier (verifyServer) applies to a destination's server, by what DNS proved:
 * `none` when the chain or the TLSA lookup is bogus or indeterminate (the hop aborts), `dane` when
 * both are secure and the RRset has records (then DANE only, never RFC 5922), else `rfc5922`.
 * This is the decision under the proxy's TLS policy, the default one (DANE on, no RFC 5922 for a
 * secure RRset without usable records); the proxy has no key to change it.
 */
export function hopRule(d: LocatedDestination): HopRule {
  const target = d.destination.tlsTarget;
  const chain = target?.dnsState ?? d.located.dnssec;
  const tlsa = target?.tlsa;
  if (failed(chain) || (tlsa !== undefined && failed(tlsa.state))) return 'none';
  return chain === 'secure' && tlsa?.state === 'secure' && tlsa.records.length > 0 ? 'dane' : 'rfc5922';
}

/** A TLSA RRset DANE can use: its chain and its own lookup secure, at least one record sipsec can match. */
export function hasUsableTlsa(d: LocatedDestination): boolean {
  const tlsa = d.destination.tlsTarget?.tlsa;
  if (d.located.dnssec !== 'secure' || tlsa?.state !== 'secure') return false;
  return selectUsableRecords(tlsa.records, DEFAULT_TLS_POLICY.digestPreference).usable.length > 0;
}

/**
 * require-dnssec first (a chain that is not secure can prove no TLSA either), then require-dane.
 * Only when the policy leaves no destination at all is there a refusal; its detail names what the
 * first destination lacked.
 */
export function applyDnssecPolicies(
  domain: string,
  destinations: readonly LocatedDestination[],
  require: { readonly dnssec: boolean; readonly dane: boolean },
): { kept: readonly LocatedDestination[]; refusal?: OutboundRefusal } {
  let kept = destinations;
  if (kept.length === 0) return { kept };
  if (require.dnssec) {
    const secure = kept.filter((d) => d.located.dnssec === 'secure');
    if (secure.length === 0) {
      const first = kept[0] as LocatedDestination;
      const weak = first.located.lookups.find((l) => l.state !== 'secure');
      const why = weak === undefined ? first.located.dnssec : `${weak.type} ${weak.name} is ${weak.state}`;
      return { kept: [], refusal: { word: 'dnssec-required', detail: `the DNS chain of ${domain} is not DNSSEC-secure (${why})` } };
    }
    kept = secure;
  }
  if (require.dane) {
    const usable = kept.filter(hasUsableTlsa);
    if (usable.length === 0) {
      const first = kept[0] as LocatedDestination;
      const tlsa = first.destination.tlsTarget?.tlsa;
      const why = first.located.dnssec !== 'secure'
        ? `the DNS chain is ${first.located.dnssec}`
        : tlsa === undefined || tlsa.records.length === 0 ? `no TLSA at ${tlsa?.name ?? `_${first.destination.port}._tcp.${first.located.hostName ?? domain}`}`
          : tlsa.state !== 'secure' ? `TLSA ${tlsa.name} is ${tlsa.state}` : `no usable record in TLSA ${tlsa.name}`;
      return { kept: [], refusal: { word: 'dane-required', detail: `${domain} has no usable TLSA RRset (${why})` } };
    }
    kept = usable;
  }
  return { kept };
}

function failed(state: DnssecState): boolean {
  return state === 'bogus' || state === 'indeterminate';
}
