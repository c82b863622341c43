/**
 * Hostile peers against the transport layer on loopback, with small limits so that the suite runs
 * in seconds: slowloris on TCP, TLS, WS and WSS (after and before the WebSocket upgrade), half-open
 * TLS, endless headers, a huge Content-Length, per-address floods on every transport, and trickling
 * WebSocket frames. Each test checks that the peer IS cut off, and why (the reason of the log line
 * naming its address and port), and that a good client is answered meanwhile. No test puts an upper
 * bound on a time; a cut is checked to come no earlier than its deadline.
 *
 * Addresses used by no other test: the element listens on 127.0.0.60 (ports chosen by the kernel),
 * good clients connect from 127.0.0.69, hostile ones from 127.0.0.61-65 and 127.0.0.68.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { issueCertificate, EKU_SERVER_AUTH, type TestCertificate } from '../../src/lab/certificates.js';
import type { SipLimits, TransportLimits } from '../../src/limits.js';
import type { TransportProtocol } from '../../src/transport/transport-context.js';
import type { TransportLogEvent } from '../../src/transport/transport-log.js';
import { until } from '../../src/transport/fixtures.test.support.js';
import { Responder } from '../../src/ua/responder.js';
import { frame, frameHeader, upgrade, upgradeRequest, WS_CONTINUATION, WS_PING, WS_TEXT, WS_TEXT_FIRST_FRAGMENT } from '../support/raw-websocket.js';

const HOST = '127.0.0.60';
const GOOD = '127.0.0.69';
const DOMAIN = 'hostile.sipsec.test';

const limits: Partial<TransportLimits> = {
  messageCompleteTimeoutMs: 500,
  tlsHandshakeTimeoutMs: 500,
  // Longer than the TLS handshake deadline, so that a half-open WSS connection is cut by that one.
  wsUpgradeTimeoutMs: 1_000,
  maxConnectionsPerAddress: 6,
  idleTimeoutMs: 30_000,
  wsMaxControlFramesBetweenMessages: 8,
};
const sipLimits: Partial<SipLimits> = { maxHeaderSectionBytes: 4_096, maxMessageBytes: 8_192 };

let ca: TestCertificate;
let responder: Responder;
const logs: TransportLogEvent[] = [];
const ports = new Map<TransportProtocol, number>();

before(async () => {
  ca = issueCertificate({ cn: 'Hostile Peers Test CA', ca: true });
  const server = issueCertificate({ cn: DOMAIN, issuer: ca, san: { dns: [DOMAIN] }, eku: [EKU_SERVER_AUTH] });
  const certificates = [{ domains: [DOMAIN], cert: server.pem, key: server.keyPem }];
  responder = await Responder.start({
    listeners: [
      { transport: 'udp', address: HOST, port: 0 },
      { transport: 'tcp', address: HOST, port: 0 },
      { transport: 'tls', address: HOST, port: 0, certificates },
      { transport: 'ws', address: HOST, port: 0 },
      { transport: 'wss', address: HOST, port: 0, certificates },
    ],
    limits,
    sipLimits,
    log: (e) => logs.push(e),
  });
  for (const l of responder.listening()) ports.set(l.transport, l.port);
});

after(async () => {
  await responder.close();
});

function portOf(transport: TransportProtocol): number {
  const port = ports.get(transport);
  assert.ok(port !== undefined, `no ${transport} listener`);
  return port;
}

let sequence = 0;

/** An OPTIONS request; Content-Length only where a stream needs it (RFC 7118 section 5: not on WebSocket). */
function optionsRequest(transport: TransportProtocol): string {
  const n = ++sequence;
  const via = transport === 'wss' ? 'WSS' : transport.toUpperCase();
  return (
    `OPTIONS sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/${via} good.invalid;rport;branch=z9hG4bKgood${n}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:good@${DOMAIN}>;tag=g${n}\r\nTo: <sip:${DOMAIN}>\r\nCall-ID: good-${n}\r\nCSeq: ${n} OPTIONS\r\n` +
    (transport === 'ws' || transport === 'wss' ? '' : 'Content-Length: 0\r\n') +
    '\r\n'
  );
}

/** The local port of each socket opened here: a destroyed socket no longer says. */
const localPorts = new WeakMap<net.Socket, number>();

/** A TCP or TLS connection to the element from `from`, open (and for TLS, through its handshake). */
async function streamTo(transport: TransportProtocol, from: string, port = portOf(transport)): Promise<net.Socket> {
  const secure = transport === 'tls' || transport === 'wss';
  const raw = net.connect({ host: HOST, port, localAddress: from });
  raw.on('error', () => undefined);
  await once(raw, 'connect');
  localPorts.set(raw, raw.localPort ?? 0);
  if (!secure) return raw;
  const socket = tls.connect({ socket: raw, ca: ca.pem, servername: DOMAIN });
  socket.on('error', () => undefined);
  localPorts.set(socket, raw.localPort ?? 0);
  await once(socket, 'secureConnect');
  return socket;
}

/** The status code of the first SIP response read from the socket. */
function readStatus(socket: net.Socket): Promise<number> {
  let text = '';
  return new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const status = /^SIP\/2\.0 (\d{3}) /m.exec(text);
      if (status === null || !text.includes('\r\n\r\n')) return;
      socket.removeListener('close', onClose);
      resolve(Number(status[1]));
    };
    const onClose = (): void => reject(new Error(`closed before a response: ${JSON.stringify(text)}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** A good client: one OPTIONS over a new connection (or datagram) from GOOD; resolves with the status. */
async function goodClient(transport: TransportProtocol): Promise<number> {
  if (transport === 'udp') {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, GOOD, () => resolve()));
    try {
      const answer = once(socket, 'message') as Promise<[Buffer]>;
      socket.send(optionsRequest('udp'), portOf('udp'), HOST);
      const [bytes] = await answer;
      return Number(/^SIP\/2\.0 (\d{3})/.exec(bytes.toString('latin1'))?.[1] ?? 0);
    } finally {
      socket.close();
    }
  }
  if (transport === 'ws' || transport === 'wss') {
    const scheme = transport === 'wss' ? 'wss' : 'ws';
    // ws hands servername on to tls.connect; its typings leave it out.
    const options = { localAddress: GOOD, ca: ca.pem, servername: DOMAIN, perMessageDeflate: false };
    const ws = new WebSocket(`${scheme}://${HOST}:${portOf(transport)}/`, ['sip'], options);
    try {
      await once(ws, 'open');
      // Once answered, how the connection ends (a reset, on a busy machine) is not what is tested.
      ws.on('error', () => undefined);
      const answer = once(ws, 'message') as Promise<[Buffer]>;
      ws.send(optionsRequest(transport));
      const [bytes] = await answer;
      return Number(/^SIP\/2\.0 (\d{3})/.exec(bytes.toString('latin1'))?.[1] ?? 0);
    } finally {
      ws.close();
    }
  }
  const socket = await streamTo(transport, GOOD);
  try {
    socket.write(optionsRequest(transport));
    return await readStatus(socket);
  } finally {
    socket.end();
  }
}

/** The reason the element gave when it cut the connection from `from`:`port` (undefined while it has not). */
function cutReason(from: string, port: number): string | undefined {
  return logs.find((l) => (l.event === 'connection-closed' || l.event === 'tls-handshake-failed') && l.remote?.address === from && l.remote.port === port)?.reason;
}

/** Waits for the element to cut the socket; resolves with the reason it logged and how long it took from `startMs`. */
async function cut(socket: net.Socket, from: string, startMs: number): Promise<{ reason: string | undefined; elapsedMs: number }> {
  const port = localPorts.get(socket) ?? 0;
  // The element may cut with a reset: the socket then emits 'error' (ECONNRESET) before 'close',
  // which events.once would turn into a rejection. Being cut is what is tested, however it comes.
  if (!socket.destroyed) await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const elapsedMs = Date.now() - startMs;
  await until(() => cutReason(from, port) !== undefined).catch(() => assert.fail(`no cut logged for ${from}:${port}: ${JSON.stringify(logs.slice(-6))}`));
  return { reason: cutReason(from, port), elapsedMs };
}

/** Writes one byte of `bytes` every 25 ms until the socket closes or the bytes run out. */
function trickle(socket: net.Socket, bytes: Buffer): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= bytes.length) clearInterval(timer);
    else socket.write(bytes.subarray(i, ++i));
  }, 25);
  socket.once('close', () => clearInterval(timer));
}

/** A raw socket through the WebSocket upgrade on the WS or WSS listener, for frames written by hand. */
async function upgradedWs(transport: 'ws' | 'wss', from: string): Promise<net.Socket> {
  const socket = await streamTo(transport, from);
  assert.equal(await upgrade(socket, `${HOST}:${portOf(transport)}`), 101);
  return socket;
}

test('slowloris: a message trickled byte by byte on TCP, TLS, WS and WSS is cut at messageCompleteTimeoutMs; good clients are answered', { timeout: 60_000 }, async () => {
  const from = '127.0.0.61';
  const deadline = limits.messageCompleteTimeoutMs ?? 0;
  for (const transport of ['tcp', 'tls', 'ws', 'wss'] as const) {
    const ws = transport === 'ws' || transport === 'wss';
    const socket = ws ? await upgradedWs(transport, from) : await streamTo(transport, from);
    const message = Buffer.from(optionsRequest(transport));
    const start = Date.now();
    // On WebSocket: a frame header announcing the message, then its payload a byte at a time.
    if (ws) socket.write(frameHeader(WS_TEXT, message.length));
    trickle(socket, message);
    assert.equal(await goodClient(transport), 200, transport);
    const { reason, elapsedMs } = await cut(socket, from, start);
    assert.equal(reason, 'message-incomplete-timeout', transport);
    assert.ok(elapsedMs >= deadline - 5, `${transport}: cut after ${elapsedMs} ms, before the ${deadline} ms deadline`);
  }
});

test('slowloris before the WebSocket upgrade: an HTTP request trickled on WS and WSS is cut at wsUpgradeTimeoutMs', { timeout: 60_000 }, async () => {
  const from = '127.0.0.61';
  const deadline = limits.wsUpgradeTimeoutMs ?? 0;
  for (const transport of ['ws', 'wss'] as const) {
    const start = Date.now();
    const socket = await streamTo(transport, from);
    trickle(socket, Buffer.from(upgradeRequest(`${HOST}:${portOf(transport)}`)));
    assert.equal(await goodClient(transport), 200, transport);
    const { reason, elapsedMs } = await cut(socket, from, start);
    assert.equal(reason, 'upgrade-timeout', transport);
    assert.ok(elapsedMs >= deadline - 5, `${transport}: cut after ${elapsedMs} ms, before the ${deadline} ms deadline`);
  }
});

test('half-open TLS: a connection that never sends its ClientHello (TLS and WSS) is cut at tlsHandshakeTimeoutMs', { timeout: 60_000 }, async () => {
  const from = '127.0.0.62';
  const deadline = limits.tlsHandshakeTimeoutMs ?? 0;
  for (const transport of ['tls', 'wss'] as const) {
    const start = Date.now();
    const raw = await streamTo('tcp', from, portOf(transport));
    assert.equal(await goodClient(transport), 200, transport);
    const { reason, elapsedMs } = await cut(raw, from, start);
    assert.equal(reason, 'tls-timeout', transport);
    assert.ok(elapsedMs >= deadline - 5, `${transport}: cut after ${elapsedMs} ms, before the ${deadline} ms deadline`);
  }
});

test('endless headers: a header section that never ends is cut at maxHeaderSectionBytes on TCP and TLS, and a WebSocket message over maxMessageBytes at its frame header', { timeout: 60_000 }, async () => {
  const from = '127.0.0.62';
  for (const transport of ['tcp', 'tls'] as const) {
    const socket = await streamTo(transport, from);
    const start = Date.now();
    socket.write(`OPTIONS sip:${DOMAIN} SIP/2.0\r\n`);
    for (let n = 0; n < 100 && !socket.destroyed; n++) socket.write(`X-Filler-${n}: ${'y'.repeat(100)}\r\n`);
    assert.equal(await goodClient(transport), 200, transport);
    const { reason } = await cut(socket, from, start);
    assert.equal(reason, 'framing-lost: SIP_ERR_MESSAGE_TOO_LARGE', transport);
  }
  for (const transport of ['ws', 'wss'] as const) {
    const socket = await upgradedWs(transport, from);
    const start = Date.now();
    socket.write(frameHeader(WS_TEXT, 10_000_000));
    assert.equal(await goodClient(transport), 200, transport);
    const { reason } = await cut(socket, from, start);
    assert.equal(reason, 'message-too-large', transport);
  }
});

test('huge Content-Length: answered 513 and cut on TCP and TLS', { timeout: 60_000 }, async () => {
  const from = '127.0.0.62';
  for (const transport of ['tcp', 'tls'] as const) {
    const socket = await streamTo(transport, from);
    const start = Date.now();
    socket.write(optionsRequest(transport).replace('Content-Length: 0', 'Content-Length: 4294967295'));
    assert.equal(await readStatus(socket), 513, transport);
    assert.equal(await goodClient(transport), 200, transport);
    const { reason } = await cut(socket, from, start);
    assert.equal(reason, 'framing-lost: SIP_ERR_MESSAGE_TOO_LARGE', transport);
  }
});

test('per-address floods: one address holds at most maxConnectionsPerAddress on TCP, TLS, WS before its upgrade and WSS before its handshake; others are answered', { timeout: 60_000 }, async () => {
  const max = limits.maxConnectionsPerAddress ?? 0;
  const flood = max + 3;
  const attackers = { tcp: '127.0.0.63', tls: '127.0.0.64', ws: '127.0.0.65', wss: '127.0.0.68' } as const;
  for (const transport of ['tcp', 'tls', 'ws', 'wss'] as const) {
    const from = attackers[transport];
    // Plain TCP connections that send nothing: for TLS and WSS no ClientHello, for WS no HTTP request.
    const sockets: net.Socket[] = [];
    for (let n = 0; n < flood; n++) {
      const socket = net.connect({ host: HOST, port: portOf(transport), localAddress: from });
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      sockets.push(socket);
    }
    const refused = (): number => logs.filter((l) => l.event === 'connection-refused' && l.reason === 'connection-limit' && l.remote?.address === from).length;
    await until(() => refused() === flood - max);
    assert.equal(await goodClient(transport), 200, transport);
    // The refused ones are closed by the element; the ones it holds are not (yet).
    await until(() => sockets.filter((s) => s.destroyed).length >= flood - max);
    assert.equal(refused(), flood - max, transport);
    sockets.forEach((s) => s.destroy());
  }
});

test('per-address flood on UDP: state is the transaction layer\'s, every request is answered, a good client too', { timeout: 60_000 }, async () => {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.61', () => resolve()));
  try {
    const answers: string[] = [];
    socket.on('message', (bytes: Buffer) => answers.push(/^SIP\/2\.0 (\d{3})/.exec(bytes.toString('latin1'))?.[1] ?? '?'));
    // Small enough that no socket buffer on loopback drops a datagram: the count is exact.
    const flood = 100;
    for (let n = 0; n < flood; n++) socket.send(optionsRequest('udp'), portOf('udp'), HOST);
    assert.equal(await goodClient('udp'), 200);
    await until(() => answers.length === flood);
    assert.deepEqual([...new Set(answers)], ['200']);
    assert.ok(responder.transactions.retainedBytes <= responder.transactions.limits.maxTransactionBytes);
  } finally {
    socket.close();
  }
});

test('trickling WebSocket frames after the upgrade: endless fragments are cut at messageCompleteTimeoutMs, pings only at the control-frame cap', { timeout: 60_000 }, async () => {
  const from = '127.0.0.61';
  const deadline = limits.messageCompleteTimeoutMs ?? 0;
  for (const transport of ['ws', 'wss'] as const) {
    const fragments = await upgradedWs(transport, from);
    const start = Date.now();
    fragments.write(frame(WS_TEXT_FIRST_FRAGMENT, 'OPTIONS '));
    const timer = setInterval(() => fragments.write(frame(WS_CONTINUATION, 'x')), 25);
    try {
      assert.equal(await goodClient(transport), 200, transport);
      const { reason, elapsedMs } = await cut(fragments, from, start);
      assert.equal(reason, 'message-incomplete-timeout', transport);
      assert.ok(elapsedMs >= deadline - 5, `${transport}: cut after ${elapsedMs} ms, before the ${deadline} ms deadline`);
    } finally {
      clearInterval(timer);
    }
    const pinger = await upgradedWs(transport, from);
    const pings = (limits.wsMaxControlFramesBetweenMessages ?? 0) + 1;
    for (let n = 0; n < pings; n++) pinger.write(frame(WS_PING, `ping ${n}`));
    assert.equal(await goodClient(transport), 200, transport);
    const { reason } = await cut(pinger, from, Date.now());
    assert.equal(reason, 'control-frame-limit', transport);
  }
});
