/**
 * sendWithFailover over real loopback sockets: a TCP destination that refuses, then one that
 * answers; a TLS server whose certificate is refused, then one that is verified.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { EKU_SERVER_AUTH, issueCertificate } from '../lab/certificates.js';
import type { SipRequest } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import { parseSipUri } from '../sip/uri.js';
import { TrustStore } from '../tls/trust-store.js';
import type { Destination } from '../transport/transport-context.js';
import { buildRequest } from './build-request.js';
import { sendWithFailover } from './failover.js';
import { newBranch } from './identifiers.js';
import { Responder } from './responder.js';
import { SipStack } from './sip-stack.js';

/** A port where nothing listens: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One request, then per attempt the same request with a Via for its destination and a new branch. */
function attempts(uri: string): (destination: Destination) => SipRequest {
  const base = buildRequest({ method: 'OPTIONS', uri: parseSipUri(uri), from: 'sip:failover@127.0.0.1', via: { transport: 'tcp', host: '127.0.0.1' } });
  return (destination) => {
    const copy = parseMessage(serializeMessage(base)) as SipRequest;
    copy.setHeader('via', `SIP/2.0/${destination.transport.toUpperCase()} 127.0.0.1;branch=${newBranch()};rport`);
    return copy;
  };
}

test('TCP: a refused connection, then the next destination answers', async () => {
  const responder = await Responder.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], log: () => undefined });
  const stack = await SipStack.start({ listeners: [], tu: () => ({}), log: () => undefined });
  try {
    const destinations: Destination[] = [
      { transport: 'tcp', address: '127.0.0.1', port: await closedPort() },
      { transport: 'tcp', address: '127.0.0.1', port: responder.listening()[0]?.port ?? 0 },
    ];
    const result = await sendWithFailover({ transactions: stack.transactions, destinations, request: attempts('sip:example.com;transport=tcp') });
    assert.deepEqual(result.attempts.map((a) => `${a.response.status} ${a.info.origin} ${a.info.failure?.reason ?? ''}`), ['503 transport-error connection-refused', '200 network ']);
    assert.equal(result.response.status, 200);
    const [first, second] = result.attempts;
    assert.equal(first?.request.callId(), second?.request.callId());
    assert.notEqual(first?.request.topVia()?.params.find((p) => p.name === 'branch')?.value, second?.request.topVia()?.params.find((p) => p.name === 'branch')?.value);
  } finally {
    await stack.close({ force: true });
    await responder.close();
  }
});

test('TLS: a server whose certificate is refused, then one that is verified; each attempt carries its verdict', async () => {
  const ca = issueCertificate({ cn: 'Failover CA', ca: true });
  const wrong = issueCertificate({ cn: 'other.example', issuer: ca, san: { dns: ['other.example'] }, eku: [EKU_SERVER_AUTH] });
  const good = issueCertificate({ cn: 'sip.example.com', issuer: ca, san: { dns: ['example.com'] }, eku: [EKU_SERVER_AUTH] });
  const impostor = await Responder.start({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['other.example'], cert: wrong.pem, key: wrong.keyPem }] }], log: () => undefined });
  const server = await Responder.start({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['example.com'], cert: good.pem, key: good.keyPem }] }], log: () => undefined });
  const stack = await SipStack.start({ listeners: [], trustStore: TrustStore.fromPem(ca.pem), tu: () => ({}), log: () => undefined });
  try {
    const tlsTarget = { sipDomain: 'example.com' };
    const destinations: Destination[] = [
      { transport: 'tls', address: '127.0.0.1', port: impostor.listening()[0]?.port ?? 0, tlsTarget },
      { transport: 'tls', address: '127.0.0.1', port: server.listening()[0]?.port ?? 0, tlsTarget },
    ];
    const result = await sendWithFailover({ transactions: stack.transactions, destinations, request: attempts('sips:example.com') });
    const [refused, verified] = result.attempts;
    assert.equal(refused?.info.failure?.reason, 'peer-not-authenticated');
    assert.equal(refused?.info.hop?.verdict?.authenticated, false);
    assert.ok(refused?.info.hop?.verdict?.reasons.some((r) => r.code === 'name-mismatch'));
    assert.equal(verified?.response.status, 200);
    assert.equal(verified?.info.hop?.verdict?.authenticated, true);
    assert.equal(result.response.status, 200);
  } finally {
    await stack.close({ force: true });
    await impostor.close();
    await server.close();
  }
});
