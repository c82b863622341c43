/**
 * The Redis location backend against a real redis-server (Debian's) that this test starts on its
 * own loopback address, in a temporary folder: the shared location store suite, TTLs, and the
 * server stopped and started again on the same port mid-test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { LocationUnavailableError } from '../../src/registrar/errors.js';
import { RedisLocationStore } from '../../src/registrar/location-redis.js';
import { binding, locationStoreSuite } from '../../src/registrar/location-store.suite.test.support.js';
import { redisServer } from '../support/redis-server.js';

// An address no other test binds, so the fixed port (needed to restart on it) is ours.
const HOST = '127.0.0.79';
const PORT = 6379;
const URL = `redis://${HOST}:${PORT}/0`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-redis-'));
const redis = redisServer(HOST, PORT, dir);

before(() => redis.start());
after(async () => {
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

locationStoreSuite({ name: 'redis', open: (now) => RedisLocationStore.open({ url: URL, now, keyPrefix: 'suite:' }) }, 'rd');

test('redis: one key per AOR whose TTL ends at the latest binding expiry', async () => {
  const store = await RedisLocationStore.open({ url: URL, keyPrefix: 'ttl:' });
  const raw = createClient({ url: URL });
  raw.on('error', () => undefined);
  await raw.connect();
  try {
    const now = Date.now();
    await store.update('dan@b.test', () => ({ next: [binding('dan@b.test', 'sip:a@192.0.2.1', now + 30_000), binding('dan@b.test', 'sip:b@192.0.2.1', now + 90_000)], result: undefined }));
    const ttl = await raw.pTTL('ttl:dan@b.test');
    assert.ok(ttl > 30_000 && ttl <= 90_000, `TTL ${ttl} ms`);
    await store.update('dan@b.test', () => ({ next: [], result: undefined }));
    assert.equal(await raw.exists('ttl:dan@b.test'), 0);
  } finally {
    raw.destroy();
    await store.close();
  }
});

test('redis: opening against nothing listening is LocationUnavailableError', async () => {
  await assert.rejects(RedisLocationStore.open({ url: `redis://${HOST}:1/0`, limits: { redisCommandTimeoutMs: 500 } }), LocationUnavailableError);
  await assert.rejects(RedisLocationStore.open({ url: 'http://x' }), { code: 'LOCATION_ERR_CONFIG' });
});

test('redis: stopped mid-run, the store answers LocationUnavailableError; started again on the same port, it recovers with every binding', async () => {
  const store = await RedisLocationStore.open({ url: URL, keyPrefix: 'restart:', limits: { redisCommandTimeoutMs: 500, redisMaxReconnectDelayMs: 200 } });
  try {
    const kept = binding('eve@b.test', 'sip:eve@192.0.2.1', Date.now() + 3_600_000);
    await store.update('eve@b.test', () => ({ next: [kept], result: undefined }));
    await redis.stop();
    await assert.rejects(store.get('eve@b.test'), (err: unknown) => err instanceof LocationUnavailableError && err.backend === 'redis');
    await assert.rejects(store.update('eve@b.test', () => ({ next: [], result: undefined })), LocationUnavailableError);
    await redis.start();
    // The client reconnects by itself; poll until it has (the test's own timeout bounds this).
    let bindings: unknown;
    for (;;) {
      try {
        bindings = await store.get('eve@b.test');
        break;
      } catch (err) {
        if (!(err instanceof LocationUnavailableError)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    assert.deepEqual(bindings, [kept]);
    const more = binding('eve@b.test', 'sip:eve@192.0.2.2', Date.now() + 600_000);
    await store.update('eve@b.test', (current) => ({ next: [...current, more], result: undefined }));
    assert.equal((await store.get('eve@b.test')).length, 2);
  } finally {
    await store.close();
  }
});
