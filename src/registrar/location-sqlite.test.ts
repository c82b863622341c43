import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocationUnavailableError } from './errors.js';
import { SqliteLocationStore } from './location-sqlite.js';
import { binding, locationStoreSuite } from './location-store.suite.test.support.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-location-'));
const file = path.join(dir, 'location.db');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

locationStoreSuite({ name: 'sqlite', open: (now) => Promise.resolve(new SqliteLocationStore({ path: file, now, sweepIntervalMs: 0 })) }, 'sq');

test('sqlite: the file is in WAL mode, and the sweep counts and deletes expired bindings', async () => {
  let nowMs = 1_000_000;
  const store = new SqliteLocationStore({ path: path.join(dir, 'sweep.db'), now: () => nowMs, sweepIntervalMs: 0 });
  try {
    await store.update('a@b.test', () => ({ next: [binding('a@b.test', 'sip:a@1.2.3.4', nowMs + 1_000), binding('a@b.test', 'sip:a@1.2.3.5', nowMs + 5_000)], result: undefined }));
    await store.update('c@b.test', () => ({ next: [binding('c@b.test', 'sip:c@1.2.3.4', nowMs + 1_000)], result: undefined }));
    nowMs += 1_000;
    assert.equal(await store.expire(), 2);
    assert.equal(await store.expire(), 0);
    assert.equal((await store.get('a@b.test')).length, 1);
  } finally {
    await store.close();
  }
  assert.ok(fs.existsSync(path.join(dir, 'sweep.db-wal')) || fs.readFileSync(path.join(dir, 'sweep.db')).subarray(18, 20).equals(Buffer.from([2, 2])), 'WAL mode');
});

test('sqlite: a backend failure (the write lock held by another process) is LocationUnavailableError, and the store recovers', async () => {
  const lockFile = path.join(dir, 'locked.db');
  const store = new SqliteLocationStore({ path: lockFile, sweepIntervalMs: 0, busyTimeoutMs: 0 });
  const other = new Database(lockFile);
  try {
    other.exec('BEGIN IMMEDIATE');
    const write = () => store.update('a@b.test', () => ({ next: [binding('a@b.test', 'sip:a@1.2.3.4', Date.now() + 60_000)], result: 'written' }));
    await assert.rejects(write(), (err: unknown) => err instanceof LocationUnavailableError && err.code === 'LOCATION_ERR_UNAVAILABLE' && err.backend === 'sqlite');
    other.exec('COMMIT');
    assert.equal(await write(), 'written');
    assert.equal((await store.get('a@b.test')).length, 1);
  } finally {
    other.close();
    await store.close();
  }
});

test('sqlite: an unopenable path is a configuration error naming it', () => {
  assert.throws(() => new SqliteLocationStore({ path: path.join(dir, 'missing-dir', 'x.db') }), (err: Error & { code?: string }) => err.code === 'LOCATION_ERR_CONFIG' && err.message.includes('missing-dir'));
});
