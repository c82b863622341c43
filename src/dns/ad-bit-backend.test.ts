import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback, parseServer } from './ad-bit-backend.js';

test('server addresses: IPv4, IPv6, with and without port', () => {
  assert.deepEqual(parseServer('127.0.0.1'), { address: '127.0.0.1', port: 53 });
  assert.deepEqual(parseServer('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServer('::1'), { address: '::1', port: 53 });
  assert.deepEqual(parseServer('[::1]:5353'), { address: '::1', port: 5353 });
  assert.deepEqual(parseServer('[2001:db8::53]'), { address: '2001:db8::53', port: 53 });
  for (const bad of ['resolver.example', '127.0.0.1:0', '127.0.0.1:65536', '[::1]:x', '']) {
    assert.throws(() => parseServer(bad), { code: 'DNS_ERR_CONFIG', field: 'server' }, bad);
  }
});

test('only loopback addresses are trusted by default', () => {
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('127.53.0.1'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('::ffff:127.0.0.1'), true);
  assert.equal(isLoopback('192.0.2.53'), false);
  assert.equal(isLoopback('2001:db8::1'), false);
  assert.equal(isLoopback('::'), false);
});
