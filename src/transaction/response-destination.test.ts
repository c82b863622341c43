import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, request } from './fixtures.test.support.js';
import { responseDestination } from './response-destination.js';

const via = (value: string) => {
  const v = request({ via: value }).topVia();
  assert.ok(v !== undefined);
  return v;
};
const nat = { address: '203.0.113.7', port: 40_123 };

test('UDP without rport: the source address (received) and the sent-by port (18.2.2)', () => {
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bKa'), context('udp', nat)), {
    transport: 'udp', address: '203.0.113.7', port: 5070,
  });
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP pc33.example.com;branch=z9hG4bKa'), context('udp', nat)), {
    transport: 'udp', address: '203.0.113.7', port: 5060,
  });
});

test('UDP with rport (RFC 3581 section 4): the source address and source port', () => {
  for (const v of ['SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bKa', 'SIP/2.0/UDP 10.0.0.2:5060;rport=40123;received=203.0.113.7;branch=z9hG4bKa']) {
    assert.deepEqual(responseDestination(via(v), context('udp', nat)), { transport: 'udp', address: '203.0.113.7', port: 40_123 });
  }
});

test('UDP with maddr, when honoured: the multicast address and the sent-by port or 5060', () => {
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP h.example.com;maddr=224.2.0.1;ttl=16;branch=z9hG4bKa'), context('udp', nat), { honourMaddr: true }), {
    transport: 'udp', address: '224.2.0.1', port: 5060,
  });
});

test('UDP with maddr, by default: ignored, the response goes back to the source (no reflection to a third party)', () => {
  for (const v of ['SIP/2.0/UDP h.example.com;maddr=127.0.0.99;branch=z9hG4bKa', 'SIP/2.0/UDP h.example.com:5070;maddr=[::1];rport;branch=z9hG4bKa']) {
    const destination = responseDestination(via(v), context('udp', nat));
    assert.equal(destination.address, '203.0.113.7');
    assert.deepEqual(responseDestination(via(v), context('udp', nat), { honourMaddr: false }), destination);
  }
});

test('streams: the same connection, falling back to the source address and sent-by port (5061 for TLS)', () => {
  assert.deepEqual(responseDestination(via('SIP/2.0/TCP h.example.com:5080;branch=z9hG4bKa'), context('tcp', nat)), {
    transport: 'tcp', address: '203.0.113.7', port: 5080, connectionId: 'conn-1',
  });
  assert.deepEqual(responseDestination(via('SIP/2.0/TLS h.example.com;rport;branch=z9hG4bKa'), context('tls', nat)), {
    transport: 'tls', address: '203.0.113.7', port: 5061, connectionId: 'conn-1',
  });
});
