import type { LocatedDestination } from '../ua/destinations.js';
import type { SipUri } from '../sip/uri.js';

/**
 * sip to sips promotion (draft-gurbani section 5.3, policy `promote-sips`): a request for another
 * domain that goes over TLS the domain itself chose through NAPTR/SRV is forwarded with a sips
 * Request-URI, so the far domain keeps TLS to the end (RFC 5630 section 3.1.3). Two steps, because
 * the destinations are located between them.
 */

/**
 * Whether `uri`, the hop, may be promoted at all: the policy is on, the hop is the Request-URI (no
 * Route left: a Route's URI is not what the far domain delivers), and it is a sip URI without a
 * `transport` parameter (one that names a transport was not chosen through NAPTR/SRV).
 */
export function isPromotable(uri: SipUri, options: { readonly promoteSips: boolean; readonly isRequestUri: boolean }): boolean {
  return options.promoteSips && options.isRequestUri && uri.scheme === 'sip' && uri.param('transport') === undefined;
}

/**
 * Whether every destination is TLS found through SRV (after NAPTR, or SRV alone): the far domain's
 * DNS said TLS. A target from an A/AAAA fallback, or any non-TLS one, is not.
 */
export function chosenThroughSrv(destinations: readonly LocatedDestination[]): boolean {
  return destinations.length > 0 && destinations.every((d) => d.destination.transport === 'tls' && d.located.srvHost !== undefined);
}

/** The promoted Request-URI (user, host, port and parameters kept), or undefined when TLS was not chosen through SRV. */
export function promotedRequestUri(uri: SipUri, throughSrv: boolean): SipUri | undefined {
  return throughSrv ? uri.withScheme('sips') : undefined;
}
