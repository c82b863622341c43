/**
 * ConnectionTable: connections found by id and, for reuse, by (transport, address, port); TLS and
 * WSS reused only when the caller's check accepts the connection, never by address alone (DESIGN
 * rule 5); closed ones never reused; the per-address and total counts that ConnectionAdmission
 * holds against maxConnections and maxConnectionsPerAddress.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRANSPORT_LIMITS } from '../limits.js';
import { ConnectionAdmission } from './admission.js';
import { ConnectionTable } from './connection-table.js';
import { nextConnectionId, type Connection, type ConnectionTransport } from './connection.js';

/** A connection that only holds what the table reads; it never sends. */
function connection(transport: ConnectionTransport, address: string, port: number): Connection & { closed: boolean } {
  return {
    id: nextConnectionId(transport),
    transport,
    direction: 'outbound',
    local: { address: '127.0.0.1', port: 5060 },
    remote: { address, port },
    peer: undefined,
    verifiedFor: new Set<string>(),
    closed: false,
    closeReason: '',
    send: () => Promise.reject(new Error('not used')),
    close() {
      this.closed = true;
    },
  };
}

const ANY = (): boolean => true;

test('add, byId, size, all and remove; a second remove changes nothing', () => {
  const table = new ConnectionTable();
  const a = connection('tcp', '192.0.2.1', 5060);
  const b = connection('tls', '192.0.2.2', 5061);
  table.add(a);
  table.add(b);
  assert.equal(table.size, 2);
  assert.equal(table.byId(a.id), a);
  assert.equal(table.byId(b.id), b);
  assert.deepEqual(new Set(table.all()), new Set([a, b]));
  table.remove(a);
  assert.equal(table.size, 1);
  assert.equal(table.byId(a.id), undefined);
  assert.equal(table.findReusable('tcp', '192.0.2.1', 5060, ANY), undefined);
  table.remove(a);
  assert.equal(table.size, 1);
  assert.equal(table.byId('tcp-does-not-exist'), undefined);
});

test('plain TCP and WS are reused by transport, address and port, without asking the check', () => {
  const table = new ConnectionTable();
  const tcp = connection('tcp', '192.0.2.1', 5060);
  const ws = connection('ws', '192.0.2.1', 80);
  table.add(tcp);
  table.add(ws);
  let asked = 0;
  const never = (): boolean => {
    asked++;
    return false;
  };
  assert.equal(table.findReusable('tcp', '192.0.2.1', 5060, never), tcp);
  assert.equal(table.findReusable('ws', '192.0.2.1', 80, never), ws);
  assert.equal(asked, 0);
  // Another port, address or transport is another connection.
  assert.equal(table.findReusable('tcp', '192.0.2.1', 5061, ANY), undefined);
  assert.equal(table.findReusable('tcp', '192.0.2.9', 5060, ANY), undefined);
  assert.equal(table.findReusable('tls', '192.0.2.1', 5060, ANY), undefined);
  assert.equal(table.findReusable('udp', '192.0.2.1', 5060, ANY), undefined);
});

test('TLS and WSS are reused only when the check accepts the connection, and it sees each candidate', () => {
  const table = new ConnectionTable();
  const forOther = connection('tls', '192.0.2.5', 5061);
  forOther.verifiedFor.add('other.example');
  const forExample = connection('tls', '192.0.2.5', 5061);
  forExample.verifiedFor.add('example.com');
  const wss = connection('wss', '192.0.2.5', 443);
  wss.verifiedFor.add('example.com');
  table.add(forOther);
  table.add(forExample);
  table.add(wss);
  const verifiedFor = (domain: string) => (c: Connection): boolean => c.verifiedFor.has(domain);
  assert.equal(table.findReusable('tls', '192.0.2.5', 5061, verifiedFor('example.com')), forExample);
  assert.equal(table.findReusable('tls', '192.0.2.5', 5061, verifiedFor('other.example')), forOther);
  assert.equal(table.findReusable('tls', '192.0.2.5', 5061, verifiedFor('third.example')), undefined, 'never by address alone');
  assert.equal(table.findReusable('wss', '192.0.2.5', 443, verifiedFor('example.com')), wss);
  assert.equal(table.findReusable('wss', '192.0.2.5', 443, verifiedFor('other.example')), undefined);
  const seen: Connection[] = [];
  table.findReusable('tls', '192.0.2.5', 5061, (c) => {
    seen.push(c);
    return false;
  });
  assert.deepEqual(new Set(seen), new Set([forOther, forExample]));
});

test('a closed connection still in the table is never reused; an open one beside it is', () => {
  const table = new ConnectionTable();
  const first = connection('tcp', '192.0.2.1', 5060);
  const second = connection('tcp', '192.0.2.1', 5060);
  table.add(first);
  table.add(second);
  first.close('local-close');
  assert.equal(table.findReusable('tcp', '192.0.2.1', 5060, ANY), second);
  second.close('local-close');
  assert.equal(table.findReusable('tcp', '192.0.2.1', 5060, ANY), undefined);
  const tls = connection('tls', '192.0.2.1', 5061);
  table.add(tls);
  tls.close('local-close');
  assert.equal(table.findReusable('tls', '192.0.2.1', 5061, ANY), undefined);
  // Removing one of two to the same remote leaves the other findable.
  const third = connection('tcp', '192.0.2.1', 5060);
  table.add(third);
  table.remove(first);
  assert.equal(table.findReusable('tcp', '192.0.2.1', 5060, ANY), third);
});

test('per-address counts cover every transport and port of an address and fall with each remove', () => {
  const table = new ConnectionTable();
  const conns = [
    connection('tcp', '192.0.2.1', 5060),
    connection('tls', '192.0.2.1', 5061),
    connection('ws', '192.0.2.1', 40000),
    connection('tcp', '192.0.2.2', 5060),
  ];
  for (const c of conns) table.add(c);
  assert.equal(table.countForAddress('192.0.2.1'), 3);
  assert.equal(table.countForAddress('192.0.2.2'), 1);
  assert.equal(table.countForAddress('192.0.2.3'), 0);
  for (const c of conns) table.remove(c);
  assert.equal(table.countForAddress('192.0.2.1'), 0);
  assert.equal(table.countForAddress('192.0.2.2'), 0);
  assert.equal(table.size, 0);
  // A repeated remove does not drive a count below what is there.
  table.add(conns[0]!);
  table.remove(conns[1]!);
  assert.equal(table.countForAddress('192.0.2.1'), 1);
});

test('the connection limits read the table: maxConnectionsPerAddress per address, maxConnections in all', () => {
  const table = new ConnectionTable();
  const admission = new ConnectionAdmission(table, { ...TRANSPORT_LIMITS, maxConnections: 5, maxConnectionsPerAddress: 2 }, () => undefined);
  const a1 = connection('tcp', '192.0.2.1', 40001);
  const a2 = connection('tls', '192.0.2.1', 40002);
  table.add(a1);
  assert.equal(admission.underLimits('192.0.2.1'), true);
  table.add(a2);
  assert.equal(admission.underLimits('192.0.2.1'), false);
  assert.match(admission.limitExceeded('192.0.2.1') ?? '', /maxConnectionsPerAddress/);
  assert.equal(admission.underLimits('192.0.2.2'), true, 'another address is not held to it');
  table.remove(a1);
  assert.equal(admission.underLimits('192.0.2.1'), true, 'a removed connection frees its place');
  for (const address of ['192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']) table.add(connection('tcp', address, 5060));
  assert.equal(table.size, 5);
  assert.match(admission.limitExceeded('192.0.2.9') ?? '', /maxConnections =/);
  assert.equal(admission.underLimits('192.0.2.9'), false);
});
