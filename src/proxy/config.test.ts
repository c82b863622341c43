import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../test/support/paths.js';
import { issueCertificate } from '../lab/certificates.js';
import { AUTH_LIMITS, REGISTRAR_LIMITS, TRANSPORT_LIMITS, TX_TIMERS } from '../limits.js';
import { computeHa1 } from '../registrar/digest.js';
import { TrustStore } from '../tls/trust-store.js';
import { loadProxyConfig, ProxyConfigError, renderIssue, type ConfigIssue, type ProxyConfig } from './config.js';
import { ConfigFixture, MINIMAL } from './config-fixtures.test.support.js';
import { DEFAULT_HOP_POLICIES } from './contracts.js';

const fx = new ConfigFixture();
after(() => fx.remove());
fx.domain('a.test');
fx.domain('b.test', { san: { uri: ['sip:b.test', 'sip:proxy.b.test'], dns: ['b.test', 'proxy.b.test'] } });

async function load(text: string, options: Parameters<typeof loadProxyConfig>[1] = {}): Promise<ProxyConfig> {
  return loadProxyConfig(fx.config(text), options);
}

async function issuesOf(text: string): Promise<{ file: string; issues: readonly ConfigIssue[] }> {
  const file = fx.config(text);
  try {
    await loadProxyConfig(file);
  } catch (err) {
    if (err instanceof ProxyConfigError) return { file, issues: err.issues };
    throw err;
  }
  return assert.fail(`${file} loaded, but should not have`);
}

/** Exactly one issue, at this line and key path, whose message matches. */
async function assertOneIssue(text: string, line: number, keyPath: string, message: RegExp, file?: string): Promise<ConfigIssue> {
  const { file: configFile, issues } = await issuesOf(text);
  assert.equal(issues.length, 1, issues.map(renderIssue).join('\n'));
  const issue = issues[0] as ConfigIssue;
  assert.equal(issue.file, file ?? configFile);
  assert.equal(issue.line, line, renderIssue(issue));
  assert.equal(issue.path, keyPath, renderIssue(issue));
  assert.match(issue.message, message);
  return issue;
}

test('a minimal file (one domain, its certificate and key, one listener) loads with every default', async () => {
  const config = await load(MINIMAL, { randomBytes: (n) => new Uint8Array(n).fill(7) });
  assert.deepEqual(config.domains.map((d) => d.name), ['a.test']);
  const [domain] = config.domains;
  assert.equal(domain?.certificateFile, path.join(fx.dir, 'a.test.pem'));
  assert.match(domain?.cert ?? '', /^-----BEGIN CERTIFICATE-----[^]*-----BEGIN CERTIFICATE-----/);
  assert.match(domain?.key ?? '', /BEGIN PRIVATE KEY/);
  assert.deepEqual(domain?.identities, ['a.test']);
  assert.equal(config.listeners.length, 1);
  const [listener] = config.listeners;
  assert.equal(listener?.transport, 'tls');
  assert.equal(listener?.address, '127.0.0.2');
  assert.equal(listener?.port, 5061);
  assert.equal(listener?.advertisedHost, 'a.test');
  assert.equal(listener?.advertisedPort, 5061);
  assert.equal(listener?.advertisedFrom, 'domain');
  assert.deepEqual(listener?.certificates?.map((c) => c.domains), [['a.test']]);
  assert.equal(listener?.certificates?.[0]?.cert, domain?.cert);
  assert.equal(config.trust.system, true);
  assert.deepEqual(config.trust.ca, []);
  assert.equal(config.trust.store.certificates.length, TrustStore.system().certificates.length);
  assert.equal(config.dns.unbound, undefined);
  assert.equal(config.users.file, undefined);
  assert.equal(config.users.directory.size, 0);
  assert.deepEqual(config.auth.algorithms, ['SHA-256', 'MD5']);
  assert.deepEqual(config.auth.secret, new Uint8Array(32).fill(7));
  assert.equal(config.auth.secretFile, undefined);
  assert.ok(config.notes.some((n) => /random for this process.*several instances cannot/.test(n)), config.notes.join('\n'));
  assert.deepEqual(config.location, { kind: 'sqlite', path: path.join(fx.dir, 'location.db') });
  assert.deepEqual(config.log, { level: 'info', format: 'json' });
  assert.equal(config.outboundSource, 'listener');
  assert.deepEqual(config.limits.transport, TRANSPORT_LIMITS);
  assert.deepEqual(config.limits.auth, AUTH_LIMITS);
  assert.deepEqual(config.timers, TX_TIMERS);
  assert.deepEqual(config.policy, DEFAULT_HOP_POLICIES);
  assert.deepEqual(config.warnings, []);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.listeners) && Object.isFrozen(listener) && Object.isFrozen(config.domains[0]) && Object.isFrozen(config.limits.sip));
  // The log format follows the terminal when the file does not say.
  assert.equal((await load(MINIMAL, { terminal: true })).log.format, 'text');
  // Two loads without a key file get two different random keys.
  assert.notDeepEqual((await load(MINIMAL)).auth.secret, (await load(MINIMAL)).auth.secret);
});

test('every key of the file is read: domains, listen, trust, dns, users, auth, location, outbound-source, log, limits, timers, policy', async () => {
  fx.write('unbound.conf', 'server:\n  module-config: "validator iterator"\n');
  fx.write('nonce.key', Buffer.alloc(32, 1));
  fx.write('users.yaml', `alice@a.test:\n  ha1-sha256: "${computeHa1('SHA-256', 'alice', 'a.test', 'x')}"\n  ha1-md5: "${computeHa1('MD5', 'alice', 'a.test', 'x')}"\nbob@B.test: { password: wonder }\n`);
  const config = await load(`
domains:
  a.test: { certificate: a.test.pem, key: a.test.key }
  B.Test: { certificate: ${path.join(fx.dir, 'b.test.pem')}, key: b.test.key }
listen:
  - { url: "tls://0.0.0.0:5061", advertise: proxy.b.test }
  - "tcp://127.0.0.3:5070"
  - { url: "udp://[::1]:5060", advertise: "[::1]:15060" }
  - "ws://127.0.0.3:8080/sip"
  - { url: "wss://[0:0::1]:8443", advertise: a.test }
trust: { ca: [ ca.pem ], system: false }
dns: { unbound: unbound.conf }
users: users.yaml
auth: { algorithms: [MD5], secret-file: nonce.key }
location: "redis://:pw@127.0.0.1:6390/3"
outbound-source: system
log: { level: debug, format: text }
limits:
  transport: { idleTimeoutMs: 1000 }
  registrar: { maxBindingsPerAor: 2 }
timers: { t1Ms: 100, timerCMs: 200000 }
policy: {}
`);
  assert.deepEqual(config.domains.map((d) => d.name), ['a.test', 'b.test']);
  assert.deepEqual(config.domains[1]?.identities, ['b.test', 'proxy.b.test']);
  assert.deepEqual(
    config.listeners.map((l) => [l.transport, l.address, l.port, l.path, l.advertisedHost, l.advertisedPort, l.advertisedFrom]),
    [
      ['tls', '0.0.0.0', 5061, undefined, 'proxy.b.test', 5061, 'advertise'],
      ['tcp', '127.0.0.3', 5070, undefined, '127.0.0.3', 5070, 'address'],
      ['udp', '::1', 5060, undefined, '::1', 15060, 'advertise'],
      ['ws', '127.0.0.3', 8080, '/sip', '127.0.0.3', 8080, 'address'],
      ['wss', '::1', 8443, undefined, 'a.test', 8443, 'advertise'],
    ],
  );
  // SNI: b.test's certificate is also the one for the advertised name it covers.
  assert.deepEqual(config.listeners[0]?.certificates?.map((c) => c.domains), [['a.test'], ['b.test', 'proxy.b.test']]);
  assert.equal(config.listeners[1]?.certificates, undefined);
  assert.equal(config.trust.system, false);
  assert.deepEqual(config.trust.ca.map((c) => [c.file, c.certificates.length]), [[path.join(fx.dir, 'ca.pem'), 1]]);
  assert.equal(config.trust.store.certificates.length, 1);
  assert.equal(config.dns.unbound, path.join(fx.dir, 'unbound.conf'));
  assert.equal(config.users.directory.size, 2);
  assert.ok(config.users.directory.has('bob@b.test'));
  assert.ok(config.warnings.some((w) => /bob@B.test has a plain password/.test(w)), config.warnings.join('\n'));
  assert.deepEqual(config.auth.algorithms, ['MD5']);
  assert.deepEqual(config.auth.secret, new Uint8Array(32).fill(1));
  assert.deepEqual(config.location, { kind: 'redis', url: 'redis://:pw@127.0.0.1:6390/3', host: '127.0.0.1', port: 6390, db: 3, tls: false });
  assert.deepEqual(config.log, { level: 'debug', format: 'text' });
  assert.equal(config.outboundSource, 'system');
  assert.equal(config.limits.transport.idleTimeoutMs, 1000);
  assert.equal(config.limits.transport.maxConnections, TRANSPORT_LIMITS.maxConnections);
  assert.equal(config.limits.registrar.maxBindingsPerAor, 2);
  assert.equal(config.timers.t1Ms, 100);
  assert.equal(config.timers.timerBMs, 6400, 'derived from T1');
  assert.equal(config.timers.timerCMs, 200000);
  assert.deepEqual(config.notes, []);
});

test('YAML syntax errors and an unreadable config file are named with their line', async () => {
  await assertOneIssue('domains:\n  a.test: { certificate: a.test.pem\nlisten: []\n', 3, '', /./);
  // Aliases that expand without bound are refused, not expanded.
  const laughs = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
  const { issues } = await issuesOf(laughs);
  assert.match(issues[0]?.message ?? '', /cannot be read as data: Excessive alias count/);
  assert.deepEqual((await issuesOf('')).issues.map((i) => [i.line, i.path, i.message]), [[undefined, 'domains', 'is required'], [undefined, 'listen', 'is required']]);
  const missing = path.join(fx.dir, 'nope.yaml');
  await assert.rejects(loadProxyConfig(missing), (err: ProxyConfigError) => {
    assert.deepEqual(err.issues, [{ file: missing, line: undefined, path: '', message: 'cannot read the config file: no such file or directory (ENOENT)' }]);
    return true;
  });
});

test('a value of the wrong type names its key path, line and what was found', async () => {
  await assertOneIssue(`${MINIMAL.replace(/listen: .*/, 'listen: "tls://127.0.0.2:5061"')}`, 5, 'listen', /must be a list, not the text "tls:\/\/127\.0\.0\.2:5061"/);
  await assertOneIssue(`${MINIMAL}log: { level: loud }\n`, 6, 'log.level', /must be one of fatal, error, warn, info, debug, trace, silent/);
  await assertOneIssue(`${MINIMAL}limits: { transport: { idleTimeoutMs: 1.5 } }\n`, 6, 'limits.transport.idleTimeoutMs', /whole number/);
  await assertOneIssue(`${MINIMAL}auth: { algorithms: [SHA-512] }\n`, 6, 'auth.algorithms[0]', /SHA-256 or MD5/);
  await assertOneIssue(`${MINIMAL}listen2: 1\n`.replace('listen2', 'timers:\n  timerCMs: -1\n#'), 7, 'timers.timerCMs', />= 0/);
  await assertOneIssue('listen: [ "tls://127.0.0.2:5061" ]\n', 1, 'domains', /is required/);
  await assertOneIssue(MINIMAL.replace(/listen: .*/, 'listen:\n  - 5061'), 6, 'listen[0]', /URL string, or a map with url and advertise/);
  await assertOneIssue(MINIMAL.replace(/listen: .*/, 'listen:\n  - { url: "tls://127.0.0.2:5061", advertise: 7 }'), 6, 'listen[0].advertise', /must be text, not the number 7/);
});

test('an unknown key is an error at its own line, with the key meant when one is close', async () => {
  await assertOneIssue(`${MINIMAL}lisen: []\n`, 6, 'lisen', /unknown key 'lisen' \(did you mean 'listen'\?\)/);
  await assertOneIssue(MINIMAL.replace('certificate:', 'certficate:'), 3, 'domains.a.test.certficate', /did you mean 'certificate'/);
  await assertOneIssue(`${MINIMAL}auth:\n  secret_file: x\n`, 7, 'auth.secret_file', /did you mean 'secret-file'/);
  await assertOneIssue(`${MINIMAL}limits: { transport: { idleTimeout: 5 } }\n`, 6, 'limits.transport.idleTimeout', /unknown limit 'idleTimeout' \(did you mean 'idleTimeoutMs'\?\)/);
  await assertOneIssue(`${MINIMAL}frobnicate: 1\n`, 6, 'frobnicate', /unknown key 'frobnicate' \(known: domains, listen, trust/);
  await assertOneIssue(`${MINIMAL}policy:\n  promote_sips: true\n`, 7, 'policy.promote_sips', /unknown policy 'promote_sips' \(did you mean 'promote-sips'\?\)/);
  await assertOneIssue(`${MINIMAL}policy:\n  via-trail: yes please\n`, 7, 'policy.via-trail', /must be true or false, not the text "yes please"/);
  // Several faults at once: every one is named, in line order.
  const { issues } = await issuesOf(`${MINIMAL}lisen: []\nlog: { level: loud }\ntimers: { timerX: 1 }\n`);
  assert.deepEqual(issues.map((i) => [i.line, i.path]), [[6, 'lisen'], [7, 'log.level'], [8, 'timers.timerX']]);
});

test('a certificate whose identities do not cover its domain stops the load (RFC 5922 section 7.1: no CN when a SAN exists)', async () => {
  fx.domain('other.test', {}, 'other');
  await assertOneIssue(MINIMAL.replace('a.test.pem', 'other.pem').replace('a.test.key', 'other.key'), 3, 'domains.a.test.certificate', /does not cover the domain a\.test.*name-mismatch.*other\.test/);
  // CN a.test, but a subjectAltName naming another domain: the CN is not an identity.
  fx.domain('a.test', { cn: 'a.test', san: { dns: ['c.test'] } }, 'cn-only');
  await assertOneIssue(MINIMAL.replace('a.test.pem', 'cn-only.pem').replace('a.test.key', 'cn-only.key'), 3, 'domains.a.test.certificate', /does not cover the domain a\.test/);
  // A URI SAN with a user part is no domain identity; the dNSName is then used and covers it.
  fx.domain('a.test', { san: { uri: ['sip:alice@a.test'], dns: ['a.test'] } }, 'user-uri');
  const config = await load(MINIMAL.replace('a.test.pem', 'user-uri.pem').replace('a.test.key', 'user-uri.key'));
  assert.deepEqual(config.domains[0]?.identities, ['a.test']);
});

test('a chain that does not start with the leaf, an expired certificate, a file that is not a certificate', async () => {
  const leaf = issueCertificate({ cn: 'a.test', issuer: fx.ca, san: { uri: ['sip:a.test'] } });
  fx.write('upside-down.pem', fx.ca.pem + leaf.pem);
  fx.write('upside-down.key', leaf.keyPem);
  await assertOneIssue(MINIMAL.replace('a.test.pem', 'upside-down.pem').replace('a.test.key', 'upside-down.key'), 3, 'domains.a.test.certificate', /starts with a CA certificate \(CN=Proxy Config Test CA\): put the domain's own certificate first/);
  fx.domain('a.test', { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }, 'expired');
  await assertOneIssue(MINIMAL.replace('a.test.pem', 'expired.pem').replace('a.test.key', 'expired.key'), 3, 'domains.a.test.certificate', /expired at/);
  fx.write('garbage.pem', 'hello\n');
  await assertOneIssue(MINIMAL.replace('a.test.pem', 'garbage.pem'), 3, 'domains.a.test.certificate', /neither PEM .* nor DER/);
  await assertOneIssue(MINIMAL.replace('a.test.pem', 'a.test.key'), 3, 'domains.a.test.certificate', /holds a private key, not a certificate/);
});

test('a key that does not belong to the certificate, or is no key, names the key file', async () => {
  await assertOneIssue(MINIMAL.replace('a.test.key', 'b.test.key'), 4, 'domains.a.test.key', /b\.test\.key is not the key of the certificate in .*a\.test\.pem/);
  await assertOneIssue(MINIMAL.replace('a.test.key', 'ca.pem'), 4, 'domains.a.test.key', /holds a certificate, not a private key/);
  fx.write('encrypted.key', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n');
  await assertOneIssue(MINIMAL.replace('a.test.key', 'encrypted.key'), 4, 'domains.a.test.key', /is encrypted/);
  // A key others can read loads, with a warning.
  fx.write('shared.key', fx.domain('a.test', {}, 'shared').leaf.keyPem, 0o644);
  const config = await load(MINIMAL.replace('a.test.pem', 'shared.pem').replace('a.test.key', 'shared.key'));
  assert.ok(config.warnings.some((w) => /:4: domains\.a\.test\.key: .*shared\.key holds a private key and can be read by others .*mode 644/.test(w)), config.warnings.join('\n'));
});

test('an unreadable file names its key and the system reason', async () => {
  await assertOneIssue(MINIMAL.replace('a.test.key', 'missing.key'), 4, 'domains.a.test.key', /cannot read .*missing\.key: no such file or directory \(ENOENT\)/);
  await assertOneIssue(`${MINIMAL}trust:\n  ca: [ ca.pem, nowhere.pem ]\n`, 7, 'trust.ca[1]', /cannot read .*nowhere\.pem: no such file or directory \(ENOENT\)/);
  await assertOneIssue(`${MINIMAL}dns: { unbound: nowhere.conf }\n`, 6, 'dns.unbound', /ENOENT/);
  await assertOneIssue(`${MINIMAL}users: nobody.yaml\n`, 6, 'users', /no such file or directory \(ENOENT\)/);
  await assertOneIssue(`${MINIMAL}auth: { secret-file: nothing }\n`, 6, 'auth.secret-file', /ENOENT/);
  fx.write('short.key', 'abc');
  await assertOneIssue(`${MINIMAL}auth: { secret-file: short.key }\n`, 6, 'auth.secret-file', /holds 3 bytes; the nonce key needs at least 16/);
  fx.write('not-a-ca.pem', 'text\n');
  await assertOneIssue(`${MINIMAL}trust: { ca: [ not-a-ca.pem ] }\n`, 6, 'trust.ca[0]', /neither PEM .* nor DER/);
});

test('a listen URL that is not one names why', async () => {
  const cases: [string, RegExp][] = [
    ['tls://a.test:5061', /not an IP address: a listener binds an address.*advertise/],
    ['sips://127.0.0.2:5061', /unknown transport 'sips'.*tls:\/\//],
    ['tls://::1:5061', /IPv6 address in brackets/],
    ['tls://127.0.0.2:70000', /port must be from 0 to 65535/],
    ['tcp://127.0.0.2:5060/sip', /a tcp listener takes no path/],
    ['ws://127.0.0.2:80/a b', /is not a URL path/],
    ['127.0.0.2:5060', /must be a URL transport:\/\/address:port/],
  ];
  for (const [url, message] of cases) await assertOneIssue(MINIMAL.replace(/listen: .*/, `listen:\n  - "${url}"`), 6, 'listen[0]', message);
  await assertOneIssue(MINIMAL.replace(/listen: .*/, 'listen:\n  - { url: "tls://127.0.0.2", advertise: "a.test:0" }'), 6, 'listen[0].advertise', /advertised port/);
  await assertOneIssue(MINIMAL.replace(/listen: .*/, 'listen: []'), 5, 'listen', /at least one listener/);
});

test('a listener listed twice, or two on one TCP port, is refused; port 0 never clashes', async () => {
  await assertOneIssue(MINIMAL.replace(/listen: .*/, 'listen:\n  - "tls://127.0.0.2:5061"\n  - "tls://127.0.0.2:5061"'), 7, 'listen[1]', /listed twice \(also listen\[0\]\)/);
  await assertOneIssue(MINIMAL.replace(/listen: .*/, 'listen:\n  - "tls://[::1]:5061"\n  - "ws://[0::1]:5061"'), 7, 'listen[1]', /same TCP port as listen\[0\]/);
  const config = await load(MINIMAL.replace(/listen: .*/, 'listen: [ "udp://127.0.0.2:5060", "tcp://127.0.0.2:5060", "tls://127.0.0.2:0", "wss://127.0.0.2:0" ]'));
  assert.equal(config.listeners.length, 4);
});

test('advertised names: required for TLS with several domains, covered by a certificate, never an IP address on TLS', async () => {
  const two = 'domains:\n  a.test: { certificate: a.test.pem, key: a.test.key }\n  b.test: { certificate: b.test.pem, key: b.test.key }\n';
  await assertOneIssue(`${two}listen: [ "tls://127.0.0.2:5061" ]\n`, 4, 'listen[0]', /several domains a tls listener needs advertise/);
  await assertOneIssue(`${two}listen: [ "udp://0.0.0.0:5060" ]\n`, 4, 'listen[0]', /several domains a listener on every address \(0\.0\.0\.0\) needs advertise/);
  await assertOneIssue(`${two}listen:\n  - { url: "tls://127.0.0.2:5061", advertise: c.test }\n`, 5, 'listen[0].advertise', /^tls:\/\/127\.0\.0\.2:5061 \(tls listener\): advertises the host c\.test, which is not covered by any domain's certificate/);
  await assertOneIssue(`${two}listen:\n  - { url: "tls://127.0.0.2:5061", advertise: 127.0.0.2 }\n`, 5, 'listen[0].advertise', /IP address 127\.0\.0\.2, but with policy via-trail on a far proxy checks.*no certificate proves an address/);
  // With via-trail off an address is no longer refused as such, but it still has to be covered.
  await assertOneIssue(`${two}listen:\n  - { url: "wss://127.0.0.2:5061", advertise: 127.0.0.2 }\npolicy: { via-trail: false }\n`, 5, 'listen[0].advertise', /IP address 127\.0\.0\.2, which is not covered by any domain's certificate/);
  // A dNSName beside sip URI identities is no SIP domain identity (RFC 5922 section 7.1): a far
  // proxy's via-trail check would refuse it, so the start is refused.
  fx.domain('d.test', { san: { uri: ['sip:d.test'], dns: ['d.test', 'sip.d.test'] } });
  await assertOneIssue('domains:\n  d.test: { certificate: d.test.pem, key: d.test.key }\nlisten:\n  - { url: "tls://127.0.0.2:5061", advertise: sip.d.test }\n', 4, 'listen[0].advertise', /host sip\.d\.test, which is not covered.*identities: d\.test\)/);
  await assertOneIssue('domains:\n  d.test: { certificate: d.test.pem, key: d.test.key }\nlisten:\n  - { url: "tls://127.0.0.2:5061", advertise: SIP.d.test }\n', 4, 'listen[0].advertise', /host sip\.d\.test/);
  assert.equal((await load(`${two}listen:\n  - { url: "tls://127.0.0.2:5061", advertise: Proxy.B.test }\n`)).listeners[0]?.advertisedHost, 'proxy.b.test');
  await assertOneIssue(`${MINIMAL}`.replace(/listen: .*/, 'listen:\n  - { url: "udp://127.0.0.2", advertise: "bad_name" }'), 6, 'listen[0].advertise', /'bad_name'/);
  const config = await load(`${two}listen: [ "udp://127.0.0.2:5060" ]\n`);
  assert.equal(config.listeners[0]?.advertisedHost, '127.0.0.2');
});

test('several domains: a TLS or WSS advertised name that is not a SIP identity of every domain\'s certificate is a warning naming the domain, the listener and the name', async () => {
  const two = 'domains:\n  a.test: { certificate: a.test.pem, key: a.test.key }\n  b.test: { certificate: b.test.pem, key: b.test.key }\n';
  const file = fx.config(`${two}listen:\n  - { url: "tls://127.0.0.2:5061", advertise: proxy.b.test }\n  - "udp://127.0.0.2:5060"\n`);
  const config = await loadProxyConfig(file);
  const about = (w: string): boolean => /Via and Record-Route/.test(w);
  const [warning, ...more] = config.warnings.filter(about);
  assert.deepEqual(more, [], config.warnings.join('\n'));
  // b.test's certificate names proxy.b.test; a.test's does not, and a.test's requests present it.
  assert.match(warning ?? '', new RegExp(`^${file.replace(/[.]/g, '\\.')}:5: listen\\[0\\]\\.advertise: tls://127\\.0\\.0\\.2:5061 \\(tls listener\\) advertises proxy\\.b\\.test in Via and Record-Route, which is not a SIP identity of the certificate of domain a\\.test \\(RFC 5922 section 7\\.1 identities: a\\.test\\)`));
  assert.match(warning ?? '', /403 via-sent-by-mismatch\. Give a\.test a certificate that also names proxy\.b\.test \(sip:proxy\.b\.test beside sip:a\.test\), or a hosting certificate/);

  // A WSS listener is checked too; the UDP one is not (no certificate on that hop).
  const wss = await load(`${two}listen:\n  - { url: "wss://127.0.0.2:8443", advertise: a.test }\n  - { url: "tcp://127.0.0.2:5060", advertise: proxy.b.test }\n`);
  assert.deepEqual(wss.warnings.filter(about).map((w) => /domain (\S+) /.exec(w)?.[1]), ['b.test'], wss.warnings.join('\n'));
  assert.match(wss.warnings.find(about) ?? '', /wss:\/\/127\.0\.0\.2:8443 \(wss listener\) advertises a\.test/);

  // A certificate that names the advertised name as a sip URI too (a hosting proxy's) gets no warning;
  // a dNSName beside sip URIs is no SIP identity (RFC 5922 section 7.1), so it still does.
  fx.domain('hosted.test', { san: { uri: ['sip:hosted.test', 'sip:proxy.b.test'], dns: ['hosted.test'] } });
  fx.domain('dns-only.test', { san: { uri: ['sip:dns-only.test'], dns: ['dns-only.test', 'proxy.b.test'] } });
  const three = `domains:\n  b.test: { certificate: b.test.pem, key: b.test.key }\n  hosted.test: { certificate: hosted.test.pem, key: hosted.test.key }\n  dns-only.test: { certificate: dns-only.test.pem, key: dns-only.test.key }\n`;
  const hosted = await load(`${three}listen:\n  - { url: "tls://127.0.0.2:5061", advertise: proxy.b.test }\n`);
  assert.deepEqual(hosted.warnings.filter(about).map((w) => /domain (\S+) /.exec(w)?.[1]), ['dns-only.test'], hosted.warnings.join('\n'));

  // Every domain's certificate names it: no warning. One domain: the start-up check already requires it.
  const covered = await load(`domains:\n  b.test: { certificate: b.test.pem, key: b.test.key }\n  hosted.test: { certificate: hosted.test.pem, key: hosted.test.key }\nlisten:\n  - { url: "tls://127.0.0.2:5061", advertise: proxy.b.test }\n`);
  assert.deepEqual(covered.warnings, []);
  assert.deepEqual((await load(MINIMAL)).warnings, []);
});

test('a domain that is no DNS name, or is listed twice in other case, is refused', async () => {
  await assertOneIssue('domains:\n  127.0.0.1: { certificate: a.test.pem, key: a.test.key }\nlisten: [ "udp://127.0.0.2" ]\n', 2, 'domains.127.0.0.1', /must be a DNS name.*IP address/);
  await assertOneIssue('domains:\n  a.test: { certificate: a.test.pem, key: a.test.key }\n  A.TEST: { certificate: a.test.pem, key: a.test.key }\nlisten: [ "udp://127.0.0.2" ]\n', 3, 'domains.A.TEST', /is the domain a\.test again/);
  await assertOneIssue('domains: {}\nlisten: [ "udp://127.0.0.2" ]\n', 1, 'domains', /at least one domain/);
});

test('the users file: its own faults with its line, and a user of a domain the proxy does not serve', async () => {
  const users = fx.write('users-c.yaml', 'alice@a.test: { password: x }\n\ncarol@c.test: { password: y }\n');
  await assertOneIssue(`${MINIMAL}users: users-c.yaml\n`, 3, 'carol@c.test', /the domain c\.test is not one of the proxy's domains \(a\.test/, users);
  const bad = fx.write('users-bad.yaml', 'alice@a.test:\n  ha1-md5: "zz"\n');
  await assertOneIssue(`${MINIMAL}users: users-bad.yaml\n`, 2, 'alice@a.test.ha1-md5', /32 hex digits/, bad);
});

test('the location: sqlite beside the config, :memory: with a warning, redis URLs, and what is neither', async () => {
  assert.deepEqual((await load(`${MINIMAL}location: "sqlite:data/loc.db"\n`.replace('data/', ''))).location, { kind: 'sqlite', path: path.join(fx.dir, 'loc.db') });
  const memory = await load(`${MINIMAL}location: "sqlite::memory:"\n`);
  assert.deepEqual(memory.location, { kind: 'sqlite', path: ':memory:' });
  assert.ok(memory.warnings.some((w) => /restart loses every registration/.test(w)));
  assert.deepEqual((await load(`${MINIMAL}location: "rediss://[::1]"\n`)).location, { kind: 'redis', url: 'rediss://[::1]', host: '::1', port: 6379, db: 0, tls: true });
  await assertOneIssue(`${MINIMAL}location: "mysql://db/x"\n`, 6, 'location', /must be "sqlite:FILE" or "redis:\/\/HOST:PORT\/DB"/);
  await assertOneIssue(`${MINIMAL}location: "redis://:secret@127.0.0.1:6379/zero"\n`, 6, 'location', /database must be a number/);
  const { issues } = await issuesOf(`${MINIMAL}location: "redis://:secret@127.0.0.1:6379/zero"\n`);
  assert.ok(!issues[0]?.message.includes('secret'), 'the password is not printed');
  await assertOneIssue(`${MINIMAL}location: "sqlite:no-such-dir/loc.db"\n`, 6, 'location', /cannot be written: no such file or directory \(ENOENT\)/);
  await assertOneIssue(`${MINIMAL}location: "sqlite:"\n`, 6, 'location', /needs a file name/);
});

test('limits and timers: overrides merged over src/limits.ts, inconsistent ones refused, a short Timer C warned about', async () => {
  await assertOneIssue(`${MINIMAL}limits:\n  registrar: { minExpiresSeconds: 90000 }\n`, 7, 'limits.registrar.minExpiresSeconds', /above maxExpiresSeconds \(86400\)/);
  await assertOneIssue(`${MINIMAL}timers:\n  t1Ms: 0\n`, 7, 'timers.t1Ms', /must be > 0/);
  await assertOneIssue(`${MINIMAL}timers:\n  t2Ms: 100\n`, 7, 'timers.t2Ms', /must not be below t1Ms/);
  await assertOneIssue(`${MINIMAL}limits: { nope: {} }\n`, 6, 'limits.nope', /unknown limit family 'nope'/);
  const config = await load(`${MINIMAL}timers:\n  timerCMs: 2000\nlimits: { registrar: { maxExpiresSeconds: 600 } }\n`);
  assert.equal(config.timers.timerCMs, 2000);
  assert.equal(config.limits.registrar.maxExpiresSeconds, 600);
  assert.equal(config.limits.registrar.minExpiresSeconds, REGISTRAR_LIMITS.minExpiresSeconds);
  assert.ok(config.warnings.some((w) => /:7: timers\.timerCMs: 2000 ms: RFC 3261 section 16\.6 step 11/.test(w)), config.warnings.join('\n'));
});

test('empty sections read as absent', async () => {
  const config = await load(`${MINIMAL}trust:\ndns:\nauth:\nlog:\nlimits:\ntimers:\npolicy:\n`);
  assert.equal(config.trust.system, true);
  assert.deepEqual(config.policy, DEFAULT_HOP_POLICIES);
});

test('policy: each key over its default; peer identities and domains in lower case', async () => {
  const config = await load(`${MINIMAL}policy:\n  mutual-tls: false\n  via-trail: false\n  promote-sips: true\n  require-dnssec: true\n  require-dane: true\n  reverse-dns: true\n  connection-reuse: false\n  peers:\n    Hosting.Example.: [Customer1.Example, customer2.example]\n`);
  assert.deepEqual({ ...config.policy, peers: [...config.policy.peers] }, {
    mutualTls: false, viaTrail: false, promoteSips: true, requireDnssec: true, requireDane: true, reverseDns: true, connectionReuse: false,
    peers: [['hosting.example', ['customer1.example', 'customer2.example']]],
  });
});

/** The first yaml block after a heading of docs/PROXY.md. */
function docExample(heading: string): string {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'PROXY.md'), 'utf8');
  const at = text.indexOf(`### ${heading}\n`);
  assert.ok(at >= 0, heading);
  const m = /```yaml\n([^]*?)```/.exec(text.slice(at));
  assert.ok(m !== null, heading);
  return m[1] as string;
}

test('the minimal and the full file of docs/PROXY.md load as the page says', async () => {
  const minimal = await load(docExample('A minimal file'));
  assert.equal(minimal.listeners[0]?.advertisedHost, 'a.test');
  assert.equal(minimal.users.file, undefined);
  const docs = new ConfigFixture();
  try {
    docs.domain('a.test', { san: { uri: ['sip:a.test', 'sip:proxy.b.test'], dns: ['a.test'] } }, 'certs/a.test');
    docs.domain('b.test', { san: { uri: ['sip:b.test', 'sip:proxy.b.test'], dns: ['b.test', 'proxy.b.test'] } }, 'certs/b.test');
    docs.write('ca/partners.pem', docs.ca.pem);
    docs.write('unbound.conf', 'server:\n');
    docs.write('users.yaml', 'alice@a.test: { password: x }\nbob@b.test: { password: y }\n');
    docs.write('nonce.key', Buffer.alloc(32, 9));
    const full = await loadProxyConfig(docs.config(docExample('A full file')));
    assert.deepEqual(full.domains.map((d) => d.name), ['a.test', 'b.test']);
    assert.deepEqual(full.listeners.map((l) => `${l.advertisedHost}:${l.advertisedPort}`), ['proxy.b.test:5061', 'proxy.b.test:443', '192.0.2.10:5060', 'sip.a.test:5060']);
    // As its comment says: plain passwords are the only warnings, none about the advertised names.
    assert.deepEqual(full.warnings.filter((w) => !/plain password/.test(w)), []);
    assert.equal(full.location.kind, 'redis');
    assert.equal(full.timers.timerCMs, 200000);
  } finally {
    docs.remove();
  }
});

test('outbound-source: the listener\'s address by default, the system\'s routes when asked; anything else names the key', async () => {
  assert.equal((await load(`${MINIMAL}outbound-source: system\n`)).outboundSource, 'system');
  assert.equal((await load(`${MINIMAL}outbound-source: listener\n`)).outboundSource, 'listener');
  await assertOneIssue(`${MINIMAL}outbound-source: public\n`, 6, 'outbound-source', /must be listener or system/);
});
