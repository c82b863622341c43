/**
 * DANE for SIP (seed 004, draft-johansson-dispatch-dane-sip sections 5 to 10) against real TLS
 * servers on loopback: the section 10 examples for a DANE-aware and an RFC 5922-only client, and
 * the DNSSEC/TLSA decision table (secure, insecure, bogus, indeterminate, no usable record).
 * DNS evidence is given to the verifier as the locator would report it (src/dns types).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsaRecord, TlsaRrset } from '../../src/dns/tlsa-record.js';
import type { DnssecState } from '../../src/dns/dnssec-state.js';
import { parseCertificate } from '../../src/tls/certificate.js';
import { generateTlsaRecord } from '../../src/tls/tlsa.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import type { TlsPolicy } from '../../src/tls/policy.js';
import { connectAndVerify, verifyInboundPeer, type VerifiedConnection } from '../../src/transport/tls-connect.js';
import { SecureContextCache } from '../../src/transport/secure-context-cache.js';
import { issueCertificate, issueHierarchy, type TestCertificate } from '../../src/lab/certificates.js';
import { startTlsServer, type RunningTlsServer } from '../support/tls-servers.js';

const DAY = 86_400_000;
const servers: RunningTlsServer[] = [];
const contexts = new SecureContextCache();
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(chain: TestCertificate[], requestCert = false): Promise<RunningTlsServer> {
  const server = await startTlsServer({ chain, requestCert });
  servers.push(server);
  return server;
}

function tlsa(cert: TestCertificate, usage: number, selector: number, mtype: number): TlsaRecord {
  return generateTlsaRecord(parseCertificate(cert.der), usage, selector, mtype);
}

function rrset(host: string, records: TlsaRecord[], state: DnssecState = 'secure'): TlsaRrset {
  return { name: `_5061._tcp.${host}`, state, records };
}

interface Dial {
  readonly sipDomain: string;
  readonly srvHost: string;
  readonly dnsState?: DnssecState;
  readonly tlsa?: TlsaRrset;
  readonly store: TrustStore;
  readonly policy?: Partial<TlsPolicy>;
}

function dial(server: RunningTlsServer, d: Dial): Promise<VerifiedConnection> {
  return connectAndVerify({
    host: '127.0.0.1',
    port: server.port,
    target: { sipDomain: d.sipDomain, srvHost: d.srvHost, ...(d.dnsState ? { dnsState: d.dnsState } : {}), ...(d.tlsa ? { tlsa: d.tlsa } : {}) },
    trustStore: d.store,
    contexts,
    ...(d.policy ? { policy: d.policy } : {}),
  });
}

/** The SNI the server saw on this connection: after an echo round trip the server socket exists. */
async function servernameSeen(server: RunningTlsServer, result: VerifiedConnection): Promise<string | false | null | undefined> {
  const socket = result.socket;
  assert.ok(socket);
  const local = socket.localPort;
  socket.write('ping');
  await new Promise((resolve) => socket.once('data', resolve));
  return server.sockets.find((s) => s.remotePort === local)?.servername;
}

function done(result: VerifiedConnection): void {
  result.socket?.destroy();
}

// A hosting provider's private CA: trusted by PKIX only where a test says so.
const hosting = issueHierarchy('Hosting');
const hostingStore = TrustStore.fromPem(hosting.root.pem);
const emptyStore = TrustStore.empty();

describe('section 10.1: johansson.example.com, SRV host siphosting.example.net, CN siphosting.example.net, no SAN', () => {
  const leaf = issueCertificate({ cn: 'siphosting.example.net', issuer: hosting.intermediate });
  const base = { sipDomain: 'johansson.example.com', srvHost: 'siphosting.example.net' };
  let server: RunningTlsServer;
  test('setup', async () => {
    server = await serve([leaf, hosting.intermediate, hosting.root]);
  });

  test('DANE-aware client (DANE-TA on the hosting CA): matches, by the SRV host name in the CN', async () => {
    const r = await dial(server, { ...base, dnsState: 'secure', tlsa: rrset(base.srvHost, [tlsa(hosting.root, 2, 0, 1)]), store: emptyStore });
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.method, 'dane-ta');
    assert.equal(r.verdict.matchedIdentity, 'siphosting.example.net');
    assert.equal(r.verdict.identitySource, 'cn');
    assert.equal(r.verdict.dane?.match?.depth, 2);
    // RFC 7671 section 4.2: with usable TLSA records, SNI carries the TLSA base domain.
    assert.equal(await servernameSeen(server, r), 'siphosting.example.net');
    done(r);
  });

  test('DANE-aware client (DANE-EE 3 1 1 on the leaf): matches', async () => {
    const r = await dial(server, { ...base, dnsState: 'secure', tlsa: rrset(base.srvHost, [tlsa(leaf, 3, 1, 1)]), store: emptyStore });
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.method, 'dane-ee');
    done(r);
  });

  test('RFC 5922-only client: no match (the SIP domain is not in the certificate), even with the CA trusted', async () => {
    const r = await dial(server, { ...base, store: hostingStore, policy: { dane: false } });
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.attempted, 'rfc5922');
    assert.equal(r.verdict.reasons[0]?.code, 'name-mismatch');
    assert.equal(r.socket, null);
  });

  test('DANE-aware client with insecure DNS: RFC 5922 applies and the SRV host is not an identity', async () => {
    const r = await dial(server, { ...base, dnsState: 'insecure', tlsa: rrset(base.srvHost, [tlsa(hosting.root, 2, 0, 1)], 'insecure'), store: hostingStore });
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.attempted, 'rfc5922');
    assert.equal(r.verdict.reasons[0]?.code, 'name-mismatch');
  });
});

describe('section 10.2: lundholm.example.com, SRV host sipcrew.example.net, CN randomname, SAN-URI and SAN-DNS lundholm.example.com', () => {
  const leaf = issueCertificate({ cn: 'randomname.example.net', issuer: hosting.intermediate, san: { uri: ['sip:lundholm.example.com'], dns: ['lundholm.example.com'] } });
  const base = { sipDomain: 'lundholm.example.com', srvHost: 'sipcrew.example.net' };
  let server: RunningTlsServer;
  test('setup', async () => {
    server = await serve([leaf, hosting.intermediate, hosting.root]);
  });

  test('DANE-aware client: matches (the SIP domain is an accepted identity under DANE-TA too)', async () => {
    const r = await dial(server, { ...base, dnsState: 'secure', tlsa: rrset(base.srvHost, [tlsa(hosting.intermediate, 2, 1, 2)]), store: emptyStore });
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.method, 'dane-ta');
    assert.equal(r.verdict.matchedIdentity, 'lundholm.example.com');
    assert.equal(r.verdict.identitySource, 'san-uri');
    assert.equal(r.verdict.dane?.match?.depth, 1);
    done(r);
  });

  test('RFC 5922-only client: matches by the sip URI subjectAltName', async () => {
    const r = await dial(server, { ...base, store: hostingStore, policy: { dane: false } });
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.method, 'rfc5922');
    assert.equal(r.verdict.identitySource, 'san-uri');
    // Without DANE, SNI carries the SIP domain.
    assert.equal(await servernameSeen(server, r), 'lundholm.example.com');
    done(r);
  });
});

describe('DNSSEC state and TLSA decide (sections 5, 7, 8; RFC 6698 4.1; RFC 7671 4.3)', () => {
  const sipDomain = 'example.com';
  const srvHost = 'sip1.example.net';
  // A certificate RFC 5922 accepts (PKIX-trusted, SIP domain in a sip URI): DANE failures must not fall back to it.
  const leaf = issueCertificate({ cn: srvHost, issuer: hosting.intermediate, san: { uri: [`sip:${sipDomain}`], dns: [srvHost] } });
  const good = [tlsa(leaf, 3, 1, 1)];
  const wrong: TlsaRecord[] = [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) }];
  let server: RunningTlsServer;
  test('setup', async () => {
    server = await serve([leaf, hosting.intermediate]);
  });
  const d = (over: Partial<Dial>): Dial => ({ sipDomain, srvHost, store: hostingStore, dnsState: 'secure', ...over });

  test('secure TLSA, nothing matches: fail, no fallback to RFC 5922', async () => {
    const r = await dial(server, d({ tlsa: rrset(srvHost, wrong) }));
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.attempted, 'dane');
    assert.deepEqual(r.verdict.reasons.map((x) => x.code), ['dane-no-match']);
    assert.equal(r.socket, null);
  });

  test('bogus TLSA RRset: fail (dnssec-bogus), never a fallback', async () => {
    const r = await dial(server, d({ tlsa: { ...rrset(srvHost, good, 'bogus'), why: 'signature verification failed' } }));
    assert.equal(r.verdict.ok, false);
    assert.deepEqual(r.verdict.reasons, [{ code: 'dnssec-bogus', what: 'tlsa', why: 'signature verification failed' }]);
  });

  test('bogus NAPTR/SRV/address chain: fail even without TLSA', async () => {
    const r = await dial(server, d({ dnsState: 'bogus' }));
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.reasons[0]?.code, 'dnssec-bogus');
  });

  test('indeterminate TLSA lookup: fail', async () => {
    const r = await dial(server, d({ tlsa: rrset(srvHost, [], 'indeterminate') }));
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.reasons[0]?.code, 'dnssec-indeterminate');
  });

  test('secure chain, secure denial of TLSA (no records): RFC 5922', async () => {
    const r = await dial(server, d({ tlsa: rrset(srvHost, []) }));
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.method, 'rfc5922');
    done(r);
  });

  test('insecure chain with a matching TLSA: DANE does not apply, RFC 5922 decides', async () => {
    const r = await dial(server, d({ dnsState: 'insecure', tlsa: rrset(srvHost, good) }));
    assert.equal(r.verdict.method, 'rfc5922');
    done(r);
  });

  test('secure TLSA with only unusable records: fail by default; RFC 5922 when the policy says so', async () => {
    const unusable: TlsaRecord[] = [
      { usage: 4, selector: 1, matchingType: 1, data: Buffer.alloc(32) },
      { usage: 3, selector: 2, matchingType: 1, data: Buffer.alloc(32) },
      { usage: 3, selector: 1, matchingType: 255, data: Buffer.alloc(32) },
      { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(31) },
    ];
    const strict = await dial(server, d({ tlsa: rrset(srvHost, unusable) }));
    assert.equal(strict.verdict.ok, false);
    assert.deepEqual(strict.verdict.reasons, [{ code: 'dane-no-usable-records', ignoredRecords: 4 }]);
    const fallback = await dial(server, d({ tlsa: rrset(srvHost, unusable), policy: { onNoUsableTlsa: 'rfc5922' } }));
    assert.equal(fallback.verdict.method, 'rfc5922');
    done(fallback);
  });

  test('unusable records are ignored beside a usable one that matches', async () => {
    const r = await dial(server, d({ tlsa: rrset(srvHost, [{ usage: 9, selector: 1, matchingType: 1, data: Buffer.alloc(32) }, ...good]), store: emptyStore }));
    assert.equal(r.verdict.ok, true);
    assert.equal(r.verdict.dane?.ignoredRecords.length, 1);
    done(r);
  });

  test('digest agility: a SHA-256 match does not count when a SHA-512 record exists for the same usage and selector', async () => {
    const sha512Wrong: TlsaRecord = { usage: 3, selector: 1, matchingType: 2, data: Buffer.alloc(64, 1) };
    const r = await dial(server, d({ tlsa: rrset(srvHost, [tlsa(leaf, 3, 1, 1), sha512Wrong]), store: emptyStore }));
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.reasons[0]?.code, 'dane-no-match');
  });
});

describe('DANE-EE ignores names and dates; DANE-TA checks them', () => {
  test('DANE-EE: an expired self-signed certificate with an unrelated name is authenticated', async () => {
    const leaf = issueCertificate({ cn: 'whatever.invalid', notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - 30 * DAY) });
    const server = await serve([leaf]);
    const r = await dial(server, { sipDomain: 'example.com', srvHost: 'sip.example.com', dnsState: 'secure', tlsa: rrset('sip.example.com', [tlsa(leaf, 3, 0, 2)]), store: emptyStore });
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.method, 'dane-ee');
    assert.equal(r.verdict.matchedIdentity, null);
    done(r);
  });

  test('DANE-TA: a name that is neither the SRV host nor the SIP domain fails', async () => {
    const leaf = issueCertificate({ cn: 'other.example.org', issuer: hosting.intermediate, san: { dns: ['other.example.org'] } });
    const server = await serve([leaf, hosting.intermediate]);
    const r = await dial(server, { sipDomain: 'example.com', srvHost: 'sip.example.com', dnsState: 'secure', tlsa: rrset('sip.example.com', [tlsa(hosting.intermediate, 2, 1, 1)]), store: emptyStore });
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.reasons[0]?.code, 'name-mismatch');
    assert.equal(r.verdict.dane?.match?.usage, 'dane-ta');
  });

  test('DANE-TA: an expired certificate below the anchor fails; the anchor itself may be expired', async () => {
    const oldRoot = issueCertificate({ cn: 'Old Root', ca: true, notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - DAY) });
    const expiredCa = issueCertificate({ cn: 'Expired CA', ca: true, issuer: oldRoot, notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - DAY) });
    const leaf = issueCertificate({ cn: 'sip.example.com', issuer: expiredCa, san: { dns: ['sip.example.com'] } });
    const server = await serve([leaf, expiredCa, oldRoot]);
    const target = { sipDomain: 'example.com', srvHost: 'sip.example.com', dnsState: 'secure' as const, store: emptyStore };
    const below = await dial(server, { ...target, tlsa: rrset('sip.example.com', [tlsa(oldRoot, 2, 0, 1)]) });
    assert.equal(below.verdict.ok, false);
    assert.equal(below.verdict.reasons[0]?.code, 'expired');
    const atAnchor = await dial(server, { ...target, tlsa: rrset('sip.example.com', [tlsa(expiredCa, 2, 1, 1)]) });
    assert.equal(atAnchor.verdict.ok, true, JSON.stringify(atAnchor.verdict.reasons));
    done(atAnchor);
  });

  test('DANE-TA: a record matching only the leaf of a CA-issued chain does not authenticate', async () => {
    const leaf = issueCertificate({ cn: 'sip.example.com', issuer: hosting.intermediate, san: { dns: ['sip.example.com'] } });
    const server = await serve([leaf, hosting.intermediate]);
    const r = await dial(server, { sipDomain: 'example.com', srvHost: 'sip.example.com', dnsState: 'secure', tlsa: rrset('sip.example.com', [tlsa(leaf, 2, 0, 1)]), store: emptyStore });
    assert.equal(r.verdict.ok, false);
    assert.equal(r.verdict.reasons[0]?.code, 'dane-no-match');
  });
});

describe('client certificates on inbound connections (RFC 5922 section 7.4)', () => {
  const serverLeaf = issueCertificate({ cn: 'proxy.example.net', issuer: hosting.intermediate, san: { dns: ['proxy.example.net'] } });
  const clientLeaf = issueCertificate({ cn: 'proxy.example.com', issuer: hosting.intermediate, san: { uri: ['sip:example.com'] } });

  test('a presented client certificate is verified for client use and yields its SIP domain identities', async () => {
    const server = await serve([serverLeaf, hosting.intermediate], true);
    const r = await connectAndVerify({
      host: '127.0.0.1', port: server.port, target: { sipDomain: 'proxy.example.net' }, trustStore: hostingStore, contexts,
      clientCertificate: { cert: clientLeaf.pem + hosting.intermediate.pem, key: clientLeaf.keyPem },
    });
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
    r.socket?.write('x');
    await new Promise((resolve) => r.socket?.once('data', resolve));
    const inbound = server.sockets.at(-1);
    assert.ok(inbound);
    const any = verifyInboundPeer(inbound, { trustStore: hostingStore });
    assert.equal(any.ok, true, JSON.stringify(any.reasons));
    assert.deepEqual(any.peerIdentities, ['example.com']);
    const allowed = verifyInboundPeer(inbound, { trustStore: hostingStore, acceptedDomains: ['example.com'] });
    assert.equal(allowed.matchedIdentity, 'example.com');
    const refused = verifyInboundPeer(inbound, { trustStore: hostingStore, acceptedDomains: ['example.org'] });
    assert.equal(refused.ok, false);
    assert.equal(refused.reasons[0]?.code, 'name-mismatch');
    done(r);
  });

  test('no client certificate: no-client-certificate', async () => {
    const server = await serve([serverLeaf, hosting.intermediate], true);
    const r = await connectAndVerify({ host: '127.0.0.1', port: server.port, target: { sipDomain: 'proxy.example.net' }, trustStore: hostingStore, contexts });
    r.socket?.write('x');
    await new Promise((resolve) => r.socket?.once('data', resolve));
    const inbound = server.sockets.at(-1);
    assert.ok(inbound);
    const verdict = verifyInboundPeer(inbound, { trustStore: hostingStore });
    assert.deepEqual(verdict.reasons, [{ code: 'no-client-certificate' }]);
    done(r);
  });
});
