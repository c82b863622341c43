import { normalizeName } from './dns-name.js';
import type { LocatedTarget } from './locator.js';
import type { DnsResolver } from './resolver.js';
import type { TlsaRrset } from './tlsa-record.js';

/** The TLSA owner name for a service (RFC 6698 section 3, RFC 7673 section 3.3): `_port._tcp.host`. */
export function tlsaName(port: number, host: string, protocol: 'tcp' | 'udp' | 'sctp' = 'tcp'): string {
  return `_${port}._${protocol}.${normalizeName(host)}`;
}

/**
 * Looks up the TLSA RRset of `host` at `port` with its DNSSEC state. A denial gives no records with
 * the denial's state (`secure` only when proven); `bogus` and `indeterminate` give no records and
 * the reason, and RFC 7673 section 3.4 says the client MUST NOT connect to that target then.
 *
 * Per RFC 7673 section 3.2, call this only for a target whose address lookup was `secure`; the
 * locator's targets carry that state (`dnssec`).
 */
export async function lookupTlsa(
  resolver: DnsResolver, host: string, port: number, protocol: 'tcp' | 'udp' | 'sctp' = 'tcp',
): Promise<TlsaRrset> {
  const name = tlsaName(port, host, protocol);
  const answer = await resolver.query(name, 'TLSA');
  switch (answer.kind) {
    case 'records':
      return { name, state: answer.state, records: answer.records };
    case 'nxdomain':
    case 'nodata':
      return answer.why === undefined ? { name, state: answer.state, records: [] } : { name, state: answer.state, records: [], why: answer.why };
    case 'failure':
      return { name, state: answer.state, records: [], why: answer.why };
  }
}

/**
 * The TLSA RRset for a located target, or undefined when DANE cannot apply to it: the target is
 * not TLS, or the lookups that led to it were not all `secure` (RFC 7673 section 3.2: no TLSA
 * query then), or it has no host name (a numeric TARGET). The base name is the SRV host, else the
 * name whose address record was used (RFC 7673 section 3.3, RFC 6698 section 3).
 */
export async function lookupTlsaForTarget(resolver: DnsResolver, target: LocatedTarget): Promise<TlsaRrset | undefined> {
  if (target.transport !== 'tls' && target.transport !== 'tls-sctp') return undefined;
  const host = target.srvHost ?? target.hostName;
  if (target.dnssec !== 'secure' || host === undefined) return undefined;
  return lookupTlsa(resolver, host, target.port, target.transport === 'tls' ? 'tcp' : 'sctp');
}
