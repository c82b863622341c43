import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { AnchorSet, buildPath, type PathOptions } from './path.js';
import { EKU_CLIENT_AUTH, EKU_CODE_SIGNING, EKU_SERVER_AUTH, EKU_SIP_DOMAIN, issueCertificate, type TestCertificate } from '../lab/certificates.js';

const DAY = 86_400_000;
const options: PathOptions = { time: new Date(), maxDepth: 5, purpose: 'server', checkAnchorValidity: true, leafMayBeAnchor: true, maxSignatureChecks: 100 };
const p = (c: TestCertificate): ParsedCertificate => parseCertificate(c.der);
const store = (...anchors: TestCertificate[]): AnchorSet => new AnchorSet(anchors.map((c) => ({ kind: 'certificate', cert: p(c), source: 'trust-store' }) as const));
const codes = (r: ReturnType<typeof buildPath>): string[] => (r.ok ? [] : r.reasons.map((x) => x.code));

const root = issueCertificate({ cn: 'Root', ca: true });
const ca = issueCertificate({ cn: 'CA', ca: true, issuer: root });

describe('path building', () => {
  test('leaf, intermediate, root from the store: anchor at depth 2', () => {
    const leaf = issueCertificate({ cn: 'a', issuer: ca });
    const r = buildPath(p(leaf), [p(ca)], store(root), options);
    assert.equal(r.ok, true);
    assert.equal(r.ok && r.anchorDepth, 2);
  });

  test('intermediates out of order and with extras', () => {
    const leaf = issueCertificate({ cn: 'a', issuer: ca });
    const stray = issueCertificate({ cn: 'Stray', ca: true });
    const r = buildPath(p(leaf), [p(stray), p(root), p(ca)], store(root), options);
    assert.equal(r.ok, true);
  });

  test('missing intermediate: unknown-ca at depth 0', () => {
    const leaf = issueCertificate({ cn: 'a', issuer: ca });
    assert.deepEqual(codes(buildPath(p(leaf), [], store(root), options)), ['unknown-ca']);
  });

  test('a same-named issuer with another key: bad-signature', () => {
    const fake = issueCertificate({ cn: 'CA', ca: true, issuer: root });
    const leaf = issueCertificate({ cn: 'a', issuer: fake });
    // Remove key identifiers from consideration by presenting the real CA under the same name.
    const r = buildPath(p(leaf), [p(ca)], store(root), options);
    assert.equal(r.ok, false);
    assert.ok(['bad-signature', 'unknown-ca'].includes(codes(r)[0] ?? ''));
  });

  test('a directly trusted leaf (self-signed, in the store) is accepted for PKIX, not when leafMayBeAnchor is off', () => {
    const self = issueCertificate({ cn: 'self.example', san: { dns: ['self.example'] } });
    assert.equal(buildPath(p(self), [], store(self), options).ok, true);
    assert.equal(buildPath(p(self), [], store(self), { ...options, leafMayBeAnchor: false }).ok, false);
  });

  test('the signature budget bounds the work', () => {
    const leaf = issueCertificate({ cn: 'a', issuer: ca });
    const r = buildPath(p(leaf), [p(ca)], store(root), { ...options, maxSignatureChecks: 1 });
    assert.equal(r.ok, false);
  });
});

describe('path validation', () => {
  test('expired and not-yet-valid at any depth', () => {
    const old = issueCertificate({ cn: 'a', issuer: ca, notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 9 * DAY) });
    assert.deepEqual(codes(buildPath(p(old), [p(ca)], store(root), options)), ['expired']);
    const future = issueCertificate({ cn: 'a', issuer: ca, notBefore: new Date(Date.now() + DAY) });
    assert.deepEqual(codes(buildPath(p(future), [p(ca)], store(root), options)), ['not-yet-valid']);
    const oldCa = issueCertificate({ cn: 'Old CA', ca: true, issuer: root, notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 9 * DAY) });
    const leaf = issueCertificate({ cn: 'a', issuer: oldCa });
    const r = buildPath(p(leaf), [p(oldCa)], store(root), options);
    assert.deepEqual(r.ok ? [] : r.reasons.map((x) => [x.code, 'depth' in x ? x.depth : -1]), [['expired', 1]]);
  });

  test('an expired trust anchor fails PKIX; DANE-TA (checkAnchorValidity off) does not look', () => {
    const oldRoot = issueCertificate({ cn: 'Old Root', ca: true, notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 9 * DAY) });
    const leaf = issueCertificate({ cn: 'a', issuer: oldRoot });
    assert.deepEqual(codes(buildPath(p(leaf), [], store(oldRoot), options)), ['expired']);
    assert.equal(buildPath(p(leaf), [], store(oldRoot), { ...options, checkAnchorValidity: false }).ok, true);
  });

  test('an issuer without cA (not-a-ca) or without keyCertSign', () => {
    const notCa = issueCertificate({ cn: 'Not a CA', issuer: root });
    const leaf = issueCertificate({ cn: 'a', issuer: notCa });
    // No basicConstraints and no keyCertSign: two findings, both not-a-ca.
    assert.deepEqual(codes(buildPath(p(leaf), [p(notCa)], store(root), options)), ['not-a-ca', 'not-a-ca']);
    const noSign = issueCertificate({ cn: 'No Sign', ca: true, issuer: root, keyUsage: 1 });
    const leaf2 = issueCertificate({ cn: 'a', issuer: noSign });
    assert.deepEqual(codes(buildPath(p(leaf2), [p(noSign)], store(root), options)), ['not-a-ca']);
  });

  test('pathLenConstraint', () => {
    const limited = issueCertificate({ cn: 'Limited', ca: { pathLen: 0 }, issuer: root });
    const sub = issueCertificate({ cn: 'Sub', ca: true, issuer: limited });
    const leaf = issueCertificate({ cn: 'a', issuer: sub });
    // A pathLenConstraint violation is its own finding, not our depth limit (chain-too-deep).
    const result = buildPath(p(leaf), [p(sub), p(limited)], store(root), options);
    assert.ok(!result.ok);
    assert.deepEqual(result.reasons, [{ code: 'path-length-exceeded', depth: 2, subject: 'CN=Limited', pathLen: 0, intermediates: 1 }]);
    const direct = issueCertificate({ cn: 'b', issuer: limited });
    assert.equal(buildPath(p(direct), [p(limited)], store(root), options).ok, true);
    // The anchor's own pathLenConstraint counts too.
    const limitedRoot = issueCertificate({ cn: 'Limited Root', ca: { pathLen: 0 } });
    const mid = issueCertificate({ cn: 'Mid', ca: true, issuer: limitedRoot });
    const fromRoot = buildPath(p(issueCertificate({ cn: 'c', issuer: mid })), [p(mid)], store(limitedRoot), options);
    assert.ok(!fromRoot.ok);
    assert.deepEqual(fromRoot.reasons, [{ code: 'path-length-exceeded', depth: 2, subject: 'CN=Limited Root', pathLen: 0, intermediates: 1 }]);
  });

  test('maximum depth (draft-gurbani A.3)', () => {
    const leaf = issueCertificate({ cn: 'a', issuer: ca });
    assert.equal(buildPath(p(leaf), [p(ca)], store(root), { ...options, maxDepth: 2 }).ok, true);
    assert.deepEqual(codes(buildPath(p(leaf), [p(ca)], store(root), { ...options, maxDepth: 1 })), ['chain-too-deep']);
  });

  test('extended key usage: serverAuth or sipDomain for servers, clientAuth or sipDomain for clients', () => {
    const server = issueCertificate({ cn: 'a', issuer: ca, eku: [EKU_SERVER_AUTH] });
    const sip = issueCertificate({ cn: 'a', issuer: ca, eku: [EKU_SIP_DOMAIN] });
    const client = issueCertificate({ cn: 'a', issuer: ca, eku: [EKU_CLIENT_AUTH] });
    const code = issueCertificate({ cn: 'a', issuer: ca, eku: [EKU_CODE_SIGNING] });
    assert.equal(buildPath(p(server), [p(ca)], store(root), options).ok, true);
    assert.equal(buildPath(p(sip), [p(ca)], store(root), options).ok, true);
    assert.deepEqual(codes(buildPath(p(client), [p(ca)], store(root), options)), ['wrong-purpose']);
    assert.equal(buildPath(p(client), [p(ca)], store(root), { ...options, purpose: 'client' }).ok, true);
    assert.equal(buildPath(p(sip), [p(ca)], store(root), { ...options, purpose: 'client' }).ok, true);
    assert.deepEqual(codes(buildPath(p(code), [p(ca)], store(root), options)), ['wrong-purpose']);
  });

  test('a leaf key usage without signature or key exchange bits: wrong-purpose', () => {
    const leaf = issueCertificate({ cn: 'a', issuer: ca, keyUsage: 64 });
    assert.deepEqual(codes(buildPath(p(leaf), [p(ca)], store(root), options)), ['wrong-purpose']);
  });

  test('an unknown critical extension (e.g. name constraints, not implemented) fails closed', () => {
    const constrained = issueCertificate({ cn: 'Constrained', ca: true, issuer: root, criticalOids: ['2.5.29.30'] });
    const leaf = issueCertificate({ cn: 'a', issuer: constrained });
    assert.deepEqual(codes(buildPath(p(leaf), [p(constrained)], store(root), options)), ['unsupported-critical-extension']);
  });
});
