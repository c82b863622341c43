/**
 * The DER certificate reader against @peculiar/asn1-x509 as the oracle (test/support/x509-oracle.ts)
 * on every certificate at hand: generated ones of every shape the lab makes, every DANE vector of
 * test/fixtures/dane, Node's bundled roots and the system's CA bundle. Then hostile input: any
 * mutation or truncation is a BadCertificateError or a certificate, never another exception.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { test } from 'node:test';
import fc from 'fast-check';
import { readGnutlsCases, readOpensslDaneFile, readOpensslPem } from '../../test/support/tls-dane-vectors.js';
import { oracleFields, sipsecFields } from '../../test/support/x509-oracle.js';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate, issueHierarchy } from '../lab/certificates.js';
import { decodePemCertificates, parseCertificate } from './certificate.js';
import { TlsError } from './errors.js';
import { readCertificateFields, type DistinguishedName } from './x509-reader.js';
import { readDerElement } from './der.js';
import { TrustStore } from './trust-store.js';

function flatName(name: DistinguishedName): string[][] {
  return name.map((rdn) => rdn.map((atv) => `${atv.type}=${atv.value}`));
}

function assertAgrees(der: Buffer, label: string): void {
  const fields = readCertificateFields(der);
  const parsed = parseCertificate(der);
  const ours = sipsecFields(
    parsed,
    { subject: flatName(fields.subject), issuer: flatName(fields.issuer) },
    fields.extensions.filter((e) => e.critical).map((e) => e.oid),
  );
  assert.deepEqual(ours, oracleFields(der), label);
}

const hierarchy = issueHierarchy('Oracle');
const GENERATED: readonly [string, Buffer][] = [
  ['leaf with SAN dNSName and URI', issueCertificate({ cn: 'sip1.example.net', o: 'Example', ou: 'SIP', issuer: hierarchy.intermediate, san: { dns: ['sip1.example.net', 'example.com'], uri: ['sip:example.com', 'sips:x@example.com'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] }).der],
  ['CN only, no SAN', issueCertificate({ cn: 'proxy.example.com' }).der],
  ['empty subject, SAN only', issueCertificate({ san: { dns: ['a.example'] } }).der],
  ['CA with pathLen 0', issueCertificate({ cn: 'CA', ca: { pathLen: 0 } }).der],
  ['CA with pathLen 300', issueCertificate({ cn: 'CA', ca: { pathLen: 300 } }).der],
  ['every keyUsage bit', issueCertificate({ cn: 'ku', keyUsage: 511 }).der],
  ['decipherOnly alone', issueCertificate({ cn: 'ku', keyUsage: 256 }).der],
  ['unknown critical extension', issueCertificate({ cn: 'crit', criticalOids: ['1.2.3.4.5', '2.999.1'] }).der],
  ['expires 2051 (GeneralizedTime)', issueCertificate({ cn: 'late', notAfter: new Date(Date.UTC(2051, 0, 1)) }).der],
  ['root', hierarchy.root.der],
  ['intermediate', hierarchy.intermediate.der],
];

test('the reader agrees with @peculiar/asn1-x509 on generated certificates of every shape', () => {
  for (const [label, der] of GENERATED) assertAgrees(der, label);
});

test('the reader agrees with @peculiar/asn1-x509 on every certificate of the DANE vectors', () => {
  const ders: Buffer[] = [];
  for (const file of ['danetest.in', 'dane-cross.in'] as const) for (const block of readOpensslDaneFile(file)) ders.push(...block.chain);
  for (const pem of ['danetest.pem', 'cross-root.pem'] as const) ders.push(...decodePemCertificates(readOpensslPem(pem)));
  for (const c of readGnutlsCases().cases) {
    if (c.cert_pem !== undefined) ders.push(...decodePemCertificates(c.cert_pem));
    if (c.ca_pem !== undefined) ders.push(...decodePemCertificates(c.ca_pem));
  }
  assert.ok(ders.length > 100, `${ders.length} certificates`);
  for (const [i, der] of ders.entries()) assertAgrees(der, `vector certificate ${i}`);
});

test("the reader agrees with @peculiar/asn1-x509 on Node's roots and the system CA bundle", () => {
  const ders = decodePemCertificates(rootCertificates.join('\n'));
  const bundle = '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(bundle)) ders.push(...decodePemCertificates(readFileSync(bundle, 'utf8')));
  assert.ok(ders.length >= 100);
  for (const [i, der] of ders.entries()) assertAgrees(der, `root ${i}`);
  // The default trust store leaves out roots the reader refuses: none may be left out.
  assert.deepEqual(TrustStore.systemRejected, []);
  assert.equal(TrustStore.system().certificates.length, rootCertificates.length);
});

function expectBad(der: Buffer, pattern: RegExp): void {
  assert.throws(() => parseCertificate(der), (err: unknown) => err instanceof TlsError && err.code === 'TLS_ERR_BAD_CERTIFICATE' && pattern.test(err.message));
}

test('structural faults are refused, naming the fault', () => {
  const der = issueCertificate({ cn: 'x', san: { dns: ['x.example'] } }).der;
  expectBad(Buffer.concat([der, Buffer.from([0])]), /one DER SEQUENCE/);
  expectBad(der.subarray(0, der.length - 1), /DER/);
  expectBad(Buffer.alloc(0), /DER/);
  // The notAfter UTCTime's trailing Z replaced: a local time is not allowed (RFC 5280 4.1.2.5.1).
  const utcTime = Buffer.from([0x17, 0x0d]);
  const notBefore = der.indexOf(utcTime);
  const notAfter = der.indexOf(utcTime, notBefore + 15);
  assert.ok(notBefore > 0 && notAfter > notBefore && der[notAfter + 14] === 0x5a);
  const noZ = Buffer.from(der);
  noZ[notAfter + 14] = 0x30;
  expectBad(noZ, /UTCTime/);
  // The subjectAltName OID (2.5.29.17) turned into a second subjectKeyIdentifier (2.5.29.14).
  const san = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]));
  assert.ok(san > 0);
  const twice = Buffer.from(der);
  twice[san + 4] = 0x0e;
  expectBad(twice, /appears twice/);
});

/** A copy of `der` with the first occurrence of `from` replaced by `to` (same length). */
function patched(der: Buffer, from: readonly number[], to: readonly number[]): Buffer {
  const at = der.indexOf(Buffer.from(from));
  assert.ok(at >= 0, `pattern ${Buffer.from(from).toString('hex')} present`);
  const out = Buffer.from(der);
  Buffer.from(to).copy(out, at);
  return out;
}

test('DER strictness where a lax reading could grant or change something', () => {
  const der = issueCertificate({ cn: 'x', san: { dns: ['x.example'] } }).der;
  // keyUsage digitalSignature is BIT STRING 07 80; a set padding bit would read as another usage.
  expectBad(patched(der, [0x03, 0x02, 0x07, 0x80], [0x03, 0x02, 0x07, 0x81]), /unused bits set/);
  // critical TRUE is FF in DER; 01 is BER only.
  expectBad(patched(der, [0x01, 0x01, 0xff], [0x01, 0x01, 0x01]), /neither 00 nor FF/);
  // A dNSName byte over 0x7f is no IA5 character.
  expectBad(patched(der, [...Buffer.from('x.example')], [0xe9, ...Buffer.from('.example')]), /not IA5/);
  // Lengths in their shortest form only.
  assert.throws(() => readDerElement(Buffer.from([0x04, 0x81, 0x05, 1, 2, 3, 4, 5]), 0), /shortest form/);
  assert.throws(() => readDerElement(Buffer.from([0x04, 0x82, 0x00, 0x81, ...new Array<number>(0x81).fill(0)]), 0), /shortest form/);
  assert.equal(readDerElement(Buffer.from([0x04, 0x81, 0x80, ...new Array<number>(0x80).fill(0)]), 0).end, 131);
});

test('a GeneralizedTime year is the year written, even below 100', () => {
  const der = issueCertificate({ cn: 'late', notAfter: new Date(Date.UTC(2051, 0, 1)) }).der;
  const year50 = patched(der, [...Buffer.from('20510101')], [...Buffer.from('00500101')]);
  assert.equal(readCertificateFields(year50).notAfter.toISOString(), '0050-01-01T00:00:00.000Z');
  assert.equal(readCertificateFields(der).notAfter.toISOString(), '2051-01-01T00:00:00.000Z');
});

test('no exception but BadCertificateError escapes on mutations and truncations', () => {
  const seeds = GENERATED.map(([, der]) => der);
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
      (seed, edits, cut) => {
        const der = Buffer.from(seed);
        for (const [at, byte] of edits) der[at % der.length] = byte;
        const input = cut === undefined ? der : der.subarray(0, cut % der.length);
        try {
          parseCertificate(input);
        } catch (err) {
          if (!(err instanceof TlsError) || err.code !== 'TLS_ERR_BAD_CERTIFICATE') throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
});
