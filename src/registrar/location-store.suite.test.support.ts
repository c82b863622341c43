import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Binding } from './binding.js';
import { registerRequest } from './fixtures.test.support.js';
import type { LocationStore } from './location-store.js';
import { applyRegister, prepareRegister, type RegisterSource } from './registrar.js';

/** A backend under test: `open` gives a new store instance on the same data (a new process, as far as the store can tell). */
export interface StoreBackend {
  readonly name: string;
  open(now: () => number): Promise<LocationStore>;
}

const T0 = 1_700_000_000_000;

export function binding(aor: string, contact: string, expiresAtMs: number, extra: Partial<Binding> = {}): Binding {
  return {
    aor,
    contact,
    params: [],
    q: undefined,
    expiresAtMs,
    callId: 'call-1',
    cseq: 1,
    receivedFrom: { transport: 'tcp', address: '192.0.2.4', port: 40_000, localAddress: '127.0.0.2', localPort: 5060 },
    connectionId: 'conn-1',
    instanceId: undefined,
    regId: undefined,
    path: [],
    userAgent: 'ua/1',
    updatedAtMs: T0,
    ...extra,
  };
}

const SOURCE: RegisterSource = { transport: 'udp', local: { address: '127.0.0.2', port: 5060 }, remote: { address: '192.0.2.4', port: 5060 }, connectionId: undefined };

/** One REGISTER through the registrar and the store, as the proxy will run it; returns the status. */
async function registerThrough(store: LocationStore, nowMs: number, headers: string[], callId: string, cseq: number, aorUser: string): Promise<number> {
  const request = registerRequest({ to: `<sip:${aorUser}@b.test>`, callId, cseq, headers });
  const prepared = prepareRegister(request, `${aorUser}@b.test`, SOURCE, { isLocalDomain: (d) => d === 'b.test' });
  if (prepared.kind !== 'proceed') throw new Error(`unexpected ${prepared.kind}`);
  return store.update(prepared.plan.aor, (current) => {
    const decision = applyRegister(prepared.plan, current, nowMs);
    return { next: decision.next, result: decision.response.status };
  });
}

/**
 * The behaviour every location backend must show. `unique` makes AOR names that no other run of
 * the suite on the same backend uses.
 */
export function locationStoreSuite(backend: StoreBackend, unique: string): void {
  const aor = (name: string): string => `${name}-${unique}@b.test`;
  let nowMs = T0;
  const clock = (): number => nowMs;
  const open = (): Promise<LocationStore> => backend.open(clock);

  test(`${backend.name}: an unknown AOR has no bindings; update stores, get returns them`, async () => {
    const store = await open();
    try {
      assert.deepEqual(await store.get(aor('nobody')), []);
      const b1 = binding(aor('bob'), 'sip:bob@192.0.2.4', nowMs + 60_000, { q: 0.5, instanceId: '<urn:uuid:1>', regId: 1, path: ['<sip:edge;lr;ob>'] });
      const b2 = binding(aor('bob'), 'sip:bob@192.0.2.5', nowMs + 120_000, { connectionId: undefined });
      const result = await store.update(aor('bob'), (current) => ({ next: [...current, b1, b2], result: current.length }));
      assert.equal(result, 0);
      assert.deepEqual(await store.get(aor('bob')), [b1, b2]);
      // A decision without `next` writes nothing.
      assert.equal(await store.update(aor('bob'), (current) => ({ next: undefined, result: current.length })), 2);
      assert.deepEqual(await store.get(aor('bob')), [b1, b2]);
      // An empty set removes the AOR.
      await store.update(aor('bob'), () => ({ next: [], result: undefined }));
      assert.deepEqual(await store.get(aor('bob')), []);
    } finally {
      await store.close();
    }
  });

  test(`${backend.name}: expired bindings are never returned, and the sweep removes them`, async () => {
    const store = await open();
    try {
      const short = binding(aor('exp'), 'sip:short@192.0.2.4', nowMs + 10_000);
      const long = binding(aor('exp'), 'sip:long@192.0.2.4', nowMs + 100_000);
      await store.update(aor('exp'), () => ({ next: [short, long], result: undefined }));
      nowMs += 10_000;
      assert.deepEqual(await store.get(aor('exp')), [long]);
      // The update's `current` hides them too.
      assert.equal(await store.update(aor('exp'), (current) => ({ next: undefined, result: current.length })), 1);
      await store.expire();
      assert.deepEqual(await store.get(aor('exp')), [long]);
      nowMs += 90_000;
      await store.expire();
      assert.deepEqual(await store.get(aor('exp')), []);
    } finally {
      await store.close();
    }
  });

  test(`${backend.name}: remove drops every binding of an AOR, and only those`, async () => {
    const store = await open();
    try {
      await store.update(aor('r1'), () => ({ next: [binding(aor('r1'), 'sip:a@192.0.2.1', nowMs + 60_000)], result: undefined }));
      await store.update(aor('r2'), () => ({ next: [binding(aor('r2'), 'sip:b@192.0.2.1', nowMs + 60_000)], result: undefined }));
      await store.remove(aor('r1'));
      assert.deepEqual(await store.get(aor('r1')), []);
      assert.equal((await store.get(aor('r2'))).length, 1);
    } finally {
      await store.close();
    }
  });

  test(`${backend.name}: a restart loses no binding (close, then a new instance on the same data)`, async () => {
    const first = await open();
    const kept = binding(aor('restart'), 'sip:kept@192.0.2.4', nowMs + 3_600_000, { instanceId: '<urn:uuid:2>', regId: 3 });
    await first.update(aor('restart'), () => ({ next: [kept], result: undefined }));
    await first.close();
    const second = await open();
    try {
      assert.deepEqual(await second.get(aor('restart')), [kept]);
    } finally {
      await second.close();
    }
  });

  test(`${backend.name}: two instances see each other's registrations, and concurrent updates lose none`, async () => {
    const [a, b] = [await open(), await open()];
    try {
      const reg = async (store: LocationStore, i: number): Promise<void> => {
        const mine = binding(aor('shared'), `sip:ua${i}@192.0.2.${i}`, nowMs + 60_000);
        await store.update(aor('shared'), (current) => ({ next: [...current, mine], result: undefined }));
      };
      await Promise.all(Array.from({ length: 12 }, (_, i) => reg(i % 2 === 0 ? a : b, i + 1)));
      const fromA = (await a.get(aor('shared'))).map((x) => x.contact).sort();
      const fromB = (await b.get(aor('shared'))).map((x) => x.contact).sort();
      assert.equal(fromA.length, 12);
      assert.deepEqual(fromA, fromB);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test(`${backend.name}: the registrar through the store: the Call-ID/CSeq order holds across instances`, async () => {
    const [a, b] = [await open(), await open()];
    try {
      const user = `carol-${unique}`;
      assert.equal(await registerThrough(a, nowMs, ['Contact: <sip:carol@192.0.2.4>', 'Expires: 600'], 'cid', 5, user), 200);
      // Same Call-ID, same CSeq, through the other instance: out of order, 500, nothing changed.
      assert.equal(await registerThrough(b, nowMs, ['Contact: <sip:carol@192.0.2.4>', 'Expires: 0'], 'cid', 5, user), 500);
      assert.equal((await a.get(`${user}@b.test`)).length, 1);
      assert.equal(await registerThrough(b, nowMs, ['Contact: <sip:carol@192.0.2.4>', 'Expires: 0'], 'cid', 6, user), 200);
      assert.deepEqual(await a.get(`${user}@b.test`), []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test(`${backend.name}: a closed store refuses work with LOCATION_ERR_CLOSED`, async () => {
    const store = await open();
    await store.close();
    await assert.rejects(store.get(aor('x')), { code: 'LOCATION_ERR_CLOSED' });
  });
}
