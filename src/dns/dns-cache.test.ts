import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsCache } from './dns-cache.js';
import type { DnsAnswer } from './records.js';

const answer = (name: string): DnsAnswer =>
  ({ kind: 'records', name, type: 'A', cnames: [], state: 'secure', records: [{ address: '192.0.2.1' }], ttlSeconds: 300 });

test('entries live for their TTL', () => {
  let now = 0;
  const cache = new DnsCache(10, () => now);
  cache.set('A a', answer('a'), 30);
  now = 10_500;
  assert.equal(cache.get('A a')?.remainingSeconds, 20);
  now = 29_999;
  assert.equal(cache.get('A a')?.remainingSeconds, 1);
  now = 30_000;
  assert.equal(cache.get('A a'), undefined);
  assert.equal(cache.size, 0);
});

test('a TTL of zero is not stored', () => {
  const cache = new DnsCache(10, () => 0);
  cache.set('A a', answer('a'), 0);
  assert.equal(cache.get('A a'), undefined);
});

test('the size is bounded; the least recently used entry goes first', () => {
  const cache = new DnsCache(2, () => 0);
  cache.set('A a', answer('a'), 60);
  cache.set('A b', answer('b'), 60);
  assert.notEqual(cache.get('A a'), undefined); // a is now more recent than b
  cache.set('A c', answer('c'), 60);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('A b'), undefined);
  assert.notEqual(cache.get('A a'), undefined);
  assert.notEqual(cache.get('A c'), undefined);
});

test('a cache of size 0 stores nothing', () => {
  const cache = new DnsCache(0, () => 0);
  cache.set('A a', answer('a'), 60);
  assert.equal(cache.size, 0);
});
