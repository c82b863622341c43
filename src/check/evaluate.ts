/**
 * Pure evaluators: observations in, findings, verdicts and a grade out. No I/O, no clock: the time
 * certificates are judged at is the time the probes ran (`checkedAt`).
 */
import { referenceNames } from '../dns/srv-identity.js';
import { weakestState, type DnssecState } from '../dns/dnssec-state.js';
import type { TlsaRrset } from '../dns/tlsa-record.js';
import { parseCertificate, type ParsedCertificate } from '../tls/certificate.js';
import { matchHostName, normalizeDnsName } from '../tls/identity.js';
import { renderReason, type Reason } from '../tls/reasons.js';
import { formatTlsaRecord, generateTlsaRecord, parseTlsaRecord, tlsaOwnerName } from '../tls/tlsa.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { ChainEntry, PeerVerdict } from '../tls/verdict.js';
import { verifyDane, verifyRfc5922, verifyServer, type ServerTarget } from '../tls/verify-peer.js';
import { CHECK_LIMITS } from '../limits.js';
import { finding, type Finding, type FindingId, type Severity } from './findings.js';
import { gradeOf, type Grade } from './grade.js';
import type { Observations, SipObservation, TargetObservation, TlsObservation, TlsTargetPlan } from './observations.js';

/**
 * The version of the JSON report (docs/CHECK.md): the `schema` every command's JSON carries
 * (src/cli/json-output.ts, `sipsec.check/1`); bumped on any change that is not an addition.
 */
export const CHECK_SCHEMA = 'sipsec.check/1';

export interface EvaluateOptions {
  readonly trustStore: TrustStore;
  /** A certificate expiring within this many days is a warning. */
  readonly expiryWarningDays?: number;
}

/** What one kind of client would do with a target (seed 004 section 10). */
export interface ClientVerdict {
  readonly connects: boolean;
  readonly method: string;
  readonly reasons: readonly string[];
}

export interface TargetReport {
  /** `address:port`. */
  readonly target: string;
  readonly plan: TlsTargetPlan;
  readonly tls: Omit<TlsObservation, 'chain'>;
  readonly chain: readonly ChainEntry[];
  /** The leaf's SIP domain identities by RFC 5922 section 7.1. */
  readonly identities: readonly string[];
  /** Depth of the trust anchor of the path the careful client validated, when it validated one. */
  readonly anchorDepth: number | null;
  readonly verdicts: { readonly daneAware: ClientVerdict; readonly rfc5922Only: ClientVerdict; readonly cnOnly: ClientVerdict };
  /** The DANE result of each TLSA record alone. */
  readonly daneRecords: readonly { readonly record: string; readonly matches: boolean; readonly detail: string }[];
  readonly sip: SipObservation;
}

export interface CheckReport {
  readonly schema: typeof CHECK_SCHEMA;
  readonly domain: string;
  readonly checkedAt: string;
  readonly grade: Grade;
  readonly counts: Readonly<Record<Severity, number>>;
  readonly findings: readonly Finding[];
  readonly dns: Observations['dns'];
  readonly targets: readonly TargetReport[];
  readonly cutShort?: string;
}

export function evaluate(observations: Observations, options: EvaluateOptions): CheckReport {
  const time = new Date(observations.checkedAt);
  const findings: Finding[] = [...evaluateDns(observations)];
  const targets: TargetReport[] = [];
  for (const target of observations.targets) {
    const result = evaluateTarget(observations.domain, target, time, options);
    findings.push(...result.findings);
    targets.push(result.report);
  }
  if (observations.cutShort !== undefined) findings.push(finding('check-cut-short', observations.cutShort));
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0, pass: 0 };
  for (const f of findings) counts[f.severity]++;
  return {
    schema: CHECK_SCHEMA,
    domain: observations.domain,
    checkedAt: observations.checkedAt,
    grade: gradeOf(findings, targets),
    counts,
    findings,
    dns: observations.dns,
    targets,
    ...(observations.cutShort !== undefined ? { cutShort: observations.cutShort } : {}),
  };
}

/**
 * Findings on the DNS as a whole: DNSSEC states, published services, the downgrade. A finding that
 * something is absent rests only on answers that prove it (nxdomain, nodata); a lookup that failed
 * or was never answered gives a finding saying so, never an absence.
 */
export function evaluateDns(observations: Observations): Finding[] {
  const { dns } = observations;
  const out: Finding[] = [];
  for (const lookup of dns.lookups) {
    if (lookup.state === 'bogus') out.push(finding('dns-bogus', `${lookup.name} ${lookup.type}: ${lookup.why ?? 'validation failed'}`));
    else if (lookup.result === 'unanswered') out.push(finding('dns-no-answer', `${lookup.name} ${lookup.type}: asked, no answer before the check was cut short`));
    else if (lookup.state === 'indeterminate') out.push(finding('dns-indeterminate', `${lookup.name} ${lookup.type}: ${lookup.failure ?? 'failure'}: ${lookup.why ?? 'no answer'}`));
  }
  const proven = (types: readonly string[]): boolean =>
    dns.complete && !dns.lookups.some((l) => types.includes(l.type) && (l.result === 'failure' || l.result === 'unanswered'));
  const naptr = dns.lookups.find((l) => l.type === 'NAPTR' && l.name === dns.domain);
  if (naptr !== undefined && (naptr.result === 'nodata' || naptr.result === 'nxdomain')) {
    out.push(finding('naptr-missing', `${dns.domain} NAPTR: ${naptr.result} (${naptr.state})`));
  }
  const published = dns.services.filter((s) => s.via !== 'address');
  if (published.length === 0 && proven(['NAPTR', 'SRV'])) {
    out.push(finding('srv-missing', `no NAPTR or SRV records for _sips._tcp, _sip._tcp, _sip._udp of ${dns.domain}`));
  }
  const tls = dns.services.filter((s) => s.service === 'tls');
  if (tls.length === 0) {
    // The address fallback (RFC 3263 section 4.2) is part of the proof: its A/AAAA must be answered too.
    if (proven(['NAPTR', 'SRV', 'A', 'AAAA'])) {
      out.push(finding('tls-not-offered', `no SIPS+D2T NAPTR, no _sips._tcp.${dns.domain} SRV${dns.services.length > 0 ? `; offered: ${unique(dns.services.map((s) => s.service)).join(', ')}` : ''}`));
    }
  } else if (dns.tlsTargets.length === 0 && proven(['A', 'AAAA'])) {
    out.push(finding('no-target', `TLS service published (${tls.map((s) => s.name).join(', ')}) but no address found for it`));
  }
  const plain = unique(dns.services.filter((s) => s.service === 'udp' || s.service === 'tcp').map((s) => `${s.service} (${s.name})`));
  if (plain.length > 0 && tls.length > 0) out.push(finding('plain-offered', `also offered without TLS: ${plain.join(', ')}`));
  const ws = unique(dns.services.filter((s) => s.service === 'ws' || s.service === 'wss').map((s) => `${s.service} (${s.name})`));
  if (ws.length > 0) out.push(finding('websocket-offered', ws.join(', ')));
  if (dns.tlsTargets.length > 0) {
    const state = weakestState(dns.tlsTargets.map((t) => t.chainState));
    if (state === 'secure') out.push(finding('dns-secure', `every NAPTR, SRV and address lookup to the TLS targets is secure`));
    else if (state === 'insecure') out.push(finding('dns-insecure', `weakest state on the way to the TLS targets: insecure (${insecureNames(observations).join(', ')})`));
  }
  return out;
}

function insecureNames(observations: Observations): string[] {
  return unique(observations.dns.lookups.filter((l) => l.state === 'insecure' && l.result === 'records').map((l) => `${l.name} ${l.type}`));
}

/** Findings and verdicts of one TLS target. */
export function evaluateTarget(domain: string, observed: TargetObservation, time: Date, options: EvaluateOptions): { findings: Finding[]; report: TargetReport } {
  const { plan, tls, sip } = observed;
  const label = targetLabel(plan.address, plan.port);
  const out: Finding[] = [];
  const add = (id: FindingId, seen: string, extra: { fix?: string; severity?: Severity } = {}): void => {
    out.push(finding(id, seen, { target: label, ...extra }));
  };
  const { chain: chainDer, ...tlsSummary } = tls;
  const empty: ClientVerdict = { connects: false, method: 'none', reasons: [] };
  const baseReport = { target: label, plan, tls: tlsSummary, sip, chain: [], identities: [], anchorDepth: null, daneRecords: [], verdicts: { daneAware: empty, rfc5922Only: empty, cnOnly: empty } };
  if (!tls.connected) {
    add('tls-connect-failed', tls.error ?? 'no handshake');
    return { findings: out, report: { ...baseReport, verdicts: { daneAware: { ...empty, reasons: [tls.error ?? 'no handshake'] }, rfc5922Only: empty, cnOnly: empty } } };
  }
  versionFindings(tls, add);

  let chain: ParsedCertificate[];
  try {
    chain = chainDer.map((b64) => parseCertificate(Buffer.from(b64, 'base64')));
  } catch (err) {
    add('cert-other', `the presented certificate does not parse: ${err instanceof Error ? err.message : String(err)}`);
    return { findings: out, report: baseReport };
  }
  const leaf = chain[0];
  if (leaf === undefined) {
    add('cert-other', 'the server presented no certificate');
    return { findings: out, report: baseReport };
  }
  const tlsa = tlsaRrsetOf(plan);
  const target: ServerTarget = {
    sipDomain: domain,
    ...(plan.srvHost !== undefined ? { srvHost: plan.srvHost } : {}),
    dnsState: plan.chainState,
    ...(tlsa !== undefined ? { tlsa } : {}),
  };
  const careful = verifyServer({ chain, target, trustStore: options.trustStore, time });
  const rfc5922 = verifyRfc5922({ chain, sipDomain: domain, trustStore: options.trustStore, time, policy: { dane: false } });
  const cnOnly = cnOnlyVerdict(leaf, domain, rfc5922);

  if (careful.ok) {
    add('cert-verified', `${careful.method}${careful.matchedIdentity !== null ? `, identity ${careful.matchedIdentity} (${careful.identitySource ?? ''})` : ''}${careful.anchorDepth !== null ? `, anchor at depth ${careful.anchorDepth}` : ''}`);
    if (careful.attempted === 'dane') add('dane-ok', `${careful.dane?.match?.record ?? ''} (${careful.method}) matched at depth ${careful.dane?.match?.depth ?? 0}`);
    if (careful.method === 'dane-ee' && careful.matchedIdentity === null) {
      add('dane-ee-name-mismatch', `names in the certificate: ${namesOf(leaf).join(', ') || 'none'}; SIP domain ${domain}${plan.srvHost !== undefined ? `, SRV host ${plan.srvHost}` : ''}`);
    }
    if (!rfc5922.ok) {
      add('rfc5922-refused', rfc5922.reasons.map(renderReason).join('; '));
      const srvOnly = plan.srvHost !== undefined && rfc5922.reasons.some((r) => r.code === 'name-mismatch') && matchHostName(leaf, plan.srvHost, { allowWildcard: false }).matched;
      if (srvOnly) add('srv-host-only', `the certificate names ${namesOf(leaf).join(', ')}; the SIP domain ${domain} is not among them`);
    }
  } else {
    add('cert-refused', `${careful.attempted === 'dane' ? 'DANE' : careful.attempted === 'rfc5922' ? 'RFC 5922' : 'DNSSEC'}: ${careful.reasons.map(renderReason).join('; ')}`);
    for (const [id, seen] of causes(careful.reasons)) add(id, seen);
  }
  add('cn-only-client', `${cnOnly.connects ? 'would connect' : 'would not connect'}: CN ${leaf.commonNames.join(', ') || '(none)'}`);
  expiryFindings(chain, time, options.expiryWarningDays ?? CHECK_LIMITS.expiryWarningDays, add);
  if (!tls.ocspStapled) add('ocsp-not-stapled', 'the handshake carried no OCSP response (status_request asked for)');
  if (tls.clientCertificateRequested === true) add('client-cert-requested', 'the server sent a CertificateRequest');
  if (plan.chainState === 'secure' && tlsa !== undefined && tlsa.records.length === 0 && tlsa.state === 'secure') {
    const record = `${tlsaOwnerName(plan.host, plan.port)} IN TLSA ${formatTlsaRecord(generateTlsaRecord(leaf, 3, 1, 1))}`;
    add('tlsa-missing', `${tlsa.name} TLSA: no records (${tlsa.state})`, { fix: `Publish in the signed zone: ${record}` });
  }
  sipFindings(sip, add);

  const report: TargetReport = {
    ...baseReport,
    chain: careful.chain,
    identities: careful.peerIdentities,
    anchorDepth: careful.ok ? careful.anchorDepth : rfc5922.anchorDepth,
    verdicts: { daneAware: clientVerdict(careful), rfc5922Only: clientVerdict(rfc5922), cnOnly },
    daneRecords: daneRecordResults(chain, plan, domain, options.trustStore, time),
  };
  return { findings: out, report };
}

function versionFindings(tls: TlsObservation, add: (id: FindingId, seen: string) => void): void {
  const old = (['TLSv1', 'TLSv1.1'] as const).filter((v) => tls.versions[v] === true);
  if (old.length > 0) add('tls-version-old', `accepted: ${old.join(', ')}`);
  else if (tls.versions.TLSv1 === false && tls.versions['TLSv1.1'] === false) add('tls-version-modern', `refused: TLSv1, TLSv1.1; negotiated ${tls.protocol ?? '?'}`);
  if (tls.versions['TLSv1.3'] === false) add('tls-1.3-missing', 'a TLS 1.3-only handshake was refused');
}

const CAUSE_OF: Partial<Record<Reason['code'], FindingId>> = {
  'name-mismatch': 'cert-name-mismatch',
  'no-identity': 'cert-name-mismatch',
  'wildcard-refused': 'cert-wildcard',
  expired: 'cert-expired',
  'not-yet-valid': 'cert-expired',
  'unknown-ca': 'cert-unknown-ca',
  'chain-too-deep': 'cert-chain-too-deep',
  'bad-signature': 'cert-other',
  'not-a-ca': 'cert-other',
  'wrong-purpose': 'cert-other',
  'unsupported-critical-extension': 'cert-other',
  'dane-no-match': 'tlsa-mismatch',
  'dane-no-usable-records': 'tlsa-unusable',
  'tls-handshake-failed': 'tls-connect-failed',
  'tls-timeout': 'tls-connect-failed',
};

/** The specific findings behind a refusal, one per finding id; DNSSEC failures are reported by evaluateDns. */
function causes(reasons: readonly Reason[]): Map<FindingId, string> {
  const out = new Map<FindingId, string>();
  const wildcard = reasons.some((r) => r.code === 'wildcard-refused');
  for (const reason of reasons) {
    let id = CAUSE_OF[reason.code];
    if (id === undefined) continue;
    if (wildcard && id === 'cert-name-mismatch') id = 'cert-wildcard';
    const seen = renderReason(reason);
    out.set(id, out.has(id) ? `${out.get(id) ?? ''}; ${seen}` : seen);
  }
  return out;
}

/** A client that trusts the CA and compares the SIP domain with the subject's CN only (seed 004 section 10, "should be avoided"). */
function cnOnlyVerdict(leaf: ParsedCertificate, domain: string, rfc5922: PeerVerdict): ClientVerdict {
  const pathProblems = rfc5922.reasons.filter((r) => PATH_CODES.has(r.code));
  const cnMatches = leaf.commonNames.some((cn) => normalizeDnsName(cn) === normalizeDnsName(domain));
  const reasons = [...pathProblems.map(renderReason), ...(cnMatches ? [] : [`CN ${leaf.commonNames.join(', ') || '(none)'} is not ${domain}`])];
  return { connects: cnMatches && pathProblems.length === 0, method: cnMatches && pathProblems.length === 0 ? 'cn' : 'none', reasons };
}

const PATH_CODES: ReadonlySet<Reason['code']> = new Set([
  'expired', 'not-yet-valid', 'unknown-ca', 'chain-too-deep', 'bad-signature', 'not-a-ca', 'wrong-purpose', 'unsupported-critical-extension',
]);

function clientVerdict(verdict: PeerVerdict): ClientVerdict {
  return { connects: verdict.ok, method: verdict.method, reasons: verdict.reasons.map(renderReason) };
}

function expiryFindings(chain: readonly ParsedCertificate[], time: Date, days: number, add: (id: FindingId, seen: string) => void): void {
  const limit = time.getTime() + days * 86_400_000;
  chain.forEach((cert, depth) => {
    const end = cert.notAfter.getTime();
    if (end > time.getTime() && end < limit) {
      const left = Math.floor((end - time.getTime()) / 86_400_000);
      add('cert-expires-soon', `certificate at depth ${depth} (${cert.subjectText}) expires ${cert.notAfter.toISOString()}, in ${left} day(s) (warning under ${days})`);
    }
  });
}

function sipFindings(sip: SipObservation, add: (id: FindingId, seen: string) => void): void {
  if (!sip.sent) return;
  const headers = [sip.server ? `Server: ${sip.server}` : '', sip.userAgent ? `User-Agent: ${sip.userAgent}` : '', sip.allow !== undefined ? `Allow: ${sip.allow}` : '', sip.supported !== undefined ? `Supported: ${sip.supported}` : '']
    .filter((h) => h !== '').join('; ');
  if (!sip.answered) add('sip-no-answer', sip.error ?? 'no response');
  else if ((sip.status ?? 0) >= 300) add('sip-error-status', `${sip.status ?? '?'} ${sip.reason ?? ''}${headers ? `; ${headers}` : ''}`);
  else add('sip-answered', `${sip.status ?? '?'} ${sip.reason ?? ''}${headers ? `; ${headers}` : ''}`);
}

function tlsaRrsetOf(plan: TlsTargetPlan): TlsaRrset | undefined {
  if (plan.tlsa === undefined) return undefined;
  const records = [];
  for (const text of plan.tlsa.records) {
    try {
      records.push(parseTlsaRecord(text));
    } catch {
      // A record the parser refuses cannot match; the verifier counts what is left.
    }
  }
  return { name: plan.tlsa.name, state: plan.tlsa.state, records, ...(plan.tlsa.why !== undefined ? { why: plan.tlsa.why } : {}) };
}

/** Each TLSA record checked alone, so that a report shows which one matches. */
function daneRecordResults(chain: readonly ParsedCertificate[], plan: TlsTargetPlan, domain: string, trustStore: TrustStore, time: Date): TargetReport['daneRecords'] {
  const rrset = tlsaRrsetOf(plan);
  if (rrset === undefined) return [];
  // The one identity rule (src/dns/srv-identity.ts): the SRV host counts only over a secure chain.
  const references = referenceNames(domain, plan.srvHost, plan.chainState).map((name, i) => ({ name, kind: i === 0 ? ('sip-domain' as const) : ('host' as const) }));
  return rrset.records.map((record) => {
    const verdict = verifyDane({ chain, records: [record], references, trustStore, time });
    return { record: formatTlsaRecord(record), matches: verdict.ok, detail: verdict.ok ? `${verdict.method} match` : verdict.reasons.map(renderReason).join('; ') };
  });
}

function namesOf(leaf: ParsedCertificate): string[] {
  return unique([...leaf.sanUris, ...leaf.sanDnsNames, ...leaf.commonNames.map((cn) => `CN=${cn}`)]);
}

export function targetLabel(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** The weakest DNSSEC state of a report's targets, for summaries. */
export function dnsStateOf(report: CheckReport): DnssecState | 'none' {
  return report.dns.tlsTargets.length === 0 ? 'none' : weakestState(report.dns.tlsTargets.map((t) => t.chainState));
}
