/**
 * Certification path building and validation, as far as SIP peer verification needs it
 * (RFC 5280 section 6, reduced; see docs/TLS-VERIFICATION.md for what is not checked).
 *
 * Why our own: Node exposes OpenSSL's verdict only for the context's own trust store and depth, and
 * no maintained JavaScript library validates paths with a per-call anchor set (a trust store for
 * PKIX, TLSA-designated anchors for DANE-TA), a depth limit and a purpose in a reusable way.
 * Signatures are still checked by OpenSSL through node:crypto X509Certificate.verify.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { ParsedCertificate } from './certificate.js';
import type { Reason } from './reasons.js';

/** A trust anchor: a certificate (its subject and key), or a bare public key (DANE-TA `2 1 0`). */
export type Anchor =
  | { readonly kind: 'certificate'; readonly cert: ParsedCertificate; readonly source: AnchorSource }
  | { readonly kind: 'public-key'; readonly spki: Buffer; readonly key: KeyObject; readonly source: AnchorSource };

/** Where an anchor came from: a configured trust store, the presented chain, or a TLSA record. */
export type AnchorSource = 'trust-store' | 'presented' | 'tlsa';

export type CertificateAnchor = Extract<Anchor, { kind: 'certificate' }>;
export type KeyAnchor = Extract<Anchor, { kind: 'public-key' }>;

/** Anchors indexed by subject name for path building. Build once per trust store; cheap per DANE call. */
export class AnchorSet {
  readonly #bySubject = new Map<string, CertificateAnchor[]>();
  readonly #keys: KeyAnchor[] = [];
  #size = 0;

  constructor(anchors: Iterable<Anchor> = []) {
    for (const anchor of anchors) this.add(anchor);
  }

  add(anchor: Anchor): void {
    this.#size++;
    if (anchor.kind === 'public-key') {
      this.#keys.push(anchor);
      return;
    }
    const key = anchor.cert.raw.subject.toString('hex');
    const list = this.#bySubject.get(key);
    if (list === undefined) this.#bySubject.set(key, [anchor]);
    else list.push(anchor);
  }

  get size(): number {
    return this.#size;
  }

  certificatesNamed(subject: Buffer): readonly CertificateAnchor[] {
    return this.#bySubject.get(subject.toString('hex')) ?? [];
  }

  get keys(): readonly KeyAnchor[] {
    return this.#keys;
  }

  /** Every certificate anchor, for display and for combining sets. */
  *certificates(): Iterable<CertificateAnchor> {
    for (const list of this.#bySubject.values()) yield* list;
  }
}

/** A bare public key anchor from DER SubjectPublicKeyInfo; throws when the bytes are no key. */
export function publicKeyAnchor(spki: Buffer, source: AnchorSource): Anchor {
  return { kind: 'public-key', spki, key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), source };
}

export type PathPurpose = 'server' | 'client';

export interface PathOptions {
  readonly time: Date;
  /** Largest depth (leaf = 0) of the anchor; a deeper path is refused with chain-too-deep. */
  readonly maxDepth: number;
  readonly purpose: PathPurpose;
  /** PKIX checks the anchor certificate's own dates; DANE-TA does not (RFC 7671 section 5.2). */
  readonly checkAnchorValidity: boolean;
  /** PKIX lets a trusted certificate be the leaf itself (a directly trusted certificate); DANE-TA does not. */
  readonly leafMayBeAnchor: boolean;
  readonly maxSignatureChecks: number;
}

export type PathResult =
  | {
    readonly ok: true;
    /** The validated certificates, leaf first, up to but not including a certificate anchor. */
    readonly path: readonly ParsedCertificate[];
    readonly anchor: Anchor;
    /**
     * Depth of the anchor: for a certificate anchor its position (leaf = 0) in the path; for a
     * bare key, the depth of the certificate it signed (OpenSSL's SSL_get0_dane_authority rule).
     */
    readonly anchorDepth: number;
  }
  | { readonly ok: false; readonly reasons: readonly Reason[] };

// RFC 5280 4.2.1.12 and RFC 5924 (id-kp-sipDomain): EKUs that allow each purpose.
const EKU_ANY = '2.5.29.37.0';
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_SIP_DOMAIN = '1.3.6.1.5.5.7.3.20';
const PURPOSE_EKUS: Readonly<Record<PathPurpose, readonly string[]>> = {
  server: [EKU_SERVER_AUTH, EKU_SIP_DOMAIN, EKU_ANY],
  client: [EKU_CLIENT_AUTH, EKU_SIP_DOMAIN, EKU_ANY],
};

interface SearchState {
  signatureChecks: number;
  /** The first complete path's validation failures, or the reason no path was found. */
  failures: Reason[] | undefined;
  budgetExhausted: boolean;
}

/**
 * Builds a path from `leaf` through `intermediates` (any order, extras allowed) to one of
 * `anchors`, and validates it. Candidates are tried depth first, anchors before longer paths, so
 * the shortest valid path wins; the first candidate's failures are reported when none validates.
 */
export function buildPath(leaf: ParsedCertificate, intermediates: readonly ParsedCertificate[], anchors: AnchorSet, options: PathOptions): PathResult {
  const state: SearchState = { signatureChecks: 0, failures: undefined, budgetExhausted: false };
  const found = extend([leaf], intermediates, anchors, options, state);
  if (found !== undefined) return found;
  if (state.budgetExhausted && state.failures === undefined) {
    return { ok: false, reasons: [{ code: 'unknown-ca', depth: 0, issuer: leaf.issuerText, detail: `gave up after ${options.maxSignatureChecks} signature checks` }] };
  }
  return { ok: false, reasons: state.failures ?? [{ code: 'unknown-ca', depth: 0, issuer: leaf.issuerText }] };
}

function extend(path: ParsedCertificate[], pool: readonly ParsedCertificate[], anchors: AnchorSet, options: PathOptions, state: SearchState): PathResult | undefined {
  const depth = path.length - 1;
  const current = path[depth] as ParsedCertificate;

  // 1. The current certificate is itself an anchor (same subject and key).
  if (depth > 0 || options.leafMayBeAnchor) {
    for (const anchor of anchors.certificatesNamed(current.raw.subject)) {
      if (!sameKey(anchor.cert, current)) continue;
      const result = finish(path.slice(0, depth), anchor, depth, options, state);
      if (result !== undefined) return result;
    }
  }
  // 2. An anchor issued the current certificate.
  for (const anchor of anchors.certificatesNamed(current.raw.issuer)) {
    // A self-signed leaf is not its own issuer unless the leaf may be the anchor (DANE-TA: never).
    if (depth === 0 && !options.leafMayBeAnchor && sameKey(anchor.cert, current)) continue;
    if (!keyIdsAgree(current, anchor.cert) || !signedBy(current, anchor.cert.x509.publicKey, state, options)) continue;
    const result = finish(path, anchor, depth + 1, options, state);
    if (result !== undefined) return result;
  }
  for (const anchor of anchors.keys) {
    if (!signedBy(current, anchor.key, state, options)) continue;
    const result = finish(path, anchor, depth, options, state);
    if (result !== undefined) return result;
  }
  // 3. A presented (or TLSA-supplied) certificate issued it.
  let candidates = 0;
  let badSignature = false;
  for (const issuer of pool) {
    if (path.includes(issuer) || !issuer.raw.subject.equals(current.raw.issuer) || !keyIdsAgree(current, issuer)) continue;
    if (path.some((p) => p.der.equals(issuer.der))) continue;
    candidates++;
    if (depth + 1 > options.maxDepth) {
      state.failures ??= [{ code: 'chain-too-deep', depth: depth + 1, maxDepth: options.maxDepth, subject: issuer.subjectText }];
      continue;
    }
    if (!signedBy(current, issuer.x509.publicKey, state, options)) {
      badSignature = true;
      continue;
    }
    const result = extend([...path, issuer], pool, anchors, options, state);
    if (result !== undefined) return result;
  }
  if (state.failures === undefined) {
    if (badSignature) state.failures = [{ code: 'bad-signature', depth, subject: current.subjectText }];
    else if (candidates === 0) state.failures = [{ code: 'unknown-ca', depth, issuer: current.issuerText }];
  }
  return undefined;
}

/** Validates a complete candidate path; returns it when valid, records its failures otherwise. */
function finish(path: readonly ParsedCertificate[], anchor: Anchor, anchorDepth: number, options: PathOptions, state: SearchState): PathResult | undefined {
  if (anchorDepth > options.maxDepth) {
    state.failures ??= [{ code: 'chain-too-deep', depth: anchorDepth, maxDepth: options.maxDepth, subject: anchor.kind === 'certificate' ? anchor.cert.subjectText : undefined }];
    return undefined;
  }
  const reasons = validatePath(path, anchor, anchorDepth, options);
  if (reasons.length === 0) return { ok: true, path, anchor, anchorDepth };
  state.failures ??= reasons;
  return undefined;
}

/** RFC 5280 section 6.1.3/6.1.4 checks that sipsec applies, leaf (depth 0) first. */
export function validatePath(path: readonly ParsedCertificate[], anchor: Anchor, anchorDepth: number, options: PathOptions): Reason[] {
  const reasons: Reason[] = [];
  const time = options.time.getTime();
  path.forEach((cert, depth) => {
    reasons.push(...validityReasons(cert, depth, time));
    for (const oid of cert.unknownCriticalExtensions) reasons.push({ code: 'unsupported-critical-extension', depth, subject: cert.subjectText, oid });
    if (depth === 0) {
      reasons.push(...leafPurposeReasons(cert, options.purpose));
      return;
    }
    reasons.push(...issuerReasons(cert, depth, options.purpose));
    // pathLenConstraint counts the non-self-issued intermediates below this one (RFC 5280 4.2.1.9).
    const pathLen = cert.basicConstraints?.pathLen;
    if (pathLen !== undefined) {
      const below = path.slice(1, depth).filter((c) => !c.selfIssued).length;
      if (below > pathLen) reasons.push({ code: 'path-length-exceeded', depth, subject: cert.subjectText, pathLen, intermediates: below });
    }
  });
  if (anchor.kind === 'certificate' && options.checkAnchorValidity) {
    reasons.push(...validityReasons(anchor.cert, anchorDepth, time));
  }
  if (anchor.kind === 'certificate') {
    const pathLen = anchor.cert.basicConstraints?.pathLen;
    if (pathLen !== undefined) {
      const below = path.slice(1).filter((c) => !c.selfIssued).length;
      if (below > pathLen) reasons.push({ code: 'path-length-exceeded', depth: anchorDepth, subject: anchor.cert.subjectText, pathLen, intermediates: below });
    }
  }
  return reasons;
}

function validityReasons(cert: ParsedCertificate, depth: number, time: number): Reason[] {
  if (time > cert.notAfter.getTime()) return [{ code: 'expired', depth, subject: cert.subjectText, notAfter: cert.notAfter.toISOString() }];
  if (time < cert.notBefore.getTime()) return [{ code: 'not-yet-valid', depth, subject: cert.subjectText, notBefore: cert.notBefore.toISOString() }];
  return [];
}

function leafPurposeReasons(cert: ParsedCertificate, purpose: PathPurpose): Reason[] {
  const reasons: Reason[] = [];
  if (cert.extKeyUsage !== undefined && !cert.extKeyUsage.some((eku) => PURPOSE_EKUS[purpose].includes(eku))) {
    reasons.push({ code: 'wrong-purpose', depth: 0, subject: cert.subjectText, detail: `extendedKeyUsage [${cert.extKeyUsage.join(', ')}] allows neither ${purpose === 'server' ? 'serverAuth' : 'clientAuth'} nor sipDomain` });
  }
  const ku = cert.keyUsage;
  if (ku !== undefined && !ku.some((u) => u === 'digitalSignature' || u === 'keyEncipherment' || u === 'keyAgreement')) {
    reasons.push({ code: 'wrong-purpose', depth: 0, subject: cert.subjectText, detail: `keyUsage [${ku.join(', ')}] allows no TLS key exchange or signature` });
  }
  return reasons;
}

function issuerReasons(cert: ParsedCertificate, depth: number, purpose: PathPurpose): Reason[] {
  const reasons: Reason[] = [];
  if (cert.basicConstraints?.ca !== true) {
    reasons.push({ code: 'not-a-ca', depth, subject: cert.subjectText, detail: cert.basicConstraints === undefined ? 'no basicConstraints extension' : 'basicConstraints cA is false' });
  }
  if (cert.keyUsage !== undefined && !cert.keyUsage.includes('keyCertSign')) {
    reasons.push({ code: 'not-a-ca', depth, subject: cert.subjectText, detail: 'keyUsage lacks keyCertSign' });
  }
  if (cert.extKeyUsage !== undefined && !cert.extKeyUsage.some((eku) => PURPOSE_EKUS[purpose].includes(eku))) {
    reasons.push({ code: 'wrong-purpose', depth, subject: cert.subjectText, detail: `issuer extendedKeyUsage [${cert.extKeyUsage.join(', ')}] excludes the ${purpose} purpose` });
  }
  return reasons;
}

function sameKey(a: ParsedCertificate, b: ParsedCertificate): boolean {
  return a.der.equals(b.der) || a.raw.subjectPublicKeyInfo.equals(b.raw.subjectPublicKeyInfo);
}

/** AKID of the child and SKID of the issuer must agree when both are present (RFC 5280 4.2.1.1). */
function keyIdsAgree(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  return child.authorityKeyId === undefined || issuer.subjectKeyId === undefined || child.authorityKeyId.equals(issuer.subjectKeyId);
}

function signedBy(cert: ParsedCertificate, key: KeyObject, state: SearchState, options: PathOptions): boolean {
  if (state.signatureChecks >= options.maxSignatureChecks) {
    state.budgetExhausted = true;
    return false;
  }
  state.signatureChecks++;
  try {
    return cert.x509.verify(key);
  } catch {
    return false;
  }
}
