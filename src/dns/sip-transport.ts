import { DNS_LIMITS } from '../limits.js';
import { DnsError } from './errors.js';

/** The transports RFC 3263 locates: UDP, TCP, SCTP, and TLS over TCP or SCTP. */
export type SipTransport = 'udp' | 'tcp' | 'sctp' | 'tls' | 'tls-sctp';

export const ALL_TRANSPORTS: readonly SipTransport[] = ['tls', 'tcp', 'udp', 'tls-sctp', 'sctp'];

export function isTlsTransport(transport: SipTransport): boolean {
  return transport === 'tls' || transport === 'tls-sctp';
}

/** Default port of a transport (RFC 3261 section 19.1.2, RFC 3263 section 4.2). */
export function defaultPort(transport: SipTransport): number {
  return isTlsTransport(transport) ? DNS_LIMITS.sipsPort : DNS_LIMITS.sipPort;
}

/** The SRV service and protocol labels of a transport (RFC 3263 section 4.1): `_sips._tcp`. */
export function srvPrefix(transport: SipTransport): string {
  switch (transport) {
    case 'udp': return '_sip._udp';
    case 'tcp': return '_sip._tcp';
    case 'sctp': return '_sip._sctp';
    case 'tls': return '_sips._tcp';
    case 'tls-sctp': return '_sips._sctp';
  }
}

/**
 * The transport of a NAPTR service field (RFC 3263 section 4.1, IANA "SIP+D2X"), or undefined for
 * a service that is not SIP or not applicable. "SIPS+D2U" is discarded: TLS cannot run over UDP.
 */
export function transportOfNaptrService(services: string): SipTransport | undefined {
  switch (services.toUpperCase()) {
    case 'SIP+D2U': return 'udp';
    case 'SIP+D2T': return 'tcp';
    case 'SIP+D2S': return 'sctp';
    case 'SIPS+D2T': return 'tls';
    case 'SIPS+D2S': return 'tls-sctp';
    default: return undefined;
  }
}

/**
 * The transport a URI's `transport` parameter asks for (RFC 3261 section 19.1.1, RFC 3263 section
 * 4.1). A SIPS URI always means TLS (section 26.2.2): `transport=tcp` is TLS over TCP, and
 * `transport=udp` cannot be honoured. Throws DNS_ERR_BAD_TARGET for what cannot be located.
 */
export function transportOfParam(scheme: 'sip' | 'sips', param: string): SipTransport {
  const value = param.toLowerCase();
  if (scheme === 'sips') {
    if (value === 'tcp' || value === 'tls') return 'tls';
    if (value === 'sctp' || value === 'tls-sctp') return 'tls-sctp';
    if (value === 'udp') throw new DnsError('DNS_ERR_BAD_TARGET', 'a sips URI with transport=udp: TLS cannot run over UDP');
  } else {
    if (value === 'udp' || value === 'tcp' || value === 'sctp' || value === 'tls' || value === 'tls-sctp') return value;
  }
  throw new DnsError('DNS_ERR_BAD_TARGET', `transport=${param} is not located by RFC 3263`);
}
