import { codesOf } from './char-codes.js';
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

/**
 * Four decimal octets of a host made of digits and dots only (so ASCII): read through the shared
 * codes of char-codes.ts. A fast path reading those codes must not call this before it is done
 * with them (checkVia, which may, runs after the Via fast path's last read).
 */
function isDottedQuad(host: string): boolean {
  const codes = codesOf(host);
  return codes !== undefined && isDottedQuadAt(codes, 0, host.length);
}

/** Whether codes[start, end), a run of digits and dots (char-codes.ts), is a dotted quad. */
function isDottedQuadAt(codes: Uint8Array, start: number, end: number): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? (codes[i] as number) : 46;
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
  return octets === 4 && codes[end - 1] !== 46;
}

/**
 * The end of the host that starts at codes[start] (char-codes.ts), read in one pass with its
 * classification: the longest run of letters, digits, '-' and '.' there, when classifyHost accepts
 * that run; -1 when it does not (or the run is empty). Otherwise a ScannedHost: read it with
 * scannedHostEnd and scannedHostIsIpv4 only, so that the URI and Via fast paths learn both without
 * a second pass or an allocation. Positions are indexes into codes.
 */
export function scanHost(codes: Uint8Array, start: number): ScannedHost {
  let i = start;
  let labelStart = start;
  let digitsAndDots = true;
  let topStartsWithLetter = false;
  for (;;) {
    // Past the end of codes reads undefined, which no branch below takes for a character.
    const c = codes[i] as number;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 45) {
      digitsAndDots = false;
      i++;
    } else if (c >= 48 && c <= 57) {
      i++;
    } else if (i === labelStart) {
      // An empty label: only the trailing dot of a fully qualified name leaves one.
      if (c === 46 || i === start) return -1;
      break;
    } else {
      if (codes[labelStart] === 45 || codes[i - 1] === 45) return -1;
      const first = codes[labelStart] as number;
      topStartsWithLetter = (first >= 65 && first <= 90) || (first >= 97 && first <= 122);
      if (c !== 46) break;
      labelStart = ++i;
    }
  }
  if (digitsAndDots) return isDottedQuadAt(codes, start, i) ? (i << 1) | 1 : -1;
  return topStartsWithLetter ? i << 1 : -1;
}

/**
 * What scanHost found, in one number: the end shifted left one bit, the low bit set for an IPv4
 * address (-1: no host). Its encoding is private to this module; the two readers below are the only decoders.
 * Functions rather than an object: a call this small is inlined where it is used, an object per
 * host would be an allocation on every URI and Via.
 */
export type ScannedHost = number;

/** One past the last character of the host scanHost read (an index into codes). */
export function scannedHostEnd(scanned: ScannedHost): number {
  return scanned >> 1;
}

/** Whether the host scanHost read is an IPv4 address (else a host name). */
export function scannedHostIsIpv4(scanned: ScannedHost): boolean {
  return (scanned & 1) === 1;
}

/**
 * Reads `:port` at codes[colon] (the index of the colon) as 1 to 5 digits up to 65535, without
 * allocating: -1 when it is not one, else a ScannedPort, read with scannedPortEnd and
 * scannedPortValue.
 */
export function scanPort(codes: Uint8Array, colon: number): ScannedPort {
  let i = colon + 1;
  let value = 0;
  let c = codes[i] as number;
  while (c >= 48 && c <= 57) {
    value = value * 10 + (c - 48);
    c = codes[++i] as number;
  }
  if (i === colon + 1 || i - colon - 1 > 5 || value > 65535) return -1;
  return i * 65536 + value;
}

/** What scanPort found: `end * 65536 + port`, private to this module like ScannedHost (-1: none). */
export type ScannedPort = number;

/** One past the last digit of the port scanPort read (an index into codes). */
export function scannedPortEnd(scanned: ScannedPort): number {
  return Math.floor(scanned / 65536);
}

/** The port number scanPort read, 0 to 65535. */
export function scannedPortValue(scanned: ScannedPort): number {
  return scanned % 65536;
}
