import { paramValue } from '../sip/header-scanner.js';
import type { Via } from '../sip/via.js';
import type { Destination, TransportContext, TransportProtocol } from '../transport/transport-context.js';

/** Default ports of RFC 3261 section 19.1.2 / 18.2.2 when sent-by has none. */
const SIP_PORT = 5060;
const SIPS_PORT = 5061;

export interface ResponseDestinationOptions {
  /** Send UDP responses to the top Via's `maddr` (RFC 3261 section 18.2.2); default false. */
  readonly honourMaddr?: boolean;
}

/**
 * Where the responses of a server transaction go, RFC 3261 section 18.2.2 with RFC 3581 rport,
 * from the request's top Via and the context it arrived with:
 *
 * - Reliable transports: back on the connection the request came on (`connectionId`). Should that
 *   connection be gone, the transport opens one to the received address (the source) and the
 *   sent-by port, or 5060/5061.
 * - `maddr` in the Via, only when `honourMaddr` is set: to that address, the sent-by port or 5060
 *   (multicast). Off by default: any peer may write any address there, so honouring it lets an
 *   unauthenticated sender aim our responses (and their retransmissions) at a third party, a
 *   reflection and amplification tool. A proxy at a domain's edge answers the source instead.
 * - UDP with `rport` (RFC 3581 section 4): to the source address and source port.
 * - UDP otherwise: to the received address, the sent-by port or 5060.
 *
 * The received address is always the source address: section 18.2.1 makes the server add
 * `received` whenever sent-by differs from the source (a domain name always does), so this helper
 * reads the source from the context instead of resolving sent-by (section 18.2.2's RFC 3263
 * section 5 fallback is therefore not needed).
 */
export function responseDestination(via: Via, ctx: TransportContext, options: ResponseDestinationOptions = {}): Destination {
  const transport: TransportProtocol = ctx.transport;
  const defaultPort = transport === 'tls' || transport === 'wss' ? SIPS_PORT : SIP_PORT;
  if (transport !== 'udp') {
    return {
      transport,
      address: ctx.remote.address,
      port: via.port ?? defaultPort,
      ...(ctx.connectionId === undefined ? {} : { connectionId: ctx.connectionId }),
    };
  }
  const maddr = options.honourMaddr === true ? paramValue(via.params, 'maddr') : undefined;
  if (typeof maddr === 'string' && maddr.length > 0) {
    return { transport, address: maddr.replace(/^\[(.*)\]$/, '$1'), port: via.port ?? defaultPort };
  }
  if (paramValue(via.params, 'rport') !== undefined) {
    return { transport, address: ctx.remote.address, port: ctx.remote.port };
  }
  return { transport, address: ctx.remote.address, port: via.port ?? defaultPort };
}
