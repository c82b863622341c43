import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePemCertificate, parseCertificate, parsePemCertificates } from './certificate.js';
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
