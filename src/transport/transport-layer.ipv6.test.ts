import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { issueCertificate, EKU_SERVER_AUTH } from '../lab/certificates.js';
import { parseMessage } from '../sip/parse-message.js';
import { TrustStore } from '../tls/trust-store.js';
import { options, receiver } from './fixtures.test.support.js';
import { TransportLayer } from './transport-layer.js';

/** Why ::1 cannot be used here (a real bind fails), or undefined when it can. */
async function ipv6LoopbackUnavailable(): Promise<string | undefined> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '::1', () => resolve()));
    return undefined;
  } catch (err) {
    return `this machine has no IPv6 loopback: binding [::1]:0 failed (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  } finally {
    probe.close();
  }
}

const skip = await ipv6LoopbackUnavailable();

test('IPv6: UDP, TCP and TLS listeners on ::1 receive and answer over ::1', { skip: skip ?? false }, async () => {
  const ca = issueCertificate({ cn: 'IPv6 Test CA', ca: true });
  const serverCert = issueCertificate({ cn: 'b.example', issuer: ca, san: { dns: ['b.example'] }, eku: [EKU_SERVER_AUTH] });
  const trustStore = TrustStore.fromPem(ca.pem);
  const rx = receiver();
  const server = await TransportLayer.start({
    listeners: [
      { transport: 'udp', address: '::1', port: 0 },
      { transport: 'tcp', address: '::1', port: 0 },
      { transport: 'tls', address: '::1', port: 0, certificates: [{ domains: ['b.example'], cert: serverCert.pem, key: serverCert.keyPem }] },
    ],
    ...rx,
  });
  const back = receiver();
  const client = await TransportLayer.start({ listeners: [{ transport: 'udp', address: '::1', port: 0 }], trustStore, ...back });
  try {
    const [udp, tcp, tls] = server.listening();
    assert.ok(udp && tcp && tls);
    assert.deepEqual([udp.address, tcp.address, tls.address], ['::1', '::1', '::1']);
    await client.send(parseMessage(options(1)), { transport: 'udp', address: '::1', port: udp.port });
    await client.send(parseMessage(options(2)), { transport: 'tcp', address: '::1', port: tcp.port });
    const sent = await client.send(parseMessage(options(3)), { transport: 'tls', address: '::1', port: tls.port, tlsTarget: { sipDomain: 'b.example' } });
    assert.equal(sent.peer?.authenticated, true);
    await rx.waitFor(3);
    const byCallId = new Map(rx.messages.map((m) => [m.message.callId(), m.context]));
    for (const [callId, transport, port] of [['call-1', 'udp', udp.port], ['call-2', 'tcp', tcp.port], ['call-3', 'tls', tls.port]] as const) {
      const context = byCallId.get(callId);
      assert.equal(context?.transport, transport);
      assert.deepEqual(context?.local, { address: '::1', port });
      assert.equal(context?.remote.address, '::1');
    }
    // Back to the client over the same family: UDP to its ::1 socket, TCP and TLS on the connections.
    for (const { message, context } of rx.messages) {
      await server.send(message, { transport: context.transport, address: context.remote.address, port: context.remote.port, connectionId: context.connectionId });
    }
    await back.waitFor(3);
    assert.deepEqual(back.messages.map((m) => `${m.context.transport} ${m.context.remote.address}`).sort(), ['tcp ::1', 'tls ::1', 'udp ::1']);
  } finally {
    await client.close();
    await server.close();
  }
});
