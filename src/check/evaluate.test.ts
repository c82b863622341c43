import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { issueCertificate } from '../lab/certificates.js';
import { parseCertificate } from '../tls/certificate.js';
import { formatTlsaRecord, generateTlsaRecord } from '../tls/tlsa.js';
import { TrustStore } from '../tls/trust-store.js';
import { evaluate } from './evaluate.js';
import { gradeOf } from './grade.js';
import { finding } from './findings.js';
import type { Observations, TargetObservation, TlsTargetPlan } from './observations.js';

const DAY = 86_400_000;
const now = new Date('2030-01-01T00:00:00Z');
const root = issueCertificate({ cn: 'Unit Root', ca: true, notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 400 * DAY) });
const leaf = issueCertificate({ cn: 'sip.example.test', issuer: root, san: { uri: ['sip:example.test'], dns: ['example.test'] }, notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 365 * DAY) });
const store = TrustStore.fromPem(root.pem);

const plan = (over: Partial<TlsTargetPlan> = {}): TlsTargetPlan => ({
  host: 'sip.example.test', port: 5061, address: '192.0.2.1', family: 4, srvHost: 'sip.example.test', chainState: 'secure',
  tlsa: { name: '_5061._tcp.sip.example.test', state: 'secure', records: [formatTlsaRecord(generateTlsaRecord(parseCertificate(leaf.der), 3, 1, 1))] },
  ...over,
});

const target = (over: Partial<TargetObservation> = {}, p: TlsTargetPlan = plan()): TargetObservation => ({
  plan: p,
  tls: {
    connected: true, servername: 'example.test', protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', key: 'EC prime256v1',
    chain: [leaf.der.toString('base64'), root.der.toString('base64')], ocspStapled: true, clientCertificateRequested: false,
    versions: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true },
  },
  sip: { sent: true, answered: true, status: 200, reason: 'OK' },
  ...over,
});

function observations(targets: TargetObservation[], over: Partial<Observations['dns']> = {}): Observations {
  return {
    domain: 'example.test',
    checkedAt: now.toISOString(),
    dns: {
      domain: 'example.test',
      complete: true,
      lookups: [{ name: 'example.test', type: 'NAPTR', state: 'secure', result: 'records', records: ['10 50 "s" "SIPS+D2T" "" _sips._tcp.example.test.'] }],
      services: [{ service: 'tls', via: 'naptr', name: '_sips._tcp.example.test' }],
      tlsTargets: targets.map((t) => t.plan),
      ...over,
    },
    targets,
  };
}

const ids = (o: Observations): string[] => evaluate(o, { trustStore: store }).findings.map((f) => f.id);

describe('evaluate', () => {
  test('a clean secure domain with a matching DANE-EE record: A+, no warnings', () => {
    const report = evaluate(observations([target()]), { trustStore: store });
    assert.equal(report.grade, 'A+', JSON.stringify(report.findings));
    assert.equal(report.counts.error + report.counts.warning, 0);
    assert.equal(report.targets[0]?.verdicts.daneAware.method, 'dane-ee');
    assert.equal(report.targets[0]?.verdicts.rfc5922Only.connects, true);
  });

  test('without TLSA: A with tlsa-missing as a warning carrying the record to publish', () => {
    const p = plan({ tlsa: { name: '_5061._tcp.sip.example.test', state: 'secure', records: [] } });
    const report = evaluate(observations([target({}, p)]), { trustStore: store });
    const tlsa = report.findings.find((f) => f.id === 'tlsa-missing');
    const expected = formatTlsaRecord(generateTlsaRecord(parseCertificate(leaf.der), 3, 1, 1));
    assert.equal(tlsa?.fix, `Publish in the signed zone: _5061._tcp.sip.example.test. IN TLSA ${expected}`);
    assert.equal(report.grade, 'B');
  });

  test('TLS 1.0 accepted is an error; TLS 1.3 refused is info', () => {
    const t = target();
    const old = target({ tls: { ...t.tls, versions: { TLSv1: true, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': false } } });
    const found = ids(observations([old]));
    assert.ok(found.includes('tls-version-old'));
    assert.ok(found.includes('tls-1.3-missing'));
    assert.ok(!found.includes('tls-version-modern'));
    assert.equal(evaluate(observations([old]), { trustStore: store }).grade, 'C');
  });

  test('a bogus lookup is an error with its reason and grades F even when a target verifies', () => {
    const o = observations([target()]);
    const bogus = { ...o, dns: { ...o.dns, lookups: [...o.dns.lookups, { name: 'x.example.test', type: 'A' as const, state: 'bogus' as const, result: 'failure' as const, records: [], why: 'signature expired' }] } };
    const report = evaluate(bogus, { trustStore: store });
    assert.equal(report.grade, 'F');
    assert.match(report.findings.find((f) => f.id === 'dns-bogus')?.seen ?? '', /signature expired/);
  });

  test('expiry within the warning window is a warning; the window is configurable', () => {
    const soon = issueCertificate({ cn: 'sip.example.test', issuer: root, san: { uri: ['sip:example.test'] }, notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 10 * DAY) });
    const t = target();
    const o = observations([target({ tls: { ...t.tls, chain: [soon.der.toString('base64')] } }, plan({ tlsa: { name: '_5061._tcp.sip.example.test', state: 'secure', records: [formatTlsaRecord(generateTlsaRecord(parseCertificate(soon.der), 3, 1, 1))] } }))]);
    assert.ok(evaluate(o, { trustStore: store }).findings.some((f) => f.id === 'cert-expires-soon'));
    assert.ok(!evaluate(o, { trustStore: store, expiryWarningDays: 5 }).findings.some((f) => f.id === 'cert-expires-soon'));
  });

  test('UDP offered beside TLS: plain-offered; no TLS service: tls-not-offered and F', () => {
    const o = observations([target()], {
      services: [{ service: 'tls', via: 'naptr', name: '_sips._tcp.example.test' }, { service: 'udp', via: 'srv', name: '_sip._udp.example.test' }],
    });
    assert.ok(ids(o).includes('plain-offered'));
    const none = observations([], { services: [{ service: 'udp', via: 'srv', name: '_sip._udp.example.test' }] });
    const report = evaluate(none, { trustStore: store });
    assert.ok(report.findings.some((f) => f.id === 'tls-not-offered'));
    assert.equal(report.grade, 'F');
  });

  test('a failed handshake: tls-connect-failed, F', () => {
    const t = target();
    const report = evaluate(observations([target({ tls: { ...t.tls, connected: false, error: 'connect ECONNREFUSED', chain: [] } })]), { trustStore: store });
    assert.ok(report.findings.some((f) => f.id === 'tls-connect-failed' && f.seen === 'connect ECONNREFUSED'));
    assert.equal(report.grade, 'F');
  });

  test('a cut-short check is an error and grade ? (not audited)', () => {
    const report = evaluate({ ...observations([target()]), cutShort: 'no result within 10 ms' }, { trustStore: store });
    assert.equal(report.grade, '?');
    assert.ok(report.findings.some((f) => f.id === 'check-cut-short'));
  });
});

describe('absence only from answers that prove it', () => {
  const failed = (name: string, type: 'NAPTR' | 'SRV' | 'A' | 'AAAA', failure: 'timeout' | 'servfail') =>
    ({ name, type, state: 'indeterminate' as const, result: 'failure' as const, records: [], failure, why: `${failure} after 5000 ms` });
  const proven = (name: string, type: 'NAPTR' | 'SRV' | 'A' | 'AAAA') => ({ name, type, state: 'secure' as const, result: 'nodata' as const, records: [] });
  const srvNames = ['_sips._tcp.example.test', '_sip._tcp.example.test', '_sip._udp.example.test'];

  test('NAPTR and SRV lookups timed out: no tls-not-offered, no srv-missing; each failure named with its kind; grade ?', () => {
    const o = observations([], { services: [], lookups: [failed('example.test', 'NAPTR', 'timeout'), ...srvNames.map((n) => failed(n, 'SRV', 'timeout'))] });
    const report = evaluate(o, { trustStore: store });
    const found = report.findings.map((f) => f.id);
    assert.ok(!found.includes('tls-not-offered'), JSON.stringify(found));
    assert.ok(!found.includes('srv-missing'), JSON.stringify(found));
    const failures = report.findings.filter((f) => f.id === 'dns-indeterminate');
    assert.equal(failures.length, 4);
    assert.match(failures.find((f) => f.seen.startsWith('_sips._tcp.example.test SRV'))?.seen ?? '', /: timeout: timeout after 5000 ms$/);
    assert.equal(report.grade, '?');
  });

  test('one SRV lookup failed, the rest proven absent: still no absence finding', () => {
    const o = observations([], { services: [], lookups: [proven('example.test', 'NAPTR'), failed(srvNames[0] ?? '', 'SRV', 'servfail'), ...srvNames.slice(1).map((n) => proven(n, 'SRV'))] });
    const found = ids(o);
    assert.ok(!found.includes('tls-not-offered') && !found.includes('srv-missing'), JSON.stringify(found));
    assert.ok(found.includes('naptr-missing'), 'NAPTR nodata does prove NAPTR absent');
  });

  test('the address fallback failed: no tls-not-offered', () => {
    const o = observations([], { services: [], lookups: [proven('example.test', 'NAPTR'), ...srvNames.map((n) => proven(n, 'SRV')), failed('example.test', 'A', 'timeout'), proven('example.test', 'AAAA')] });
    const found = ids(o);
    assert.ok(!found.includes('tls-not-offered'), JSON.stringify(found));
    assert.ok(found.includes('srv-missing'), 'every SRV answered nodata: SRV absence is proven');
  });

  test('every lookup proven absent: tls-not-offered and srv-missing, F', () => {
    const o = observations([], { services: [], lookups: [proven('example.test', 'NAPTR'), ...srvNames.map((n) => proven(n, 'SRV')), proven('example.test', 'A'), proven('example.test', 'AAAA')] });
    const report = evaluate(o, { trustStore: store });
    assert.ok(report.findings.some((f) => f.id === 'tls-not-offered'));
    assert.ok(report.findings.some((f) => f.id === 'srv-missing'));
    assert.equal(report.grade, 'F');
  });

  test('DNS probe cut short: unanswered questions are dns-no-answer, nothing is called absent', () => {
    const o: Observations = {
      ...observations([], { complete: false, services: [], lookups: [{ name: 'example.test', type: 'NAPTR', state: 'indeterminate', result: 'unanswered', records: [] }] }),
      cutShort: 'no result within 4000 ms',
    };
    const report = evaluate(o, { trustStore: store });
    assert.deepEqual(report.findings.map((f) => f.id).sort(), ['check-cut-short', 'dns-no-answer']);
    assert.match(report.findings.find((f) => f.id === 'dns-no-answer')?.seen ?? '', /^example\.test NAPTR: asked, no answer/);
    assert.equal(report.grade, '?');
  });
});

describe('gradeOf', () => {
  const t = [{ target: 'a:1' }];
  test('A needs no warning; A+ needs DANE on every target', () => {
    const verified = finding('cert-verified', 'x', { target: 'a:1' });
    assert.equal(gradeOf([verified], t), 'A');
    assert.equal(gradeOf([verified, finding('dane-ok', 'x', { target: 'a:1' })], t), 'A+');
    assert.equal(gradeOf([verified, finding('dane-ok', 'x', { target: 'a:1' })], [...t, { target: 'b:1' }]), 'A');
    assert.equal(gradeOf([verified, finding('dns-insecure', 'x')], t), 'B');
    assert.equal(gradeOf([verified, finding('tls-version-old', 'x', { target: 'a:1' })], t), 'C');
    assert.equal(gradeOf([finding('cert-refused', 'x', { target: 'a:1' })], t), 'F');
  });
});
