import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DnsAnswer, DnsRecordType, RecordByType } from '../dns/records.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { SipRequest } from '../sip/message.js';
import { transportFailureVerdict, type PeerVerdict } from '../tls/verdict.js';
import type { TransportContext, TransportProtocol } from '../transport/transport-context.js';
import { DEFAULT_HOP_POLICIES, type HopPolicies, type PolicyDecision } from './contracts.js';
import { invite } from './fixtures.test.support.js';
import { HopInboundPolicy, type HopInboundPolicyOptions } from './inbound-policy.js';

const LOCAL = { isLocal: (host: string) => host.toLowerCase() === 'b.test' };

/** A verified peer whose certificate names `identities` (sip URI identities unless said). */
function verified(identities: readonly string[], source: PeerVerdict['identitySource'] = 'san-uri'): PeerVerdict {
  return {
    ...transportFailureVerdict({ code: 'no-client-certificate' }),
    ok: true, authenticated: true, proceed: true, method: 'rfc5922', attempted: 'rfc5922', reasons: [],
    matchedIdentity: identities[0] ?? null, identitySource: source, peerIdentities: identities,
  };
}

function context(transport: TransportProtocol, peer: PeerVerdict | undefined, remote = '192.0.2.7'): TransportContext {
  return { transport, local: { address: '192.0.2.10', port: 5061 }, remote: { address: remote, port: 40001 }, connectionId: 'c1', peer, receivedAtMs: 0 };
}

/** A request from `from` with the given top Via (an INVITE of fixtures with its From and Via swapped). */
function request(from = 'sip:alice@a.test', via = 'SIP/2.0/TLS a.test:5061;branch=z9hG4bKa1'): SipRequest {
  const r = invite('sip:bob@b.test');
  r.setHeader('from', `<${from}>;tag=ft`);
  r.setHeader('via', via);
  return r;
}

function policy(over: Partial<HopPolicies> = {}, extra: Partial<HopInboundPolicyOptions> = {}): HopInboundPolicy {
  return new HopInboundPolicy({ policies: { ...DEFAULT_HOP_POLICIES, ...over }, localDomains: LOCAL, ...extra });
}

async function decide(p: HopInboundPolicy, r: SipRequest, c: TransportContext): Promise<PolicyDecision> {
  return p.check(r, c);
}

function refusedWith(decision: PolicyDecision, word: string): Extract<PolicyDecision, { kind: 'refuse' }> {
  assert.equal(decision.kind, 'refuse', JSON.stringify(decision));
  if (decision.kind !== 'refuse') throw new Error('unreachable');
  assert.equal(decision.word, word, decision.text);
  assert.equal(decision.status, 403);
  return decision;
}

describe('mutual-tls', () => {
  test('a request of a local user is not checked, whatever its transport', async () => {
    assert.deepEqual(await decide(policy(), request('sip:carol@B.test', 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx'), context('udp', undefined)), { kind: 'pass' });
  });

  test('from another domain over UDP, TCP or WS: no-client-certificate, with the evidence', async () => {
    for (const transport of ['udp', 'tcp', 'ws'] as const) {
      const refusal = refusedWith(await decide(policy(), request(), context(transport, undefined)), 'no-client-certificate');
      assert.match(refusal.text, new RegExp(transport.toUpperCase()));
      assert.equal(refusal.evidence['fromDomain'], 'a.test');
      assert.equal(refusal.evidence['via'], 'SIP/2.0/TLS a.test:5061;branch=z9hG4bKa1');
      assert.match(String(refusal.evidence['from']), /alice@a\.test/);
      assert.equal(refusal.evidence['source'], '192.0.2.7:40001');
    }
  });

  test('over TLS without a verified client certificate: no-client-certificate, naming why', async () => {
    const refusal = refusedWith(await decide(policy(), request(), context('tls', transportFailureVerdict({ code: 'no-client-certificate' }))), 'no-client-certificate');
    assert.deepEqual(refusal.evidence['peerReasons'], ['no-client-certificate']);
    refusedWith(await decide(policy(), request(), context('wss', undefined)), 'no-client-certificate');
    const unverified = { ...verified(['a.test']), ok: false, authenticated: false, proceed: true };
    refusedWith(await decide(policy(), request(), context('tls', unverified)), 'no-client-certificate');
  });

  test('a verified certificate for the From domain passes, over TLS and WSS, in any case', async () => {
    assert.deepEqual(await decide(policy(), request('sip:alice@A.Test'), context('tls', verified(['a.test']))), { kind: 'pass' });
    assert.deepEqual(await decide(policy(), request(), context('wss', verified(['other.test', 'a.test']))), { kind: 'pass' });
    assert.deepEqual(await decide(policy(), request('sips:alice@a.test'), context('tls', verified(['a.test']))), { kind: 'pass' });
  });

  test('a certificate of another domain: from-domain-not-certified with the peer identities', async () => {
    const refusal = refusedWith(await decide(policy({ viaTrail: false }), request(), context('tls', verified(['mallory.test']))), 'from-domain-not-certified');
    assert.deepEqual(refusal.evidence['peerIdentities'], ['mallory.test']);
    assert.match(refusal.text, /a\.test/);
  });

  test('a From without a SIP domain (tel:) from outside is not certified by any certificate', async () => {
    refusedWith(await decide(policy(), request('tel:+15551234'), context('tls', verified(['a.test']))), 'from-domain-not-certified');
  });

  test('policy.peers lets a certificate identity speak for the domains listed for it, and no other', async () => {
    const peers = new Map([['host.test', ['a.test', 'c.test']]]);
    const hosting = verified(['host.test']);
    assert.deepEqual(await decide(policy({ peers }), request('sip:alice@a.test', 'SIP/2.0/TLS host.test;branch=z9hG4bKh'), context('tls', hosting)), { kind: 'pass' });
    refusedWith(await decide(policy({ peers }), request('sip:x@d.test', 'SIP/2.0/TLS host.test;branch=z9hG4bKh'), context('tls', hosting)), 'from-domain-not-certified');
    // The entry belongs to host.test: another certificate cannot use it.
    refusedWith(await decide(policy({ peers }), request('sip:alice@a.test', 'SIP/2.0/TLS evil.test;branch=z9hG4bKh'), context('tls', verified(['evil.test']))), 'from-domain-not-certified');
  });

  test('wildcard identities cover nothing unless allowed, and never from a sip URI', async () => {
    const wild = verified(['*.example.test'], 'san-dns');
    const r = request('sip:alice@a.example.test', 'SIP/2.0/TLS a.example.test;branch=z9hG4bKw');
    refusedWith(await decide(policy(), r, context('tls', wild)), 'from-domain-not-certified');
    assert.deepEqual(await decide(policy({}, { allowWildcard: true }), r, context('tls', wild)), { kind: 'pass' });
    refusedWith(await decide(policy({}, { allowWildcard: true }), r, context('tls', verified(['*.example.test'], 'san-uri'))), 'from-domain-not-certified');
  });

  test('off: a request from another domain over UDP passes', async () => {
    assert.deepEqual(await decide(policy({ mutualTls: false }), request('sip:alice@a.test', 'SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKu'), context('udp', undefined)), { kind: 'pass' });
  });
});

describe('via-trail', () => {
  test('an IP address as top Via sent-by over TLS: via-sent-by-mismatch with the Via in the evidence', async () => {
    const via = 'SIP/2.0/TLS 192.0.2.7:5061;branch=z9hG4bKip';
    const refusal = refusedWith(await decide(policy(), request('sip:alice@a.test', via), context('tls', verified(['a.test']))), 'via-sent-by-mismatch');
    assert.equal(refusal.evidence['via'], via);
    assert.deepEqual(refusal.evidence['peerIdentities'], ['a.test']);
    assert.match(refusal.text, /IP address/);
    refusedWith(await decide(policy(), request('sip:alice@a.test', 'SIP/2.0/TLS [2001:db8::7]:5061;branch=z9hG4bKip6'), context('tls', verified(['a.test']))), 'via-sent-by-mismatch');
  });

  test('a host name the certificate does not cover: via-sent-by-mismatch', async () => {
    const refusal = refusedWith(await decide(policy(), request('sip:alice@a.test', 'SIP/2.0/TLS sip.elsewhere.test;branch=z9hG4bKn'), context('tls', verified(['a.test']))), 'via-sent-by-mismatch');
    assert.match(refusal.text, /sip\.elsewhere\.test/);
  });

  test('only the top Via counts; a covered name passes', async () => {
    const r = request('sip:alice@a.test', 'SIP/2.0/TLS a.test:5061;branch=z9hG4bKtop, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKbelow');
    assert.deepEqual(await decide(policy(), r, context('tls', verified(['a.test']))), { kind: 'pass' });
  });

  test('off: an IP sent-by from a certified peer passes', async () => {
    assert.deepEqual(await decide(policy({ viaTrail: false }), request('sip:alice@a.test', 'SIP/2.0/TLS 192.0.2.7;branch=z9hG4bKo'), context('tls', verified(['a.test']))), { kind: 'pass' });
  });

  test('with mutual-tls off, a peer without a verified certificate has nothing to compare the Via with', async () => {
    assert.deepEqual(await decide(policy({ mutualTls: false }), request('sip:alice@a.test', 'SIP/2.0/TLS 192.0.2.7;branch=z9hG4bKm'), context('tls', undefined)), { kind: 'pass' });
  });
});

/** A resolver answering from a table: `${type} ${name}` to records; anything else NXDOMAIN. */
function tableResolver(table: Readonly<Record<string, readonly RecordByType[DnsRecordType][]>>, state: 'secure' | 'insecure' = 'insecure'): DnsResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    backend: 'system',
    asked,
    query: <T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> => {
      asked.push(`${type} ${name}`);
      const records = table[`${type} ${name}`];
      const answer = records === undefined
        ? { kind: 'nxdomain', name, type, cnames: [], state, ttlSeconds: 60 }
        : { kind: 'records', name, type, cnames: [], state, records, ttlSeconds: 60 };
      return Promise.resolve(answer as DnsAnswer<T>);
    },
    close: () => Promise.resolve(),
  };
}

describe('reverse-dns', () => {
  const PTR = '7.2.0.192.in-addr.arpa';
  const peer = verified(['a.test']);
  const viaOk = 'SIP/2.0/TLS a.test;branch=z9hG4bKr';

  test('needs a resolver', () => {
    assert.throws(() => policy({ reverseDns: true }), /resolver/);
  });

  test('a PTR name that is a certificate identity and resolves back to the address passes, logged with its DNSSEC state', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const resolver = tableResolver({ [`PTR ${PTR}`]: [{ name: 'a.test' }], 'A a.test': [{ address: '192.0.2.8' }, { address: '192.0.2.7' }] }, 'secure');
    const p = policy({ reverseDns: true }, { resolver, log: (_l, event, fields) => logged.push({ event, ...fields }) });
    assert.deepEqual(await decide(p, request('sip:alice@a.test', viaOk), context('tls', peer)), { kind: 'pass' });
    assert.equal(logged[0]?.['event'], 'reverse-dns-checked');
    assert.equal(logged[0]?.['dnssec'], 'secure');
    assert.equal(logged[0]?.['confirmed'], 'a.test');
  });

  test('an IPv6 source (and an IPv4 one mapped into IPv6) is looked up under its own reverse name', async () => {
    const v6 = tableResolver({ [`PTR ${'7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2'}.ip6.arpa`]: [{ name: 'a.test' }], 'AAAA a.test': [{ address: '2001:db8:0:0::7' }] });
    assert.deepEqual(await decide(policy({ reverseDns: true }, { resolver: v6 }), request('sip:alice@a.test', viaOk), context('tls', peer, '2001:db8::7')), { kind: 'pass' });
    const mapped = tableResolver({ [`PTR ${PTR}`]: [{ name: 'a.test' }], 'A a.test': [{ address: '192.0.2.7' }] });
    assert.deepEqual(await decide(policy({ reverseDns: true }, { resolver: mapped }), request('sip:alice@a.test', viaOk), context('tls', peer, '::ffff:192.0.2.7')), { kind: 'pass' });
  });

  test('a PTR name that does not resolve back to the address (forged PTR): reverse-dns-mismatch', async () => {
    const resolver = tableResolver({ [`PTR ${PTR}`]: [{ name: 'a.test' }], 'A a.test': [{ address: '192.0.2.8' }] });
    const refusal = refusedWith(await decide(policy({ reverseDns: true }, { resolver }), request('sip:alice@a.test', viaOk), context('tls', peer)), 'reverse-dns-mismatch');
    assert.match(refusal.text, /does not resolve back to 192\.0\.2\.7/);
    assert.deepEqual((refusal.evidence['reverseDns'] as { forward: unknown }).forward, [{ name: 'a.test', addresses: ['192.0.2.8'], outcome: 'records (insecure)' }]);
  });

  test('a PTR name that is not an identity is refused without a forward look-up', async () => {
    const resolver = tableResolver({ [`PTR ${PTR}`]: [{ name: 'host7.isp.test' }], 'A host7.isp.test': [{ address: '192.0.2.7' }] });
    const refusal = refusedWith(await decide(policy({ reverseDns: true }, { resolver }), request('sip:alice@a.test', viaOk), context('tls', peer)), 'reverse-dns-mismatch');
    assert.match(refusal.text, /host7\.isp\.test/);
    assert.deepEqual(resolver.asked, [`PTR ${PTR}`]);
  });

  test('no PTR record: reverse-dns-mismatch', async () => {
    const refusal = refusedWith(await decide(policy({ reverseDns: true }, { resolver: tableResolver({}) }), request('sip:alice@a.test', viaOk), context('tls', peer)), 'reverse-dns-mismatch');
    assert.match(refusal.text, /no PTR/);
  });

  test('a bogus PTR answer refuses, whatever it would have said', async () => {
    const resolver: DnsResolver = {
      backend: 'system',
      query: <T extends DnsRecordType>(name: string, type: T) => Promise.resolve({ kind: 'failure', name, type, cnames: [], state: 'bogus', failure: 'bogus', why: 'signature expired' } as DnsAnswer<T>),
      close: () => Promise.resolve(),
    };
    const refusal = refusedWith(await decide(policy({ reverseDns: true }, { resolver }), request('sip:alice@a.test', viaOk), context('tls', peer)), 'reverse-dns-mismatch');
    assert.match(refusal.text, /bogus/);
  });

  test('off by default: no DNS question is asked', async () => {
    const resolver = tableResolver({});
    assert.deepEqual(await decide(policy({}, { resolver }), request('sip:alice@a.test', viaOk), context('tls', peer)), { kind: 'pass' });
    assert.deepEqual(resolver.asked, []);
  });
});
