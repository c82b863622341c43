import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteLocationStore } from '../registrar/location-sqlite.js';
import { binding } from '../registrar/location-store.suite.test.support.js';
import { startExpirySweeper } from './expiry-sweeper.js';
import type { RegistrationLogger } from './registration-log.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-sweeper-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function until(condition: () => boolean): Promise<void> {
  // The test's own timeout bounds this wait.
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('the sweeper removes expired bindings from the backend at its interval, and stops', async () => {
  const file = path.join(dir, 'sweep.db');
  let nowMs = 1_000_000;
  const store = new SqliteLocationStore({ path: file, now: () => nowMs, sweepIntervalMs: 0 });
  const raw = new Database(file, { readonly: true });
  const rows = (): number => (raw.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n;
  const events: string[] = [];
  const log: RegistrationLogger = (_level, event, fields) => events.push(`${event} ${String(fields['removed'])}`);
  try {
    await store.update('a@b.test', () => ({ next: [binding('a@b.test', 'sip:a@192.0.2.1', nowMs + 1_000)], result: undefined }));
    const sweeper = startExpirySweeper({ store, intervalMs: 5, log });
    assert.equal(rows(), 1);
    nowMs += 1_000;
    await until(() => rows() === 0);
    await sweeper.stop();
    assert.deepEqual(events, ['bindings-expired 1']);
  } finally {
    raw.close();
    await store.close();
  }
});

test('a failing sweep is logged, not thrown, and the next one runs; stop() ends it', async () => {
  const store = new SqliteLocationStore({ path: path.join(dir, 'closed.db'), sweepIntervalMs: 0 });
  await store.close();
  const failures: unknown[] = [];
  const sweeper = startExpirySweeper({ store, intervalMs: 5, log: (level, event, fields) => event === 'location-sweep-failed' && failures.push([level, fields['code']]) });
  await until(() => failures.length >= 2);
  await sweeper.stop();
  assert.deepEqual(failures[0], ['warn', 'LOCATION_ERR_CLOSED']);
  assert.throws(() => startExpirySweeper({ store, intervalMs: 0 }), RangeError);
});
