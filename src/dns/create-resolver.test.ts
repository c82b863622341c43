import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createResolver, type DnsConfig } from './create-resolver.js';
import { DnsError } from './errors.js';
import { locate } from './locator.js';
import type { DnsResolver } from './resolver.js';

test('libunbound without the native module: a clear error that says how to install it', async () => {
  const missing = (): Promise<never> => Promise.reject(Object.assign(new Error("Cannot find package 'unbound'"), { code: 'ERR_MODULE_NOT_FOUND' }));
  await assert.rejects(createResolver({}, { loadUnbound: missing }), (err: unknown) => {
    assert.ok(err instanceof DnsError);
    assert.equal(err.code, 'DNS_ERR_BACKEND_UNAVAILABLE');
    assert.match(err.message, /npm install unbound/);
    assert.match(err.message, /libunbound-dev/);
    return true;
  });
});

test('config errors name the field', async () => {
  await assert.rejects(createResolver({ backend: 'nope' } as unknown as DnsConfig), { code: 'DNS_ERR_CONFIG', field: 'backend' });
  await assert.rejects(createResolver({ backend: 'system', queryTimeoutMs: 0 }), { code: 'DNS_ERR_CONFIG', field: 'queryTimeoutMs' });
  await assert.rejects(createResolver({ backend: 'system', cacheMaxEntries: -1 }), { code: 'DNS_ERR_CONFIG', field: 'cacheMaxEntries' });
  await assert.rejects(createResolver({ configFile: '/nonexistent/sipsec.conf' }), { code: 'DNS_ERR_CONFIG', field: 'configFile' });
});

test('a closed resolver refuses questions', async () => {
  const resolver = await createResolver({ backend: 'system' });
  await resolver.close();
  await assert.rejects(resolver.query('example.com', 'A'), { code: 'DNS_ERR_CLOSED' });
});

// A numeric target needs no DNS: a resolver that fails any question shows none is asked.
const noDns: DnsResolver = {
  backend: 'system',
  query: () => Promise.reject(new Error('no DNS question expected')),
  close: () => Promise.resolve(),
};

test('numeric targets: UDP for sip, TLS for sips, the URI port or the default', async () => {
  const sip = await locate(noDns, { scheme: 'sip', host: '192.0.2.1', hostKind: 'ipv4' });
  assert.deepEqual(sip.targets.map((t) => [t.transport, t.address, t.port, t.dnssec]), [['udp', '192.0.2.1', 5060, 'insecure']]);
  const sips = await locate(noDns, { scheme: 'sips', host: '2001:DB8::1', hostKind: 'ipv6' });
  assert.deepEqual(sips.targets.map((t) => [t.transport, t.family, t.port, t.identities]), [['tls', 6, 5061, ['2001:db8::1']]]);
  const maddr = await locate(noDns, { scheme: 'sip', host: 'example.com', hostKind: 'domain', maddr: '[2001:db8::2]', port: 5070 });
  assert.deepEqual(maddr.targets.map((t) => [t.address, t.port, t.identities]), [['2001:db8::2', 5070, ['example.com']]]);
});

test('a transport the client does not support cannot be located', async () => {
  await assert.rejects(
    locate(noDns, { scheme: 'sip', host: '192.0.2.1', hostKind: 'ipv4', transport: 'sctp' }, { transports: ['udp', 'tcp'] }),
    { code: 'DNS_ERR_BAD_TARGET' },
  );
});
