/**
 * The catalogue of findings `sipsec check` can report: a stable id, a severity, the RFC or draft
 * section behind it and how to fix it. docs/CHECK.md lists the same table; ids are append-only.
 */

export type Severity = 'error' | 'warning' | 'info' | 'pass';

export interface FindingSpec {
  readonly severity: Severity;
  readonly title: string;
  /** The RFC or draft section the finding rests on. */
  readonly ref: string;
  /** How to fix it; empty for pass and most info findings. */
  readonly fix: string;
}

/** One finding on one domain (or one target of it). */
export interface Finding {
  readonly id: FindingId;
  readonly severity: Severity;
  readonly title: string;
  readonly ref: string;
  /** `address:port` of the TLS target it concerns; absent for domain-wide findings. */
  readonly target?: string;
  /** What was seen. */
  readonly seen: string;
  /** How to fix it, with the specifics of this domain (e.g. the TLSA record to publish). */
  readonly fix: string;
}

export const FINDINGS = {
  'dns-bogus': {
    severity: 'error', title: 'DNSSEC validation failed (bogus)', ref: 'draft-johansson-dispatch-dane-sip-01 section 5; RFC 4035 section 5.5',
    fix: 'Re-sign the zone (expired or missing RRSIGs) or correct the DS at the parent; validating clients must abort.',
  },
  'dns-indeterminate': {
    severity: 'error', title: 'DNS answer could not be had (timeout, SERVFAIL)', ref: 'RFC 4035 section 4.3; RFC 3263 section 4.3',
    fix: 'Make every authoritative server of the zone answer; a client cannot tell an outage from an attack.',
  },
  'dns-no-answer': {
    severity: 'error', title: 'DNS question still unanswered when the check was cut short', ref: 'RFC 3263 section 4.3; sipsec check (docs/CHECK.md)',
    fix: 'Make every authoritative server of the zone answer promptly, or run again with a longer --timeout.',
  },
  'dns-insecure': {
    severity: 'warning', title: 'DNS chain not signed (insecure): DANE cannot apply', ref: 'draft-johansson-dispatch-dane-sip-01 section 5; RFC 7673 section 3.2',
    fix: 'Sign the zones of the SIP domain and of the SRV targets, and publish their DS records at the parents.',
  },
  'dns-secure': {
    severity: 'pass', title: 'DNS chain DNSSEC-secure', ref: 'draft-johansson-dispatch-dane-sip-01 section 5', fix: '',
  },
  'naptr-missing': {
    severity: 'info', title: 'No NAPTR records: clients go straight to SRV', ref: 'RFC 3263 section 4.1',
    fix: 'Optional: publish NAPTR "SIPS+D2T" pointing to _sips._tcp to state the preference for TLS.',
  },
  'srv-missing': {
    severity: 'warning', title: 'No SRV records for any SIP service: only the address fallback is left', ref: 'RFC 3263 section 4.2; RFC 3261 section 19.1.2',
    fix: 'Publish _sips._tcp SRV records naming the TLS servers and their ports.',
  },
  'no-target': {
    severity: 'error', title: 'No TLS target found in the DNS', ref: 'RFC 3263 section 4',
    fix: 'Publish _sips._tcp SRV records and the A/AAAA records of their targets.',
  },
  'tls-not-offered': {
    severity: 'error', title: 'SIP over TLS not offered', ref: 'RFC 3261 section 26.2; RFC 5630 section 3.1.3; draft-johansson-dispatch-dane-sip-01 appendix A',
    fix: 'Run a TLS listener (port 5061) and publish _sips._tcp SRV records (and a SIPS+D2T NAPTR if NAPTR is used).',
  },
  'plain-offered': {
    severity: 'warning', title: 'Also offered without TLS: a downgrade is possible', ref: 'RFC 5630 section 3.1.3; RFC 3261 section 26.3.2.1',
    fix: 'If every client you serve can use TLS, withdraw the UDP and TCP NAPTR/SRV records; otherwise know that an attacker can strip them back to plain SIP.',
  },
  'websocket-offered': {
    severity: 'info', title: 'WebSocket services published', ref: 'RFC 7118 section 5.5', fix: '',
  },
  'tlsa-missing': {
    severity: 'warning', title: 'DNS chain secure but no TLSA record: DANE-aware clients fall back to RFC 5922', ref: 'draft-johansson-dispatch-dane-sip-01 sections 6 and 7; RFC 7673 section 3',
    fix: 'Publish the TLSA record below (sipsec tlsa generate prints it) in the signed zone.',
  },
  'tlsa-mismatch': {
    severity: 'error', title: 'TLSA records exist but none matches the certificate', ref: 'draft-johansson-dispatch-dane-sip-01 section 7; RFC 6698 section 2.1; RFC 7671 section 8',
    fix: 'Publish the TLSA record of the certificate the server presents (keep the old one until caches expire when rolling keys).',
  },
  'tlsa-unusable': {
    severity: 'error', title: 'TLSA RRset has no usable record', ref: 'RFC 7671 section 4.1; RFC 6698 section 2.1',
    fix: 'Replace the records with usable ones (usage 2 or 3, selector 0 or 1, matching type 1 or 2).',
  },
  'dane-ok': {
    severity: 'pass', title: 'DANE authenticates the server', ref: 'draft-johansson-dispatch-dane-sip-01 sections 7 and 8; RFC 7671', fix: '',
  },
  'dane-ee-name-mismatch': {
    severity: 'warning', title: 'DANE-EE matches, but the certificate names neither the SIP domain nor the SRV host', ref: 'RFC 7671 section 5.1; draft-johansson-dispatch-dane-sip-01 section 8',
    fix: 'DANE-EE clients connect (RFC 7671 5.1 skips names), RFC 5922 clients do not: put the SIP domain (SAN URI sip:DOMAIN and dNSName) in the certificate.',
  },
  'tls-connect-failed': {
    severity: 'error', title: 'TCP connect or TLS handshake failed', ref: 'RFC 3263 section 4.3; RFC 5246',
    fix: 'Check that the TLS server listens on the address and port the DNS names, and that it accepts TLS 1.2 or 1.3.',
  },
  'tls-version-old': {
    severity: 'error', title: 'TLS 1.0 or 1.1 accepted', ref: 'RFC 8996 sections 2 and 3',
    fix: 'Accept only TLS 1.2 and 1.3 (e.g. OpenSSL MinProtocol = TLSv1.2).',
  },
  'tls-version-modern': {
    severity: 'pass', title: 'Only TLS 1.2 or later accepted', ref: 'RFC 8996', fix: '',
  },
  'tls-1.3-missing': {
    severity: 'info', title: 'TLS 1.3 not offered', ref: 'RFC 8446', fix: 'Enable TLS 1.3.',
  },
  'cert-verified': {
    severity: 'pass', title: 'A careful client verifies the server', ref: 'RFC 5922 section 7; draft-johansson-dispatch-dane-sip-01 section 5', fix: '',
  },
  'cert-refused': {
    severity: 'error', title: 'A careful client refuses the server', ref: 'RFC 5922 section 7.3; draft-johansson-dispatch-dane-sip-01 sections 5 and 7',
    fix: 'See the findings below on this target for the cause.',
  },
  'rfc5922-refused': {
    severity: 'warning', title: 'An RFC 5922-only client (no DANE) refuses the server', ref: 'RFC 5922 sections 7.1 to 7.3; draft-johansson-dispatch-dane-sip-01 sections 9 and 10',
    fix: 'Put the SIP domain in the certificate (SAN URI sip:DOMAIN and dNSName DOMAIN) from a CA those clients trust, as in seed example 10.2.',
  },
  'srv-host-only': {
    severity: 'warning', title: 'The certificate names the SRV host, not the SIP domain', ref: 'draft-johansson-dispatch-dane-sip-01 section 10.1; RFC 5922 section 7.2',
    fix: 'DANE-aware clients match the SRV host; RFC 5922 clients need the SIP domain: add SAN URI sip:DOMAIN and dNSName DOMAIN.',
  },
  'cn-only-client': {
    severity: 'info', title: 'What a client matching the Common Name only would do', ref: 'draft-johansson-dispatch-dane-sip-01 section 10 (not covered by any SIP RFC; should be avoided)', fix: '',
  },
  'cert-name-mismatch': {
    severity: 'error', title: 'The certificate does not name the SIP domain', ref: 'RFC 5922 sections 7.1 and 7.2',
    fix: 'Issue a certificate with SAN URI sip:DOMAIN and dNSName DOMAIN (RFC 5922 7.1), or publish DANE records under DNSSEC.',
  },
  'cert-wildcard': {
    severity: 'error', title: 'Only a wildcard name covers the SIP domain', ref: 'RFC 5922 section 7.2',
    fix: 'RFC 5922 clients never match wildcards: list the SIP domain itself in the certificate.',
  },
  'cert-expired': {
    severity: 'error', title: 'A certificate of the chain has expired or is not yet valid', ref: 'RFC 5280 section 6.1.3',
    fix: 'Renew the certificate and reload the server.',
  },
  'cert-expires-soon': {
    severity: 'warning', title: 'The certificate expires soon', ref: 'RFC 5280 section 4.1.2.5',
    fix: 'Renew it now, and automate renewal.',
  },
  'cert-unknown-ca': {
    severity: 'error', title: 'The chain does not lead to a trusted CA', ref: 'RFC 5280 section 6; RFC 5922 section 7.3',
    fix: 'Use a certificate from a CA the clients trust, and send the intermediates; or publish DANE-TA/DANE-EE records under DNSSEC.',
  },
  'cert-chain-too-deep': {
    severity: 'error', title: 'The certificate chain is too deep', ref: 'draft-gurbani-sip-tls-use appendix A.3',
    fix: 'Issue from a CA closer to the root; clients refuse anchors deeper than their limit.',
  },
  'cert-other': {
    severity: 'error', title: 'The certificate chain fails validation', ref: 'RFC 5280 section 6',
    fix: 'See what was seen; issue a conforming certificate.',
  },
  'ocsp-not-stapled': {
    severity: 'info', title: 'No OCSP response stapled', ref: 'RFC 6066 section 8; RFC 6961',
    fix: 'Optional: enable OCSP stapling so clients learn revocation without a query of their own.',
  },
  'client-cert-requested': {
    severity: 'info', title: 'The server asks for a client certificate (mutual TLS)', ref: 'RFC 5922 section 7.4; RFC 5923', fix: '',
  },
  'sip-answered': {
    severity: 'pass', title: 'OPTIONS answered over the verified TLS hop', ref: 'RFC 3261 section 11', fix: '',
  },
  'sip-no-answer': {
    severity: 'warning', title: 'OPTIONS not answered over the verified TLS hop', ref: 'RFC 3261 section 11; RFC 3261 section 17.1.2.2 (Timer F)',
    fix: 'Check that the SIP server behind the TLS listener answers OPTIONS (a 2xx, or 405 at least).',
  },
  'sip-error-status': {
    severity: 'warning', title: 'OPTIONS answered with an error status', ref: 'RFC 3261 section 11.2',
    fix: 'Answer OPTIONS from outside with 200 (RFC 3261 11.2), so that monitoring and peers can probe the server.',
  },
  'check-cut-short': {
    severity: 'error', title: 'The check was cut short', ref: 'sipsec check (docs/CHECK.md)',
    fix: 'Run again with a longer --timeout; a server that hangs holds clients up as well.',
  },
} as const satisfies Record<string, FindingSpec>;

export type FindingId = keyof typeof FINDINGS;

/** A finding of the catalogue with what was seen and, when it has specifics, a fix that names them. */
export function finding(id: FindingId, seen: string, options: { readonly target?: string; readonly fix?: string; readonly severity?: Severity } = {}): Finding {
  const spec: FindingSpec = FINDINGS[id];
  return {
    id,
    severity: options.severity ?? spec.severity,
    title: spec.title,
    ref: spec.ref,
    ...(options.target !== undefined ? { target: options.target } : {}),
    seen,
    fix: options.fix ?? spec.fix,
  };
}

export const SEVERITY_ORDER: readonly Severity[] = ['error', 'warning', 'info', 'pass'];
