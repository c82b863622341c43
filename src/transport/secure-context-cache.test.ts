import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecureContextCache } from './secure-context-cache.js';
import { issueCertificate } from '../lab/certificates.js';

test('the same options give the same context, built once', () => {
  const cache = new SecureContextCache();
  const a = cache.get();
  assert.equal(cache.get({}), a);
  assert.equal(cache.get({ ca: 'none' }), a);
  assert.equal(cache.builds, 1);
});

test('different options give different contexts (client certificate, trust store)', () => {
  const cache = new SecureContextCache();
  const c = issueCertificate({ cn: 'client' });
  const plain = cache.get();
  const withCert = cache.get({ cert: c.pem, key: c.keyPem });
  const withCa = cache.get({ ca: [c.pem] });
  assert.notEqual(plain, withCert);
  assert.notEqual(withCert, withCa);
  assert.equal(cache.get({ cert: c.pem, key: c.keyPem }), withCert);
  assert.equal(cache.builds, 3);
});

test('least recently used contexts are dropped beyond maxEntries', () => {
  const cache = new SecureContextCache(2);
  const first = cache.get({ minVersion: 'TLSv1.2' });
  cache.get({ minVersion: 'TLSv1.3' });
  cache.get({ minVersion: 'TLSv1.2' }); // touch: now the most recent
  cache.get({ ca: [] });
  assert.equal(cache.size, 2);
  assert.equal(cache.get({ minVersion: 'TLSv1.2' }), first);
  assert.equal(cache.builds, 3);
  cache.clear();
  assert.equal(cache.size, 0);
});

test('maxEntries must be a positive integer', () => {
  assert.throws(() => new SecureContextCache(0), RangeError);
});
