import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSipUri } from '../sip/uri.js';
import type { Destination } from '../transport/transport-context.js';
import type { DestinationsResult } from '../ua/destinations.js';
import { offeringAliases, offersAlias } from './connection-reuse.js';
import type { OutboundRouter } from './contracts.js';

const certificate = { cert: 'PEM', key: 'KEY' };
const tlsWithCert: Destination = { transport: 'tls', address: '192.0.2.1', port: 5061, tlsTarget: { sipDomain: 'b.test' }, security: { tls: 'required', clientCertificate: certificate } };

test('a destination offers an alias only over TLS presenting our client certificate', () => {
  assert.equal(offersAlias(tlsWithCert), true);
  assert.equal(offersAlias({ ...tlsWithCert, security: { tls: 'required' } }), false);
  assert.equal(offersAlias({ ...tlsWithCert, security: { clientCertificate: 'none' } }), false);
  assert.equal(offersAlias({ ...tlsWithCert, transport: 'wss' }), false);
  assert.equal(offersAlias({ transport: 'tcp', address: '192.0.2.1', port: 5060, security: { clientCertificate: certificate } }), false);
});

test('offeringAliases marks the qualifying destinations and keeps the rest of the result (and the requirement object)', async () => {
  const plain: Destination = { ...tlsWithCert, security: { tls: 'required' } };
  const inner: OutboundRouter = {
    destinations: () => Promise.resolve({ destinations: [tlsWithCert, plain].map((destination) => ({ destination })), failedLookups: [] } as unknown as DestinationsResult),
  };
  const result = await offeringAliases(inner).destinations(parseSipUri('sip:bob@b.test'), { receivedOn: 'tls', fromDomain: 'a.test' });
  assert.deepEqual(result.destinations.map((d) => d.destination.offersAlias), [true, undefined]);
  assert.equal(result.destinations[0]?.destination.security, tlsWithCert.security);
  assert.deepEqual(result.failedLookups, []);
});
