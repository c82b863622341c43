import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DnsAnswer, DnsRecordType, RecordByType } from '../dns/records.js';
import type { DnsResolver } from '../dns/resolver.js';
import { parseSipUri } from '../sip/uri.js';
import { destinationsFor, directDestination, transportOf } from './destinations.js';

type Entry = { kind: 'records'; state: 'secure' | 'insecure'; records: object[] } | { kind: 'failure'; state: 'bogus' | 'indeterminate'; failure: 'bogus' | 'timeout'; why: string };

/** A resolver over a table `TYPE name` -> answer; anything else is a secure NODATA. Counts questions. */
function zone(table: Record<string, Entry>): DnsResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    backend: 'system',
    asked,
    query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
      asked.push(`${type} ${name}`);
      const entry = table[`${type} ${name}`];
      const base = { name, type, cnames: [] };
      if (entry === undefined) return Promise.resolve({ ...base, kind: 'nodata', state: 'secure', ttlSeconds: 60 });
      if (entry.kind === 'failure') return Promise.resolve({ ...base, ...entry });
      return Promise.resolve({ ...base, kind: 'records', state: entry.state, records: entry.records as RecordByType[T][], ttlSeconds: 60 });
    },
    close: () => Promise.resolve(),
  };
}

const TLSA = { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32) };
const secure = (records: object[]): Entry => ({ kind: 'records', state: 'secure', records });
const SIGNED = {
  'SRV _sips._tcp.example.com': secure([{ priority: 10, weight: 0, port: 5061, target: 'sip1.example.com' }]),
  'SRV _sip._tcp.example.com': secure([{ priority: 10, weight: 0, port: 5060, target: 'sip1.example.com' }]),
  'A sip1.example.com': secure([{ address: '192.0.2.10' }]),
  'TLSA _5061._tcp.sip1.example.com': secure([TLSA]),
};

test('TLS first: a sip: URI goes to the TLS target first, with its server target and TLSA; the SRV host is an identity over a secure chain', async () => {
  const resolver = zone(SIGNED);
  const { destinations, failedLookups, located } = await destinationsFor(resolver, parseSipUri('sip:alice@example.com'), { tlsFirst: true });
  assert.deepEqual(destinations.map((d) => `${d.destination.transport} ${d.destination.address}:${d.destination.port}`), ['tls 192.0.2.10:5061', 'tcp 192.0.2.10:5060']);
  const tls = destinations[0];
  assert.deepEqual(tls?.destination.tlsTarget, {
    sipDomain: 'example.com', srvHost: 'sip1.example.com', dnsState: 'secure',
    tlsa: { name: '_5061._tcp.sip1.example.com', state: 'secure', records: [TLSA] },
  });
  assert.deepEqual(tls?.located.identities, ['example.com', 'sip1.example.com']);
  assert.equal(destinations[1]?.destination.tlsTarget, undefined);
  assert.deepEqual(failedLookups, []);
  assert.equal(located.domain, 'example.com');
});

test('without TLS first, RFC 3263 as written: no _sips query for a sip: URI; a request that came over WSS turns TLS first on', async () => {
  const plain = zone(SIGNED);
  const { destinations } = await destinationsFor(plain, parseSipUri('sip:example.com'));
  assert.deepEqual(destinations.map((d) => d.destination.transport), ['tcp']);
  assert.ok(!plain.asked.includes('SRV _sips._tcp.example.com'));
  const onward = await destinationsFor(zone(SIGNED), parseSipUri('sip:example.com'), { receivedOn: 'wss' });
  assert.deepEqual(onward.destinations.map((d) => d.destination.transport), ['tls', 'tcp']);
});

test('failed lookups are reported with their states: a bogus TLSA RRset stays on its target (the verifier refuses it), a timed-out SRV gives no target', async () => {
  const bogusTlsa = await destinationsFor(zone({ ...SIGNED, 'TLSA _5061._tcp.sip1.example.com': { kind: 'failure', state: 'bogus', failure: 'bogus', why: 'signature expired' } }), parseSipUri('sips:example.com'));
  assert.equal(bogusTlsa.destinations[0]?.destination.tlsTarget?.tlsa?.state, 'bogus');
  assert.deepEqual(bogusTlsa.failedLookups, [{ name: '_5061._tcp.sip1.example.com', type: 'TLSA', state: 'bogus', result: 'failure', failure: 'bogus', why: 'signature expired' }]);

  const timedOut = await destinationsFor(zone({ 'SRV _sips._tcp.example.com': { kind: 'failure', state: 'indeterminate', failure: 'timeout', why: 'no answer' } }), parseSipUri('sips:example.com'));
  assert.deepEqual(timedOut.destinations, []);
  assert.deepEqual(timedOut.failedLookups.map((l) => `${l.type} ${l.name} ${l.state} ${l.failure}`), ['SRV _sips._tcp.example.com indeterminate timeout']);
});

test('an insecure chain: no TLSA lookup, the SIP domain the only identity', async () => {
  const resolver = zone({ ...SIGNED, 'A sip1.example.com': { kind: 'records', state: 'insecure', records: [{ address: '192.0.2.10' }] } });
  const { destinations } = await destinationsFor(resolver, parseSipUri('sips:example.com'));
  assert.deepEqual(destinations[0]?.destination.tlsTarget, { sipDomain: 'example.com', srvHost: 'sip1.example.com', dnsState: 'insecure' });
  assert.deepEqual(destinations[0]?.located.identities, ['example.com']);
  assert.ok(!resolver.asked.some((q) => q.startsWith('TLSA')));
});

test('numeric hosts and explicit ports: default ports per transport, no DNS for an address', async () => {
  const resolver = zone({});
  const udp = await destinationsFor(resolver, parseSipUri('sip:192.0.2.1'));
  assert.deepEqual(udp.destinations.map((d) => d.destination), [{ transport: 'udp', address: '192.0.2.1', port: 5060 }]);
  const tls = await destinationsFor(resolver, parseSipUri('sips:[2001:db8::1]'));
  assert.deepEqual(tls.destinations.map((d) => d.destination), [{ transport: 'tls', address: '2001:db8::1', port: 5061, tlsTarget: { sipDomain: '2001:db8::1', dnsState: 'insecure' } }]);
  assert.deepEqual(resolver.asked, []);
  const ported = await destinationsFor(zone(SIGNED), parseSipUri('sips:sip1.example.com:5070'));
  assert.deepEqual(ported.destinations.map((d) => `${d.destination.transport} ${d.destination.port}`), ['tls 5070']);
});

test('direct destinations: the transport the URI asks for, its default port, WebSocket Host', () => {
  assert.deepEqual(directDestination(parseSipUri('sips:example.com'), { address: '192.0.2.1', port: undefined }), { transport: 'tls', address: '192.0.2.1', port: 5061, tlsTarget: { sipDomain: 'example.com' } });
  assert.deepEqual(directDestination(parseSipUri('sips:example.com;transport=ws'), { address: '192.0.2.1' }), { transport: 'wss', address: '192.0.2.1', port: 443, tlsTarget: { sipDomain: 'example.com' }, wsHost: 'example.com' });
  assert.deepEqual(directDestination(parseSipUri('sip:example.com;transport=ws'), { address: '192.0.2.1', port: 8080 }), { transport: 'ws', address: '192.0.2.1', port: 8080, wsHost: 'example.com' });
  assert.equal(transportOf(parseSipUri('sip:example.com;transport=TCP')), 'tcp');
  assert.equal(transportOf(parseSipUri('sip:example.com')), 'udp');
});
