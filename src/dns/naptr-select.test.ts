import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectNaptr } from './naptr-select.js';
import type { NaptrRecord } from './records.js';
import { transportOfParam } from './sip-transport.js';

const naptr = (order: number, preference: number, services: string, replacement: string, flags = 's'): NaptrRecord =>
  ({ order, preference, flags, services, regexp: '', replacement });

// RFC 3263 section 4.1's example, shuffled, plus records a client must discard.
const RECORDS = [
  naptr(100, 50, 'SIP+D2U', '_sip._udp.example.com'),
  naptr(50, 50, 'SIPS+D2T', '_sips._tcp.example.com'),
  naptr(90, 50, 'SIP+D2T', '_sip._tcp.example.com'),
  naptr(40, 50, 'SIPS+D2U', '_sips._udp.example.com'),
  naptr(10, 50, 'E2U+sip', '_x.example.com'),
  naptr(20, 50, 'SIP+D2T', 'a.example.com', 'a'),
];

test('order, then applicable services only; SIPS+D2U discarded', () => {
  const selected = selectNaptr(RECORDS, 'sip', ['tls', 'tcp', 'udp']);
  assert.deepEqual(selected.map((s) => [s.transport, s.record.replacement]), [
    ['tls', '_sips._tcp.example.com'],
    ['tcp', '_sip._tcp.example.com'],
    ['udp', '_sip._udp.example.com'],
  ]);
});

test('a SIPS URI keeps only SIPS services', () => {
  assert.deepEqual(selectNaptr(RECORDS, 'sips', ['tls', 'tcp', 'udp']).map((s) => s.transport), ['tls']);
});

test('transports the client does not support are discarded', () => {
  assert.deepEqual(selectNaptr(RECORDS, 'sip', ['udp', 'tcp']).map((s) => s.transport), ['tcp', 'udp']);
});

test('preference orders records of the same order', () => {
  const selected = selectNaptr([naptr(10, 20, 'SIP+D2U', 'u'), naptr(10, 10, 'SIP+D2T', 't')], 'sip', ['tcp', 'udp']);
  assert.deepEqual(selected.map((s) => s.transport), ['tcp', 'udp']);
});

test('service and flags compare case-insensitively', () => {
  assert.equal(selectNaptr([naptr(1, 1, 'sips+d2t', 'x', 'S')], 'sips', ['tls']).length, 1);
});

test('transport parameters: sips means TLS', () => {
  assert.equal(transportOfParam('sip', 'UDP'), 'udp');
  assert.equal(transportOfParam('sips', 'tcp'), 'tls');
  assert.equal(transportOfParam('sips', 'sctp'), 'tls-sctp');
  assert.throws(() => transportOfParam('sips', 'udp'), { code: 'DNS_ERR_BAD_TARGET' });
  assert.throws(() => transportOfParam('sip', 'ws'), { code: 'DNS_ERR_BAD_TARGET' });
});
