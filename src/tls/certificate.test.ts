import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCertificateFile, decodePemCertificates, encodePemCertificate, parseCertificate, parseCertificateFile, parsePemCertificates } from './certificate.js';
import { BadCertificateError, BadPemError } from './errors.js';
import { issueCertificate } from '../lab/certificates.js';

test('fields of a generated certificate', () => {
  const issuer = issueCertificate({ cn: 'CA', o: 'Org', ca: { pathLen: 1 } });
  const c = parseCertificate(issueCertificate({ cn: 'a.example', issuer, san: { dns: ['a.example'], uri: ['sip:example.com'] }, eku: ['1.3.6.1.5.5.7.3.1'] }).der);
  assert.deepEqual(c.commonNames, ['a.example']);
  assert.equal(c.hasSubjectAltName, true);
  assert.deepEqual(c.sanDnsNames, ['a.example']);
  assert.deepEqual(c.sanUris, ['sip:example.com']);
  assert.deepEqual(c.extKeyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.deepEqual(c.keyUsage, ['digitalSignature']);
  assert.equal(c.issuerText, 'O=Org, CN=CA');
  assert.equal(c.selfIssued, false);
  const ca = parseCertificate(issuer.der);
  assert.deepEqual(ca.basicConstraints, { ca: true, pathLen: 1 });
  assert.equal(ca.selfIssued, true);
  assert.deepEqual(ca.raw.subjectPublicKeyInfo, issuer.spki);
});

test('PEM: several blocks with text between; round trip; errors', () => {
  const a = issueCertificate({ cn: 'a' });
  const b = issueCertificate({ cn: 'b' });
  const parsed = parsePemCertificates(`subject=a\n${a.pem}junk\n${encodePemCertificate(b.der)}`);
  assert.deepEqual(parsed.map((c) => c.commonNames[0]), ['a', 'b']);
  assert.throws(() => parsePemCertificates('nothing here'), BadPemError);
  assert.throws(() => parsePemCertificates('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----'), BadPemError);
  assert.throws(() => parseCertificate(Buffer.from('3003020100', 'hex')), (e: unknown) => e instanceof BadCertificateError && e.code === 'TLS_ERR_BAD_CERTIFICATE');
});

test('PEM reader is linear: 200,000 BEGIN lines without END are refused at once', { timeout: 30_000 }, () => {
  // Issue 12 item 9: a lazy regular expression rescanned to the end for every BEGIN (20,000 lines
  // took 7 s); at 200,000 lines a quadratic reader would need about 100 times longer than that.
  const hostile = '-----BEGIN CERTIFICATE-----\n'.repeat(200_000);
  assert.throws(() => parsePemCertificates(hostile), (e: unknown) => e instanceof BadPemError && /no END CERTIFICATE/.test(e.message));
  const a = issueCertificate({ cn: 'a' });
  assert.throws(() => parsePemCertificates(a.pem + hostile), /no END CERTIFICATE/);
  // Many complete blocks are read in one pass too.
  assert.equal(decodePemCertificates(a.pem.repeat(20_000)).length, 20_000);
});

test('PEM without a CERTIFICATE block names what it holds', () => {
  const key = issueCertificate({ cn: 'k' }).keyPem;
  assert.throws(() => parsePemCertificates(key), /no CERTIFICATE block found, only a PRIVATE KEY block/);
});

test('certificate files: PEM or DER detected by content', () => {
  const a = issueCertificate({ cn: 'a' });
  const b = issueCertificate({ cn: 'b' });
  assert.equal(decodeCertificateFile(Buffer.from(a.pem)).format, 'pem');
  const der = decodeCertificateFile(a.der);
  assert.equal(der.format, 'der');
  assert.deepEqual(der.ders, [a.der]);
  assert.deepEqual(parseCertificateFile(Buffer.concat([a.der, b.der])).map((c) => c.commonNames[0]), ['a', 'b']);
  assert.throws(() => decodeCertificateFile(Buffer.from('hello')), /neither PEM .* nor DER/);
  assert.throws(() => decodeCertificateFile(a.der.subarray(0, a.der.length - 1)), /DER: the certificate at byte 0 does not parse/);
  assert.throws(() => decodeCertificateFile(Buffer.concat([a.der, Buffer.from('0400', 'hex')])), new RegExp(`DER: byte ${a.der.length} does not start a certificate`));
  assert.throws(() => parseCertificateFile(Buffer.from('3003020100', 'hex')), BadCertificateError);
  // Text that happens to start with '0' (0x30) is still read as PEM.
  assert.deepEqual(decodeCertificateFile(Buffer.from(`0 s:CN=a\n${a.pem}`)).ders, [a.der]);
});
