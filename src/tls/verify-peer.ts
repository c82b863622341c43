/**
 * The TLS peer verifier: the presented chain, the target's reference identities and DNS(SEC)
 * evidence, a policy and a time in; a PeerVerdict out. Pure: no sockets, no DNS, no clock unless
 * the caller leaves `time` out.
 *
 * Decision (draft-johansson-dispatch-dane-sip sections 5 to 8, RFC 6698 4.1, RFC 7671, RFC 7673 3):
 *   DNS chain or TLSA RRset bogus/indeterminate  -> fail (dnssec-bogus / dnssec-indeterminate)
 *   DNS chain secure and TLSA secure, >= 1 record -> DANE only, never a fallback to RFC 5922
 *   anything else (insecure, no TLSA, no DNSSEC)  -> RFC 5922: PKIX to the trust store + SIP domain
 */
import type { DnssecState } from '../dns/dnssec-state.js';
import { referenceNames } from '../dns/srv-identity.js';
import type { TlsaRecord, TlsaRrset } from '../dns/tlsa-record.js';
import { CertificateCache, type ParsedCertificate } from './certificate.js';
import { TLS_LIMITS } from '../limits.js';
import { EmptyChainError } from './errors.js';
import {
  extractSipDomainIdentities, matchAnyIdentity, matchSipDomain,
  type IdentityMatch, type ReferenceIdentity,
} from './identity.js';
import { AnchorSet, buildPath, publicKeyAnchor, type Anchor, type PathPurpose, type PathResult } from './path.js';
import { resolveTlsPolicy, type TlsPolicy } from './policy.js';
import type { Reason } from './reasons.js';
import { selectUsableRecords, tlsaMatches, formatTlsaRecord, type UsableTlsaRecord } from './tlsa.js';
import type { TrustStore } from './trust-store.js';
import { chainEntries, summarizeDane, type DaneSummary, type PeerVerdict, type VerificationMethod } from './verdict.js';

/** A chain as parsed certificates or DER bytes, leaf first, as the peer sent it. */
export type PresentedChain = readonly (ParsedCertificate | Uint8Array)[];

/** Where an outbound connection was meant to go (RFC 3263 result) and what DNS proved about it. */
export interface ServerTarget {
  /** The domain of the SIP URI (the AUS): RFC 5922's reference identity. */
  readonly sipDomain: string;
  /** The SRV target host; an accepted identity only under DANE (secure chain and TLSA), by referenceNames. */
  readonly srvHost?: string;
  /** Weakest DNSSEC state of the NAPTR, SRV and address lookups; absent: not validated (insecure). */
  readonly dnsState?: DnssecState;
  /** The TLSA RRset at `_port._tcp.srvHost` with its state; absent: not looked up. */
  readonly tlsa?: TlsaRrset;
}

interface Common {
  readonly chain: PresentedChain;
  readonly trustStore: TrustStore;
  /** A resolved policy, or options merged over the strict default. */
  readonly policy?: Partial<TlsPolicy>;
  /** Verification time; defaults to now. */
  readonly time?: Date;
}

export interface VerifyServerInput extends Common {
  readonly target: ServerTarget;
  /** SIP domains accepted besides the target's (a configured peer's own domain), matched as the SIP domain is. */
  readonly acceptedIdentities?: readonly string[];
}

export interface VerifyClientInput extends Common {
  /** SIP domains the server accepts clients from; absent: any valid identity is accepted (RFC 5922 7.4). */
  readonly acceptedDomains?: readonly string[];
}

export interface VerifyDaneInput extends Common {
  readonly records: readonly TlsaRecord[];
  readonly references: readonly ReferenceIdentity[];
  readonly purpose?: PathPurpose;
}

export interface VerifyRfc5922Input extends Common {
  readonly sipDomain: string;
  /** SIP domains accepted besides `sipDomain`, matched by the same rules. */
  readonly acceptedIdentities?: readonly string[];
}

/** Verifies the server of an outbound connection. The transport calls this after every handshake. */
export function verifyServer(input: VerifyServerInput): PeerVerdict {
  const policy = resolveTlsPolicy(input.policy);
  const chain = parseChain(input.chain);
  const { target } = input;
  const base = { chain, policy };
  const tooLong = presentedLimit(chain, policy);
  if (tooLong) return failure(base, 'none', [tooLong], null);

  const dnsFailure = dnssecFailure(target.dnsState, 'dns-chain', undefined) ?? dnssecFailure(target.tlsa?.state, 'tlsa', target.tlsa?.why);
  if (dnsFailure) return failure(base, 'none', [dnsFailure], null);

  const daneApplies = policy.dane && target.dnsState === 'secure' && target.tlsa?.state === 'secure' && target.tlsa.records.length > 0;
  if (daneApplies && target.tlsa) {
    // The same rule as the locator's identities: the SRV host only over a secure chain.
    const references = [
      ...referenceNames(target.sipDomain, target.srvHost, target.dnsState).map((name, i): ReferenceIdentity => ({ name, kind: i === 0 ? 'sip-domain' : 'host' })),
      ...(input.acceptedIdentities ?? []).map((name): ReferenceIdentity => ({ name, kind: 'sip-domain' })),
    ];
    const verdict = verifyDane({ ...input, chain, policy, records: target.tlsa.records, references });
    const noUsable = verdict.reasons.some((r) => r.code === 'dane-no-usable-records');
    if (!(noUsable && policy.onNoUsableTlsa === 'rfc5922')) return verdict;
  }
  return verifyRfc5922({ ...input, chain, policy, sipDomain: target.sipDomain });
}

/** RFC 5922 sections 7.1 to 7.3: a PKIX path to the trust store and the SIP domain in the leaf. */
export function verifyRfc5922(input: VerifyRfc5922Input): PeerVerdict {
  const policy = resolveTlsPolicy(input.policy);
  const chain = parseChain(input.chain);
  const base = { chain, policy };
  const tooLong = presentedLimit(chain, policy);
  if (tooLong) return failure(base, 'rfc5922', [tooLong], null);
  const leaf = chain[0] as ParsedCertificate;
  const path = pkixPath(chain, [], input.trustStore, policy, input.time, 'server');
  const accepted = input.acceptedIdentities ?? [];
  const identity = accepted.length === 0
    ? matchSipDomain(leaf, input.sipDomain, policy)
    : matchAnyIdentity(leaf, [input.sipDomain, ...accepted].map((name): ReferenceIdentity => ({ name, kind: 'sip-domain' })), policy);
  return rfc5922Verdict(base, path, identity);
}

/**
 * Verifies a client certificate on an inbound connection (RFC 5922 section 7.4): a PKIX path for
 * client use, then the leaf's SIP domain identities, matched against `acceptedDomains` if given.
 */
export function verifyClient(input: VerifyClientInput): PeerVerdict {
  const policy = resolveTlsPolicy(input.policy);
  if (input.chain.length === 0) {
    return failure({ chain: [], policy }, 'rfc5922', [{ code: 'no-client-certificate' }], null);
  }
  const chain = parseChain(input.chain);
  const base = { chain, policy };
  const tooLong = presentedLimit(chain, policy);
  if (tooLong) return failure(base, 'rfc5922', [tooLong], null);
  const leaf = chain[0] as ParsedCertificate;
  const path = pkixPath(chain, [], input.trustStore, policy, input.time, 'client');
  let identity: IdentityMatch;
  if (input.acceptedDomains !== undefined) {
    identity = matchAnyIdentity(leaf, input.acceptedDomains.map((name) => ({ name, kind: 'sip-domain' })), policy);
  } else {
    const found = extractSipDomainIdentities(leaf);
    const first = found.identities[0];
    identity = first === undefined || found.source === 'none'
      ? { matched: false, reasons: [{ code: 'no-identity', referenceIdentities: [] }, ...found.skipped] }
      : { matched: true, identity: first, source: found.source, wildcard: false, notes: [] };
  }
  return rfc5922Verdict(base, path, identity);
}

/**
 * DANE authentication of a chain against a TLSA RRset that the caller knows to be secure
 * (RFC 6698, RFC 7671 sections 5 and 9). Also used offline by `sipsec dane verify`.
 * Precedence when several records match: DANE-EE, then DANE-TA at the lowest depth, then PKIX-EE,
 * then PKIX-TA (OpenSSL's reporting order).
 */
export function verifyDane(input: VerifyDaneInput): PeerVerdict {
  const policy = resolveTlsPolicy(input.policy);
  const chain = parseChain(input.chain);
  const base = { chain, policy };
  const tooLong = presentedLimit(chain, policy);
  if (tooLong) return failure(base, 'dane', [tooLong], null);
  const purpose = input.purpose ?? 'server';
  const leaf = chain[0] as ParsedCertificate;

  const allowed = policy.pkixTlsaUsages ? input.records : input.records.filter((r) => r.usage !== 0 && r.usage !== 1);
  const selected = selectUsableRecords(allowed, policy.digestPreference);
  const ignored = [
    ...selected.ignored,
    ...input.records.filter((r) => !allowed.includes(r)).map((record) => ({ record, why: 'PKIX usages are disabled by policy' })),
  ];
  const usable = selected.usable;
  const summary = (match: DaneSummary['match']): DaneSummary => summarizeDane(match, usable.length, ignored);
  if (usable.length === 0) {
    return failure(base, 'dane', [{ code: 'dane-no-usable-records', ignoredRecords: ignored.length }], summary(null));
  }

  const failures: { reasons: Reason[]; match: DaneSummary['match'] }[] = [];
  const ofUsage = (usage: UsableTlsaRecord['usage']): UsableTlsaRecord[] => usable.filter((r) => r.usage === usage);

  // DANE-EE (RFC 7671 5.1): the leaf only; no names, dates, issuer or chain.
  for (const record of ofUsage('dane-ee')) {
    if (!tlsaMatches(record, leaf)) continue;
    const match = { usage: record.usage, depth: 0, record: formatTlsaRecord(record.record) };
    const identity = matchAnyIdentity(leaf, input.references, policy);
    if (policy.daneEeChecksNames && !identity.matched) {
      failures.push({ reasons: [...identity.reasons], match });
      break;
    }
    return success(base, 'dane-ee', 'dane', identity.matched ? identity : null, [{ code: 'dane-match', ...match }], null, summary(match));
  }

  // DANE-TA (RFC 7671 5.2): an anchor in the chain the server sent, or (policy) from DNS.
  const daneTa = ofUsage('dane-ta');
  if (daneTa.length > 0) {
    const anchors = new AnchorSet();
    const recordOf = new Map<Anchor, UsableTlsaRecord>();
    let presentedMatch: DaneSummary['match'] = null;
    chain.forEach((cert, depth) => {
      if (depth === 0) return;
      for (const record of daneTa) {
        if (!tlsaMatches(record, cert)) continue;
        const anchor: Anchor = { kind: 'certificate', cert, source: 'presented' };
        anchors.add(anchor);
        recordOf.set(anchor, record);
        presentedMatch ??= { usage: 'dane-ta', depth, record: formatTlsaRecord(record.record) };
        break;
      }
    });
    if (policy.daneTaFromDns) {
      for (const record of daneTa) {
        if (record.matching !== 'full') continue;
        const anchor: Anchor = record.certificate !== undefined
          ? { kind: 'certificate', cert: record.certificate, source: 'tlsa' }
          : publicKeyAnchor(Buffer.from(record.record.data), 'tlsa');
        anchors.add(anchor);
        recordOf.set(anchor, record);
      }
    }
    if (anchors.size > 0) {
      const path = buildPath(leaf, [...chain.slice(1), ...extraCertificates(usable)], anchors, {
        time: input.time ?? new Date(), maxDepth: policy.maxChainDepth, purpose,
        checkAnchorValidity: false, leafMayBeAnchor: false, maxSignatureChecks: policy.maxSignatureChecks,
      });
      if (path.ok) {
        const record = recordOf.get(path.anchor) as UsableTlsaRecord;
        const match = { usage: 'dane-ta' as const, depth: path.anchorDepth, record: formatTlsaRecord(record.record) };
        const identity = matchAnyIdentity(leaf, input.references, policy);
        if (identity.matched) {
          return success(base, 'dane-ta', 'dane', identity, [{ code: 'dane-match', ...match }], path.anchorDepth, summary(match));
        }
        failures.push({ reasons: [...identity.reasons], match });
      } else if (presentedMatch !== null) {
        failures.push({ reasons: [...path.reasons], match: presentedMatch });
      }
    }
  }

  // PKIX-EE and PKIX-TA (RFC 7671 5.3, 5.4): a full PKIX path to the trust store, constrained by the record.
  const pkixEe = ofUsage('pkix-ee');
  const pkixTa = ofUsage('pkix-ta');
  if (pkixEe.length + pkixTa.length > 0) {
    const path = pkixPath(chain, extraCertificates(usable), input.trustStore, policy, input.time, purpose);
    const candidates: { cert: ParsedCertificate; depth: number }[] = path.ok
      ? [...path.path.map((cert, depth) => ({ cert, depth })), ...(path.anchor.kind === 'certificate' && path.anchorDepth >= path.path.length ? [{ cert: path.anchor.cert, depth: path.anchorDepth }] : [])]
      : chain.map((cert, depth) => ({ cert, depth }));
    let match: DaneSummary['match'] = null;
    let method: VerificationMethod = 'none';
    const eeRecord = pkixEe.find((r) => tlsaMatches(r, leaf));
    if (eeRecord) {
      match = { usage: 'pkix-ee', depth: 0, record: formatTlsaRecord(eeRecord.record) };
      method = 'pkix-ee';
    } else {
      for (const { cert, depth } of candidates) {
        if (depth === 0) continue;
        const taRecord = pkixTa.find((r) => tlsaMatches(r, cert));
        if (taRecord) {
          match = { usage: 'pkix-ta', depth, record: formatTlsaRecord(taRecord.record) };
          method = 'pkix-ta';
          break;
        }
      }
    }
    if (match !== null) {
      if (!path.ok) {
        failures.push({ reasons: [...path.reasons], match });
      } else {
        const identity = matchAnyIdentity(leaf, input.references, policy);
        if (identity.matched) return success(base, method, 'dane', identity, [{ code: 'dane-match', ...match }], path.anchorDepth, summary(match));
        failures.push({ reasons: [...identity.reasons], match });
      }
    }
  }

  const first = failures[0];
  if (first) return failure(base, 'dane', first.reasons, summary(first.match));
  return failure(base, 'dane', [{ code: 'dane-no-match', usableRecords: usable.length }], summary(null));
}

// --- helpers ---------------------------------------------------------------------------------

interface Base {
  readonly chain: readonly ParsedCertificate[];
  readonly policy: TlsPolicy;
}

/** Shared by every verification: peers present the same chains again and again. */
const certificates = new CertificateCache(TLS_LIMITS.maxCachedCertificates);

function parseChain(chain: PresentedChain): ParsedCertificate[] {
  if (chain.length === 0) throw new EmptyChainError();
  return chain.map((c) => (c instanceof Uint8Array ? certificates.parse(c) : c));
}

function presentedLimit(chain: readonly ParsedCertificate[], policy: TlsPolicy): Reason | undefined {
  return chain.length > policy.maxPresentedCertificates
    ? { code: 'chain-too-deep', depth: chain.length - 1, maxDepth: policy.maxPresentedCertificates - 1, subject: 'presented chain' }
    : undefined;
}

/** Certificates carried in full by PKIX-TA/DANE-TA `x 0 0` records: extra chain-building material (OpenSSL does the same). */
function extraCertificates(usable: readonly UsableTlsaRecord[]): ParsedCertificate[] {
  return usable.flatMap((r) => (r.certificate !== undefined && (r.usage === 'pkix-ta' || r.usage === 'dane-ta') ? [r.certificate] : []));
}

function pkixPath(chain: readonly ParsedCertificate[], extra: readonly ParsedCertificate[], store: TrustStore, policy: TlsPolicy, time: Date | undefined, purpose: PathPurpose): PathResult {
  return buildPath(chain[0] as ParsedCertificate, [...chain.slice(1), ...extra], store.anchors, {
    time: time ?? new Date(), maxDepth: policy.maxChainDepth, purpose,
    checkAnchorValidity: true, leafMayBeAnchor: true, maxSignatureChecks: policy.maxSignatureChecks,
  });
}

function dnssecFailure(state: DnssecState | undefined, what: 'dns-chain' | 'tlsa', why: string | undefined): Reason | undefined {
  if (state === 'bogus') return { code: 'dnssec-bogus', what, ...(why ? { why } : {}) };
  if (state === 'indeterminate') return { code: 'dnssec-indeterminate', what, ...(why ? { why } : {}) };
  return undefined;
}

function rfc5922Verdict(base: Base, path: PathResult, identity: IdentityMatch): PeerVerdict {
  if (path.ok && identity.matched) return success(base, 'rfc5922', 'rfc5922', identity, [...identity.notes], path.anchorDepth, null);
  const reasons: Reason[] = [...(path.ok ? [] : path.reasons), ...(identity.matched ? identity.notes : identity.reasons)];
  const verdict = failure(base, 'rfc5922', reasons, null, path.ok ? path.anchorDepth : null);
  // draft-gurbani A.2.2: a trusted chain without any identity may continue, encrypted and unauthenticated.
  const noIdentity = !identity.matched && identity.reasons[0]?.code === 'no-identity';
  if (base.policy.mode === 'lenient' && path.ok && noIdentity) return { ...verdict, proceed: true };
  return verdict;
}

function success(base: Base, method: VerificationMethod, attempted: PeerVerdict['attempted'], identity: (IdentityMatch & { matched: true }) | null, reasons: Reason[], anchorDepth: number | null, dane: DaneSummary | null): PeerVerdict {
  return {
    ok: true,
    authenticated: true,
    proceed: true,
    method,
    attempted,
    matchedIdentity: identity?.identity ?? null,
    identitySource: identity?.source ?? null,
    wildcard: identity?.wildcard ?? false,
    peerIdentities: peerIdentities(base.chain),
    reasons: [...reasons, ...(identity && method !== 'rfc5922' ? identity.notes : [])],
    chain: chainEntries(base.chain),
    anchorDepth,
    dane,
  };
}

function failure(base: Base, attempted: PeerVerdict['attempted'], reasons: readonly Reason[], dane: DaneSummary | null, anchorDepth: number | null = null): PeerVerdict {
  return {
    ok: false,
    authenticated: false,
    proceed: false,
    method: 'none',
    attempted,
    matchedIdentity: null,
    identitySource: null,
    wildcard: false,
    peerIdentities: peerIdentities(base.chain),
    reasons,
    chain: chainEntries(base.chain),
    anchorDepth,
    dane,
  };
}

function peerIdentities(chain: readonly ParsedCertificate[]): string[] {
  const leaf = chain[0];
  return leaf === undefined ? [] : [...extractSipDomainIdentities(leaf).identities];
}
