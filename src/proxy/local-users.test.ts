import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Binding } from '../registrar/binding.js';
import { SqliteLocationStore } from '../registrar/location-sqlite.js';
import { binding } from '../registrar/location-store.suite.test.support.js';
import { parseSipUri } from '../sip/uri.js';
import { LocalUsersService, lookupBindings, routeBinding } from './local-users.js';

const NOW = Date.now();
const open = new Set(['tcp-1', 'tls-1']);
const isOpen = (id: string): boolean => open.has(id);

function tcp(contact: string, extra: Partial<Binding> = {}): Binding {
  return binding('bob@b.test', contact, NOW + 600_000, extra);
}

function udp(contact: string, address = '192.0.2.4', port = 40_000, extra: Partial<Binding> = {}): Binding {
  return binding('bob@b.test', contact, NOW + 600_000, {
    connectionId: undefined,
    receivedFrom: { transport: 'udp', address, port, localAddress: '127.0.0.2', localPort: 5060 },
    ...extra,
  });
}

const TLS_FROM = { transport: 'tls' as const, address: '192.0.2.8', port: 41_000, localAddress: '127.0.0.2', localPort: 5061 };

test('a binding over a connection that is still open is reached over that flow, whatever its Contact says', () => {
  const route = routeBinding(tcp('sip:bob@10.0.0.4:5060;transport=tcp', { connectionId: 'tcp-1', path: ['<sip:edge.b.test;lr>'], q: 0.5, instanceId: '<urn:uuid:1>' }), isOpen, false);
  assert.equal(route.kind, 'target');
  if (route.kind !== 'target') return;
  assert.deepEqual(route.target.destination, { transport: 'tcp', address: '192.0.2.4', port: 40_000, connectionId: 'tcp-1' });
  assert.equal(route.target.uri.toString(), 'sip:bob@10.0.0.4:5060;transport=tcp');
  assert.deepEqual(route.target.path, ['<sip:edge.b.test;lr>']);
  assert.equal(route.target.q, 0.5);
  assert.equal(route.target.instanceId, '<urn:uuid:1>');
});

test('a flow that is gone: 480 flow-failed at once; 430 when every gone flow was an RFC 5626 outbound one', () => {
  const closed = tcp('sip:bob@10.0.0.4;transport=tcp', { connectionId: 'tcp-gone' });
  const outbound = tcp('sip:bob@10.0.0.5;transport=tcp;ob', { connectionId: 'tcp-gone-2', instanceId: '<urn:uuid:2>', regId: 1 });
  assert.deepEqual(lookupBindings([closed], isOpen, false), { kind: 'unavailable', status: 480, why: 'flow-failed' });
  assert.deepEqual(lookupBindings([outbound], isOpen, false), { kind: 'unavailable', status: 430, why: 'flow-failed' });
  assert.deepEqual(lookupBindings([outbound, closed], isOpen, false), { kind: 'unavailable', status: 480, why: 'flow-failed' });
  // One live flow is enough: the gone one is left out.
  const live = lookupBindings([closed, tcp('sip:bob@10.0.0.6;transport=tcp', { connectionId: 'tcp-1' })], isOpen, false);
  assert.deepEqual(live.kind === 'targets' && live.targets.map((t) => t.uri.host), ['10.0.0.6']);
  assert.deepEqual(lookupBindings([], isOpen, false), { kind: 'unavailable', status: 480, why: 'not-registered' });
});

test('UDP: behind NAT (the Contact is not the source address) the received address; otherwise the Contact address, port and transport', () => {
  const dest = (b: Binding): unknown => {
    const r = routeBinding(b, isOpen, false);
    return r.kind === 'target' ? r.target.destination : r.kind;
  };
  assert.deepEqual(dest(udp('sip:bob@10.0.0.4:5060')), { transport: 'udp', address: '192.0.2.4', port: 40_000 });
  assert.deepEqual(dest(udp('sip:bob@phone.example')), { transport: 'udp', address: '192.0.2.4', port: 40_000 });
  // Not behind NAT, but sending from another port than the one it listens on.
  assert.deepEqual(dest(udp('sip:bob@192.0.2.4:5070')), { transport: 'udp', address: '192.0.2.4', port: 5070 });
  assert.deepEqual(dest(udp('sip:bob@192.0.2.4')), { transport: 'udp', address: '192.0.2.4', port: 5060 });
  assert.deepEqual(dest(udp('sip:bob@192.0.2.4:5070;transport=TCP')), { transport: 'tcp', address: '192.0.2.4', port: 5070 });
  assert.deepEqual(dest(udp('sips:bob@192.0.2.4')), { transport: 'tls', address: '192.0.2.4', port: 5061 });
  assert.deepEqual(dest(udp('sip:bob@192.0.2.4:5070;transport=sctp')), { transport: 'udp', address: '192.0.2.4', port: 40_000 });
  assert.deepEqual(dest(udp('sip:bob@[2001:db8::1]:5070', '2001:0db8:0:0:0:0:0:1')), { transport: 'udp', address: '2001:db8::1', port: 5070 });
  assert.equal(dest(udp('not a uri')), 'unusable');
});

test('a sips request (RFC 5630) finds only bindings reached over TLS or WSS, else 480 sips-not-deliverable', () => {
  const overTls = tcp('sip:bob@10.0.0.4;transport=tls', { connectionId: 'tls-1', receivedFrom: TLS_FROM });
  const overTcp = tcp('sip:bob@10.0.0.5;transport=tcp', { connectionId: 'tcp-1' });
  const sipsUdp = udp('sips:bob@192.0.2.4');
  const found = lookupBindings([overTcp, overTls, sipsUdp], isOpen, true);
  assert.deepEqual(found.kind === 'targets' && found.targets.map((t) => t.destination.transport), ['tls', 'tls']);
  assert.deepEqual(lookupBindings([overTcp, udp('sip:bob@10.0.0.4')], isOpen, true), { kind: 'unavailable', status: 480, why: 'sips-not-deliverable' });
  assert.deepEqual(lookupBindings([], isOpen, true), { kind: 'unavailable', status: 480, why: 'not-registered' }, 'no binding at all is not a matter of the scheme');
  // A TLS flow that is gone is still a flow failure.
  assert.deepEqual(lookupBindings([overTcp, { ...overTls, connectionId: 'tls-gone' }], isOpen, true), { kind: 'unavailable', status: 480, why: 'flow-failed' });
  assert.equal(lookupBindings([overTcp], isOpen, false).kind, 'targets');
});

test('targets come highest q first (no q counts as 1), equal q in registration order', () => {
  const found = lookupBindings(
    [
      tcp('sip:a@10.0.0.1;transport=tcp', { connectionId: 'tcp-1', q: 0.2 }),
      tcp('sip:b@10.0.0.2;transport=tcp', { connectionId: 'tcp-1' }),
      tcp('sip:c@10.0.0.3;transport=tcp', { connectionId: 'tcp-1', q: 0.9 }),
      tcp('sip:d@10.0.0.4;transport=tcp', { connectionId: 'tcp-1', q: 1 }),
    ],
    isOpen,
    false,
  );
  assert.deepEqual(found.kind === 'targets' && found.targets.map((t) => t.uri.user), ['b', 'd', 'c', 'a']);
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-local-users-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('LocalUsersService: unknown users and URIs without a user are unknown-user; a closed store is store-failed with Retry-After', async () => {
  const store = new SqliteLocationStore({ path: path.join(dir, 'l.db'), sweepIntervalMs: 0 });
  const users = { has: (address: string) => address === 'bob@b.test' };
  const service = new LocalUsersService({ users, store, isConnectionOpen: isOpen, retryAfterSeconds: 7 });
  assert.deepEqual(await service.lookup(parseSipUri('sip:carol@b.test'), { sipsOnly: false }), { kind: 'unknown-user' });
  assert.deepEqual(await service.lookup(parseSipUri('sip:b.test'), { sipsOnly: false }), { kind: 'unknown-user' });
  await store.update('bob@b.test', () => ({ next: [tcp('sip:bob@10.0.0.4;transport=tcp', { connectionId: 'tcp-1' })], result: undefined }));
  // The AOR is canonical: host case, a final dot and URI parameters do not matter.
  assert.equal((await service.lookup(parseSipUri('sip:bob@B.TEST.;user=phone'), { sipsOnly: false })).kind, 'targets');
  await store.close();
  const failed = await service.lookup(parseSipUri('sip:bob@b.test'), { sipsOnly: false });
  assert.equal(failed.kind, 'store-failed');
  assert.equal(failed.kind === 'store-failed' && failed.retryAfterS, 7);
});

test('LocalUsersService: a user with a forward target (users.yaml forward:) is forwarded whatever is registered, sips or not; others are looked up', async () => {
  const store = new SqliteLocationStore({ path: path.join(dir, 'forward.db'), sweepIntervalMs: 0 });
  const forwards = new Map([['bob@b.test', parseSipUri('sip:carol@c.test')]]);
  const users = { has: (address: string) => address === 'bob@b.test' || address === 'erin@b.test', forwardOf: (address: string) => forwards.get(address) };
  const service = new LocalUsersService({ users, store, isConnectionOpen: isOpen });
  // A binding of bob's does not stop the forward: the forwarding is unconditional.
  await store.update('bob@b.test', () => ({ next: [tcp('sip:bob@10.0.0.4;transport=tcp', { connectionId: 'tcp-1' })], result: undefined }));
  for (const sipsOnly of [false, true]) {
    const found = await service.lookup(parseSipUri('sip:bob@B.test'), { sipsOnly });
    assert.equal(found.kind === 'forward' && found.target.toString(), 'sip:carol@c.test');
  }
  assert.deepEqual(await service.lookup(parseSipUri('sip:erin@b.test'), { sipsOnly: false }), { kind: 'unavailable', status: 480, why: 'not-registered' });
  assert.deepEqual(await service.lookup(parseSipUri('sip:dave@b.test'), { sipsOnly: false }), { kind: 'unknown-user' });
  await store.close();
});
