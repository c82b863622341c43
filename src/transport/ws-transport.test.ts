import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { WebSocket } from 'ws';
import { issueCertificate, EKU_CLIENT_AUTH, EKU_SERVER_AUTH, type TestCertificate } from '../lab/certificates.js';
import { frame, frameHeader, upgrade, WS_CONTINUATION, WS_PING, WS_TEXT, WS_TEXT_FIRST_FRAGMENT } from '../../test/support/raw-websocket.js';
import { SIP_LIMITS } from '../limits.js';
import { parseMessage, type ParseResult } from '../sip/parse-message.js';
import type { SipMessage } from '../sip/message.js';
import { TrustStore } from '../tls/trust-store.js';
import { TransportError, type TransportContext } from './transport-context.js';
import { TransportLayer, type TransportLayerOptions } from './transport-layer.js';
import type { TransportLogEvent } from './transport-log.js';

// RFC 7118 section 5: no Content-Length needed, the WebSocket message is the frame.
function request(n: number, body: Buffer = Buffer.alloc(0), transport = 'WS'): Buffer {
  return Buffer.concat([
    Buffer.from(
      `OPTIONS sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/${transport} df7jal23ls0d.invalid;branch=z9hG4bK${n}\r\nFrom: <sip:a@a.example>;tag=${n}\r\n` +
        `To: <sip:bob@b.example>\r\nCall-ID: call-${n}\r\nCSeq: ${n} OPTIONS\r\nMax-Forwards: 70\r\n` +
        (body.length > 0 ? `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n` : '') +
        '\r\n',
    ),
    body,
  ]);
}

function response(n: number, transport = 'WS'): Buffer {
  return Buffer.from(
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/${transport} df7jal23ls0d.invalid;branch=z9hG4bK${n}\r\nFrom: <sip:a@a.example>;tag=${n}\r\n` +
      `To: <sip:bob@b.example>;tag=r${n}\r\nCall-ID: call-${n}\r\nCSeq: ${n} OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );
}

interface Receiver extends Pick<TransportLayerOptions, 'onMessage' | 'onInvalid' | 'onConnectionClosed' | 'log'> {
  messages: Array<{ message: SipMessage; context: TransportContext }>;
  invalid: Array<{ result: Extract<ParseResult, { ok: false }>; context: TransportContext }>;
  closed: Array<{ connectionId: string; reason: string }>;
  logs: TransportLogEvent[];
  until(check: () => boolean): Promise<void>;
}

function receiver(): Receiver {
  const waiters: Array<() => void> = [];
  const wake = (): void => waiters.splice(0).forEach((w) => w());
  const r: Receiver = {
    messages: [],
    invalid: [],
    closed: [],
    logs: [],
    onMessage: (message, context) => {
      r.messages.push({ message, context });
      wake();
    },
    onInvalid: (result, context) => {
      r.invalid.push({ result, context });
      wake();
    },
    onConnectionClosed: (connectionId, reason) => {
      r.closed.push({ connectionId, reason });
      wake();
    },
    log: (e) => {
      r.logs.push(e);
      wake();
    },
    until: async (check) => {
      while (!check()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
  return r;
}

interface Pki {
  readonly trustStore: TrustStore;
  readonly server: TestCertificate;
  readonly client: TestCertificate;
}

function pki(): Pki {
  const ca = issueCertificate({ cn: 'WebSocket Test CA', ca: true });
  return {
    trustStore: TrustStore.fromPem(ca.pem),
    server: issueCertificate({ cn: 'ws.b.example', issuer: ca, san: { dns: ['b.example'], uri: ['sip:b.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] }),
    client: issueCertificate({ cn: 'proxy.a.example', issuer: ca, san: { dns: ['a.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] }),
  };
}

/** A raw ws client (not sipsec's) and how its handshake ended: open, or the HTTP status of the refusal. */
async function rawHandshake(url: string, protocols: string[]): Promise<{ ws: WebSocket; status: number | 'open' }> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
  const status = await new Promise<number | 'open'>((resolve, reject) => {
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
  return { ws, status };
}

test('WS: a round trip between two transport layers, connection reused, response on the same connection', async () => {
  const rx = receiver();
  const back = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx });
  const client = await TransportLayer.start({ listeners: [], ...back });
  try {
    const [listener] = server.listening();
    assert.equal(listener?.transport, 'ws');
    const port = listener?.port ?? 0;
    // A body that is not UTF-8 goes in a binary message (RFC 7118 section 4.2) and arrives intact.
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const first = await client.send(parseMessage(request(1)), { transport: 'ws', address: '127.0.0.1', port });
    const second = await client.send(parseMessage(request(2, binary)), { transport: 'ws', address: '127.0.0.1', port });
    assert.equal(first.peer, undefined);
    assert.equal(second.connectionId, first.connectionId);
    assert.equal(client.connectionCount, 1);
    // A connection closed by the server (1007 for a non-UTF-8 text message) ends the wait too.
    await rx.until(() => rx.messages.length === 2 || rx.closed.length > 0);
    assert.equal(rx.closed.length, 0, JSON.stringify(rx.closed));
    const [one, two] = rx.messages;
    assert.equal(one?.context.transport, 'ws');
    assert.equal(one?.context.remote.address, '127.0.0.1');
    assert.equal(one?.context.local.port, port);
    assert.equal(one?.context.peer, undefined);
    assert.ok(one?.context.connectionId?.startsWith('ws-'));
    assert.equal(two?.context.connectionId, one?.context.connectionId);
    assert.deepEqual(Buffer.from(two?.message.body ?? []), binary);
    assert.equal(rx.invalid.length, 0);

    // The response goes back on the connection the request came in on: the port given is not used.
    const inbound = one?.context;
    assert.ok(inbound?.connectionId);
    const sent = await server.send(parseMessage(response(1)), { transport: 'ws', address: inbound.remote.address, port: 9, connectionId: inbound.connectionId });
    assert.equal(sent.connectionId, inbound.connectionId);
    assert.equal(server.connectionCount, 1);
    await back.until(() => back.messages.length === 1);
    const answer = back.messages[0];
    assert.equal(answer?.message.kind, 'response');
    assert.equal(answer?.context.transport, 'ws');
    assert.equal(answer?.context.connectionId, first.connectionId);

    // The client goes away: the server hears of it, naming the connection.
    await client.close();
    await rx.until(() => rx.closed.length === 1);
    assert.equal(rx.closed[0]?.connectionId, inbound.connectionId);
    assert.equal(server.connectionCount, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('WSS: the server is verified for the SIP domain, the client certificate verified and on the context, reuse by verified domain', async () => {
  const { trustStore, server: serverCert, client: clientCert } = pki();
  const rx = receiver();
  const back = receiver();
  const server = await TransportLayer.start({
    listeners: [{ transport: 'wss', address: '127.0.0.1', port: 0, path: '/sip', certificates: [{ domains: ['b.example'], cert: serverCert.pem, key: serverCert.keyPem }] }],
    trustStore,
    ...rx,
  });
  const client = await TransportLayer.start({ listeners: [], trustStore, clientCertificate: { cert: clientCert.pem, key: clientCert.keyPem }, ...back });
  try {
    const port = server.listening()[0]?.port ?? 0;
    const to = { transport: 'wss', address: '127.0.0.1', port, wsPath: '/sip', tlsTarget: { sipDomain: 'b.example' } } as const;
    const first = await client.send(parseMessage(request(1, undefined, 'WSS')), to);
    assert.equal(first.peer?.authenticated, true);
    assert.equal(first.peer?.method, 'rfc5922');
    assert.equal(first.peer?.matchedIdentity, 'b.example');
    const second = await client.send(parseMessage(request(2, undefined, 'WSS')), to);
    assert.equal(second.connectionId, first.connectionId);
    assert.equal(client.connectionCount, 1);
    await rx.until(() => rx.messages.length === 2);
    const [one, two] = rx.messages;
    assert.equal(one?.context.transport, 'wss');
    assert.equal(one?.context.peer?.authenticated, true);
    assert.deepEqual(one?.context.peer?.peerIdentities, ['a.example']);
    assert.equal(two?.context.connectionId, one?.context.connectionId);

    const inbound = one?.context;
    assert.ok(inbound?.connectionId);
    await server.send(parseMessage(response(1, 'WSS')), { transport: 'wss', address: inbound.remote.address, port: 9, connectionId: inbound.connectionId });
    await back.until(() => back.messages.length === 1);
    assert.equal(back.messages[0]?.context.transport, 'wss');
    assert.equal(back.messages[0]?.context.connectionId, first.connectionId);
    assert.equal(back.messages[0]?.context.peer?.matchedIdentity, 'b.example');

    // Reuse is by the verified SIP domain (in any case, with or without the root dot), not by address:
    // another domain at the same address opens a new connection, whose server fails verification.
    const again = await client.send(parseMessage(request(3, undefined, 'WSS')), { ...to, tlsTarget: { sipDomain: 'B.Example.' } });
    assert.equal(again.connectionId, first.connectionId);
    await assert.rejects(
      client.send(parseMessage(request(4, undefined, 'WSS')), { ...to, tlsTarget: { sipDomain: 'c.example' } }),
      (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated',
    );
    assert.equal(client.connectionCount, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('WSS: a server whose certificate is for another domain is closed at once, before the upgrade', async () => {
  const { trustStore, server: serverCert } = pki();
  const rx = receiver();
  const server = await TransportLayer.start({
    listeners: [{ transport: 'wss', address: '127.0.0.1', port: 0, certificates: [{ domains: ['b.example'], cert: serverCert.pem, key: serverCert.keyPem }] }],
    trustStore,
    ...rx,
  });
  const client = await TransportLayer.start({ listeners: [], trustStore, onMessage: () => undefined, log: () => undefined });
  try {
    const port = server.listening()[0]?.port ?? 0;
    await assert.rejects(client.send(parseMessage(request(1, undefined, 'WSS')), { transport: 'wss', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'c.example' } }), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.reason, 'peer-not-authenticated');
      assert.equal(err.verdict?.authenticated, false);
      assert.ok(err.verdict?.reasons.some((r) => r.code === 'name-mismatch'), JSON.stringify(err.verdict?.reasons));
      return true;
    });
    assert.equal(client.connectionCount, 0);
    // Without a SIP domain to verify against, nothing is even attempted.
    await assert.rejects(client.send(parseMessage(request(2, undefined, 'WSS')), { transport: 'wss', address: '127.0.0.1', port }), (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated');
    // The server never saw an upgrade request: no WebSocket connection, no message.
    assert.equal(server.connectionCount, 0);
    assert.equal(rx.messages.length, 0);
    assert.equal(rx.logs.filter((l) => l.event.startsWith('websocket')).length, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('WSS: with requireClientCertificate, a client without a certificate is refused', async () => {
  const { trustStore, server: serverCert } = pki();
  const rx = receiver();
  const server = await TransportLayer.start({
    listeners: [{ transport: 'wss', address: '127.0.0.1', port: 0, certificates: [{ domains: ['b.example'], cert: serverCert.pem, key: serverCert.keyPem }] }],
    trustStore,
    requireClientCertificate: true,
    ...rx,
  });
  const client = await TransportLayer.start({ listeners: [], trustStore, onMessage: () => undefined, log: () => undefined });
  try {
    const port = server.listening()[0]?.port ?? 0;
    await assert.rejects(
      client.send(parseMessage(request(1, undefined, 'WSS')), { transport: 'wss', address: '127.0.0.1', port, tlsTarget: { sipDomain: 'b.example' } }),
      (err: unknown) => err instanceof TransportError && err.reason === 'ws-handshake-failed',
    );
    assert.ok(rx.logs.some((l) => l.event === 'client-certificate-refused'));
    assert.equal(server.connectionCount, 0);
    assert.equal(rx.messages.length, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('WS: an upgrade without the sip subprotocol is refused (RFC 7118 section 4.1); with it, accepted', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx });
  const opened: WebSocket[] = [];
  try {
    const url = `ws://127.0.0.1:${server.listening()[0]?.port ?? 0}/`;
    assert.equal((await rawHandshake(url, [])).status, 400);
    assert.equal((await rawHandshake(url, ['chat'])).status, 400);
    assert.equal(rx.logs.filter((l) => l.event === 'websocket-upgrade-refused' && l.reason === 'sip-subprotocol-missing').length, 2);
    const accepted = await rawHandshake(url, ['chat', 'sip']);
    opened.push(accepted.ws);
    assert.equal(accepted.status, 'open');
    assert.equal(accepted.ws.protocol, 'sip');
    await rx.until(() => server.connectionCount === 1);
  } finally {
    opened.forEach((ws) => ws.terminate());
    await server.close();
  }
});

test('WS: a message over maxMessageBytes closes the connection (1009) and is not delivered; invalid ones go to onInvalid', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx });
  const { ws, status } = await rawHandshake(`ws://127.0.0.1:${server.listening()[0]?.port ?? 0}/`, ['sip']);
  try {
    assert.equal(status, 'open');
    // An invalid message first: handed up with the response to send, and the connection stays.
    ws.send(request(1).toString().replace('SIP/2.0\r\n', 'SIP/7.0\r\n'));
    await rx.until(() => rx.invalid.length === 1);
    assert.equal(rx.invalid[0]?.result.response?.status, 505);
    assert.equal(rx.invalid[0]?.context.transport, 'ws');
    ws.send(request(2));
    await rx.until(() => rx.messages.length === 1);
    const closed = once(ws, 'close') as Promise<[number, Buffer]>;
    ws.send(request(3, Buffer.alloc(SIP_LIMITS.maxMessageBytes, 0x61)));
    const [code] = await closed;
    assert.equal(code, 1009);
    await rx.until(() => rx.closed.length === 1);
    assert.equal(rx.closed[0]?.reason, 'message-too-large');
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'message-too-large'));
    assert.equal(rx.messages.length, 1);
    assert.equal(server.connectionCount, 0);
  } finally {
    ws.terminate();
    await server.close();
  }
});

test('WS: an idle connection is closed by the idle limit, and the closing is reported', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx, limits: { idleTimeoutMs: 50 } });
  const { ws, status } = await rawHandshake(`ws://127.0.0.1:${server.listening()[0]?.port ?? 0}/`, ['sip']);
  try {
    assert.equal(status, 'open');
    // A CRLFCRLF keep-alive (RFC 5626 section 3.5.1 over RFC 7118 section 6) is answered with CRLF.
    ws.send('\r\n\r\n');
    const [pong] = (await once(ws, 'message')) as [Buffer];
    assert.equal(pong.toString(), '\r\n');
    await once(ws, 'close');
    await rx.until(() => rx.closed.length === 1);
    assert.equal(rx.closed[0]?.reason, 'idle-timeout');
    assert.equal(rx.messages.length + rx.invalid.length, 0);
  } finally {
    ws.terminate();
    await server.close();
  }
});

test('WS: connections per address are bounded from the TCP accept, connections that never upgrade included', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx, limits: { maxConnectionsPerAddress: 1 } });
  const opened: WebSocket[] = [];
  try {
    const port = server.listening()[0]?.port ?? 0;
    const url = `ws://127.0.0.1:${port}/`;
    // A connection that never sends its HTTP request holds the address's one place.
    const silent = net.connect(port, '127.0.0.1');
    await once(silent, 'connect');
    await assert.rejects(rawHandshake(url, ['sip']));
    assert.ok(rx.logs.some((l) => l.event === 'connection-refused' && l.reason === 'connection-limit' && (l.detail ?? '').includes('before the WebSocket upgrade')), JSON.stringify(rx.logs));
    silent.destroy();
    await once(silent, 'close');
    // Its place is free again once it is gone, and an upgraded connection then holds it.
    let first: Awaited<ReturnType<typeof rawHandshake>> | undefined;
    for (let attempt = 0; attempt < 50 && first === undefined; attempt++) {
      first = await rawHandshake(url, ['sip']).catch(() => undefined);
    }
    assert.ok(first !== undefined);
    opened.push(first.ws);
    assert.equal(first.status, 'open');
    await rx.until(() => server.connectionCount === 1);
    await assert.rejects(rawHandshake(url, ['sip']));
    assert.equal(server.connectionCount, 1);
  } finally {
    opened.forEach((ws) => ws.terminate());
    await server.close();
  }
});

test('WS: a connection that does not complete its upgrade within wsUpgradeTimeoutMs is closed, with a log line', async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx, limits: { wsUpgradeTimeoutMs: 200 } });
  try {
    const socket = net.connect(server.listening()[0]?.port ?? 0, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await once(socket, 'close');
    assert.ok(rx.logs.some((l) => l.event === 'connection-closed' && l.reason === 'upgrade-timeout'), JSON.stringify(rx.logs));
    assert.equal(server.connectionCount, 0);
  } finally {
    await server.close();
  }
});

test('WS: a server that does not answer 101 with sip fails the send at once', async () => {
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0, path: '/sip' }], onMessage: () => undefined, log: () => undefined });
  const client = await TransportLayer.start({ listeners: [], onMessage: () => undefined, log: () => undefined });
  try {
    const port = server.listening()[0]?.port ?? 0;
    await assert.rejects(client.send(parseMessage(request(1)), { transport: 'ws', address: '127.0.0.1', port, wsPath: '/' }), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.reason, 'ws-handshake-failed');
      assert.match(err.detail, /404/);
      return true;
    });
    assert.equal(client.connectionCount, 0);
    const ok = await client.send(parseMessage(request(2)), { transport: 'ws', address: '127.0.0.1', port, wsPath: '/sip' });
    assert.ok(ok.connectionId?.startsWith('ws-'));
  } finally {
    await client.close();
    await server.close();
  }
});

/** A raw socket upgraded to SIP over WebSocket on the layer's WS listener, for frames written by hand. */
async function rawWs(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  assert.equal(await upgrade(socket, `127.0.0.1:${port}`), 101);
  return socket;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `step` every few milliseconds until the socket closes (bounded: the test fails if it never does). */
async function trickleUntilClosed(socket: net.Socket, step: (n: number) => Buffer): Promise<void> {
  for (let n = 0; !socket.destroyed && n < 2_000; n++) {
    socket.write(step(n));
    await pause(20);
  }
  if (!socket.destroyed) await once(socket, 'close');
}

test('WS: a frame trickled byte by byte, endless fragments and a half-sent ping are cut off at messageCompleteTimeoutMs', { timeout: 60_000 }, async () => {
  const rx = receiver();
  const server = await TransportLayer.start({ listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }], ...rx, limits: { messageCompleteTimeoutMs: 300 } });
  try {
    const port = server.listening()[0]?.port ?? 0;
    // A 65,000-byte text frame, one byte at a time: ws waits for the rest without a deadline.
    const big = await rawWs(port);
    big.write(frameHeader(WS_TEXT, 65_000));
    await trickleUntilClosed(big, () => Buffer.from('a'));
    // A text message whose fragments never end, with pings between them.
    const fragments = await rawWs(port);
    fragments.write(frame(WS_TEXT_FIRST_FRAGMENT, 'OPTIONS'));
    await trickleUntilClosed(fragments, (n) => frame(n % 2 === 0 ? WS_CONTINUATION : WS_PING, ''));
    // A ping frame left half-sent.
    const ping = await rawWs(port);
    ping.write(frame(WS_PING, 'keep').subarray(0, 3));
    if (!ping.destroyed) await once(ping, 'close');
    await rx.until(() => rx.closed.length === 3);
    assert.deepEqual(rx.closed.map((c) => c.reason), ['message-incomplete-timeout', 'message-incomplete-timeout', 'message-incomplete-timeout']);
    assert.equal(rx.messages.length + rx.invalid.length, 0);
  } finally {
    await server.close();
  }
});

test('WS: messages across reads each get their own deadline; pings are capped between data messages', { timeout: 60_000 }, async () => {
  const rx = receiver();
  const server = await TransportLayer.start({
    listeners: [{ transport: 'ws', address: '127.0.0.1', port: 0 }],
    ...rx,
    limits: { messageCompleteTimeoutMs: 1_000, wsMaxControlFramesBetweenMessages: 5 },
  });
  try {
    const port = server.listening()[0]?.port ?? 0;
    // Every write ends one message and starts the next, for three deadlines' worth of writes.
    const busy = await rawWs(port);
    const writes = 60;
    const stream = Buffer.concat(Array.from({ length: writes + 1 }, (_, n) => frame(WS_TEXT, request(n + 1))));
    let previous = 0;
    for (let k = 1; k <= writes; k++) {
      const next = Math.floor((stream.length * k) / (writes + 1)) + 20;
      busy.write(stream.subarray(previous, next));
      previous = next;
      await pause(3_000 / writes);
    }
    await rx.until(() => rx.messages.length === writes);
    assert.equal(rx.closed.length, 0);
    busy.destroy();
    // Five pings in a row are keep-alives (RFC 7118 section 6) and a data message resets the count:
    // each request after five pings arrives. Six in a row close the connection.
    const pinger = await rawWs(port);
    for (const n of [100, 101]) {
      for (let p = 0; p < 5; p++) pinger.write(frame(WS_PING, ''));
      pinger.write(frame(WS_TEXT, request(n)));
      await rx.until(() => rx.messages.length === writes + n - 99);
    }
    assert.equal(rx.closed.length, 1);
    for (let p = 0; p < 6; p++) pinger.write(frame(WS_PING, ''));
    await once(pinger, 'close');
    await rx.until(() => rx.closed.length === 2);
    assert.equal(rx.closed[1]?.reason, 'control-frame-limit');
  } finally {
    await server.close();
  }
});
