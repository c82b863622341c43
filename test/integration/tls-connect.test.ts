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
