/**
 * RFC 5280 section 4.2: a critical extension that sipsec does not process fails the certificate.
 * Leaves made by openssl at test time (real extension encodings), issued by a lab CA.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCertificate, parsePemCertificates } from './certificate.js';
import { renderReason } from './reasons.js';
import { generateTlsaRecord } from './tlsa.js';
import { TrustStore } from './trust-store.js';
import { verifyDane, verifyRfc5922 } from './verify-peer.js';
import { issueCertificate } from '../lab/certificates.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sipsec-critical-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = issueCertificate({ cn: 'Critical Root', ca: true });
const ca = issueCertificate({ cn: 'Critical CA', ca: true, issuer: root });
writeFileSync(path.join(dir, 'ca.pem'), ca.pem);
writeFileSync(path.join(dir, 'ca.key'), ca.keyPem);
const store = TrustStore.fromPem(root.pem);

/** A leaf for sip.example.com issued by `ca` with openssl, with these extra -addext lines. */
function opensslLeaf(name: string, addext: readonly string[]): Buffer {
  const out = path.join(dir, `${name}.pem`);
  const run = spawnSync('openssl', [
    'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${name}.key`),
    '-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca.key'), '-days', '30', '-subj', '/CN=sip.example.com',
    '-addext', 'subjectAltName=URI:sip:example.com', '-addext', 'basicConstraints=critical,CA:FALSE',
    ...addext.flatMap((e) => ['-addext', e]), '-out', out,
  ], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const [leaf] = parsePemCertificates(readFileSync(out, 'utf8'));
  assert.ok(leaf);
  return leaf.der;
}

const verify = (leaf: Buffer): ReturnType<typeof verifyRfc5922> => verifyRfc5922({ chain: [leaf, ca.der], sipDomain: 'example.com', trustStore: store });

describe('critical extensions sipsec does not process', () => {
  test('the control: the same leaf without them is authenticated', () => {
    assert.equal(verify(opensslLeaf('plain', [])).ok, true);
  });

  for (const [what, oid, critical, plain] of [
    ['cRLDistributionPoints', '2.5.29.31', 'crlDistributionPoints=critical,URI:http://crl.example.com/ca.crl', 'crlDistributionPoints=URI:http://crl.example.com/ca.crl'],
    ['certificatePolicies', '2.5.29.32', 'certificatePolicies=critical,2.23.140.1.2.1', 'certificatePolicies=2.23.140.1.2.1'],
  ] as const) {
    test(`${what} marked critical fails the leaf; not critical, it is ignored`, () => {
      const v = verify(opensslLeaf(`critical-${oid}`, [critical]));
      assert.equal(v.ok, false);
      assert.deepEqual(v.reasons.map((r) => r.code), ['unsupported-critical-extension']);
      const reason = v.reasons[0];
      assert.ok(reason?.code === 'unsupported-critical-extension');
      assert.equal(reason.oid, oid);
      assert.equal(reason.depth, 0);
      assert.match(renderReason(reason), new RegExp(`${oid.replace(/\./g, '\\.')} \\(${what}`));
      assert.equal(verify(opensslLeaf(`plain-${oid}`, [plain])).ok, true);
    });
  }

  test('authorityInfoAccess, issuerAltName and the SCT list marked critical fail too; on an intermediate as well', () => {
    for (const oid of ['1.3.6.1.5.5.7.1.1', '2.5.29.18', '1.3.6.1.4.1.11129.2.4.2']) {
      const leaf = issueCertificate({ cn: 'x', issuer: ca, san: { uri: ['sip:example.com'] }, criticalOids: [oid] });
      assert.deepEqual(verify(leaf.der).reasons.map((r) => r.code), ['unsupported-critical-extension'], oid);
    }
    const policyCa = issueCertificate({ cn: 'Policy CA', ca: true, issuer: root, criticalOids: ['2.5.29.32'] });
    const leaf = issueCertificate({ cn: 'x', issuer: policyCa, san: { uri: ['sip:example.com'] } });
    const v = verifyRfc5922({ chain: [leaf.der, policyCa.der], sipDomain: 'example.com', trustStore: store });
    assert.deepEqual(v.reasons.map((r) => [r.code, 'depth' in r ? r.depth : null]), [['unsupported-critical-extension', 1]]);
  });

  test('DANE-EE checks nothing but the key (RFC 7671 section 5.1), so it still authenticates', () => {
    const leaf = opensslLeaf('dane-ee', ['crlDistributionPoints=critical,URI:http://crl.example.com/ca.crl']);
    const v = verifyDane({ chain: [leaf], records: [generateTlsaRecord(parseCertificate(leaf), 3, 1, 1)], references: [], trustStore: store });
    assert.equal(v.ok, true);
  });
});
