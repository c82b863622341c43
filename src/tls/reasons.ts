/**
 * Why a peer was or was not authenticated: one structured value per finding, in the project's
 * verdict vocabulary (docs/TLS-VERIFICATION.md, DESIGN.md "One vocabulary for verdicts").
 * The list of codes is append-only; text is rendered from the fields, never parsed.
 */

/** The TLSA certificate usages by their RFC 7218 acronyms, lower-cased (RFC 6698 section 2.1.1). */
export type TlsaUsageName = 'pkix-ta' | 'pkix-ee' | 'dane-ta' | 'dane-ee';

export type Reason =
  // RFC 5922 identity
  | { readonly code: 'name-mismatch'; readonly referenceIdentities: readonly string[]; readonly presentedIdentities: readonly string[]; readonly detail?: string }
  | { readonly code: 'no-identity'; readonly referenceIdentities: readonly string[] }
  /** No reference identity was given at all, and the check needs one (DANE-TA, PKIX-TA, PKIX-EE, a client's accepted domains). */
  | { readonly code: 'no-reference-identity' }
  | { readonly code: 'wildcard-refused'; readonly presented: string; readonly referenceIdentity: string }
  /** Informational: the policy's allowWildcard opt-in let a single left-most `*` label match. */
  | { readonly code: 'wildcard-accepted'; readonly presented: string; readonly referenceIdentity: string }
  | { readonly code: 'cn-ignored-san-present'; readonly commonName: string }
  | { readonly code: 'uri-san-has-user'; readonly uri: string }
  | { readonly code: 'uri-san-not-sip'; readonly uri: string }
  // PKIX path
  | { readonly code: 'expired'; readonly depth: number; readonly subject: string; readonly notAfter: string }
  | { readonly code: 'not-yet-valid'; readonly depth: number; readonly subject: string; readonly notBefore: string }
  | { readonly code: 'unknown-ca'; readonly depth: number; readonly issuer: string; readonly detail?: string }
  | { readonly code: 'chain-too-deep'; readonly depth: number; readonly maxDepth: number; readonly subject?: string }
  /** A CA's pathLenConstraint (RFC 5280 4.2.1.9): `intermediates` non-self-issued CAs below it, `pathLen` allowed. */
  | { readonly code: 'path-length-exceeded'; readonly depth: number; readonly subject: string; readonly pathLen: number; readonly intermediates: number }
  | { readonly code: 'bad-signature'; readonly depth: number; readonly subject: string }
  | { readonly code: 'not-a-ca'; readonly depth: number; readonly subject: string; readonly detail: string }
  | { readonly code: 'wrong-purpose'; readonly depth: number; readonly subject: string; readonly detail: string }
  | { readonly code: 'unsupported-critical-extension'; readonly depth: number; readonly subject: string; readonly oid: string }
  // DANE
  | { readonly code: 'dane-match'; readonly usage: TlsaUsageName; readonly depth: number; readonly record: string }
  | { readonly code: 'dane-no-match'; readonly usableRecords: number }
  | { readonly code: 'dane-no-usable-records'; readonly ignoredRecords: number }
  | { readonly code: 'dnssec-bogus'; readonly what: DnsLookupRole; readonly why?: string }
  | { readonly code: 'dnssec-indeterminate'; readonly what: DnsLookupRole; readonly why?: string }
  // transport
  | { readonly code: 'tls-handshake-failed'; readonly detail: string }
  | { readonly code: 'tls-timeout'; readonly timeoutMs: number }
  | { readonly code: 'no-client-certificate' };

export type ReasonCode = Reason['code'];

/**
 * How to read a reason. `error`: a check failed; a verdict that is not authenticated has at least
 * one. `note`: context that never fails a verdict by itself (which identity was skipped and why, the
 * record that matched, a wildcard the policy allowed), present on passing verdicts too.
 */
export type ReasonSeverity = 'error' | 'note';

export function reasonSeverity(reason: Reason): ReasonSeverity {
  switch (reason.code) {
    case 'wildcard-accepted':
    case 'cn-ignored-san-present':
    case 'uri-san-has-user':
    case 'uri-san-not-sip':
    case 'dane-match':
      return 'note';
    default:
      return 'error';
  }
}

/** Which lookup a DNSSEC failure concerns: the NAPTR/SRV/address chain or the TLSA RRset. */
export type DnsLookupRole = 'dns-chain' | 'tlsa';

/** Names of extensions a certificate may carry that sipsec does not process, for messages only. */
const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.31': 'cRLDistributionPoints: revocation is not checked',
  '2.5.29.32': 'certificatePolicies: policies are not evaluated',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.33': 'policyMappings',
  '2.5.29.54': 'inhibitAnyPolicy',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.9': 'subjectDirectoryAttributes',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess: OCSP is not used',
  '1.3.6.1.4.1.11129.2.4.2': 'certificate transparency SCT list',
};

/** One line of text for a reason, e.g. for logs, `sipsec cert verify` and Warning headers. */
export function renderReason(reason: Reason): string {
  switch (reason.code) {
    case 'name-mismatch':
      return `name-mismatch: none of [${reason.referenceIdentities.join(', ')}] matches the certificate's identities [${reason.presentedIdentities.join(', ')}]${reason.detail ? ` (${reason.detail})` : ''}`;
    case 'no-identity':
      return `no-identity: the certificate holds no SIP domain identity (reference: ${reason.referenceIdentities.join(', ')})`;
    case 'no-reference-identity':
      return 'no-reference-identity: no name was given to match the certificate against, and this check needs one';
    case 'wildcard-refused':
      return `wildcard-refused: ${reason.presented} is a wildcard and does not match ${reason.referenceIdentity} (RFC 5922 section 7.2)`;
    case 'wildcard-accepted':
      return `wildcard-accepted: ${reason.presented} matched ${reason.referenceIdentity} because the policy allows a left-most wildcard`;
    case 'cn-ignored-san-present':
      return `cn-ignored-san-present: CN ${reason.commonName} is not an identity because the certificate has a subjectAltName`;
    case 'uri-san-has-user':
      return `uri-san-has-user: ${reason.uri} names a user, not a domain`;
    case 'uri-san-not-sip':
      return `uri-san-not-sip: ${reason.uri} is not a sip URI`;
    case 'expired':
      return `expired: certificate at depth ${reason.depth} (${reason.subject}) expired at ${reason.notAfter}`;
    case 'not-yet-valid':
      return `not-yet-valid: certificate at depth ${reason.depth} (${reason.subject}) is valid from ${reason.notBefore}`;
    case 'unknown-ca':
      return `unknown-ca: no trusted issuer for the certificate at depth ${reason.depth} (issuer ${reason.issuer})${reason.detail ? `: ${reason.detail}` : ''}`;
    case 'chain-too-deep':
      return `chain-too-deep: the trust anchor would sit at depth ${reason.depth}, more than ${reason.maxDepth}${reason.subject ? ` (${reason.subject})` : ''}`;
    case 'path-length-exceeded':
      return `path-length-exceeded: the CA at depth ${reason.depth} (${reason.subject}) allows ${reason.pathLen} intermediate CA certificate(s) below it (pathLenConstraint) and the path has ${reason.intermediates}`;
    case 'bad-signature':
      return `bad-signature: the signature of the certificate at depth ${reason.depth} (${reason.subject}) does not verify`;
    case 'not-a-ca':
      return `not-a-ca: the certificate at depth ${reason.depth} (${reason.subject}) may not issue certificates: ${reason.detail}`;
    case 'wrong-purpose':
      return `wrong-purpose: the certificate at depth ${reason.depth} (${reason.subject}): ${reason.detail}`;
    case 'unsupported-critical-extension':
      return `unsupported-critical-extension: the certificate at depth ${reason.depth} (${reason.subject}) marks extension ${reason.oid}${EXTENSION_NAMES[reason.oid] ? ` (${EXTENSION_NAMES[reason.oid]})` : ''} critical, and sipsec does not process it (RFC 5280 section 4.2)`;
    case 'dane-match':
      return `dane-match: ${reason.usage} record ${reason.record} matched the certificate at depth ${reason.depth}`;
    case 'dane-no-match':
      return `dane-no-match: none of ${reason.usableRecords} usable TLSA records matched`;
    case 'dane-no-usable-records':
      return `dane-no-usable-records: the secure TLSA RRset has no usable record (${reason.ignoredRecords} ignored)`;
    case 'dnssec-bogus':
      return `dnssec-bogus: the ${reason.what === 'tlsa' ? 'TLSA RRset' : 'NAPTR/SRV/address chain'} failed DNSSEC validation${reason.why ? `: ${reason.why}` : ''}`;
    case 'dnssec-indeterminate':
      return `dnssec-indeterminate: the DNSSEC state of the ${reason.what === 'tlsa' ? 'TLSA RRset' : 'NAPTR/SRV/address chain'} is unknown${reason.why ? `: ${reason.why}` : ''}`;
    case 'tls-handshake-failed':
      return `tls-handshake-failed: ${reason.detail}`;
    case 'tls-timeout':
      return `tls-timeout: no TLS handshake within ${reason.timeoutMs} ms`;
    case 'no-client-certificate':
      return 'no-client-certificate: the peer presented no certificate';
  }
}
