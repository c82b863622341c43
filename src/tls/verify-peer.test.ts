import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsaRecord } from '../dns/tlsa-record.js';
import { parseCertificate } from './certificate.js';
import { generateTlsaRecord } from './tlsa.js';
import { TrustStore } from './trust-store.js';
import { verifyClient, verifyDane, verifyRfc5922, verifyServer } from './verify-peer.js';
import { renderVerdict, verdictJson } from './verdict.js';
import { reasonSeverity, renderReason, type Reason } from './reasons.js';
import { EmptyChainError } from './errors.js';
import { issueCertificate, type TestCertificate } from '../lab/certificates.js';

const root = issueCertificate({ cn: 'Root', ca: true });
const ca = issueCertificate({ cn: 'CA', ca: true, issuer: root });
const store = TrustStore.fromPem(root.pem);
const leaf = issueCertificate({ cn: 'sip1.example.net', issuer: ca, san: { uri: ['sip:example.com'], dns: ['sip1.example.net'] } });
const chain = [leaf.der, ca.der];
const rec = (c: TestCertificate, u: number, s: number, m: number): TlsaRecord => generateTlsaRecord(parseCertificate(c.der), u, s, m);
const refs = [{ name: 'example.com', kind: 'sip-domain' as const }, { name: 'sip1.example.net', kind: 'host' as const }];

describe('verdict shape', () => {
  test('a passing RFC 5922 verdict', () => {
    const v = verifyServer({ chain, target: { sipDomain: 'example.com' }, trustStore: store });
    assert.equal(v.ok, true);
    assert.equal(v.authenticated, true);
    assert.equal(v.proceed, true);
    assert.equal(v.method, 'rfc5922');
    assert.equal(v.attempted, 'rfc5922');
    assert.equal(v.matchedIdentity, 'example.com');
    assert.equal(v.identitySource, 'san-uri');
    assert.equal(v.wildcard, false);
    assert.deepEqual(v.peerIdentities, ['example.com']);
    assert.deepEqual(v.reasons, []);
    assert.equal(v.chain.length, 2);
    assert.equal(v.chain[0]?.subject, 'CN=sip1.example.net');
    assert.equal(v.anchorDepth, 2);
    assert.equal(v.dane, null);
    assert.match(renderVerdict(v), /^authenticated: method rfc5922/);
  });

  test('the SRV host is not an identity without DANE', () => {
    const v = verifyServer({ chain, target: { sipDomain: 'sip1.example.net', srvHost: 'sip1.example.net' }, trustStore: store });
    assert.equal(v.ok, false);
    assert.equal(v.reasons[0]?.code, 'name-mismatch');
  });

  test('path and name failures are both reported', () => {
    const v = verifyRfc5922({ chain: [leaf.der], sipDomain: 'example.org', trustStore: store });
    assert.deepEqual(v.reasons.map((r) => r.code), ['unknown-ca', 'name-mismatch']);
    assert.match(renderVerdict(v), /NOT authenticated/);
  });

  test('an empty chain is a caller bug (TLS_ERR_EMPTY_CHAIN); too many certificates are refused', () => {
    assert.throws(() => verifyServer({ chain: [], target: { sipDomain: 'example.com' }, trustStore: store }), EmptyChainError);
    const v = verifyServer({ chain: Array.from({ length: 17 }, () => leaf.der), target: { sipDomain: 'example.com' }, trustStore: store });
    assert.equal(v.reasons[0]?.code, 'chain-too-deep');
  });

  test('wildcard opt-in is flagged in the verdict', () => {
    const w = issueCertificate({ cn: 'w', issuer: ca, san: { dns: ['*.example.com'] } });
    const refused = verifyServer({ chain: [w.der, ca.der], target: { sipDomain: 'sip.example.com' }, trustStore: store });
    assert.deepEqual(refused.reasons.map((r) => r.code), ['name-mismatch', 'wildcard-refused']);
    const allowed = verifyServer({ chain: [w.der, ca.der], target: { sipDomain: 'sip.example.com' }, trustStore: store, policy: { allowWildcard: true } });
    assert.equal(allowed.ok, true);
    assert.equal(allowed.wildcard, true);
    assert.deepEqual(allowed.reasons.map((r) => r.code), ['wildcard-accepted']);
  });
});

describe('DANE usages through verifyDane', () => {
  test('PKIX-TA and PKIX-EE need the trust store path as well as the match', () => {
    const ta = verifyDane({ chain, records: [rec(root, 0, 1, 1)], references: refs, trustStore: store });
    assert.equal(ta.method, 'pkix-ta');
    assert.equal(ta.dane?.match?.depth, 2);
    const ee = verifyDane({ chain, records: [rec(leaf, 1, 0, 1)], references: refs, trustStore: store });
    assert.equal(ee.method, 'pkix-ee');
    const noStore = verifyDane({ chain, records: [rec(leaf, 1, 0, 1)], references: refs, trustStore: TrustStore.empty() });
    assert.equal(noStore.ok, false);
    assert.equal(noStore.reasons[0]?.code, 'unknown-ca');
  });

  test('PKIX usages can be switched off: they become unusable', () => {
    const v = verifyDane({ chain, records: [rec(leaf, 1, 0, 1)], references: refs, trustStore: store, policy: { pkixTlsaUsages: false } });
    assert.deepEqual(v.reasons, [{ code: 'dane-no-usable-records', ignoredRecords: 1 }]);
  });

  test('DANE-TA from DNS: 2 0 0 anchor not sent, 2 1 0 bare key; off by policy', () => {
    const full = verifyDane({ chain: [leaf.der], records: [rec(ca, 2, 0, 0)], references: refs, trustStore: TrustStore.empty() });
    assert.equal(full.ok, true, JSON.stringify(full.reasons));
    assert.equal(full.dane?.match?.depth, 1);
    const key = verifyDane({ chain: [leaf.der], records: [rec(ca, 2, 1, 0)], references: refs, trustStore: TrustStore.empty() });
    assert.equal(key.ok, true);
    assert.equal(key.dane?.match?.depth, 0);
    const off = verifyDane({ chain: [leaf.der], records: [rec(ca, 2, 0, 0)], references: refs, trustStore: TrustStore.empty(), policy: { daneTaFromDns: false } });
    assert.equal(off.ok, false);
  });

  test('self-signed CA leaf: DANE-TA 2 0 0 / 2 1 1 fail (depth 0 TA), only 2 1 0 succeeds', () => {
    const self = issueCertificate({ cn: 'sip1.example.net', ca: true, keyUsage: 1 | 32, san: { dns: ['sip1.example.net'] } });
    const run = (r: TlsaRecord): boolean => verifyDane({ chain: [self.der], records: [r], references: refs, trustStore: TrustStore.empty() }).ok;
    assert.equal(run(rec(self, 2, 0, 0)), false);
    assert.equal(run(rec(self, 2, 0, 1)), false);
    assert.equal(run(rec(self, 2, 1, 1)), false);
    assert.equal(run(rec(self, 2, 1, 2)), false);
    assert.equal(run(rec(self, 2, 1, 0)), true);
  });

  test('DANE-TA anchor missing from the chain with a digest record: no match', () => {
    const v = verifyDane({ chain, records: [rec(root, 2, 0, 1)], references: refs, trustStore: TrustStore.empty() });
    assert.equal(v.reasons[0]?.code, 'dane-no-match');
  });

  test('precedence: DANE-EE beats DANE-TA; the lower DANE-TA depth wins', () => {
    const both = verifyDane({ chain: [leaf.der, ca.der, root.der], records: [rec(root, 2, 1, 1), rec(leaf, 3, 1, 1)], references: refs, trustStore: store });
    assert.equal(both.method, 'dane-ee');
    const tas = verifyDane({ chain: [leaf.der, ca.der, root.der], records: [rec(root, 2, 1, 1), rec(ca, 2, 0, 1)], references: refs, trustStore: store });
    assert.equal(tas.dane?.match?.depth, 1);
  });

  test('DANE-EE name checks only when the policy asks (OpenSSL compatibility)', () => {
    const other = [{ name: 'elsewhere.example', kind: 'sip-domain' as const }];
    assert.equal(verifyDane({ chain, records: [rec(leaf, 3, 1, 1)], references: other, trustStore: store }).ok, true);
    const checked = verifyDane({ chain, records: [rec(leaf, 3, 1, 1)], references: other, trustStore: store, policy: { daneEeChecksNames: true } });
    assert.equal(checked.reasons[0]?.code, 'name-mismatch');
  });
});

describe('inbound clients', () => {
  test('no certificate; client purpose; accepted domains', () => {
    assert.deepEqual(verifyClient({ chain: [], trustStore: store }).reasons, [{ code: 'no-client-certificate' }]);
    const v = verifyClient({ chain, trustStore: store, acceptedDomains: ['example.com'] });
    assert.equal(v.ok, true);
    assert.equal(v.matchedIdentity, 'example.com');
  });

  test('lenient mode lets an identity-less client continue unauthenticated', () => {
    const anon = issueCertificate({ o: 'Nobody', issuer: ca });
    const v = verifyClient({ chain: [anon.der, ca.der], trustStore: store, policy: { mode: 'lenient' } });
    assert.equal(v.ok, false);
    assert.equal(v.proceed, true);
  });
});

describe('words and severities', () => {
  test('DANE-TA without any reference identity says no name was given (it said no-identity with an empty list)', () => {
    const v = verifyDane({ chain, records: [rec(ca, 2, 1, 1)], references: [], trustStore: store });
    assert.equal(v.ok, false);
    assert.deepEqual(v.reasons, [{ code: 'no-reference-identity' }]);
    assert.equal(v.dane?.match?.usage, 'dane-ta');
  });

  test('reasons carry a severity: notes never fail a verdict; verdictJson keeps one authentication field', () => {
    const w = issueCertificate({ cn: 'w', issuer: ca, san: { dns: ['*.example.com'] } });
    const v = verifyRfc5922({ chain: [w.der, ca.der], sipDomain: 'sip.example.com', trustStore: store, policy: { allowWildcard: true } });
    assert.equal(v.ok, true);
    assert.deepEqual(v.reasons.map(reasonSeverity), ['note']);
    assert.match(renderVerdict(v), /^- note: wildcard-accepted/m);
    const json = verdictJson(v);
    assert.equal(json.authenticated, true);
    assert.equal('ok' in json || 'proceed' in json, false);
    assert.deepEqual(json.reasons[0], { severity: 'note', ...v.reasons[0], text: renderReason(v.reasons[0] as Reason) });
    const failed = verifyRfc5922({ chain: [leaf.der], sipDomain: 'example.org', trustStore: store });
    assert.deepEqual(verdictJson(failed).reasons.map((r) => [r.severity, r.code]), [['error', 'unknown-ca'], ['error', 'name-mismatch']]);
  });
});
