/**
 * SIP domain identities in a certificate (RFC 5922 section 7.1) and their comparison with a
 * reference identity (section 7.2), plus the host-name check that DANE-TA applies to the SRV
 * target (draft-johansson-dispatch-dane-sip section 8, RFC 7673 section 4.1).
 *
 * Node's tls.checkServerIdentity is not used: it follows HTTPS rules and ignores URI
 * subjectAltNames since the CVE-2021-44531 fix.
 */
import { domainToASCII } from 'node:url';
import type { ParsedCertificate } from './certificate.js';
import type { Reason } from './reasons.js';

/** Where a matched identity came from. */
export type IdentitySource = 'san-uri' | 'san-dns' | 'cn';

export interface IdentityOptions {
  /** Let a single left-most `*` label of a dNSName (or CN) match one label. Off by default (RFC 5922 7.2). */
  readonly allowWildcard: boolean;
}

export type IdentityMatch =
  | { readonly matched: true; readonly identity: string; readonly source: IdentitySource; readonly wildcard: boolean; readonly notes: readonly Reason[] }
  | { readonly matched: false; readonly reasons: readonly Reason[] };

/** Lower case, no trailing dot, IDNs as A-labels (RFC 4343 case rules, RFC 5280 section 7.2). */
export function normalizeDnsName(name: string): string {
  let lower = name.trim().toLowerCase();
  if (lower.endsWith('.')) lower = lower.slice(0, -1);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(lower)) {
    const ascii = domainToASCII(lower);
    if (ascii !== '') lower = ascii;
  }
  return lower;
}

/** The host of a `sip:` URI without a user part, or why it is not a SIP domain identity. */
export function sipUriDomain(uri: string): { readonly host: string } | { readonly refused: Reason } {
  const colon = uri.indexOf(':');
  const scheme = colon < 0 ? '' : uri.slice(0, colon).toLowerCase();
  if (scheme !== 'sip') return { refused: { code: 'uri-san-not-sip', uri } };
  let rest = uri.slice(colon + 1);
  if (rest.includes('@')) return { refused: { code: 'uri-san-has-user', uri } };
  // Drop parameters and headers (RFC 3261 section 19.1.1); the port is not part of the identity.
  rest = rest.split(/[;?]/, 1)[0] ?? '';
  if (rest.startsWith('[')) return { host: rest.slice(0, rest.indexOf(']') + 1).toLowerCase() };
  const host = rest.split(':', 1)[0] ?? '';
  return { host: normalizeDnsName(host) };
}

/** The SIP domain identities of a certificate by RFC 5922 section 7.1, and notes on what was skipped. */
export interface SipDomainIdentities {
  readonly identities: readonly string[];
  readonly source: IdentitySource | 'none';
  /** uri-san-has-user / uri-san-not-sip for every URI entry that was not accepted. */
  readonly skipped: readonly Reason[];
}

export function extractSipDomainIdentities(cert: ParsedCertificate): SipDomainIdentities {
  const uriHosts: string[] = [];
  const skipped: Reason[] = [];
  for (const uri of cert.sanUris) {
    const parsed = sipUriDomain(uri);
    if ('host' in parsed) uriHosts.push(parsed.host);
    else skipped.push(parsed.refused);
  }
  // Step 1: sip URIs first; dNSName "if and only if no other identity is found that matches the sip URI type".
  if (uriHosts.length > 0) return { identities: uriHosts, source: 'san-uri', skipped };
  if (cert.sanDnsNames.length > 0) return { identities: cert.sanDnsNames.map(normalizeDnsName), source: 'san-dns', skipped };
  // Step 2: the CN "if and only if the subjectAltName does not appear in the certificate".
  if (!cert.hasSubjectAltName) {
    const cns = cert.commonNames.map(normalizeDnsName).filter(isDnsName);
    if (cns.length > 0) return { identities: cns, source: 'cn', skipped };
  }
  return { identities: [], source: 'none', skipped };
}

/** Compares the SIP domain of the AUS with the certificate by RFC 5922 sections 7.1 to 7.3. */
export function matchSipDomain(cert: ParsedCertificate, domain: string, options: IdentityOptions): IdentityMatch {
  const reference = normalizeDnsName(domain);
  const found = extractSipDomainIdentities(cert);
  if (found.source === 'none') {
    return { matched: false, reasons: [{ code: 'no-identity', referenceIdentities: [reference] }, ...found.skipped, ...cnNotes(cert, [reference])] };
  }
  const direct = matchExtractedIdentities(found, reference, options);
  if (direct.matched) return direct;
  const reasons: Reason[] = direct.reasons.filter((r) => r.code !== 'name-mismatch' && r.code !== 'no-identity');
  const source = found.source;
  const ignoredDns = source === 'san-uri' ? cert.sanDnsNames.map(normalizeDnsName).filter((n) => n === reference) : [];
  reasons.unshift({
    code: 'name-mismatch',
    referenceIdentities: [reference],
    presentedIdentities: found.identities,
    ...(ignoredDns.length > 0 ? { detail: 'a dNSName matches, but RFC 5922 section 7.1 uses dNSNames only when no sip URI identity is present' } : {}),
  });
  reasons.push(...found.skipped.filter((r) => skippedUriHostIs(r, reference)), ...cnNotes(cert, [reference]));
  return { matched: false, reasons };
}

/**
 * RFC 5922 section 7.2 against identities already extracted by section 7.1, as a verdict's
 * `peerIdentities` holds them: equal after normalization, or, under the wildcard opt-in, a `*.`
 * dNSName or CN (never a sip URI) standing for the one left-most label. What an inbound request's
 * From domain or Via host is compared with when only the verdict of its connection is at hand.
 */
export function matchExtractedIdentities(found: Pick<SipDomainIdentities, 'identities' | 'source'>, domain: string, options: IdentityOptions): IdentityMatch {
  const reference = normalizeDnsName(domain);
  const source = found.source;
  if (source === 'none') return { matched: false, reasons: [{ code: 'no-identity', referenceIdentities: [reference] }] };
  for (const presented of found.identities) {
    if (presented === reference) return { matched: true, identity: reference, source, wildcard: false, notes: [] };
  }
  const notes: Reason[] = [];
  if (source !== 'san-uri') {
    for (const presented of found.identities) {
      if (matchWildcard(presented, reference, options, notes)) return { matched: true, identity: reference, source, wildcard: true, notes };
    }
  }
  return { matched: false, reasons: [{ code: 'name-mismatch', referenceIdentities: [reference], presentedIdentities: found.identities }, ...notes] };
}

/**
 * The SRV target host name under DANE-TA: a subjectAltName dNSName, or the CN only when the
 * certificate has no subjectAltName (draft-johansson section 8).
 */
export function matchHostName(cert: ParsedCertificate, host: string, options: IdentityOptions): IdentityMatch {
  const reference = normalizeDnsName(host);
  const presented = cert.hasSubjectAltName
    ? cert.sanDnsNames.map(normalizeDnsName)
    : cert.commonNames.map(normalizeDnsName).filter(isDnsName);
  const source: IdentitySource = cert.hasSubjectAltName ? 'san-dns' : 'cn';
  if (presented.includes(reference)) return { matched: true, identity: reference, source, wildcard: false, notes: [] };
  const reasons: Reason[] = [];
  for (const name of presented) {
    if (matchWildcard(name, reference, options, reasons)) return { matched: true, identity: reference, source, wildcard: true, notes: reasons };
  }
  if (presented.length === 0) return { matched: false, reasons: [{ code: 'no-identity', referenceIdentities: [reference] }, ...cnNotes(cert, [reference])] };
  reasons.unshift({ code: 'name-mismatch', referenceIdentities: [reference], presentedIdentities: presented });
  reasons.push(...cnNotes(cert, [reference]));
  return { matched: false, reasons };
}

/** A reference identity and the rule that compares it. */
export interface ReferenceIdentity {
  readonly name: string;
  /** `sip-domain`: RFC 5922 rules; `host`: SRV target rules (dNSName, CN without SAN). */
  readonly kind: 'sip-domain' | 'host';
}

/**
 * Tries each reference identity in order; the first match wins. On failure the reasons are merged
 * into one name-mismatch (or no-identity) that lists every reference identity.
 */
export function matchAnyIdentity(cert: ParsedCertificate, references: readonly ReferenceIdentity[], options: IdentityOptions): IdentityMatch {
  if (references.length === 0) return { matched: false, reasons: [{ code: 'no-reference-identity' }] };
  const failures: Reason[] = [];
  for (const ref of references) {
    const result = ref.kind === 'sip-domain' ? matchSipDomain(cert, ref.name, options) : matchHostName(cert, ref.name, options);
    if (result.matched) return result;
    failures.push(...result.reasons);
  }
  const names = references.map((r) => normalizeDnsName(r.name));
  const presented = new Set<string>();
  let detail: string | undefined;
  const rest: Reason[] = [];
  for (const reason of failures) {
    if (reason.code === 'name-mismatch') {
      reason.presentedIdentities.forEach((p) => presented.add(p));
      detail ??= reason.detail;
    } else if (reason.code !== 'no-identity' && !rest.some((r) => JSON.stringify(r) === JSON.stringify(reason))) {
      rest.push(reason);
    }
  }
  const head: Reason = presented.size === 0
    ? { code: 'no-identity', referenceIdentities: names }
    : { code: 'name-mismatch', referenceIdentities: names, presentedIdentities: [...presented], ...(detail ? { detail } : {}) };
  return { matched: false, reasons: [head, ...rest] };
}

/** Every identity the certificate presents, for display: sip URI hosts, dNSNames, and the CN without SAN. */
export function presentedIdentities(cert: ParsedCertificate): string[] {
  const out = new Set<string>();
  for (const uri of cert.sanUris) {
    const parsed = sipUriDomain(uri);
    if ('host' in parsed) out.add(parsed.host);
  }
  cert.sanDnsNames.forEach((n) => out.add(normalizeDnsName(n)));
  if (!cert.hasSubjectAltName) cert.commonNames.map(normalizeDnsName).filter(isDnsName).forEach((n) => out.add(n));
  return [...out];
}

function isDnsName(name: string): boolean {
  return /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(name);
}

/**
 * A presented `*.rest` against a reference `label.rest`: only a whole left-most label, never the
 * last two labels (`*.com`). Records wildcard-refused or wildcard-accepted in `notes`.
 */
function matchWildcard(presented: string, reference: string, options: IdentityOptions, notes: Reason[]): boolean {
  if (!presented.startsWith('*.')) return false;
  const suffix = presented.slice(2);
  if (suffix.split('.').length < 2 || suffix.includes('*')) return false;
  const dot = reference.indexOf('.');
  if (dot <= 0 || reference.slice(dot + 1) !== suffix) return false;
  if (!options.allowWildcard) {
    notes.push({ code: 'wildcard-refused', presented, referenceIdentity: reference });
    return false;
  }
  notes.push({ code: 'wildcard-accepted', presented, referenceIdentity: reference });
  return true;
}

function cnNotes(cert: ParsedCertificate, references: readonly string[]): Reason[] {
  if (!cert.hasSubjectAltName) return [];
  return cert.commonNames
    .filter((cn) => references.includes(normalizeDnsName(cn)))
    .map((commonName) => ({ code: 'cn-ignored-san-present', commonName }));
}

function skippedUriHostIs(reason: Reason, reference: string): boolean {
  if (reason.code !== 'uri-san-has-user' && reason.code !== 'uri-san-not-sip') return false;
  const at = reason.uri.lastIndexOf('@');
  const afterScheme = reason.uri.slice(reason.uri.indexOf(':') + 1);
  const hostPart = (at >= 0 ? reason.uri.slice(at + 1) : afterScheme.replace(/^\/\//, '')).split(/[;?:/]/, 1)[0] ?? '';
  return normalizeDnsName(hostPart) === reference;
}
