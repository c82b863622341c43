import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { issueCertificate, EKU_CLIENT_AUTH, EKU_SERVER_AUTH, type TestCertificate } from '../lab/certificates.js';
import { parseMessage } from '../sip/parse-message.js';
import { TrustStore } from '../tls/trust-store.js';
import { options, receiver, until } from './fixtures.test.support.js';
import { TransportLayer, type ServerCertificate, type TransportLayerOptions } from './transport-layer.js';
import { TransportError } from './transport-context.js';

const ca = issueCertificate({ cn: 'TLS Listener Test CA', ca: true });
const certA = issueCertificate({ cn: 'a.example', issuer: ca, san: { dns: ['a.example'] }, eku: [EKU_SERVER_AUTH] });
const certB = issueCertificate({ cn: 'b.example', issuer: ca, san: { dns: ['b.example'] }, eku: [EKU_SERVER_AUTH] });
const clientCert = issueCertificate({ cn: 'proxy.c.example', issuer: ca, san: { dns: ['c.example'] }, eku: [EKU_CLIENT_AUTH] });
const trustStore = TrustStore.fromPem(ca.pem);

function hosting(...certs: Array<[string, TestCertificate]>): ServerCertificate[] {
  return certs.map(([domain, c]) => ({ domains: [domain], cert: c.pem, key: c.keyPem }));
}

async function tlsListener(extra: Omit<Partial<TransportLayerOptions>, 'onMessage'> = {}): Promise<{ layer: TransportLayer; port: number; rx: ReturnType<typeof receiver> }> {
  const rx = receiver();
  const layer = await TransportLayer.start({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: hosting(['b.example', certB], ['a.example', certA]) }], ...rx, ...extra });
  return { layer, port: layer.listening()[0]?.port ?? 0, rx };
}

/** A raw TLS client (no verification: the tests look at what the server did). */
function rawTls(port: number, extra: tls.ConnectionOptions = {}): tls.TLSSocket {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...extra });
  socket.on('error', () => undefined);
  return socket;
}

/** How a raw TLS client's attempt ended: 'secure' once the handshake completed, else the error code. */
function handshakeOutcome(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('secureConnect', () => resolve('secure'));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('close', () => resolve('closed'));
  });
}

test('SNI: each hosted domain gets its certificate; no SNI (and an unknown name) gets the first listed', async () => {
  const { layer, port } = await tlsListener();
  const client = await TransportLayer.start({ listeners: [], trustStore, onMessage: () => undefined, log: () => undefined });
  try {
    const presented = async (servername: string | undefined): Promise<string | undefined> => {
      const socket = rawTls(port, servername === undefined ? {} : { servername });
      assert.equal(await handshakeOutcome(socket), 'secure');
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      return Array.isArray(cn) ? cn.join(',') : cn;
    };
    assert.equal(await presented('a.example'), 'a.example');
    assert.equal(await presented('b.example'), 'b.example');
    assert.equal(await presented('A.EXAMPLE'), 'a.example');
    assert.equal(await presented(undefined), 'b.example');
    assert.equal(await presented('other.example'), 'b.example');
    // The transport's own client sends the SIP domain as SNI and verifies what comes back.
    for (const sipDomain of ['a.example', 'b.example']) {
      const { peer } = await client.send(parseMessage(options(1)), { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain } });
      assert.equal(peer?.authenticated, true);
      assert.equal(peer?.matchedIdentity, sipDomain);
    }
  } finally {
    await client.close();
    await layer.close();
  }
});

test('limits: TLS connections per address are refused before the handshake, handshakes in progress counted', async () => {
  const { layer, port, rx } = await tlsListener({ limits: { maxConnectionsPerAddress: 2 } });
  try {
    // Two peers that connect and never send a ClientHello hold the address's two places.
    const silent = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    await Promise.all(silent.map((s) => once(s, 'connect')));
    const third = rawTls(port);
    assert.equal(await handshakeOutcome(third), 'ECONNRESET');
    const refusal = rx.logs.find((l) => l.event === 'connection-refused');
    assert.equal(refusal?.reason, 'connection-limit');
    assert.match(refusal?.detail ?? '', /maxConnectionsPerAddress = 2 reached for 127\.0\.0\.1, before the TLS handshake/);
    assert.ok(!rx.logs.some((l) => l.event === 'tls-handshake-failed'), JSON.stringify(rx.logs));
    // Once they go, their places are free again.
    silent.forEach((s) => s.destroy());
    await until(() => !silent.some((s) => !s.closed));
    let admitted = 'closed';
    for (let attempt = 0; attempt < 50 && admitted !== 'secure'; attempt++) {
      const next = rawTls(port);
      admitted = await handshakeOutcome(next);
      next.destroy();
    }
    assert.equal(admitted, 'secure');
  } finally {
    await layer.close();
  }
});

test('limits: with maxConnectionsPerAddress 1 one TLS client is served (its own handshake does not count twice)', async () => {
  const { layer, port, rx } = await tlsListener({ limits: { maxConnectionsPerAddress: 1 } });
  try {
    const socket = rawTls(port);
    assert.equal(await handshakeOutcome(socket), 'secure');
    socket.write(options(1));
    // A refusal closes the socket instead of delivering the message: either ends the wait.
    await Promise.race([rx.waitFor(1), once(socket, 'close')]);
    assert.equal(rx.messages.length, 1, JSON.stringify(rx.logs));
    assert.equal(layer.connectionCount, 1);
    assert.ok(!rx.logs.some((l) => l.event === 'connection-refused'));
    socket.destroy();
  } finally {
    await layer.close();
  }
});

test('limits: an inbound TLS handshake that never starts is cut off at tlsHandshakeTimeoutMs, with a log line', async () => {
  const { layer, port, rx } = await tlsListener({ limits: { tlsHandshakeTimeoutMs: 50 } });
  try {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const localPort = socket.localPort;
    await once(socket, 'close');
    const line = rx.logs.find((l) => l.event === 'tls-handshake-failed');
    assert.equal(line?.reason, 'tls-timeout');
    assert.equal(line?.remote?.port, localPort);
    assert.equal(layer.connectionCount, 0);
  } finally {
    await layer.close();
  }
});

test('limits: an idle TLS connection is closed at idleTimeoutMs, with a log line', async () => {
  const { layer, port, rx } = await tlsListener({ limits: { idleTimeoutMs: 50 } });
  try {
    const socket = rawTls(port);
    assert.equal(await handshakeOutcome(socket), 'secure');
    await once(socket, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'idle-timeout'), JSON.stringify(rx.logs));
  } finally {
    await layer.close();
  }
});

/** Whether this OpenSSL lets a client offer TLS 1.1 at all (it needs security level 0). */
async function tls11ClientPossible(): Promise<string | undefined> {
  const server = tls.createServer({ cert: certA.pem, key: certA.keyPem, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  try {
    const socket = rawTls((server.address() as net.AddressInfo).port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const outcome = await handshakeOutcome(socket);
    const version = socket.getProtocol();
    socket.destroy();
    return outcome === 'secure' && version === 'TLSv1.1' ? undefined : `this OpenSSL (${process.versions.openssl}) cannot make a TLS 1.1 handshake even against a TLS 1.1 server: ${outcome}`;
  } finally {
    server.close();
  }
}

const noTls11 = await tls11ClientPossible();

test('TLS 1.1 clients are refused (minVersion TLSv1.2), with a log line', { skip: noTls11 ?? false }, async () => {
  const { layer, port, rx } = await tlsListener();
  try {
    const socket = rawTls(port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(await handshakeOutcome(socket), 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    await until(() => rx.logs.some((l) => l.event === 'tls-handshake-failed'));
    const line = rx.logs.find((l) => l.event === 'tls-handshake-failed');
    assert.equal(line?.reason, 'tls-handshake-failed');
    assert.match(line?.detail ?? '', /unsupported protocol/i);
    assert.equal(layer.connectionCount, 0);
  } finally {
    await layer.close();
  }
});

test('requireClientCertificate: a client without a certificate is closed and its message not delivered; one with a verified certificate is served', async () => {
  const { layer, port, rx } = await tlsListener({ trustStore, requireClientCertificate: true });
  try {
    const anonymous = rawTls(port, { servername: 'a.example' });
    assert.equal(await handshakeOutcome(anonymous), 'secure');
    const localPort = anonymous.localPort;
    anonymous.write(options(1));
    await once(anonymous, 'close');
    const refused = rx.logs.find((l) => l.event === 'client-certificate-refused');
    assert.ok(refused, JSON.stringify(rx.logs));
    assert.equal(refused.remote?.port, localPort);
    const withCert = rawTls(port, { servername: 'a.example', cert: clientCert.pem, key: clientCert.keyPem });
    assert.equal(await handshakeOutcome(withCert), 'secure');
    withCert.write(options(2));
    await rx.waitFor(1);
    assert.deepEqual(rx.messages.map((m) => m.message.callId()), ['call-2']);
    assert.equal(rx.messages[0]?.context.peer?.authenticated, true);
    withCert.destroy();
  } finally {
    await layer.close();
  }
});

test('without a trustStore option, peers are verified against the roots Node ships: a private CA is unknown both ways', { timeout: 20_000 }, async () => {
  const { layer, port, rx } = await tlsListener();
  const client = await TransportLayer.start({ listeners: [], clientCertificate: { cert: clientCert.pem, key: clientCert.keyPem }, onMessage: () => undefined, log: () => undefined });
  try {
    await assert.rejects(
      client.send(parseMessage(options(1)), { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'a.example' } }),
      (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated' && err.verdict?.reasons.some((r) => r.code === 'unknown-ca') === true,
    );
    // The server side: a client certificate from the private CA gets a verdict, and it is unknown-ca.
    const trusting = await TransportLayer.start({ listeners: [], trustStore, clientCertificate: { cert: clientCert.pem, key: clientCert.keyPem }, onMessage: () => undefined, log: () => undefined });
    try {
      await trusting.send(parseMessage(options(2)), { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'a.example' } });
      await until(() => rx.messages.length > 0);
      const received = rx.messages[0];
      assert.equal(received?.context.peer?.authenticated, false);
      assert.ok(received?.context.peer?.reasons.some((r) => r.code === 'unknown-ca'));
    } finally {
      await trusting.close();
    }
  } finally {
    await client.close();
    await layer.close();
  }
});

test('limits: a WSS connection counts from its TCP connect until its upgrade, so idle TLS without an upgrade cannot pile up', { timeout: 20_000 }, async () => {
  const rx = receiver();
  const layer = await TransportLayer.start({ listeners: [{ transport: 'wss', address: '127.0.0.1', port: 0, certificates: hosting(['b.example', certB]) }], ...rx, limits: { maxConnectionsPerAddress: 1 } });
  const port = layer.listening()[0]?.port ?? 0;
  try {
    // The first completes its TLS handshake and then says nothing: no HTTP request, no upgrade.
    const idle = rawTls(port);
    assert.equal(await handshakeOutcome(idle), 'secure');
    // The start of a request that never ends: the server is past the handshake, short of the upgrade.
    idle.write('GET / HTTP/1.1\r\n');
    // Whenever the others come, before or after the server has finished the first handshake, the
    // address's one place is taken.
    for (let attempt = 0; attempt < 10; attempt++) {
      const next = rawTls(port);
      assert.equal(await handshakeOutcome(next), 'ECONNRESET', `attempt ${attempt}`);
      next.destroy();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(rx.logs.some((l) => l.event === 'connection-refused' && /before the TLS handshake/.test(l.detail ?? '')), JSON.stringify(rx.logs));
    idle.destroy();
  } finally {
    await layer.close({ force: true });
  }
});

test('close({ force: true }) does not wait for sockets still in their TLS handshake', { timeout: 20_000 }, async () => {
  // A handshake timeout far beyond the test's own: only a close that destroys the socket ends in time.
  const { layer, port } = await tlsListener({ limits: { tlsHandshakeTimeoutMs: 600_000 } });
  const silent = net.connect(port, '127.0.0.1');
  silent.on('error', () => undefined);
  await once(silent, 'connect');
  await until(() => layer.connectionCount === 0);
  await layer.close({ force: true });
  await until(() => silent.closed || silent.destroyed || silent.readyState !== 'open');
  silent.destroy();
});

test('SNI on the context: each inbound TLS and WSS message says which hosted domain its peer asked for; undefined without SNI', { timeout: 20_000 }, async () => {
  const rx = receiver();
  const layer = await TransportLayer.start({
    listeners: [
      { transport: 'tls', address: '127.0.0.1', port: 0, certificates: hosting(['b.example', certB], ['a.example', certA]) },
      { transport: 'wss', address: '127.0.0.1', port: 0, certificates: hosting(['b.example', certB], ['a.example', certA]) },
    ],
    trustStore,
    ...rx,
  });
  const client = await TransportLayer.start({ listeners: [], trustStore, onMessage: () => undefined, log: () => undefined });
  const [tlsPort, wssPort] = layer.listening().map((l) => l.port);
  try {
    // The transport's own client sends the SIP domain as SNI.
    const sent = await client.send(parseMessage(options(1)), { transport: 'tls', address: '127.0.0.1', port: tlsPort ?? 0, tlsTarget: { sipDomain: 'a.example' } });
    await client.send(parseMessage(options(2)), { transport: 'tls', address: '127.0.0.1', port: tlsPort ?? 0, tlsTarget: { sipDomain: 'b.example' } });
    await client.send(parseMessage(options(3)), { transport: 'wss', address: '127.0.0.1', port: wssPort ?? 0, tlsTarget: { sipDomain: 'a.example' } });
    // A peer addressed by IP sends no SNI.
    const bare = rawTls(tlsPort ?? 0);
    assert.equal(await handshakeOutcome(bare), 'secure');
    bare.write(options(4));
    await rx.waitFor(4);
    const sniOf = new Map(rx.messages.map((m) => [m.message.callId(), m.context]));
    assert.equal(sniOf.get('call-1')?.sni, 'a.example');
    assert.equal(sniOf.get('call-2')?.sni, 'b.example');
    assert.equal(sniOf.get('call-3')?.sni, 'a.example');
    assert.equal(sniOf.get('call-3')?.transport, 'wss');
    assert.equal(sniOf.get('call-4')?.sni, undefined);
    assert.ok(!('sni' in (sniOf.get('call-4') ?? {})));
    assert.equal(sent.peer?.matchedIdentity, 'a.example');
    bare.destroy();
  } finally {
    await client.close();
    await layer.close();
  }
});
