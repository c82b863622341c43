/** connectAndVerify against peers that never finish a TLS handshake. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { connectAndVerify } from '../../src/transport/tls-connect.js';
import { TrustStore } from '../../src/tls/trust-store.js';

const sockets: Socket[] = [];
const servers: Server[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(onConnection: (s: Socket) => void): Promise<number> {
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    onConnection(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

test('a peer that accepts TCP but never answers the ClientHello: tls-timeout', async () => {
  const port = await listen(() => undefined);
  const r = await connectAndVerify({ host: '127.0.0.1', port, target: { sipDomain: 'example.com' }, trustStore: TrustStore.empty(), timeoutMs: 200 });
  assert.deepEqual(r.verdict.reasons, [{ code: 'tls-timeout', timeoutMs: 200 }]);
  assert.equal(r.socket, null);
  assert.equal(r.verdict.proceed, false);
});

test('a peer that speaks plain text: tls-handshake-failed', async () => {
  const port = await listen((s) => s.end('SIP/2.0 400 Bad Request\r\n\r\n'));
  const r = await connectAndVerify({ host: '127.0.0.1', port, target: { sipDomain: 'example.com' }, trustStore: TrustStore.empty() });
  assert.equal(r.verdict.reasons[0]?.code, 'tls-handshake-failed');
  assert.equal(r.socket, null);
});

test('peerChain: certificates sent out of order come back linked leaf first; unrelated extras are dropped', async () => {
  const { issueCertificate } = await import('../../src/lab/certificates.js');
  const { startTlsServer } = await import('../support/tls-servers.js');
  const root = issueCertificate({ cn: 'Order Root', ca: true });
  const ca = issueCertificate({ cn: 'Order CA', ca: true, issuer: root });
  const leaf = issueCertificate({ cn: 'example.com', issuer: ca, san: { dns: ['example.com'] } });
  const stray = issueCertificate({ cn: 'Stray CA', ca: true });
  // The server sends leaf, root, stray, CA in that order (checked with openssl s_client).
  const server = await startTlsServer({ chain: [leaf, root, stray, ca] });
  let socket: { destroy(): void } | null = null;
  try {
    const r = await connectAndVerify({ host: '127.0.0.1', port: server.port, target: { sipDomain: 'example.com' }, trustStore: TrustStore.fromPem(root.pem) });
    socket = r.socket;
    const b64 = r.presentedChain.map((der) => der.toString('base64'));
    // Node links the peer's certificates by issuer: leaf, then the CA sent last. Seen on Node 20.20:
    // the root sent out of order is not linked after it (docs/TLS-VERIFICATION.md, "The socket side").
    assert.deepEqual(b64.slice(0, 2), [leaf.der, ca.der].map((der) => der.toString('base64')));
    assert.ok(!b64.includes(stray.der.toString('base64')));
    assert.equal(r.verdict.ok, true, JSON.stringify(r.verdict.reasons));
  } finally {
    socket?.destroy();
    await server.close();
  }
});
