import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSipUri } from '../sip/uri.js';
import { invite, OWN } from './fixtures.test.support.js';
import { forwardCopy, recordRouteValues, viaValue } from './forward-request.js';

const [UDP, TCP, TLS] = OWN.listeners as [typeof OWN.listeners[0], typeof OWN.listeners[0], typeof OWN.listeners[0]];

test('the copy: new Request-URI, Max-Forwards less one, Record-Route and Path on top, our Via first; the original untouched', () => {
  const request = invite('sip:bob@a.test', ['Route: <sip:next.test;lr>', 'Record-Route: <sip:before.test;lr>']);
  const copy = forwardCopy(request, {
    requestUri: parseSipUri('sip:bob@198.51.100.7:5070'),
    pushRoutes: ['<sip:edge.a.test;lr>'],
    recordRoute: recordRouteValues(UDP, TLS),
    via: viaValue('tls', TLS, 'unused', 'z9hG4bKsxbranch'),
  });
  assert.equal(copy.uri.toString(), 'sip:bob@198.51.100.7:5070');
  assert.equal(copy.maxForwards(), 69);
  assert.deepEqual(copy.recordRoutes().map((r) => r.uri.toString()), ['sips:proxy.a.test;lr', 'sip:proxy.a.test;transport=udp;lr', 'sip:before.test;lr']);
  assert.deepEqual(copy.routes().map((r) => r.uri.toString()), ['sip:edge.a.test;lr', 'sip:next.test;lr']);
  assert.deepEqual(copy.via().map((v) => `${v.transport} ${v.host}:${v.port ?? ''}`), ['TLS proxy.a.test:5061', 'UDP 198.51.100.1:5060']);
  assert.equal(request.uri.toString(), 'sip:bob@a.test');
  assert.equal(request.maxForwards(), 70);
  assert.equal(request.via().length, 1);
  assert.equal(request.recordRoutes().length, 1);
});

test('Max-Forwards is added as 70 when absent', () => {
  const request = invite();
  request.removeHeader('max-forwards');
  assert.equal(forwardCopy(request, { requestUri: undefined, pushRoutes: [], recordRoute: [], via: viaValue('udp', UDP, 'x', 'z9hG4bKb') }).maxForwards(), 70);
});

test('one Record-Route when both sides use the same listener, two when the transport changes', () => {
  assert.deepEqual(recordRouteValues(UDP, UDP), ['<sip:proxy.a.test;transport=udp;lr>']);
  assert.deepEqual(recordRouteValues(UDP, undefined), ['<sip:proxy.a.test;transport=udp;lr>']);
  assert.deepEqual(recordRouteValues(UDP, TCP), ['<sip:proxy.a.test;transport=tcp;lr>', '<sip:proxy.a.test;transport=udp;lr>']);
  assert.deepEqual(recordRouteValues(TLS, TLS), ['<sips:proxy.a.test;lr>']);
});

// A port in a Route makes RFC 3263 skip NAPTR and SRV: a domain name with no address record of its
// own (the trapezoid's) was then unreachable for the ACK and BYE.
test('a Record-Route names its port only when it is not the default one, or when the host is an address', () => {
  assert.deepEqual(recordRouteValues({ ...TLS, port: 5071 }, undefined), ['<sips:proxy.a.test:5071;lr>']);
  assert.deepEqual(recordRouteValues({ ...UDP, name: '192.0.2.1' }, undefined), ['<sip:192.0.2.1:5060;transport=udp;lr>']);
});

test('our Via names the advertised name, never the bound address; without a listener of that transport, the fallback name', () => {
  assert.equal(viaValue('udp', UDP, 'x', 'z9hG4bKb'), 'SIP/2.0/UDP proxy.a.test:5060;branch=z9hG4bKb');
  assert.equal(viaValue('ws', undefined, 'proxy.a.test', 'z9hG4bKb'), 'SIP/2.0/WS proxy.a.test;branch=z9hG4bKb');
});

test('RFC 5923: alias on our Via only when asked and only over TLS', () => {
  assert.equal(viaValue('tls', TLS, 'unused', 'z9hG4bKa', { alias: true }), 'SIP/2.0/TLS proxy.a.test:5061;branch=z9hG4bKa;alias');
  assert.equal(viaValue('tls', TLS, 'unused', 'z9hG4bKa'), 'SIP/2.0/TLS proxy.a.test:5061;branch=z9hG4bKa');
  assert.equal(viaValue('tcp', TCP, 'unused', 'z9hG4bKa', { alias: true }), `SIP/2.0/TCP proxy.a.test:${TCP.port};branch=z9hG4bKa`);
});
