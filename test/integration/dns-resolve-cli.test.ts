import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/run-cli.js';
import { startDnsFixture, TEST_TLSA_HEX, type DnsFixture } from '../support/dns-fixture.js';

function capture(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }, out: () => out.join(''), err: () => err.join('') };
}

interface ResolveJson {
  uri: string;
  targets: {
    transport: string; address: string; port: number; srvHost?: string; dnssec: string; identities: string[];
    tlsa?: { name: string; state: string; records: { data: string }[] };
  }[];
  lookups: { name: string; type: string; result: string; state: string; failure?: string; why?: string; records?: object[] }[];
  schema: string;
  exit: number;
}

// `sipsec resolve` with the in-process validator configured for signed zones served by NSD.
describe('sipsec resolve', () => {
  let fixture: DnsFixture;
  before(async () => {
    fixture = await startDnsFixture();
  });
  after(async () => {
    await fixture?.stop();
  });

  test('--json prints the targets in order with their DNSSEC state and identities', async () => {
    const c = capture();
    const code = await runCli(['resolve', 'sips:alice@secure.test', '--dns-config', fixture.unboundConfigFile, '--json'], c.io);
    assert.equal(code, 0, c.err());
    const json = JSON.parse(c.out()) as ResolveJson;
    assert.equal(json.uri, 'sips:alice@secure.test');
    // The two priority-10 targets come first in weighted random order, the priority-20 one last.
    assert.ok(['sip1.secure.test', 'sip2.secure.test'].includes(json.targets[0]?.srvHost ?? ''));
    assert.equal(json.targets.at(-1)?.srvHost, 'backup.secure.test');
    assert.deepEqual(json.targets.find((t) => t.address === '127.0.0.11'), {
      transport: 'tls', address: '127.0.0.11', port: 5061, srvHost: 'sip1.secure.test', dnssec: 'secure',
      identities: ['secure.test', 'sip1.secure.test'],
    });
    assert.equal(json.targets.length, 4);
    const naptr = json.lookups[0];
    assert.deepEqual({ name: naptr?.name, type: naptr?.type, result: naptr?.result, state: naptr?.state }, { name: 'secure.test', type: 'NAPTR', result: 'records', state: 'secure' });
    // The record data of each lookup is kept.
    assert.ok(naptr?.records?.some((r) => (r as { services?: string }).services === 'SIPS+D2T'), JSON.stringify(naptr));
    const srv = json.lookups.find((l) => l.type === 'SRV' && l.name === '_sips._tcp.secure.test');
    assert.ok(srv?.records?.some((r) => (r as { target?: string }).target === 'sip1.secure.test'));
    assert.deepEqual(Object.keys(json), ['schema', 'uri', 'targets', 'lookups', 'backend', 'exit']);
    assert.equal(json.schema, 'sipsec.resolve/1');
    assert.ok(c.out().endsWith('}\n') && c.out().split('\n').length === 2, 'one JSON document on one line');
  });

  test('bogus lookups are shown with the validator reason', async () => {
    const c = capture();
    const code = await runCli(['resolve', 'sip:split.secure.test', '--dns-config', fixture.unboundConfigFile, '--json'], c.io);
    assert.equal(code, 0);
    const json = JSON.parse(c.out()) as ResolveJson;
    const bogus = json.lookups.find((l) => l.state === 'bogus');
    assert.equal(bogus?.name, '_sips._tcp.bogus.test');
    assert.equal(typeof bogus?.why, 'string');
    assert.ok(json.targets.every((t) => t.transport === 'tcp'));
  });

  test('text output names each target and each lookup', async () => {
    const c = capture();
    const code = await runCli(['resolve', 'sip:nonaptr.secure.test', '--dns-config', fixture.unboundConfigFile, '--tls-first'], c.io);
    assert.equal(code, 0);
    assert.match(c.out(), /1\. tls 127\.0\.0\.11:5061 via sip1\.secure\.test {2}dnssec secure/);
    assert.match(c.out(), /NAPTR nonaptr\.secure\.test: nodata, secure/);
  });

  test('--tlsa adds the TLSA RRset of each secure TLS target', async () => {
    const c = capture();
    const code = await runCli(['resolve', 'sips:secure.test', '--dns-config', fixture.unboundConfigFile, '--json', '--tlsa'], c.io);
    assert.equal(code, 0, c.err());
    const json = JSON.parse(c.out()) as ResolveJson;
    const sip1 = json.targets.find((t) => t.srvHost === 'sip1.secure.test');
    assert.equal(sip1?.tlsa?.name, '_5061._tcp.sip1.secure.test');
    assert.equal(sip1?.tlsa?.state, 'secure');
    assert.equal(sip1?.tlsa?.records[0]?.data, TEST_TLSA_HEX);
    const sip2 = json.targets.find((t) => t.srvHost === 'sip2.secure.test');
    assert.deepEqual(sip2?.tlsa, { name: '_5061._tcp.sip2.secure.test', state: 'secure', records: [] });
    const text = capture();
    await runCli(['resolve', 'sips:secure.test', '--dns-config', fixture.unboundConfigFile, '--tlsa'], text.io);
    assert.match(text.out(), /TLSA _5061\._tcp\.sip1\.secure\.test: secure, 3 1 1 /);
  });

  test('no target: exit 3 for a name that does not exist, each lookup with its outcome', async () => {
    const c = capture();
    assert.equal(await runCli(['resolve', 'sip:nothere.secure.test', '--dns-config', fixture.unboundConfigFile, '--json'], c.io), 3);
    const json = JSON.parse(c.out()) as ResolveJson;
    assert.deepEqual(json.targets, []);
    assert.equal(json.exit, 3);
    assert.ok(json.lookups.some((l) => l.type === 'NAPTR' && l.state === 'secure' && l.result === 'nxdomain'), JSON.stringify(json.lookups));
    const text = capture();
    assert.equal(await runCli(['resolve', 'sip:nothere.secure.test', '--dns-config', fixture.unboundConfigFile], text.io), 3);
    assert.match(text.out(), /no target: .*NAPTR nothere\.secure\.test is nxdomain/);
  });

  test('no target: exit 1 when a lookup is bogus, named with the validator reason', async () => {
    const c = capture();
    assert.equal(await runCli(['resolve', 'sips:bogus.test', '--dns-config', fixture.unboundConfigFile], c.io), 1);
    assert.match(c.out(), /no target: SRV _sips\._tcp\.bogus\.test is bogus \(validation failure .+\)/);
  });

  test('sipsec options names the failed lookup and its state, in text and JSON, and sends nothing', async () => {
    const bogus = capture();
    assert.equal(await runCli(['options', 'sips:bogus.test', '--dns-config', fixture.unboundConfigFile], bogus.io), 1);
    assert.match(bogus.out(), /sips:bogus\.test: no target: SRV _sips\._tcp\.bogus\.test is bogus \(validation failure .+\)/);
    assert.match(bogus.out(), /lookups:\n {2}NAPTR bogus\.test: nodata, secure\n {2}SRV _sips\._tcp\.bogus\.test: failure \(bogus\), bogus/);

    const missing = capture();
    assert.equal(await runCli(['options', 'sips:nothere.secure.test', '--dns-config', fixture.unboundConfigFile, '--json'], missing.io), 3);
    const json = JSON.parse(missing.out()) as { schema: string; outcome: string; exit: number; attempts: unknown[]; located: { why: string; lookups: ResolveJson['lookups'] } };
    assert.equal(json.schema, 'sipsec.options/1');
    assert.equal(json.outcome, 'no-target');
    assert.deepEqual(json.attempts, []);
    assert.match(json.located.why, /NAPTR nothere\.secure\.test is nxdomain/);
    assert.ok(json.located.lookups.some((l) => l.result === 'nxdomain'));

    // A zone whose server never answers: the lookup is named with `timeout`.
    const timeout = capture();
    assert.equal(await runCli(['options', 'sips:timeout.test', '--dns-config', fixture.unboundConfigFile], timeout.io), 3);
    assert.match(timeout.out(), /no target: NAPTR timeout\.test is (timeout|servfail|resolver unreachable)/);
  });

  test('sipsec options with an unreachable resolver says so', async () => {
    const c = capture();
    // Port 9 on loopback (discard): nothing answers DNS there; the system backend reports the failure.
    assert.equal(await runCli(['options', 'sips:secure.test', '--backend', 'system', '--server', '127.0.0.1:9', '--json'], c.io), 3);
    const json = JSON.parse(c.out()) as { located: { why: string; lookups: ResolveJson['lookups'] } };
    assert.ok(json.located.lookups.every((l) => l.result === 'failure'), JSON.stringify(json.located.lookups));
    assert.match(json.located.why, /is (timeout|resolver unreachable)/);
  });

  test('the system backend reports every lookup insecure', async () => {
    const c = capture();
    const code = await runCli(['resolve', 'sips:secure.test', '--backend', 'system', '--server', `127.0.0.1:${fixture.nsd.port}`, '--json'], c.io);
    assert.equal(code, 0, c.err());
    const json = JSON.parse(c.out()) as ResolveJson;
    assert.ok(json.targets.length > 0);
    assert.ok(json.targets.every((t) => t.dnssec === 'insecure' && t.identities.length === 1));
  });

  test('usage and configuration errors exit 2', async () => {
    const badAnchor = `${fixture.dir}/bad-anchor.conf`;
    await writeFile(badAnchor, 'server:\n  trust-anchor: "test. DS 1 2 3 zz"\n');
    const badSyntax = `${fixture.dir}/bad-syntax.conf`;
    await writeFile(badSyntax, 'server:\n  no-such-option: yes\n');
    for (const argv of [
      ['resolve', 'sip:secure.test', '--dns-config', badAnchor],
      ['resolve', 'sip:secure.test', '--dns-config', badSyntax],
      ['resolve'],
      ['resolve', 'tel:+15551234'],
      ['resolve', 'sip:'],
      ['resolve', 'sips:secure.test;transport=udp'],
      ['resolve', 'sip:secure.test', '--backend', 'nonsense'],
      ['resolve', 'sip:secure.test', '--dns-config', `${fixture.dir}/no-such-file.conf`],
      ['resolve', 'sip:secure.test', '--backend', 'ad-bit'],
    ]) {
      const c = capture();
      assert.equal(await runCli(argv, c.io), 2, argv.join(' '));
      assert.match(c.err(), /usage: sipsec resolve/);
    }
  });
});
