import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCertificate } from './certificate.js';
import { extractSipDomainIdentities, matchHostName, matchSipDomain, normalizeDnsName, sipUriDomain } from './identity.js';
import { issueCertificate, type CertificateSpec } from '../lab/certificates.js';

const strict = { allowWildcard: false };
const wild = { allowWildcard: true };
const cert = (spec: CertificateSpec): ReturnType<typeof parseCertificate> => parseCertificate(issueCertificate(spec).der);
const codes = (r: ReturnType<typeof matchSipDomain>): string[] => (r.matched ? r.notes : r.reasons).map((x) => x.code);

describe('RFC 5922 section 7.1: finding SIP domain identities', () => {
  test('a sip URI without user part gives its host; scheme case-insensitive; parameters and port dropped', () => {
    assert.deepEqual(sipUriDomain('sip:Example.COM'), { host: 'example.com' });
    assert.deepEqual(sipUriDomain('SIP:example.com:5061;transport=tls'), { host: 'example.com' });
  });

  test('a sip URI with a user part is refused (uri-san-has-user); other schemes are refused (uri-san-not-sip)', () => {
    assert.deepEqual(sipUriDomain('sip:alice@example.com'), { refused: { code: 'uri-san-has-user', uri: 'sip:alice@example.com' } });
    assert.deepEqual(sipUriDomain('sips:example.com'), { refused: { code: 'uri-san-not-sip', uri: 'sips:example.com' } });
    assert.deepEqual(sipUriDomain('https://example.com/'), { refused: { code: 'uri-san-not-sip', uri: 'https://example.com/' } });
  });

  test('sip URIs win; dNSNames count only when there is no sip URI identity', () => {
    const both = cert({ cn: 'x', san: { uri: ['sip:a.example'], dns: ['b.example'] } });
    assert.deepEqual(extractSipDomainIdentities(both), { identities: ['a.example'], source: 'san-uri', skipped: [] });
    const onlyBadUri = cert({ cn: 'x', san: { uri: ['sip:bob@a.example'], dns: ['b.example'] } });
    const found = extractSipDomainIdentities(onlyBadUri);
    assert.deepEqual(found.identities, ['b.example']);
    assert.equal(found.source, 'san-dns');
    assert.deepEqual(found.skipped.map((r) => r.code), ['uri-san-has-user']);
  });

  test('the CN counts only when the certificate has no subjectAltName at all', () => {
    assert.deepEqual(extractSipDomainIdentities(cert({ cn: 'Example.NET.' })).identities, ['example.net']);
    const withSan = cert({ cn: 'example.net', san: { uri: ['sip:bob@example.net'] } });
    assert.deepEqual(extractSipDomainIdentities(withSan).identities, []);
  });

  test('a CN that is not a DNS name is not an identity', () => {
    assert.deepEqual(extractSipDomainIdentities(cert({ cn: 'Example Net SIP Services' })).identities, []);
  });
});

describe('RFC 5922 section 7.2: comparing', () => {
  test('exact, case-insensitive, trailing dot ignored', () => {
    const c = cert({ san: { dns: ['Sip.Example.COM.'] } });
    const r = matchSipDomain(c, 'SIP.example.com.', strict);
    assert.equal(r.matched, true);
    assert.equal(r.matched && r.identity, 'sip.example.com');
  });

  test('no suffix match', () => {
    const r = matchSipDomain(cert({ san: { dns: ['example.com'] } }), 'foo.example.com', strict);
    assert.equal(r.matched, false);
    assert.deepEqual(codes(r), ['name-mismatch']);
  });

  test('a wildcard never matches by default (wildcard-refused), and matches itself literally', () => {
    const c = cert({ san: { dns: ['*.example.com'] } });
    assert.deepEqual(codes(matchSipDomain(c, 'foo.example.com', strict)), ['name-mismatch', 'wildcard-refused']);
    assert.equal(matchSipDomain(c, '*.example.com', strict).matched, true);
  });

  test('a leading-dot name matches only itself', () => {
    assert.equal(matchSipDomain(cert({ san: { dns: ['.example.com'] } }), 'foo.example.com', strict).matched, false);
  });

  test('the wildcard opt-in: one whole left-most label, flagged; never two labels, never *.tld, never in a sip URI', () => {
    const c = cert({ san: { dns: ['*.example.com'] } });
    const one = matchSipDomain(c, 'foo.example.com', wild);
    assert.equal(one.matched, true);
    assert.equal(one.matched && one.wildcard, true);
    assert.deepEqual(codes(one), ['wildcard-accepted']);
    assert.equal(matchSipDomain(c, 'a.b.example.com', wild).matched, false);
    assert.equal(matchSipDomain(c, 'example.com', wild).matched, false);
    assert.equal(matchSipDomain(cert({ san: { dns: ['*.com'] } }), 'example.com', wild).matched, false);
    assert.equal(matchSipDomain(cert({ san: { uri: ['sip:*.example.com'] } }), 'foo.example.com', wild).matched, false);
  });

  test('a dNSName equal to the domain does not count beside a sip URI identity (explained in the reason)', () => {
    const r = matchSipDomain(cert({ san: { uri: ['sip:other.example'], dns: ['example.com'] } }), 'example.com', strict);
    assert.equal(r.matched, false);
    const [first] = r.matched ? [] : r.reasons;
    assert.equal(first?.code, 'name-mismatch');
    assert.match(first?.code === 'name-mismatch' ? first.detail ?? '' : '', /dNSName/);
  });

  test('why a would-be match failed: CN with SAN present, sip URI with user, sips URI', () => {
    assert.deepEqual(codes(matchSipDomain(cert({ cn: 'example.com', san: { dns: ['x.example'] } }), 'example.com', strict)), ['name-mismatch', 'cn-ignored-san-present']);
    assert.deepEqual(codes(matchSipDomain(cert({ san: { uri: ['sip:alice@example.com'] } }), 'example.com', strict)), ['no-identity', 'uri-san-has-user']);
    assert.deepEqual(codes(matchSipDomain(cert({ san: { uri: ['sips:example.com'], dns: ['x.example'] } }), 'example.com', strict)), ['name-mismatch', 'uri-san-not-sip']);
  });

  test('no identity at all (draft-gurbani A.2.2)', () => {
    assert.deepEqual(codes(matchSipDomain(cert({ o: 'Example' }), 'example.com', strict)), ['no-identity']);
  });

  test('IDNs compare as A-labels', () => {
    assert.equal(normalizeDnsName('BÜCHER.example'), 'xn--bcher-kva.example');
    assert.equal(matchSipDomain(cert({ san: { dns: ['xn--bcher-kva.example'] } }), 'bücher.example', strict).matched, true);
  });
});

describe('SRV host names under DANE (draft-johansson section 8)', () => {
  test('dNSName; the CN only without subjectAltName', () => {
    assert.equal(matchHostName(cert({ cn: 'sip1.example.net' }), 'sip1.example.net', strict).matched, true);
    assert.equal(matchHostName(cert({ cn: 'sip1.example.net', san: { uri: ['sip:example.com'] } }), 'sip1.example.net', strict).matched, false);
    assert.equal(matchHostName(cert({ san: { dns: ['sip1.example.net'], uri: ['sip:example.com'] } }), 'sip1.example.net', strict).matched, true);
  });
});
