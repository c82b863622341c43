import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createResolver } from '../../src/dns/create-resolver.js';
import { locate, type LocateInput, type LocateOptions, type LocatedTarget } from '../../src/dns/locator.js';
import type { CachingResolver } from '../../src/dns/resolver.js';
import { lookupTlsaForTarget } from '../../src/dns/tlsa-lookup.js';
import { startDnsFixture, type DnsFixture } from '../support/dns-fixture.js';

// RFC 3263 server location through the in-process validator, against signed zones served by NSD.
describe('RFC 3263 locator against signed zones', () => {
  let fixture: DnsFixture;
  let resolver: CachingResolver;

  before(async () => {
    fixture = await startDnsFixture();
    resolver = await createResolver({ configFile: fixture.unboundConfigFile });
  });
  after(async () => {
    await resolver?.close();
    await fixture?.stop();
  });

  const domain = (scheme: 'sip' | 'sips', host: string, extra: Partial<LocateInput> = {}): LocateInput =>
    ({ scheme, host, hostKind: 'domain', ...extra });
  const run = (input: LocateInput, options: LocateOptions = {}) =>
    locate(resolver, input, { deterministic: true, ...options });
  const brief = (targets: readonly LocatedTarget[]): string[] =>
    targets.map((t) => `${t.transport} ${t.address}:${t.port}${t.srvHost === undefined ? '' : ` via ${t.srvHost}`}`);

  test('sips: NAPTR keeps SIPS services only, SRV priority then weight, A then AAAA', async () => {
    const result = await run(domain('sips', 'secure.test'));
    assert.deepEqual(brief(result.targets), [
      'tls 127.0.0.11:5061 via sip1.secure.test',
      'tls fd00::11:5061 via sip1.secure.test',
      'tls 127.0.0.12:5061 via sip2.secure.test',
      'tls 127.0.0.13:5061 via backup.secure.test',
    ]);
    const first = result.targets[0];
    assert.equal(first?.dnssec, 'secure');
    assert.deepEqual(first?.identities, ['secure.test', 'sip1.secure.test']);
    assert.deepEqual(first?.lookups.map((l) => `${l.type} ${l.name} ${l.state}`), [
      'NAPTR secure.test secure',
      'SRV _sips._tcp.secure.test secure',
      'A sip1.secure.test secure',
    ]);
    assert.equal(result.domain, 'secure.test');
  });

  test('sip: NAPTR with several services gives TLS, then TCP, then UDP; SIPS+D2U and unknown services are discarded', async () => {
    const result = await run(domain('sip', 'Secure.Test'));
    assert.deepEqual(brief(result.targets), [
      'tls 127.0.0.11:5061 via sip1.secure.test',
      'tls fd00::11:5061 via sip1.secure.test',
      'tls 127.0.0.12:5061 via sip2.secure.test',
      'tls 127.0.0.13:5061 via backup.secure.test',
      'tcp 127.0.0.11:5060 via sip1.secure.test',
      'tcp fd00::11:5060 via sip1.secure.test',
      'udp 127.0.0.11:5060 via sip1.secure.test',
      'udp fd00::11:5060 via sip1.secure.test',
    ]);
    assert.ok(!result.lookups.some((l) => l.name.startsWith('_sips._udp') || l.name.startsWith('_foo')));
  });

  test('client transports filter NAPTR services', async () => {
    const result = await run(domain('sip', 'secure.test'), { transports: ['udp'] });
    assert.deepEqual(brief(result.targets), ['udp 127.0.0.11:5060 via sip1.secure.test', 'udp fd00::11:5060 via sip1.secure.test']);
  });

  test('SRV weights: over all draws, the 60-weight target comes first 60% of the time', async () => {
    let sip1First = 0;
    for (let i = 0; i <= 100; i++) {
      let calls = 0;
      const random = (): number => (calls++ === 0 ? i / 101 : 0);
      const result = await locate(resolver, domain('sips', 'secure.test'), { random, families: [4] });
      if (result.targets[0]?.srvHost === 'sip1.secure.test') sip1First++;
      // Priority still wins: the priority-20 target is always last.
      assert.equal(result.targets.at(-1)?.srvHost, 'backup.secure.test');
    }
    // Draws 0..100: 61 (if sip1's record is listed first) or 60 (if second) of them pick sip1.
    assert.ok(sip1First === 60 || sip1First === 61, `sip1 first ${sip1First} times of 101`);
  });

  test('no NAPTR: SRV for sip transports; TLS first adds _sips._tcp ahead', async () => {
    const plain = await run(domain('sip', 'nonaptr.secure.test'));
    assert.deepEqual(brief(plain.targets), ['udp 127.0.0.12:5060 via sip2.secure.test']);
    assert.ok(!plain.lookups.some((l) => l.name.startsWith('_sips.')));

    const tlsFirst = await run(domain('sip', 'nonaptr.secure.test'), { tlsFirst: true });
    assert.deepEqual(brief(tlsFirst.targets), [
      'tls 127.0.0.11:5061 via sip1.secure.test',
      'tls fd00::11:5061 via sip1.secure.test',
      'udp 127.0.0.12:5060 via sip2.secure.test',
    ]);
    // A request that arrived over TLS is located TLS first too.
    const overTls = await run(domain('sip', 'nonaptr.secure.test'), { receivedOn: 'tls' });
    assert.deepEqual(brief(overTls.targets), brief(tlsFirst.targets));
    // The no-NAPTR proof is part of every target's chain.
    assert.deepEqual(tlsFirst.targets[0]?.lookups.map((l) => `${l.type} ${l.name} ${l.result}`), [
      'NAPTR nonaptr.secure.test nodata', // an empty non-terminal: NODATA, not NXDOMAIN
      'SRV _sips._tcp.nonaptr.secure.test records',
      'A sip1.secure.test records',
    ]);
  });

  test('TLS first moves NAPTR TLS services ahead of a domain\'s preferred UDP', async () => {
    const rfc = await run(domain('sip', 'udpfirst.secure.test'), { families: [4] });
    assert.deepEqual(rfc.targets.map((t) => t.transport), ['udp', 'tls', 'tls', 'tls']);
    const tlsFirst = await run(domain('sip', 'udpfirst.secure.test'), { families: [4], tlsFirst: true });
    assert.deepEqual(tlsFirst.targets.map((t) => t.transport), ['tls', 'tls', 'tls', 'udp']);
  });

  test('TLSA for a located target: only for secure TLS targets, at the SRV host', async () => {
    const secure = await run(domain('sips', 'secure.test'), { families: [4] });
    const sip1 = secure.targets.find((t) => t.srvHost === 'sip1.secure.test');
    assert.ok(sip1);
    const tlsa = await lookupTlsaForTarget(resolver, sip1);
    assert.equal(tlsa?.name, '_5061._tcp.sip1.secure.test');
    assert.equal(tlsa?.state, 'secure');
    assert.equal(tlsa?.records.length, 1);
    const insecure = await run(domain('sips', 'mixed.secure.test'));
    assert.ok(insecure.targets[0]);
    assert.equal(await lookupTlsaForTarget(resolver, insecure.targets[0]), undefined);
    const udp = await run(domain('sip', 'secure.test', { transport: 'udp' }), { families: [4] });
    assert.ok(udp.targets[0]);
    assert.equal(await lookupTlsaForTarget(resolver, udp.targets[0]), undefined);
    // Without SRV the base name is the host whose address was used.
    const plain = await run(domain('sips', 'plain.secure.test'));
    assert.ok(plain.targets[0]);
    assert.deepEqual(await lookupTlsaForTarget(resolver, plain.targets[0]), { name: '_5061._tcp.plain.secure.test', state: 'secure', records: [] });
  });

  test('no NAPTR and no SRV: A/AAAA at the default port, UDP for sip, TLS for sips', async () => {
    const sip = await run(domain('sip', 'plain.secure.test'));
    assert.deepEqual(brief(sip.targets), ['udp 127.0.0.30:5060']);
    const target = sip.targets[0];
    assert.equal(target?.dnssec, 'secure');
    assert.deepEqual(target?.identities, ['plain.secure.test']);
    assert.deepEqual(target?.lookups.map((l) => `${l.type} ${l.name}`), [
      'NAPTR plain.secure.test',
      'SRV _sip._tcp.plain.secure.test',
      'SRV _sip._udp.plain.secure.test',
      'A plain.secure.test',
    ]);
    assert.deepEqual(brief((await run(domain('sips', 'plain.secure.test'))).targets), ['tls 127.0.0.30:5061']);
    assert.deepEqual(brief((await run(domain('sip', 'plain.secure.test'), { tlsFirst: true })).targets), [
      'tls 127.0.0.30:5061',
      'udp 127.0.0.30:5060',
    ]);
  });

  test('an explicit port skips NAPTR and SRV', async () => {
    const result = await run(domain('sip', 'www.secure.test', { port: 5070 }));
    assert.deepEqual(brief(result.targets), ['udp 127.0.0.10:5070']);
    assert.deepEqual(result.lookups.map((l) => l.type).sort(), ['A', 'AAAA']);
    const sips = await run(domain('sips', 'www.secure.test', { port: 5071 }));
    assert.deepEqual(brief(sips.targets), ['tls 127.0.0.10:5071']);
  });

  test('a transport parameter skips NAPTR: SRV for that transport', async () => {
    const tcp = await run(domain('sip', 'secure.test', { transport: 'tcp' }));
    assert.deepEqual(brief(tcp.targets), ['tcp 127.0.0.11:5060 via sip1.secure.test', 'tcp fd00::11:5060 via sip1.secure.test']);
    assert.ok(!tcp.lookups.some((l) => l.type === 'NAPTR'));
    const tcpTlsFirst = await run(domain('sip', 'secure.test', { transport: 'TCP' }), { tlsFirst: true, families: [4] });
    assert.deepEqual(brief(tcpTlsFirst.targets), [
      'tls 127.0.0.11:5061 via sip1.secure.test',
      'tls 127.0.0.12:5061 via sip2.secure.test',
      'tls 127.0.0.13:5061 via backup.secure.test',
      'tcp 127.0.0.11:5060 via sip1.secure.test',
    ]);
    // Without SRV records: the default port of that transport (TLS first tries TLS on 5061 first).
    assert.deepEqual(brief((await run(domain('sip', 'plain.secure.test', { transport: 'tcp' }))).targets), ['tcp 127.0.0.30:5060']);
    assert.deepEqual(brief((await run(domain('sip', 'plain.secure.test', { transport: 'tcp' }), { tlsFirst: true })).targets), [
      'tls 127.0.0.30:5061',
      'tcp 127.0.0.30:5060',
    ]);
    // sips;transport=tcp is TLS over TCP.
    const sipsTcp = await run(domain('sips', 'secure.test', { transport: 'tcp' }), { families: [4] });
    assert.deepEqual(sipsTcp.targets.map((t) => t.transport), ['tls', 'tls', 'tls']);
    await assert.rejects(run(domain('sips', 'secure.test', { transport: 'udp' })), { code: 'DNS_ERR_BAD_TARGET' });
  });

  test('a numeric host uses no DNS', async () => {
    const v4 = await run({ scheme: 'sip', host: '127.0.0.5', hostKind: 'ipv4' });
    assert.deepEqual(brief(v4.targets), ['udp 127.0.0.5:5060']);
    assert.deepEqual(v4.lookups, []);
    assert.equal(v4.targets[0]?.dnssec, 'insecure');
    const v6 = await run({ scheme: 'sips', host: '::1', hostKind: 'ipv6', port: 5071 });
    assert.deepEqual(brief(v6.targets), ['tls ::1:5071']);
    const tcp = await run({ scheme: 'sip', host: '127.0.0.5', hostKind: 'ipv4', transport: 'tcp' });
    assert.deepEqual(brief(tcp.targets), ['tcp 127.0.0.5:5060']);
  });

  test('maddr is the TARGET; the SIP domain stays the identity', async () => {
    const result = await run(domain('sip', 'secure.test', { maddr: '127.0.0.9' }));
    assert.deepEqual(brief(result.targets), ['udp 127.0.0.9:5060']);
    assert.deepEqual(result.targets[0]?.identities, ['secure.test']);
  });

  test('an SRV target in an insecure zone: the target is insecure and only the SIP domain is an identity', async () => {
    const result = await run(domain('sips', 'mixed.secure.test'));
    assert.deepEqual(brief(result.targets), ['tls 127.0.0.21:5061 via host.insecure.test']);
    assert.equal(result.targets[0]?.dnssec, 'insecure');
    assert.deepEqual(result.targets[0]?.identities, ['mixed.secure.test']);
  });

  test('an insecure domain: every target insecure, identities the domain only', async () => {
    const result = await run(domain('sips', 'insecure.test'));
    assert.deepEqual(brief(result.targets), ['tls 127.0.0.21:5061 via host.insecure.test']);
    assert.equal(result.targets[0]?.dnssec, 'insecure');
    assert.deepEqual(result.targets[0]?.identities, ['insecure.test']);
  });

  test('a bogus NAPTR path gives no target; the other path still does', async () => {
    const result = await run(domain('sip', 'split.secure.test'), { families: [4] });
    assert.deepEqual(brief(result.targets), ['tcp 127.0.0.11:5060 via sip1.secure.test']);
    const bogus = result.lookups.find((l) => l.name === '_sips._tcp.bogus.test');
    assert.equal(bogus?.state, 'bogus');
    assert.notEqual(bogus?.why, undefined);
  });

  test('SRV failover: a target whose address is bogus is dropped, the next one kept', async () => {
    const result = await run(domain('sips', 'failover.secure.test'), { families: [4] });
    assert.deepEqual(brief(result.targets), ['tls 127.0.0.12:5061 via sip2.secure.test']);
    assert.equal(result.lookups.find((l) => l.name === 'sip.bogus.test' && l.type === 'A')?.state, 'bogus');
  });

  test('a bogus address with secure denials before it: no target at all', async () => {
    const result = await run(domain('sip', 'sip.bogus.test'));
    assert.deepEqual(result.targets, []);
    assert.equal(result.lookups.find((l) => l.type === 'A')?.state, 'bogus');
  });

  test('a failed NAPTR lookup stops everything: no SRV or address fallback', async () => {
    const result = await run(domain('sip', 'sip.servfail.test'));
    assert.deepEqual(result.targets, []);
    assert.deepEqual(result.lookups.map((l) => `${l.type} ${l.state} ${l.result}`), ['NAPTR indeterminate failure']);
  });

  test('a secure NXDOMAIN domain has no target', async () => {
    const result = await run(domain('sip', 'nothere.secure.test'));
    assert.deepEqual(result.targets, []);
    assert.ok(result.lookups.every((l) => l.state === 'secure' && l.result === 'nxdomain'));
  });

  test('SRV failover past a target whose server never answers', async () => {
    // The default deadline: the good target must not be at the mercy of a short one. The
    // unanswered lookup ends as indeterminate, by the deadline or by libunbound giving up.
    const result = await run(domain('sips', 'slow.secure.test'), { families: [4] });
    assert.deepEqual(brief(result.targets), ['tls 127.0.0.12:5061 via sip2.secure.test']);
    const slow = result.lookups.find((l) => l.name === 'sip.timeout.test');
    assert.equal(slow?.state, 'indeterminate');
    assert.ok(fixture.blackhole.received() > 0);
  });
});
