import { DnsError } from './errors.js';

/** Lowercase, without the trailing dot: the one spelling names have inside sipsec. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Checks a name before it is sent: at most 253 characters in text form (255 octets on the wire),
 * labels of 1 to 63 octets (RFC 1035 section 2.3.4), printable ASCII. Underscore labels (`_sips`,
 * `_5061`) are allowed, as SRV and TLSA need them. Returns the normalized name.
 */
export function checkDnsName(name: string): string {
  const normalized = normalizeName(name);
  if (normalized.length === 0 || normalized.length > 253) {
    throw new DnsError('DNS_ERR_BAD_NAME', `bad DNS name ${JSON.stringify(name)}: length ${normalized.length}`);
  }
  for (const label of normalized.split('.')) {
    if (label.length === 0 || label.length > 63 || !/^[\x21-\x7e]+$/.test(label)) {
      throw new DnsError('DNS_ERR_BAD_NAME', `bad DNS name ${JSON.stringify(name)}: label ${JSON.stringify(label)}`);
    }
  }
  return normalized;
}

/** The reverse-lookup name of an IPv4 or IPv6 address (RFC 1035 section 3.5, RFC 3596 section 2.5). */
export function reverseName(address: string, family: 4 | 6): string {
  if (family === 4) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = expandIpv6Groups(address);
  const nibbles = groups.join('').split('').reverse().join('.');
  return `${nibbles}.ip6.arpa`;
}

function expandIpv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return all.map((g) => g.padStart(4, '0').toLowerCase());
}
