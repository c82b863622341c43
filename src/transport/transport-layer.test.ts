import { test } from 'node:test';
import { LimitError } from '../limits.js';
import { BadPolicyError } from '../tls/errors.js';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { issueCertificate, EKU_CLIENT_AUTH, EKU_SERVER_AUTH } from '../lab/certificates.js';
import { parseMessage } from '../sip/parse-message.js';
import { TrustStore } from '../tls/trust-store.js';
import { TransportError } from './transport-context.js';
import { TransportLayer } from './transport-layer.js';
import { connectError, options, receiver, udpPortFree, until } from './fixtures.test.support.js';

test('UDP and TCP: messages arrive parsed, with their transport context', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx });
  const client = await TransportLayer.start({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], onMessage: () => undefined, log: () => undefined });
  try {
    const [udp, tcp] = server.listening();
    assert.ok(udp && tcp);
    await client.send(parseMessage(options(1)), { transport: 'udp', address: '127.0.0.1', port: udp.port });
    await client.send(parseMessage(options(2, 'hello')), { transport: 'tcp', address: '127.0.0.1', port: tcp.port });
    await client.send(parseMessage(options(3)), { transport: 'tcp', address: '127.0.0.1', port: tcp.port });
    await rx.waitFor(3);
    const byCallId = new Map(rx.messages.map((m) => [m.message.callId(), m]));
    assert.equal(byCallId.get('call-1')?.context.transport, 'udp');
    assert.equal(byCallId.get('call-1')?.context.connectionId, undefined);
    const tcp2 = byCallId.get('call-2');
    assert.equal(tcp2?.context.transport, 'tcp');
    assert.equal(Buffer.from(tcp2?.message.body ?? []).toString(), 'hello');
    // The second TCP message reused the first connection.
    assert.equal(byCallId.get('call-3')?.context.connectionId, tcp2?.context.connectionId);
    assert.equal(client.connectionCount, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('an invalid request is handed up with the response to send; a lost stream framing closes the connection', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx });
  try {
    const port = server.listening()[0]?.port ?? 0;
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    // One write: the well-framed first message must not be lost with the unframable second one.
    socket.write(options(1).toString().replace('SIP/2.0\r\n', 'SIP/7.0\r\n') + 'OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK9\r\nContent-Length: -5\r\n\r\n');
    await rx.waitFor(2);
    assert.equal(rx.invalid[0]?.result.response?.status, 505);
    assert.equal(rx.invalid[1]?.result.faults[0]?.code, 'SIP_ERR_BAD_CONTENT_LENGTH');
    assert.equal(rx.invalid[1]?.result.response?.status, 400);
    await once(socket, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'framing-lost'));
  } finally {
    await server.close();
  }
});

test('RFC 5626 keep-alive: a CRLFCRLF ping is answered with a CRLF pong', async () => {
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], onMessage: () => undefined, log: () => undefined });
  try {
    const socket = net.connect(server.listening()[0]?.port ?? 0, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('\r\n\r\n');
    const [pong] = (await once(socket, 'data')) as [Buffer];
    assert.equal(pong.toString(), '\r\n');
    socket.destroy();
  } finally {
    await server.close();
  }
});

test('limits: a peer that never completes its message is cut off, with a log line saying why', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx, limits: { messageCompleteTimeoutMs: 50 } });
  try {
    const socket = net.connect(server.listening()[0]?.port ?? 0, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h');
    await once(socket, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'message-incomplete-timeout'));
    assert.equal(rx.messages.length, 0);
  } finally {
    await server.close();
  }
});

test('limits: the message deadline runs per message, so a busy peer pipelining messages across reads is not cut off', { timeout: 30_000 }, async () => {
  const rx = receiver();
  const timeoutMs = 1_000;
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx, limits: { messageCompleteTimeoutMs: timeoutMs } });
  try {
    const socket = net.connect(server.listening()[0]?.port ?? 0, '127.0.0.1');
    await once(socket, 'connect');
    // Every write finishes one message and starts the next: the buffer never empties, yet each
    // message completes long before its own deadline. Three deadlines' worth of writes in all.
    const writes = 60;
    const stream = Buffer.concat(Array.from({ length: writes + 1 }, (_, n) => options(n + 1)));
    const cut = (k: number): number => (stream.length * k) / (writes + 1) + 20;
    let previous = 0;
    for (let k = 1; k <= writes; k++) {
      const next = Math.floor(cut(k));
      socket.write(stream.subarray(previous, next));
      previous = next;
      await new Promise((resolve) => setTimeout(resolve, (3 * timeoutMs) / writes));
    }
    await rx.waitFor(writes);
    assert.equal(rx.messages.length, writes);
    assert.equal(server.connectionCount, 1);
    assert.ok(!rx.logs.some((l) => l.event === 'connection-closed'), JSON.stringify(rx.logs));
    // The last message, left half-sent, is still held to its own deadline.
    await once(socket, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'message-incomplete-timeout'));
  } finally {
    await server.close();
  }
});

test('limits: connections per remote address are bounded', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx, limits: { maxConnectionsPerAddress: 2 } });
  try {
    const port = server.listening()[0]?.port ?? 0;
    const sockets = [0, 1, 2].map(() => net.connect(port, '127.0.0.1'));
    const third = sockets[2];
    assert.ok(third);
    await once(third, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'connection-refused' && l.reason === 'connection-limit'));
    await until(() => server.connectionCount === 2);
    sockets.forEach((s) => s.destroy());
  } finally {
    await server.close();
  }
});

test('limits: over maxConnections the listener drops the connection, with a log line', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx, limits: { maxConnections: 1 } });
  try {
    const port = server.listening()[0]?.port ?? 0;
    const first = net.connect(port, '127.0.0.1');
    await once(first, 'connect');
    await until(() => server.connectionCount === 1);
    const second = net.connect(port, '127.0.0.1');
    await once(second, 'connect');
    const secondPort = second.localPort;
    await once(second, 'close');
    const line = rx.logs.find((l) => l.event === 'connection-refused');
    assert.equal(line?.reason, 'connection-limit');
    assert.equal(line?.remote?.port, secondPort);
    assert.match(line?.detail ?? '', /^maxConnections = 1 reached on TCP listener/);
    assert.equal(server.connectionCount, 1);
    first.destroy();
  } finally {
    await server.close();
  }
});

test('limits: an idle TCP connection is closed at idleTimeoutMs, with a log line', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx, limits: { idleTimeoutMs: 50 } });
  try {
    const socket = net.connect(server.listening()[0]?.port ?? 0, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(options(1));
    await rx.waitFor(1);
    await once(socket, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'idle-timeout'));
    await until(() => server.connectionCount === 0);
  } finally {
    await server.close();
  }
});

test('TLS: mutual authentication both ways, verdicts on the connection, reuse only for the verified domain', async () => {
  const ca = issueCertificate({ cn: 'Transport Test CA', ca: true });
  const serverCert = issueCertificate({ cn: 'proxy.b.example', issuer: ca, san: { dns: ['b.example'], uri: ['sip:b.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  const clientCert = issueCertificate({ cn: 'proxy.a.example', issuer: ca, san: { dns: ['a.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  const trustStore = TrustStore.fromPem(ca.pem);
  const rx = receiver();
  const server = await TransportLayer.start({
    listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['b.example'], cert: serverCert.pem, key: serverCert.keyPem }] }],
    trustStore,
    ...rx,
  });
  const client = await TransportLayer.start({ listeners: [], trustStore, clientCertificate: { cert: clientCert.pem, key: clientCert.keyPem }, onMessage: () => undefined, log: () => undefined });
  try {
    const port = server.listening()[0]?.port ?? 0;
    const { peer: verdict } = await client.send(parseMessage(options(1)), { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'b.example' } });
    assert.equal(verdict?.authenticated, true);
    assert.equal(verdict?.method, 'rfc5922');
    assert.equal(verdict?.matchedIdentity, 'b.example');
    await client.send(parseMessage(options(2)), { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'b.example' } });
    await rx.waitFor(2);
    const [first, second] = rx.messages;
    assert.equal(first?.context.transport, 'tls');
    assert.equal(first?.context.peer?.authenticated, true);
    assert.deepEqual(first?.context.peer?.peerIdentities, ['a.example']);
    assert.equal(second?.context.connectionId, first?.context.connectionId);
    // The same address asked for another SIP domain: the certificate does not cover it, the send fails at once.
    await assert.rejects(
      client.send(parseMessage(options(3)), { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'c.example' } }),
      (err: unknown) => {
        assert.ok(err instanceof TransportError);
        assert.equal(err.reason, 'peer-not-authenticated');
        assert.ok(err.verdict?.reasons.some((r) => r.code === 'name-mismatch'));
        return true;
      },
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('sending to a closed port fails with connection-refused, not a hang', async () => {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const client = await TransportLayer.start({ listeners: [], onMessage: () => undefined, log: () => undefined });
  try {
    await assert.rejects(client.send(parseMessage(options(1)), { transport: 'tcp', address: '127.0.0.1', port }), (err: unknown) => err instanceof TransportError && err.reason === 'connection-refused');
  } finally {
    await client.close();
  }
});

test('graceful close: new connections are refused, existing ones and UDP keep serving until the caller is done', { timeout: 30_000 }, async () => {
  const rx = receiver();
  const closed: Array<{ connectionId: string; reason: string }> = [];
  const server = await TransportLayer.start({
    listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }, { transport: 'udp', address: '127.0.0.1', port: 0 }],
    ...rx,
    onConnectionClosed: (connectionId, reason) => closed.push({ connectionId, reason }),
  });
  try {
    const [tcp, udp] = server.listening();
    assert.ok(tcp && udp);
    const socket = net.connect(tcp.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(options(1));
    await rx.waitFor(1);
    let release: () => void = () => undefined;
    const closing = server.close({ after: new Promise<void>((resolve) => (release = resolve)) });
    assert.equal(server.closing, true);
    assert.equal(await connectError(tcp.port), 'ECONNREFUSED');
    // The connection that was open keeps carrying messages both ways, and so does the UDP socket.
    socket.write(options(2));
    await rx.waitFor(2);
    const connectionId = rx.messages[0]?.context.connectionId;
    assert.ok(connectionId !== undefined);
    const answered = once(socket, 'data');
    await server.send(parseMessage(options(3)), { transport: 'tcp', address: '127.0.0.1', port: 0, connectionId });
    assert.match(String((await answered)[0]), /^OPTIONS sip:bob@example.com/);
    const udpClient = dgram.createSocket('udp4');
    udpClient.send(options(4), udp.port, '127.0.0.1');
    await rx.waitFor(3);
    udpClient.close();
    assert.equal(closed.length, 0);
    release();
    await closing;
    assert.deepEqual(closed, [{ connectionId, reason: 'local-close' }]);
    assert.equal(server.connectionCount, 0);
    assert.equal(await udpPortFree(udp.port), true);
    assert.ok(!rx.logs.some((l) => l.event === 'graceful-close-deadline'));
    socket.destroy();
  } finally {
    await server.close({ force: true });
  }
});

test('graceful close: at gracefulCloseMs every connection is closed with a log line, whatever the caller still waits for', { timeout: 30_000 }, async () => {
  const rx = receiver();
  const closed: Array<{ connectionId: string; reason: string }> = [];
  const server = await TransportLayer.start({
    listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }, { transport: 'udp', address: '127.0.0.1', port: 0 }],
    ...rx,
    limits: { gracefulCloseMs: 50 },
    onConnectionClosed: (connectionId, reason) => closed.push({ connectionId, reason }),
  });
  try {
    const [tcp, udp] = server.listening();
    assert.ok(tcp && udp);
    const socket = net.connect(tcp.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(options(1));
    await rx.waitFor(1);
    const peerClosed = once(socket, 'close');
    await server.close({ after: new Promise<void>(() => undefined) });
    await peerClosed;
    assert.deepEqual(closed.map((c) => c.reason), ['graceful-close-deadline']);
    assert.ok(rx.logs.some((l) => l.event === 'graceful-close-deadline' && l.level === 'warn'));
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'graceful-close-deadline'));
    assert.equal(await connectError(tcp.port), 'ECONNREFUSED');
    assert.equal(await udpPortFree(udp.port), true);
    await assert.rejects(server.send(parseMessage(options(2)), { transport: 'udp', address: '127.0.0.1', port: udp.port }), (err: unknown) => err instanceof TransportError && err.reason === 'unreachable');
  } finally {
    await server.close({ force: true });
  }
});

test('graceful close: close({ force: true }) cuts a graceful close short', { timeout: 30_000 }, async () => {
  const rx = receiver();
  const closed: string[] = [];
  const server = await TransportLayer.start({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], ...rx, onConnectionClosed: (_id, reason) => closed.push(reason) });
  try {
    const socket = net.connect(server.listening()[0]?.port ?? 0, '127.0.0.1');
    await once(socket, 'connect');
    await until(() => server.connectionCount === 1);
    const graceful = server.close({ after: new Promise<void>(() => undefined) });
    await server.close({ force: true });
    await graceful;
    // Not the deadline (5 s by default): the forced close ended the wait.
    assert.deepEqual(closed, ['local-close']);
    assert.ok(!rx.logs.some((l) => l.event === 'graceful-close-deadline'));
    socket.destroy();
  } finally {
    await server.close({ force: true });
  }
});

test('configuration is checked at construction: an unknown or out-of-range limit and a bad TLS policy fail the start, naming the field', async () => {
  const start = (extra: Record<string, unknown>): Promise<unknown> => TransportLayer.start({ listeners: [], onMessage: () => undefined, log: () => undefined, ...extra });
  await assert.rejects(start({ limits: { idleTimeoutMs: -1 } }), (err: unknown) => err instanceof LimitError && err.field === 'limits.idleTimeoutMs');
  await assert.rejects(start({ limits: { idelTimeoutMs: 5 } }), (err: unknown) => err instanceof LimitError && err.field === 'limits.idelTimeoutMs');
  await assert.rejects(start({ sipLimits: { maxHeaders: 1.5 } }), (err: unknown) => err instanceof LimitError && err.field === 'sipLimits.maxHeaders');
  await assert.rejects(start({ tlsPolicy: { mode: 'loose' } }), (err: unknown) => err instanceof BadPolicyError);
  const ok = await TransportLayer.start({ listeners: [], onMessage: () => undefined, log: () => undefined, limits: { idleTimeoutMs: 5_000 } });
  await ok.close();
});
