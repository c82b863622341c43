import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issueCertificate, EKU_CLIENT_AUTH, EKU_SERVER_AUTH, type TestCertificate } from '../lab/certificates.js';
import { parseMessage } from '../sip/parse-message.js';
import { TrustStore } from '../tls/trust-store.js';
import { options, receiver, until } from './fixtures.test.support.js';
import { TransportError, type ClientCertificate, type Destination, type SecurityRequirement } from './transport-context.js';
import { TransportLayer } from './transport-layer.js';

// Per-hop security (DESIGN rule 2): the requirement comes with each send, and reuse is keyed on it.
const ca = issueCertificate({ cn: 'Hop Security Test CA', ca: true });
// One server hosting two domains with one certificate: the same address verifies for both.
const serverCert = issueCertificate({ cn: 'proxy.b.example', issuer: ca, san: { dns: ['b.example', 'x.example'] }, eku: [EKU_SERVER_AUTH] });
const trustStore = TrustStore.fromPem(ca.pem);
const clientOf = (domain: string): ClientCertificate => {
  const c: TestCertificate = issueCertificate({ cn: `proxy.${domain}`, issuer: ca, san: { dns: [domain] }, eku: [EKU_CLIENT_AUTH] });
  return { cert: c.pem, key: c.keyPem };
};
const certA = clientOf('a.test');
const certC = clientOf('c.test');

async function setup(): Promise<{ server: TransportLayer; client: TransportLayer; rx: ReturnType<typeof receiver>; to: (sipDomain: string, security?: SecurityRequirement) => Destination }> {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['b.example', 'x.example'], cert: serverCert.pem, key: serverCert.keyPem }] }, { transport: 'tcp', address: '127.0.0.1', port: 0 }], trustStore, ...rx });
  // The layer's default client certificate is A: sends that say nothing present it.
  const client = await TransportLayer.start({ listeners: [], trustStore, clientCertificate: certA, onMessage: () => undefined, log: () => undefined });
  const port = server.listening()[0]?.port ?? 0;
  const to = (sipDomain: string, security?: SecurityRequirement): Destination => ({ transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain }, ...(security ? { security } : {}) });
  return { server, client, rx, to };
}

test('security: sends asking for different client certificates to one address get a connection each, each presenting its certificate', async () => {
  const { server, client, rx, to } = await setup();
  try {
    const first = await client.send(parseMessage(options(1)), to('b.example'));
    const withC = await client.send(parseMessage(options(2)), to('b.example', { clientCertificate: certC }));
    const none = await client.send(parseMessage(options(3)), to('b.example', { clientCertificate: 'none' }));
    assert.notEqual(withC.connectionId, first.connectionId);
    assert.notEqual(none.connectionId, first.connectionId);
    assert.notEqual(none.connectionId, withC.connectionId);
    assert.equal(client.connectionCount, 3);
    await rx.waitFor(3);
    const byCall = new Map(rx.messages.map((m) => [m.message.callId(), m.context.peer]));
    assert.deepEqual(byCall.get('call-1')?.peerIdentities, ['a.test']);
    assert.deepEqual(byCall.get('call-2')?.peerIdentities, ['c.test']);
    assert.equal(byCall.get('call-3')?.authenticated, false);
    assert.ok(byCall.get('call-3')?.reasons.some((r) => r.code === 'no-client-certificate'));
  } finally {
    await client.close();
    await server.close();
  }
});

test('security: the same requirement (another object, the same content) reuses the connection; another policy does not', async () => {
  const { server, client, to } = await setup();
  try {
    const first = await client.send(parseMessage(options(1)), to('b.example', { clientCertificate: { ...certC } }));
    const again = await client.send(parseMessage(options(2)), to('b.example', { clientCertificate: { ...certC }, tls: 'required' }));
    assert.equal(again.connectionId, first.connectionId);
    // The layer's default certificate asked for by name is the default: the same connection as none said.
    const byDefault = await client.send(parseMessage(options(3)), to('b.example'));
    const named = await client.send(parseMessage(options(4)), to('b.example', { clientCertificate: certA }));
    assert.equal(named.connectionId, byDefault.connectionId);
    const otherPolicy = await client.send(parseMessage(options(5)), to('b.example', { tlsPolicy: { allowWildcard: true } }));
    assert.notEqual(otherPolicy.connectionId, byDefault.connectionId);
    assert.equal(client.connectionCount, 3);
  } finally {
    await client.close();
    await server.close();
  }
});

test('security: a connection verified for one domain carries a send to another at the same address when its certificate covers both (issue 15 item 4)', async () => {
  const { server, client, to } = await setup();
  try {
    const forB = await client.send(parseMessage(options(1)), to('b.example'));
    const forX = await client.send(parseMessage(options(2)), to('x.example'));
    assert.equal(forX.connectionId, forB.connectionId);
    // The verdict is the one for this send's domain, not the connection's first.
    assert.equal(forX.peer?.matchedIdentity, 'x.example');
    assert.equal(forB.peer?.matchedIdentity, 'b.example');
    assert.equal((await client.send(parseMessage(options(3)), to('b.example'))).peer?.matchedIdentity, 'b.example');
    // Under another requirement it is not taken, covered or not.
    const withC = await client.send(parseMessage(options(4)), to('x.example', { clientCertificate: certC }));
    assert.notEqual(withC.connectionId, forB.connectionId);
  } finally {
    await client.close();
    await server.close();
  }
});

test('security: accepted identities authenticate a server whose certificate does not name the reference identity, and key the reuse', async () => {
  const { server, client, to } = await setup();
  try {
    await assert.rejects(client.send(parseMessage(options(1)), to('peer.example')), (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated' && err.verdict?.reasons.some((r) => r.code === 'name-mismatch') === true);
    const accepted = await client.send(parseMessage(options(2)), to('peer.example', { acceptedIdentities: ['B.example'] }));
    assert.equal(accepted.peer?.authenticated, true);
    assert.equal(accepted.peer?.matchedIdentity, 'b.example');
    // The connection was verified under the accepted identities: a send without them does not get it.
    await assert.rejects(client.send(parseMessage(options(3)), to('peer.example')), (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated');
  } finally {
    await client.close();
    await server.close();
  }
});

test('security: TLS required refuses a plain destination at once, nothing sent; a bad requirement names its field', async () => {
  const { server, client, rx, to } = await setup();
  try {
    const tcpPort = server.listening()[1]?.port ?? 0;
    await assert.rejects(
      client.send(parseMessage(options(1)), { transport: 'tcp', address: '127.0.0.1', port: tcpPort, security: { tls: 'required' } }),
      (err: unknown) => err instanceof TransportError && err.reason === 'tls-required-not-offered',
    );
    assert.equal(client.connectionCount, 0);
    // Preferred (the default) lets the plain hop go.
    await client.send(parseMessage(options(2)), { transport: 'tcp', address: '127.0.0.1', port: tcpPort, security: { tls: 'preferred' } });
    await rx.waitFor(1);
    assert.deepEqual(rx.messages.map((m) => m.message.callId()), ['call-2']);
    await assert.rejects(client.send(parseMessage(options(3)), to('b.example', { tls: 'always' as 'required' })), (err: unknown) => err instanceof Error && 'option' in err && err.option === 'security.tls');
  } finally {
    await client.close();
    await server.close();
  }
});

test('hasConnection: true while a stream connection is open, false once it closed and for ids never seen', async () => {
  const { server, client, rx, to } = await setup();
  try {
    const { connectionId } = await client.send(parseMessage(options(1)), to('b.example'));
    assert.ok(connectionId !== undefined);
    assert.equal(client.hasConnection(connectionId), true);
    await rx.waitFor(1);
    const inbound = rx.messages[0]?.context.connectionId;
    assert.ok(inbound !== undefined);
    assert.equal(server.hasConnection(inbound), true);
    assert.equal(client.hasConnection('tls-0'), false);
    await client.close();
    assert.equal(client.hasConnection(connectionId), false);
    // The server learns of the close from its socket; the connection leaves its table then.
    await until(() => !server.hasConnection(inbound));
  } finally {
    await client.close();
    await server.close();
  }
});
