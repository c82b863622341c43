import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createResolver } from '../../src/dns/create-resolver.js';
import { reverseName } from '../../src/dns/dns-name.js';
import type { CachingResolver } from '../../src/dns/resolver.js';
import { lookupTlsa } from '../../src/dns/tlsa-lookup.js';
import { startDnsFixture, TEST_TLSA_HEX, type DnsFixture } from '../support/dns-fixture.js';
import { ZONE_NEGATIVE_TTL, ZONE_TTL } from '../../src/lab/dns-zones.js';

// The in-process validator (libunbound) against NSD serving zones signed when the test starts.
describe('libunbound resolver against signed zones served by NSD', () => {
  let fixture: DnsFixture;
  let resolver: CachingResolver;
  let clockMs = 1_000_000;

  before(async () => {
    fixture = await startDnsFixture();
    resolver = await createResolver({ configFile: fixture.unboundConfigFile, now: () => clockMs });
  });
  after(async () => {
    await resolver?.close();
    await fixture?.stop();
  });

  test('an answer from a signed zone under the trust anchor is secure', async () => {
    const answer = await resolver.query('www.secure.test', 'A');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'secure');
    assert.deepEqual(answer.kind === 'records' && answer.records, [{ address: '127.0.0.10' }]);
    // The zone's TTL, or less when libunbound's own cache already held part of the answer.
    const ttl = answer.kind === 'records' ? answer.ttlSeconds : -1;
    assert.ok(ttl > 0 && ttl <= ZONE_TTL, `ttl ${ttl}`);
  });

  test('NAPTR with several services comes back whole and secure', async () => {
    const answer = await resolver.query('secure.test', 'NAPTR');
    assert.equal(answer.state, 'secure');
    assert.equal(answer.kind, 'records');
    const services = answer.kind === 'records' ? answer.records.map((r) => r.services).sort() : [];
    assert.deepEqual(services, ['SIP+D2T', 'SIP+D2U', 'SIPS+D2T', 'SIPS+D2U', 'X-FOO+D2T']);
    const sips = answer.kind === 'records' ? answer.records.find((r) => r.services === 'SIPS+D2T') : undefined;
    assert.deepEqual(sips, { order: 50, preference: 50, flags: 's', services: 'SIPS+D2T', regexp: '', replacement: '_sips._tcp.secure.test' });
  });

  test('SRV records are secure and carry priority, weight, port and target', async () => {
    const answer = await resolver.query('_sips._tcp.secure.test', 'SRV');
    assert.equal(answer.state, 'secure');
    const records = answer.kind === 'records' ? [...answer.records].sort((a, b) => a.target.localeCompare(b.target)) : [];
    assert.deepEqual(records, [
      { priority: 20, weight: 0, port: 5061, target: 'backup.secure.test' },
      { priority: 10, weight: 60, port: 5061, target: 'sip1.secure.test' },
      { priority: 10, weight: 40, port: 5061, target: 'sip2.secure.test' },
    ]);
  });

  test('AAAA and PTR answers', async () => {
    const aaaa = await resolver.query('sip1.secure.test', 'AAAA');
    assert.deepEqual(aaaa.kind === 'records' && aaaa.records, [{ address: 'fd00::11' }]);
    assert.equal(aaaa.state, 'secure');
    const ptr = await resolver.query('ptr.secure.test', 'PTR');
    assert.deepEqual(ptr.kind === 'records' && ptr.records, [{ name: 'sip1.secure.test' }]);
    assert.equal(ptr.state, 'secure');
  });

  test('PTR at the reverse name of an address, from a signed reverse zone', async () => {
    const answer = await resolver.query(reverseName('192.0.2.10', 4), 'PTR');
    assert.equal(answer.name, '10.2.0.192.in-addr.arpa');
    assert.equal(answer.state, 'secure');
    assert.deepEqual(answer.kind === 'records' && answer.records, [{ name: 'sip1.secure.test' }]);
    const none = await resolver.query(reverseName('192.0.2.99', 4), 'PTR');
    assert.equal(none.kind, 'nxdomain');
    assert.equal(none.state, 'secure');
  });

  test('an unsigned zone without DS in its signed parent is insecure', async () => {
    const answer = await resolver.query('host.insecure.test', 'A');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'insecure');
  });

  test('a record changed after signing is bogus, with the validator reason and no records', async () => {
    const answer = await resolver.query('sip.bogus.test', 'A');
    assert.equal(answer.kind, 'failure');
    assert.equal(answer.state, 'bogus');
    assert.equal(answer.kind === 'failure' && answer.failure, 'bogus');
    assert.match(answer.why ?? '', /signature/);
    assert.equal('records' in answer, false);
    // The same zone's untouched records stay secure.
    assert.equal((await resolver.query('fine.bogus.test', 'A')).state, 'secure');
  });

  test('expired signatures are bogus', async () => {
    const answer = await resolver.query('sip.expired.test', 'A');
    assert.equal(answer.state, 'bogus');
    assert.match(answer.why ?? '', /expired/);
  });

  test('NXDOMAIN and NODATA are told apart, and a proven denial is secure', async () => {
    const nx = await resolver.query('nothere.secure.test', 'A');
    assert.equal(nx.kind, 'nxdomain');
    assert.equal(nx.state, 'secure');
    // The SOA minimum (RFC 2308), less the seconds the NSEC proof may have spent in libunbound's cache.
    const ttl = nx.kind === 'nxdomain' ? nx.ttlSeconds : -1;
    assert.ok(ttl > 0 && ttl <= ZONE_NEGATIVE_TTL, `ttl ${ttl}`);
    const nodata = await resolver.query('sip2.secure.test', 'AAAA');
    assert.equal(nodata.kind, 'nodata');
    assert.equal(nodata.state, 'secure');
    const insecureNx = await resolver.query('nothere.insecure.test', 'A');
    assert.equal(insecureNx.kind, 'nxdomain');
    assert.equal(insecureNx.state, 'insecure');
  });

  test('a CNAME chain is followed and reported', async () => {
    const answer = await resolver.query('deep.secure.test', 'A');
    assert.equal(answer.state, 'secure');
    assert.deepEqual(answer.kind === 'records' && answer.records, [{ address: '127.0.0.10' }]);
    assert.deepEqual(answer.cnames, [
      { from: 'deep.secure.test', to: 'alias.secure.test' },
      { from: 'alias.secure.test', to: 'www.secure.test' },
    ]);
  });

  test('a secure CNAME into an insecure zone is insecure: the weakest link', async () => {
    const answer = await resolver.query('outside.secure.test', 'A');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'insecure');
    assert.deepEqual(answer.cnames, [{ from: 'outside.secure.test', to: 'host.insecure.test' }]);
  });

  test('SERVFAIL from the authority is indeterminate, never a denial', async () => {
    const answer = await resolver.query('sip.servfail.test', 'A');
    assert.equal(answer.kind, 'failure');
    assert.equal(answer.state, 'indeterminate');
    assert.equal(answer.kind === 'failure' && answer.failure, 'servfail');
  });

  test('TLSA at _port._tcp.host with its state', async () => {
    const secure = await lookupTlsa(resolver, 'sip1.secure.test', 5061);
    assert.equal(secure.name, '_5061._tcp.sip1.secure.test');
    assert.equal(secure.state, 'secure');
    assert.equal(secure.records.length, 1);
    const record = secure.records[0];
    assert.deepEqual(record && [record.usage, record.selector, record.matchingType], [3, 1, 1]);
    assert.equal(record && Buffer.from(record.data).toString('hex'), TEST_TLSA_HEX);

    const insecure = await lookupTlsa(resolver, 'host.insecure.test', 5061);
    assert.equal(insecure.state, 'insecure');
    assert.equal(insecure.records.length, 1);

    const bogus = await lookupTlsa(resolver, 'sip.bogus.test', 5061);
    assert.equal(bogus.state, 'bogus');
    assert.equal(bogus.records.length, 0);
    assert.notEqual(bogus.why, undefined);

    const none = await lookupTlsa(resolver, 'sip2.secure.test', 5061);
    assert.deepEqual(none, { name: '_5061._tcp.sip2.secure.test', state: 'secure', records: [] });
  });

  test('answers are cached by TTL, positive and negative, and expire', async () => {
    const first = resolver.stats();
    await resolver.query('sip2.secure.test', 'A');
    await resolver.query('sip2.secure.test', 'A');
    await resolver.query('nothere2.secure.test', 'A');
    await resolver.query('NOTHERE2.secure.test.', 'A');
    const second = resolver.stats();
    assert.equal(second.backendQueries - first.backendQueries, 2);
    assert.equal(second.cacheHits - first.cacheHits, 2);
    // The negative answer expires after the SOA minimum, the positive one later.
    clockMs += (ZONE_NEGATIVE_TTL + 1) * 1000;
    await resolver.query('sip2.secure.test', 'A');
    await resolver.query('nothere2.secure.test', 'A');
    const third = resolver.stats();
    assert.equal(third.backendQueries - second.backendQueries, 1);
    // The cached positive answer now carries the time it has left.
    const aged = await resolver.query('sip2.secure.test', 'A');
    const agedTtl = aged.kind === 'records' ? aged.ttlSeconds : -1;
    assert.ok(agedTtl > 0 && agedTtl <= ZONE_TTL - ZONE_NEGATIVE_TTL - 1, `ttl ${agedTtl}`);
    clockMs += ZONE_TTL * 1000;
    await resolver.query('sip2.secure.test', 'A');
    assert.equal(resolver.stats().backendQueries - third.backendQueries, 1);
  });

  test('identical queries in flight are coalesced into one', async () => {
    const before = resolver.stats();
    const [a, b, c] = await Promise.all([
      resolver.query('backup.secure.test', 'A'),
      resolver.query('backup.secure.test', 'A'),
      resolver.query('Backup.Secure.Test', 'A'),
    ]);
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
    const now = resolver.stats();
    assert.equal(now.backendQueries - before.backendQueries, 1);
    assert.equal(now.coalesced - before.coalesced, 2);
  });

  test('bogus answers are cached too (no refetch loop), SERVFAIL is not', async () => {
    await resolver.query('sip.expired.test', 'A');
    await resolver.query('sip.servfail.test', 'A');
    const before = resolver.stats();
    await resolver.query('sip.expired.test', 'A');
    await resolver.query('sip.servfail.test', 'A');
    assert.equal(resolver.stats().backendQueries - before.backendQueries, 1);
  });

  test('a server that never answers gives a timeout, retried, and indeterminate', async () => {
    const impatient = await createResolver({ configFile: fixture.unboundConfigFile, queryTimeoutMs: 200, queryRetries: 1 });
    try {
      const answer = await impatient.query('sip.timeout.test', 'A');
      assert.equal(answer.kind, 'failure');
      assert.equal(answer.state, 'indeterminate');
      assert.equal(answer.kind === 'failure' && answer.failure, 'timeout');
      assert.equal(impatient.stats().timeouts, 2);
      assert.ok(fixture.blackhole.received() > 0);
    } finally {
      await impatient.close();
    }
  });

  test('a bad name is refused before any query', async () => {
    await assert.rejects(resolver.query('a..b', 'A'), { code: 'DNS_ERR_BAD_NAME' });
    await assert.rejects(resolver.query(`${'x'.repeat(64)}.test`, 'A'), { code: 'DNS_ERR_BAD_NAME' });
  });
});

describe('system resolver backend', () => {
  let fixture: DnsFixture;
  let resolver: CachingResolver;
  before(async () => {
    fixture = await startDnsFixture();
    resolver = await createResolver({ backend: 'system', servers: [`127.0.0.1:${fixture.nsd.port}`] });
  });
  after(async () => {
    await resolver?.close();
    await fixture?.stop();
  });

  test('every answer is insecure, even from a signed zone', async () => {
    const answer = await resolver.query('www.secure.test', 'A');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'insecure');
    const srv = await resolver.query('_sips._tcp.secure.test', 'SRV');
    assert.equal(srv.kind === 'records' && srv.records.length, 3);
    const naptr = await resolver.query('secure.test', 'NAPTR');
    assert.equal(naptr.kind === 'records' && naptr.records.length, 5);
  });

  test('NXDOMAIN and NODATA are told apart', async () => {
    assert.equal((await resolver.query('nothere.secure.test', 'A')).kind, 'nxdomain');
    assert.equal((await resolver.query('sip2.secure.test', 'AAAA')).kind, 'nodata');
  });

  test('DANE never applies: TLSA is an insecure empty answer', async () => {
    const tlsa = await lookupTlsa(resolver, 'sip1.secure.test', 5061);
    assert.equal(tlsa.state, 'insecure');
    assert.deepEqual(tlsa.records, []);
  });
});
