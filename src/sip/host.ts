import type { HostKind } from './uri.js';

/**
 * Classifies a host written without brackets: an IPv4 address (four decimal octets, no leading
 * zeros beyond one digit, each at most 255), a host name (RFC 3261 hostname: labels of alphanumerics
 * and inner hyphens, the top label starting with a letter, an optional trailing dot), or neither.
 * One pass over the characters: this runs for every URI and Via on the hot path.
 */
export function classifyHost(host: string): Exclude<HostKind, 'ipv6'> | undefined {
  const n = host.length;
  if (n === 0) return undefined;
  let allDigitsAndDots = true;
  let labelStart = 0;
  let labels = 0;
  let topStartsWithLetter = false;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? host.charCodeAt(i) : 46; /* a virtual dot closes the last label */
    if (c === 46) {
      if (i === labelStart) {
        // An empty label is only allowed as the trailing dot of a fully qualified name.
        if (i === n && labels > 0) break;
        return undefined;
      }
      if (host.charCodeAt(labelStart) === 45 || host.charCodeAt(i - 1) === 45) return undefined;
      const first = host.charCodeAt(labelStart);
      topStartsWithLetter = (first >= 65 && first <= 90) || (first >= 97 && first <= 122);
      labels++;
      labelStart = i + 1;
      continue;
    }
    if (c >= 48 && c <= 57) continue;
    allDigitsAndDots = false;
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45)) return undefined;
  }
  if (allDigitsAndDots) return isDottedQuad(host) ? 'ipv4' : undefined;
  return topStartsWithLetter ? 'domain' : undefined;
}

function isDottedQuad(host: string): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      octets++;
      value = 0;
      digits = 0;
    } else {
      // A leading zero would read as octal in some stacks: 192.0.2.01 is not an IPv4 address.
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 48);
      digits++;
    }
  }
  return octets === 4 && !host.endsWith('.');
}
