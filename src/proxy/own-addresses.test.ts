import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSipUri } from '../sip/uri.js';
import { parseVia } from '../sip/via.js';
import { OWN } from './fixtures.test.support.js';
import { ownListeners, ProxyConfigError } from './own-addresses.js';

test('every bound listener needs an advertised name; port 0 listeners match by transport and address', () => {
  const bound = [{ transport: 'udp' as const, address: '127.0.0.1', port: 40000 }];
  assert.deepEqual(ownListeners(bound, [{ transport: 'udp', address: '127.0.0.1', name: 'p.test' }]), [{ transport: 'udp', address: '127.0.0.1', port: 40000, name: 'p.test' }]);
  assert.throws(() => ownListeners(bound, [{ transport: 'tcp', address: '127.0.0.1', name: 'p.test' }]), ProxyConfigError);
  assert.throws(() => ownListeners(bound, [{ transport: 'udp', address: '127.0.0.1', port: 1, name: 'p.test' }]), ProxyConfigError);
  assert.throws(() => ownListeners([], []), ProxyConfigError);
});

test('our URIs and Vias: name or address, our port or the default one, any case', () => {
  assert.equal(OWN.isOwnUri(parseSipUri('sip:PROXY.A.TEST;lr')), true);
  assert.equal(OWN.isOwnUri(parseSipUri('sips:proxy.a.test;lr')), true);
  assert.equal(OWN.isOwnUri(parseSipUri('sip:proxy.a.test:5061;lr')), true);
  assert.equal(OWN.isOwnUri(parseSipUri('sip:proxy.a.test:5062;lr')), false);
  assert.equal(OWN.isOwnUri(parseSipUri('sip:alice@proxy.a.test')), false);
  assert.equal(OWN.isOwnVia(parseVia('SIP/2.0/TLS proxy.a.test;branch=z9hG4bKx')), true);
  assert.equal(OWN.isOwnVia(parseVia('SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx')), true);
  assert.equal(OWN.isOwnVia(parseVia('SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bKx')), false);
});
