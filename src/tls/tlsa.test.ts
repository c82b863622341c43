import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseCertificate } from './certificate.js';
import {
  classifyTlsaRecord, decodeTlsaRdata, formatTlsaRecord, generateTlsaRecord, parseTlsaRecord, selectUsableRecords, tlsaMatches, tlsaOwnerName,
} from './tlsa.js';
import { issueCertificate } from '../lab/certificates.js';
import { BadTlsaError } from './errors.js';

const cert = parseCertificate(issueCertificate({ cn: 'sip.example.com' }).der);
const both = ['sha2-512', 'sha2-256'] as const;

describe('presentation form', () => {
  test('parse and format round trip; hex case-insensitive; spaces inside hex allowed', () => {
    const r = parseTlsaRecord('3 1 1 ab CD ef');
    assert.deepEqual(r, { usage: 3, selector: 1, matchingType: 1, data: Buffer.from('abcdef', 'hex') });
    assert.equal(formatTlsaRecord(r), '3 1 1 abcdef');
  });

  test('RFC 7218 mnemonics, a zone file line (as tlsa generate and dig print it), parentheses and comments', () => {
    const want = parseTlsaRecord('3 1 1 abcdef');
    for (const text of [
      'DANE-EE SPKI SHA2-256 ABCDEF',
      'dane-ee spki sha2-256 abcdef',
      '_5061._tcp.sip1.example.net. IN TLSA 3 1 1 abcdef',
      '_5061._tcp.sip1.example.net. 3600 IN TLSA DANE-EE SPKI SHA2-256 AB CD EF',
      '_5061._tcp.sip1.example.net. TLSA 3 1 1 ( abcd\n ef ) ; the leaf key',
    ]) assert.deepEqual(parseTlsaRecord(text), want, text);
    assert.deepEqual(parseTlsaRecord('PKIX-TA Cert Full 00'), { usage: 0, selector: 0, matchingType: 0, data: Buffer.from([0]) });
    assert.deepEqual(parseTlsaRecord('DANE-TA 1 SHA2-512 00'), { usage: 2, selector: 1, matchingType: 2, data: Buffer.from([0]) });
    assert.deepEqual(parseTlsaRecord('PrivCert PrivSel PrivMatch 00'), { usage: 255, selector: 255, matchingType: 255, data: Buffer.from([0]) });
    assert.throws(() => parseTlsaRecord('DANE-XX 1 1 00'), /usage must be a number from 0 to 255 or one of PKIX-TA/);
    assert.throws(() => parseTlsaRecord('3 SHA2-256 1 00'), /selector must be/);
  });

  test('malformed records throw TLS_ERR_BAD_TLSA', () => {
    for (const bad of ['3 1', '3 1 1 xyz', '3 1 1 abc', '256 1 1 00', '3 1 1', 'x IN TLSA 3 1 1']) {
      assert.throws(() => parseTlsaRecord(bad), (e: unknown) => e instanceof BadTlsaError && e.code === 'TLS_ERR_BAD_TLSA', bad);
    }
  });

  test('wire RDATA decodes to the same record', () => {
    assert.deepEqual(decodeTlsaRdata(Buffer.from('030101abcd', 'hex')), parseTlsaRecord('3 1 1 abcd'));
  });

  test('owner name (RFC 6698 section 3)', () => {
    assert.equal(tlsaOwnerName('Sip1.Example.NET', 5061), '_5061._tcp.sip1.example.net.');
  });
});

describe('generation and matching', () => {
  test('selector 1 digests the SubjectPublicKeyInfo; selector 0 the whole certificate', () => {
    assert.deepEqual(generateTlsaRecord(cert, 3, 1, 1).data, createHash('sha256').update(cert.raw.subjectPublicKeyInfo).digest());
    assert.deepEqual(generateTlsaRecord(cert, 3, 0, 2).data, createHash('sha512').update(cert.der).digest());
    assert.deepEqual(Buffer.from(generateTlsaRecord(cert, 3, 0, 0).data), cert.der);
  });

  test('every usage/selector/matching combination matches its own certificate and no other', () => {
    const other = parseCertificate(issueCertificate({ cn: 'other' }).der);
    for (const s of [0, 1]) {
      for (const m of [0, 1, 2]) {
        const { usable } = selectUsableRecords([generateTlsaRecord(cert, 3, s, m)], both);
        const [record] = usable;
        assert.ok(record);
        assert.equal(tlsaMatches(record, cert), true);
        assert.equal(tlsaMatches(record, other), false);
      }
    }
  });

  test('generation refuses unknown fields', () => {
    assert.throws(() => generateTlsaRecord(cert, 4, 0, 1), BadTlsaError);
  });
});

describe('usability (RFC 6698 2.1, RFC 7671 4) and digest agility (RFC 7671 9)', () => {
  test('unknown usage, selector or matching type; wrong digest length; unparsable full data', () => {
    const why = (u: number, s: number, m: number, data: Buffer): string => {
      const c = classifyTlsaRecord({ usage: u, selector: s, matchingType: m, data }, both);
      return c.usable ? 'usable' : c.why;
    };
    assert.match(why(4, 0, 1, Buffer.alloc(32)), /usage 4/);
    assert.match(why(3, 2, 1, Buffer.alloc(32)), /selector 2/);
    assert.match(why(3, 1, 3, Buffer.alloc(32)), /matching type 3/);
    assert.match(why(3, 1, 255, Buffer.alloc(32)), /matching type 255/);
    assert.match(why(3, 1, 1, Buffer.alloc(31)), /31 bytes/);
    assert.match(why(3, 1, 2, Buffer.alloc(32)), /32 bytes/);
    assert.match(why(3, 0, 0, Buffer.from('3003020100', 'hex')), /does not parse/);
    assert.match(why(3, 1, 0, Buffer.from('3003020100', 'hex')), /does not parse/);
    assert.equal(why(3, 1, 1, Buffer.alloc(32)), 'usable');
  });

  test('a digest the policy does not allow is unusable', () => {
    const c = classifyTlsaRecord({ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32) }, ['sha2-512']);
    assert.equal(c.usable, false);
  });

  test('per usage and selector only the strongest digest counts; Full records always stay', () => {
    const r311 = generateTlsaRecord(cert, 3, 1, 1);
    const r312 = generateTlsaRecord(cert, 3, 1, 2);
    const r310 = generateTlsaRecord(cert, 3, 1, 0);
    const r301 = generateTlsaRecord(cert, 3, 0, 1);
    const { usable, ignored } = selectUsableRecords([r311, r312, r310, r301], both);
    assert.deepEqual(usable.map((u) => formatTlsaRecord(u.record).slice(0, 5)), ['3 1 2', '3 1 0', '3 0 1']);
    assert.equal(ignored.length, 1);
    assert.match(ignored[0]?.why ?? '', /stronger digest/);
    // With SHA-256 preferred, the SHA-512 record is the one dropped.
    const swapped = selectUsableRecords([r311, r312], ['sha2-256', 'sha2-512']);
    assert.deepEqual(swapped.usable.map((u) => u.matching), ['sha2-256']);
  });
});
