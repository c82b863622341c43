import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
// The package root, as the README's users import it ('sipsec').
import { createResolver, locate, locateInputOf, parseSipUri, requestOnce, Responder, sendableTargets, TransportConfigError, TransportLayer, TrustStore, type Destination } from '../index.js';
import { EKU_SERVER_AUTH, issueCertificate } from '../lab/certificates.js';

test('README "Library": one OPTIONS over a verified TLS hop in three lines', async () => {
  const ca = issueCertificate({ cn: 'Readme CA', ca: true });
  const leaf = issueCertificate({ cn: 'sip.example.com', issuer: ca, san: { dns: ['example.com'] }, eku: [EKU_SERVER_AUTH] });
  const responder = await Responder.start({
    listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['example.com'], cert: leaf.pem, key: leaf.keyPem }] }],
    log: () => undefined,
  });
  try {
    const port = responder.listening()[0]?.port ?? 0;
    const trustStore = TrustStore.fromPem(ca.pem);
    // The README's lines, with the lab's address, port and private CA in place of a public server's.
    const r = await requestOnce({ uri: parseSipUri('sips:example.com'), trustStore, destination: { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'example.com' } } });
    assert.equal(r.outcome, 'response');
    assert.equal(r.response?.status, 200);
    assert.equal(r.verdict?.authenticated, true);
    assert.match(r.tls?.protocol ?? '', /^TLSv1\.[23]$/);
    assert.equal(typeof r.rttMs, 'number');
  } finally {
    await responder.close();
  }
});

test('README "Library": a located target is a Destination as it is (no cast); SCTP targets are left out', async () => {
  const responder = await Responder.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], log: () => undefined });
  const resolver = await createResolver({ backend: 'system' });
  try {
    const port = responder.listening()[0]?.port ?? 0;
    // A numeric host: located without a query.
    const uri = parseSipUri(`sip:127.0.0.1:${port};transport=tcp`);
    const [target] = sendableTargets((await locate(resolver, locateInputOf(uri))).targets);
    assert.ok(target !== undefined);
    // This line is the type test: target.transport is assignable to Destination['transport'].
    const destination: Destination = { transport: target.transport, address: target.address, port: target.port };
    const r = await requestOnce({ uri, destination });
    assert.equal(r.response?.status, 200);

    const sctp = { ...target, transport: 'sctp' as const };
    const tlsSctp = { ...target, transport: 'tls-sctp' as const };
    assert.deepEqual(sendableTargets([sctp, target, tlsSctp]), [target]);
  } finally {
    await resolver.close();
    await responder.close();
  }
});

test('requestOnce: a refused connection is connection-refused at once, a short deadline with no answer is timeout', async () => {
  const refused = await requestOnce({ uri: parseSipUri('sip:example.com;transport=tcp'), destination: { transport: 'tcp', address: '127.0.0.1', port: 9 } });
  assert.equal(refused.outcome, 'connection-refused');
  assert.equal(refused.response?.status, 503);
  // UDP to a port where nothing answers: the one deadline ends the attempt.
  const silent = await requestOnce({ uri: parseSipUri('sip:example.com'), destination: { transport: 'udp', address: '127.0.0.1', port: 9 }, timeoutMs: 300 });
  assert.ok(silent.outcome === 'timeout' || silent.outcome === 'unreachable', silent.outcome);
  await assert.rejects(requestOnce({ uri: parseSipUri('sip:example.com'), destination: { transport: 'udp', address: '127.0.0.1', port: 9 }, timeoutMs: 0 }), RangeError);
});

test('TransportLayer.start: no listeners is a client; listeners that are not an array get a coded error, not a raw TypeError', async () => {
  const client = await TransportLayer.start({ onMessage: () => undefined, log: () => undefined });
  assert.deepEqual(client.listening(), []);
  await client.close();
  await assert.rejects(
    TransportLayer.start({ listeners: 'udp' as never, onMessage: () => undefined }),
    (err: unknown) => err instanceof TransportConfigError && err.code === 'TRANSPORT_ERR_CONFIG' && err.option === 'listeners',
  );
});

test('requestOnce: an abort ends an attempt stalled in the TLS handshake at once, with outcome aborted', async () => {
  const sockets: Socket[] = [];
  // Accepts and never answers: the handshake would stall until the deadline.
  const silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const abort = new AbortController();
  try {
    const pending = requestOnce({
      uri: parseSipUri('sips:example.com'),
      destination: { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'example.com' } },
      timeoutMs: 60_000,
      onPhase: (phase) => {
        if (phase === 'connecting') setImmediate(() => abort.abort());
      },
      signal: abort.signal,
    });
    const r = await pending;
    assert.equal(r.outcome, 'aborted');
    assert.equal(r.response, undefined);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
