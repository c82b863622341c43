import { normalizeName } from './dns-name.js';
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
