import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invite, OWN } from './fixtures.test.support.js';
import { nextHopUri, postprocessStrictRoute, preprocessRoutes, processMaddr } from './route-processing.js';

test('our Route on top is removed; a second of ours (double record-routing) too; the next one stays', () => {
  const request = invite('sip:bob@198.51.100.7', ['Route: <sip:proxy.a.test:5060;transport=udp;lr>, <sips:proxy.a.test:5061;lr>', 'Route: <sip:edge.b.test;lr>']);
  const result = preprocessRoutes(request, OWN);
  assert.equal(result.strictRouterFixed, false);
  assert.equal(result.ownRoutesRemoved, 2);
  assert.deepEqual(result.ownUris.map(String), ['sip:proxy.a.test:5060;transport=udp;lr', 'sips:proxy.a.test:5061;lr']);
  assert.deepEqual(request.routes().map((r) => r.uri.toString()), ['sip:edge.b.test;lr']);
  assert.equal(nextHopUri(request)?.host, 'edge.b.test');
});

test('a Route to our address, default port, counts as ours; another port, a user part or another host does not', () => {
  const ours = invite('sip:bob@b.test', ['Route: <sip:192.0.2.10;lr>']);
  assert.equal(preprocessRoutes(ours, OWN).ownRoutesRemoved, 1);
  for (const route of ['<sip:proxy.a.test:5070;lr>', '<sip:bob@proxy.a.test;lr>', '<sip:proxy.b.test;lr>']) {
    const request = invite('sip:bob@b.test', [`Route: ${route}`]);
    assert.equal(preprocessRoutes(request, OWN).ownRoutesRemoved, 0, route);
    assert.equal(request.routes().length, 1);
  }
});

test('strict router before us: the Request-URI is our Record-Route, the last Route becomes the Request-URI (section 16.4)', () => {
  const request = invite('sip:proxy.a.test;lr', ['Route: <sip:edge.b.test;lr>, <sip:bob@198.51.100.7>']);
  const result = preprocessRoutes(request, OWN);
  assert.equal(result.strictRouterFixed, true);
  assert.deepEqual(result.ownUris.map(String), ['sip:proxy.a.test;lr']);
  assert.equal(request.uri.toString(), 'sip:bob@198.51.100.7');
  assert.deepEqual(request.routes().map((r) => r.uri.toString()), ['sip:edge.b.test;lr']);
});

test('a Request-URI naming us without lr is not a strict router\'s: a REGISTER to the domain (our advertised name) through an outbound-proxy Route stays as sent', () => {
  // baresip registering over TLS: Request-URI sip:DOMAIN;transport=tls, Route to the proxy's address.
  const request = invite('sip:proxy.a.test;transport=tls', ['Route: <sip:192.0.2.10:5061;transport=tls;lr>'], 'REGISTER');
  const result = preprocessRoutes(request, OWN);
  assert.equal(result.strictRouterFixed, false);
  assert.equal(result.ownRoutesRemoved, 1);
  assert.equal(request.uri.toString(), 'sip:proxy.a.test;transport=tls');
  assert.equal(request.routes().length, 0);
});

test('strict router after us: the Request-URI goes to the end of Route, the first Route becomes the Request-URI (section 16.6 item 6)', () => {
  const request = invite('sip:bob@198.51.100.7', ['Route: <sip:strict.b.test>, <sip:loose.b.test;lr>']);
  assert.equal(postprocessStrictRoute(request), true);
  assert.equal(request.uri.toString(), 'sip:strict.b.test');
  assert.deepEqual(request.routes().map((r) => r.uri.toString()), ['sip:loose.b.test;lr', 'sip:bob@198.51.100.7']);
  const loose = invite('sip:bob@198.51.100.7', ['Route: <sip:loose.b.test;lr>']);
  assert.equal(postprocessStrictRoute(loose), false);
  assert.equal(loose.uri.toString(), 'sip:bob@198.51.100.7');
  assert.equal(nextHopUri(invite('sip:bob@b.test'))?.host, 'b.test');
});

/** Our hosts for the maddr rule: the listeners' names and addresses, and the domain a.test. */
const responsible = (host: string): boolean => OWN.isOwnHost(host) || host.toLowerCase() === 'a.test';

test('maddr naming us, on the port and transport the Request-URI indicates: maddr, port and transport are taken off (section 16.4)', () => {
  const cases: ReadonlyArray<readonly [string, 'udp' | 'tcp' | 'tls', number, string]> = [
    ['sip:bob@a.test;maddr=192.0.2.10', 'udp', 5060, 'sip:bob@a.test'],
    ['sip:bob@a.test:5060;maddr=proxy.a.test;transport=tcp;user=phone', 'tcp', 5060, 'sip:bob@a.test;user=phone'],
    ['sips:bob@a.test;maddr=PROXY.A.TEST', 'tls', 5061, 'sips:bob@a.test'],
    ['sip:bob@a.test;transport=tls;maddr=a.test', 'tls', 5061, 'sip:bob@a.test'],
    // No port in the URI: a listener on another port (SRV's choice for the name) is ours all the same.
    ['sip:bob@a.test;maddr=a.test', 'udp', 5080, 'sip:bob@a.test'],
  ];
  for (const [uri, transport, port, expected] of cases) {
    const request = invite(uri);
    assert.equal(processMaddr(request, responsible, { transport, port }), 'stripped', uri);
    assert.equal(request.uri.toString(), expected, uri);
  }
});

test('maddr naming another element, or us on another port or transport: the Request-URI stays whole, the only target (sections 16.4, 16.5)', () => {
  const cases: ReadonlyArray<readonly [string, 'udp' | 'tcp' | 'tls', number]> = [
    ['sip:bob@a.test;maddr=198.51.100.9', 'udp', 5060],
    ['sip:bob@a.test;maddr=edge.b.test', 'udp', 5060],
    // Ours, but the URI asks for another port or transport: it is forwarded to us there.
    ['sip:bob@a.test:5070;maddr=192.0.2.10', 'udp', 5060],
    ['sip:bob@a.test;maddr=192.0.2.10;transport=tcp', 'udp', 5060],
    ['sips:bob@a.test;maddr=192.0.2.10', 'tcp', 5060],
    ['sip:bob@a.test;maddr', 'udp', 5060],
  ];
  for (const [uri, transport, port] of cases) {
    const request = invite(uri);
    assert.equal(processMaddr(request, responsible, { transport, port }), 'target', uri);
    assert.equal(request.uri.toString(), uri, uri);
  }
  const plain = invite('sip:bob@a.test;transport=tcp');
  assert.equal(processMaddr(plain, responsible, { transport: 'udp', port: 5060 }), 'absent');
  assert.equal(plain.uri.toString(), 'sip:bob@a.test;transport=tcp');
});

test('our hosts: a listener name or address matches whatever the port, IPv6 with or without brackets; a user host does not', () => {
  assert.equal(OWN.isOwnHost('Proxy.A.Test.'), true);
  assert.equal(OWN.isOwnHost('192.0.2.10'), true);
  assert.equal(OWN.isOwnHost('proxy.b.test'), false);
});
