import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/run-cli.js';
import { createResolver } from '../../src/dns/create-resolver.js';
import { reverseName } from '../../src/dns/dns-name.js';
import { locate } from '../../src/dns/locator.js';
import type { CachingResolver } from '../../src/dns/resolver.js';
import { lookupTlsa } from '../../src/dns/tlsa-lookup.js';
import { startDnsFixture, type DnsFixture } from '../support/dns-fixture.js';
import { startUnbound, type UnboundServer } from '../support/unbound-server.js';

// The AD-bit stub backend against a real validating Unbound (Debian `unbound`) that this test
// configures and starts, itself pointed at NSD serving the signed test zones.
describe('AD-bit stub backend against a real Unbound', () => {
  let fixture: DnsFixture;
  let unbound: UnboundServer;
  let unboundNoEde: UnboundServer;
  let resolver: CachingResolver;

  before(async () => {
    fixture = await startDnsFixture();
    const common = { serverLines: fixture.serverLines, stubLines: fixture.stubLines, probeZone: 'test.' };
    unbound = await startUnbound({ ...common, ede: true });
    unboundNoEde = await startUnbound({ ...common, ede: false });
    resolver = await createResolver({ backend: 'ad-bit', server: `127.0.0.1:${unbound.port}` });
  });
  after(async () => {
    await resolver?.close();
    await unbound?.stop();
    await unboundNoEde?.stop();
    await fixture?.stop();
  });

  test('AD set by a loopback validating resolver: secure', async () => {
    const answer = await resolver.query('www.secure.test', 'A');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'secure');
    assert.deepEqual(answer.kind === 'records' && answer.records, [{ address: '127.0.0.10' }]);
  });

  test('no AD for an unsigned delegation: insecure', async () => {
    const answer = await resolver.query('host.insecure.test', 'A');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'insecure');
  });

  test('a record changed after signing: bogus, with the resolver\'s Extended DNS Error', async () => {
    const answer = await resolver.query('sip.bogus.test', 'A');
    assert.equal(answer.kind, 'failure');
    assert.equal(answer.state, 'bogus');
    assert.match(answer.why ?? '', /EDE \d+/);
  });

  test('expired signatures: bogus', async () => {
    const answer = await resolver.query('sip.expired.test', 'A');
    assert.equal(answer.state, 'bogus');
  });

  test('without Extended DNS Errors, bogus is told from SERVFAIL by asking again with CD', async () => {
    const plain = await createResolver({ backend: 'ad-bit', server: `127.0.0.1:${unboundNoEde.port}` });
    try {
      const bogus = await plain.query('sip.bogus.test', 'A');
      assert.equal(bogus.state, 'bogus');
      assert.match(bogus.why ?? '', /checking disabled/);
      const servfail = await plain.query('sip.servfail.test', 'A');
      assert.equal(servfail.kind, 'failure');
      assert.equal(servfail.state, 'indeterminate');
      assert.equal(servfail.kind === 'failure' && servfail.failure, 'servfail');
    } finally {
      await plain.close();
    }
  });

  test('NXDOMAIN and NODATA told apart, proven denials secure', async () => {
    const nx = await resolver.query('nothere.secure.test', 'A');
    assert.equal(nx.kind, 'nxdomain');
    assert.equal(nx.state, 'secure');
    const nodata = await resolver.query('sip2.secure.test', 'AAAA');
    assert.equal(nodata.kind, 'nodata');
    assert.equal(nodata.state, 'secure');
  });

  test('a CNAME into an insecure zone is insecure; the chain is reported', async () => {
    const answer = await resolver.query('outside.secure.test', 'A');
    assert.equal(answer.state, 'insecure');
    assert.deepEqual(answer.cnames, [{ from: 'outside.secure.test', to: 'host.insecure.test' }]);
    const secureChain = await resolver.query('deep.secure.test', 'A');
    assert.equal(secureChain.state, 'secure');
    assert.equal(secureChain.cnames.length, 2);
  });

  test('PTR from a signed reverse zone', async () => {
    const answer = await resolver.query(reverseName('192.0.2.11', 4), 'PTR');
    assert.equal(answer.state, 'secure');
    assert.deepEqual(answer.kind === 'records' && answer.records, [{ name: 'sip2.secure.test' }]);
  });

  test('SERVFAIL from the authority is indeterminate', async () => {
    const answer = await resolver.query('sip.servfail.test', 'A');
    assert.equal(answer.state, 'indeterminate');
    assert.equal(answer.kind === 'failure' && answer.failure, 'servfail');
  });

  test('a truncated UDP answer is asked again over TCP', async () => {
    const answer = await resolver.query('_sips._tcp.big.secure.test', 'SRV');
    assert.equal(answer.kind, 'records');
    assert.equal(answer.state, 'secure');
    assert.equal(answer.kind === 'records' && answer.records.length, 30);
  });

  test('TLSA and the locator through the AD bit', async () => {
    const tlsa = await lookupTlsa(resolver, 'sip1.secure.test', 5061);
    assert.equal(tlsa.state, 'secure');
    assert.equal(tlsa.records.length, 1);
    const located = await locate(resolver, { scheme: 'sips', host: 'failover.secure.test', hostKind: 'domain' }, { families: [4] });
    assert.deepEqual(located.targets.map((t) => `${t.address} ${t.dnssec} ${t.identities.join(',')}`), [
      '127.0.0.12 secure failover.secure.test,sip2.secure.test',
    ]);
  });

  test('with trustAd false the AD bit is ignored: everything insecure, nothing bogus', async () => {
    const untrusting = await createResolver({ backend: 'ad-bit', server: `127.0.0.1:${unbound.port}`, trustAd: false });
    try {
      const answer = await untrusting.query('www.secure.test', 'A');
      assert.equal(answer.kind, 'records');
      assert.equal(answer.state, 'insecure');
      assert.notEqual(answer.why, undefined);
      const failed = await untrusting.query('sip.bogus.test', 'A');
      assert.equal(failed.state, 'indeterminate');
    } finally {
      await untrusting.close();
    }
  });

  test('a resolver that never answers: timeout after the retry, indeterminate', async () => {
    const deaf = await createResolver({ backend: 'ad-bit', server: `127.0.0.1:${fixture.blackhole.port}`, queryTimeoutMs: 200, queryRetries: 1 });
    try {
      const before = fixture.blackhole.received();
      const answer = await deaf.query('www.secure.test', 'A');
      assert.equal(answer.kind, 'failure');
      assert.equal(answer.kind === 'failure' && answer.failure, 'timeout');
      assert.equal(answer.state, 'indeterminate');
      assert.equal(deaf.stats().timeouts, 2);
      assert.equal(fixture.blackhole.received() - before, 2);
    } finally {
      await deaf.close();
    }
  });

  test('sipsec resolve --backend ad-bit', async () => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
    const code = await runCli(['resolve', 'sips:failover.secure.test', '--backend', 'ad-bit', '--server', `127.0.0.1:${unbound.port}`, '--json'], io);
    assert.equal(code, 0, out.join(''));
    const json = JSON.parse(out.join('')) as { targets: { address: string; dnssec: string }[]; lookups: { name: string; state: string }[] };
    assert.deepEqual(json.targets.map((t) => `${t.address} ${t.dnssec}`), ['127.0.0.12 secure']);
    assert.equal(json.lookups.find((l) => l.name === 'sip.bogus.test')?.state, 'bogus');
  });

  test('a bad server address is a configuration error naming the field', async () => {
    await assert.rejects(createResolver({ backend: 'ad-bit', server: 'resolver.example' }), { code: 'DNS_ERR_CONFIG', field: 'server' });
    await assert.rejects(createResolver({ backend: 'ad-bit', server: '127.0.0.1:99999' }), { code: 'DNS_ERR_CONFIG' });
  });
});
