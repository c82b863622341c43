/**
 * The verdict on a TLS peer: what the transport acts on and what logs, metrics, `sipsec check` and
 * SIP Warning/Reason headers show. A value, never an exception.
 */
import type { ParsedCertificate } from './certificate.js';
import type { IdentitySource } from './identity.js';
import { reasonSeverity, renderReason, type Reason, type ReasonSeverity, type TlsaUsageName } from './reasons.js';
import { formatTlsaRecord } from './tlsa.js';
import type { TlsaRecord } from '../dns/tlsa-record.js';

/** How the peer was authenticated; `none` when it was not. */
export type VerificationMethod = 'dane-ee' | 'dane-ta' | 'pkix-ee' | 'pkix-ta' | 'rfc5922' | 'none';

/** One certificate of the chain the peer presented, leaf (depth 0) first. */
export interface ChainEntry {
  readonly depth: number;
  readonly subject: string;
  readonly issuer: string;
  readonly sha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

export interface DaneSummary {
  /** The TLSA record that matched and where, also when a later check (names, path) failed. */
  readonly match: { readonly usage: TlsaUsageName; readonly depth: number; readonly record: string } | null;
  readonly usableRecords: number;
  readonly ignoredRecords: readonly { readonly record: string; readonly why: string }[];
}

export interface PeerVerdict {
  /** The peer is authenticated: the hop may be treated as secure. Same value as `authenticated`. */
  readonly ok: boolean;
  readonly authenticated: boolean;
  /**
   * Whether the connection may carry traffic: `ok`, or the lenient policy's A.2.2 exception
   * (chain valid, no identity at all): encrypted but unauthenticated; never used as a secure hop.
   */
  readonly proceed: boolean;
  readonly method: VerificationMethod;
  /** Which check decided: DANE (secure TLSA), RFC 5922 (no DANE), or none (DNSSEC failure, no chain). */
  readonly attempted: 'dane' | 'rfc5922' | 'none';
  /** The reference identity the certificate was matched to; null when none (or DANE-EE, which skips names). */
  readonly matchedIdentity: string | null;
  readonly identitySource: IdentitySource | null;
  /** A wildcard matched under the allowWildcard opt-in. */
  readonly wildcard: boolean;
  /** The leaf's SIP domain identities by RFC 5922 section 7.1 (what an inbound peer is known as). */
  readonly peerIdentities: readonly string[];
  readonly reasons: readonly Reason[];
  readonly chain: readonly ChainEntry[];
  /** Depth of the trust anchor of the validated path, when a path was validated. */
  readonly anchorDepth: number | null;
  readonly dane: DaneSummary | null;
}

export function chainEntries(chain: readonly ParsedCertificate[]): ChainEntry[] {
  return chain.map((cert, depth) => ({
    depth,
    subject: cert.subjectText,
    issuer: cert.issuerText,
    sha256: cert.sha256,
    notBefore: isoOrInvalid(cert.notBefore),
    notAfter: isoOrInvalid(cert.notAfter),
  }));
}

export function summarizeDane(match: DaneSummary['match'], usable: number, ignored: readonly { record: TlsaRecord; why: string }[]): DaneSummary {
  return { match, usableRecords: usable, ignoredRecords: ignored.map((i) => ({ record: formatTlsaRecord(i.record), why: i.why })) };
}

/** Multi-line text rendering of a verdict for operators. */
export function renderVerdict(verdict: PeerVerdict): string {
  const lines: string[] = [];
  const status = verdict.ok ? 'authenticated' : verdict.proceed ? 'NOT authenticated (policy lets the hop continue encrypted)' : 'NOT authenticated';
  lines.push(`${status}: method ${verdict.method} (checked by ${verdict.attempted})`);
  if (verdict.matchedIdentity !== null) lines.push(`identity: ${verdict.matchedIdentity}${verdict.identitySource ? ` (${verdict.identitySource}${verdict.wildcard ? ', wildcard' : ''})` : ''}`);
  if (verdict.peerIdentities.length > 0) lines.push(`certificate identities: ${verdict.peerIdentities.join(', ')}`);
  for (const reason of verdict.reasons) lines.push(`- ${reasonSeverity(reason)}: ${renderReason(reason)}`);
  if (verdict.dane !== null) {
    lines.push(`dane: ${verdict.dane.usableRecords} usable record(s)${verdict.dane.match ? `, ${verdict.dane.match.usage} match at depth ${verdict.dane.match.depth}` : ''}`);
    for (const ignored of verdict.dane.ignoredRecords) lines.push(`  ignored ${ignored.record}: ${ignored.why}`);
  }
  for (const entry of verdict.chain) lines.push(`chain[${entry.depth}]: ${entry.subject} <- ${entry.issuer} (${entry.notBefore} .. ${entry.notAfter})`);
  return `${lines.join('\n')}\n`;
}

/** A reason as JSON: how to read it first, then its fields, then its one-line text. */
export type ReasonJson = { readonly severity: ReasonSeverity } & Reason & { readonly text: string };

/**
 * The verdict as `sipsec cert verify --json` and `sipsec dane verify --json` print it: one field says
 * whether the peer is authenticated (`authenticated`; the library's `ok` is the same value, and
 * `proceed` differs only under the lenient policy, which these offline commands do not offer),
 * and every reason carries its severity and text.
 */
export interface VerdictJson extends Omit<PeerVerdict, 'ok' | 'proceed' | 'reasons'> {
  readonly reasons: readonly ReasonJson[];
}

export function verdictJson(verdict: PeerVerdict): VerdictJson {
  return {
    authenticated: verdict.authenticated,
    method: verdict.method,
    attempted: verdict.attempted,
    matchedIdentity: verdict.matchedIdentity,
    identitySource: verdict.identitySource,
    wildcard: verdict.wildcard,
    peerIdentities: verdict.peerIdentities,
    reasons: verdict.reasons.map((reason) => ({ severity: reasonSeverity(reason), ...reason, text: renderReason(reason) })),
    chain: verdict.chain,
    anchorDepth: verdict.anchorDepth,
    dane: verdict.dane,
  };
}

function isoOrInvalid(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'invalid' : date.toISOString();
}

/** The verdict when no certificate could be examined: handshake failure, timeout, no client certificate. */
export function transportFailureVerdict(reason: Reason): PeerVerdict {
  return {
    ok: false,
    authenticated: false,
    proceed: false,
    method: 'none',
    attempted: 'none',
    matchedIdentity: null,
    identitySource: null,
    wildcard: false,
    peerIdentities: [],
    reasons: [reason],
    chain: [],
    anchorDepth: null,
    dane: null,
  };
}
