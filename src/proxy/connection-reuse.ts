/**
 * The proxy's side of RFC 5923 (policy `connection-reuse`): our requests to another domain offer
 * their connection for the far proxy's requests back (Via `alias`) when the far side
 * authenticates us by our client certificate, so that the alias it honours is mutual TLS. The
 * inbound side (which aliases are honoured, and which connection carries a send) is the
 * transport's: src/transport/connection-reuse.ts.
 */
import type { Destination } from '../transport/transport-context.js';
import type { OutboundRouter } from './contracts.js';

/** Whether a request sent to `destination` offers its connection: TLS, presenting our client certificate. */
export function offersAlias(destination: Destination): boolean {
  const certificate = destination.security?.clientCertificate;
  return destination.transport === 'tls' && typeof certificate === 'object';
}

/** The router's destinations, those that qualify marked `offersAlias` (the core's Via then carries `alias`). */
export function offeringAliases(router: OutboundRouter): OutboundRouter {
  return {
    destinations: async (uri, query) => {
      const result = await router.destinations(uri, query);
      const destinations = result.destinations.map((d) => (offersAlias(d.destination) ? { ...d, destination: { ...d.destination, offersAlias: true } } : d));
      return { ...result, destinations };
    },
  };
}
