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
  lookups: { name: string; type: string; state: string; why?: string }[];
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
    assert.deepEqual(json.lookups[0], { name: 'secure.test', type: 'NAPTR', state: 'secure' });
    assert.deepEqual(Object.keys(json).sort(), ['lookups', 'targets', 'uri']);
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

  test('exit 1 when no target is found', async () => {
    const c = capture();
    assert.equal(await runCli(['resolve', 'sip:nothere.secure.test', '--dns-config', fixture.unboundConfigFile, '--json'], c.io), 1);
    const json = JSON.parse(c.out()) as ResolveJson;
    assert.deepEqual(json.targets, []);
    assert.ok(json.lookups.some((l) => l.type === 'NAPTR' && l.state === 'secure'));
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
