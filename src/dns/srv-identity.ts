import { normalizeName } from './dns-name.js';
import type { DnssecState } from './dnssec-state.js';

/**
 * The one identity rule for a located server: the SIP domain is always a reference identity
 * (RFC 5922 section 7.2); the SRV target host is one too only when every lookup that led to it
 * (NAPTR, SRV, A or AAAA) was DNSSEC `secure` (RFC 7673 section 4, draft-johansson-dispatch-dane-sip
 * section 5): otherwise a forger who answers the SRV query would choose the name the certificate is
 * checked against. The locator (LocatedTarget.identities) and the verifier (verifyServer, under
 * DANE) both ask this function, so they cannot disagree.
 *
 * Returns the names in order, the SIP domain first, normalized (lower case, no trailing dot), the
 * SRV host left out when it is the SIP domain itself.
 */
export function referenceNames(sipDomain: string, srvHost: string | undefined, chainState: DnssecState | undefined): string[] {
  const domain = normalizeName(sipDomain);
  return srvHostIsIdentity(domain, srvHost, chainState) ? [domain, normalizeName(srvHost)] : [domain];
}

/** Whether `srvHost` is accepted as an identity besides the SIP domain: see referenceNames. */
export function srvHostIsIdentity(sipDomain: string, srvHost: string | undefined, chainState: DnssecState | undefined): srvHost is string {
  return srvHost !== undefined && chainState === 'secure' && normalizeName(srvHost) !== normalizeName(sipDomain);
}
