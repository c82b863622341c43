import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAdvertise, parseListenUrl, socketKey } from './config-listen.js';
import { closestKey, keyPathText, unknownKeyMessage } from './config-issues.js';

test('listen URLs: every transport, default ports, IPv6 in brackets in its shortest form, WS paths', () => {
  const read = (url: string): unknown => {
    const r = parseListenUrl(url);
    return r.ok ? r.value : r.why;
  };
  assert.deepEqual(read('udp://127.0.0.2'), { transport: 'udp', address: '127.0.0.2', port: 5060 });
  assert.deepEqual(read('TCP://127.0.0.2'), { transport: 'tcp', address: '127.0.0.2', port: 5060 });
  assert.deepEqual(read('tls://0.0.0.0'), { transport: 'tls', address: '0.0.0.0', port: 5061 });
  assert.deepEqual(read('ws://127.0.0.2'), { transport: 'ws', address: '127.0.0.2', port: 80 });
  assert.deepEqual(read('wss://[2001:DB8:0::1]:8443/sip/ws'), { transport: 'wss', address: '2001:db8::1', port: 8443, path: '/sip/ws' });
  assert.deepEqual(read('tls://[::]:0'), { transport: 'tls', address: '::', port: 0 });
  assert.match(read('tls://[::1') as string, /must be a URL/);
  assert.match(read('tls://[a.test]:5061') as string, /'\[a\.test\]' is not an IP address/);
  assert.match(read('tls://127.0.0.2:') as string, /port must be from 0 to 65535, not ''/);
  assert.match(read('ws://127.0.0.2/sip?x=1') as string, /not a URL path/);
  assert.match(read('udp://1.2.3') as string, /not an IP address/);
});

test('advertised hosts: names as A-labels, addresses, ports', () => {
  assert.deepEqual(parseAdvertise('Proxy.A.Test'), { ok: true, value: { host: 'proxy.a.test', port: undefined } });
  assert.deepEqual(parseAdvertise('bücher.test:5061'), { ok: true, value: { host: 'xn--bcher-kva.test', port: 5061 } });
  assert.deepEqual(parseAdvertise('[2001:db8:0::1]:5061'), { ok: true, value: { host: '2001:db8::1', port: 5061 } });
  assert.deepEqual(parseAdvertise('192.0.2.1'), { ok: true, value: { host: '192.0.2.1', port: undefined } });
  assert.equal(parseAdvertise('2001:db8::1').ok, false);
  assert.equal(parseAdvertise('a.test:0').ok, false);
});

test('UDP and TCP ports are separate sockets; TCP, TLS, WS and WSS share one; port 0 is never shared', () => {
  const key = (url: string): string | undefined => {
    const r = parseListenUrl(url);
    assert.ok(r.ok);
    return socketKey(r.value);
  };
  assert.notEqual(key('udp://127.0.0.1:5060'), key('tcp://127.0.0.1:5060'));
  assert.equal(key('tls://127.0.0.1:5060'), key('tcp://127.0.0.1:5060'));
  assert.equal(key('wss://[::1]:443/a'), key('ws://[0::1]:443/b'));
  assert.equal(key('tls://127.0.0.1:0'), undefined);
});

test('did you mean: typos, transpositions, snake_case and camelCase of kebab-case keys; nothing for a far word', () => {
  const keys = ['domains', 'listen', 'trust', 'secret-file', 'certificate'];
  assert.equal(closestKey('lisen', keys), 'listen');
  assert.equal(closestKey('lsiten', keys), 'listen');
  assert.equal(closestKey('Domains', keys), 'domains');
  assert.equal(closestKey('secret_file', keys), 'secret-file');
  assert.equal(closestKey('secretFile', keys), 'secret-file');
  assert.equal(closestKey('certifcate', keys), 'certificate');
  assert.equal(closestKey('frobnicate', keys), undefined);
  assert.equal(closestKey('x', keys), undefined);
  assert.equal(unknownKeyMessage('x', ['a', 'b']), "unknown key 'x' (known: a, b)");
  assert.equal(keyPathText(['listen', 2, 'url']), 'listen[2].url');
  assert.equal(keyPathText([]), '');
});
