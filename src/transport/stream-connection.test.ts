/**
 * StreamConnection over a TCP socket pair on loopback (port 0): framing whatever the chunking,
 * RFC 5626 keep-alive answers, framing loss handed up before the close, and each limit closing the
 * connection with its reason (docs/TRANSPORTS.md): idle-timeout, message-incomplete-timeout,
 * write-buffer-full; peer-closed and local-close; sends on a closed connection refused.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { SIP_LIMITS, TRANSPORT_LIMITS, type TransportLimits } from '../limits.js';
import type { FramingError } from '../sip/stream-framer.js';
import { StreamConnection } from './stream-connection.js';
import { TransportError } from './transport-context.js';
import type { TransportLogEvent } from './transport-log.js';

function message(callId: string, body = ''): Buffer {
  return Buffer.from(
    `OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK${callId}\r\nMax-Forwards: 70\r\n` +
      `To: <sip:bob@127.0.0.1>\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

interface Pair {
  readonly connection: StreamConnection;
  /** The peer's end. */
  readonly client: Socket;
  readonly messages: Buffer[];
  readonly framingErrors: FramingError[];
  readonly logs: TransportLogEvent[];
  /** Resolves when onClose has been called; `closes` counts the calls. */
  readonly closedEvent: Promise<void>;
  readonly closes: { count: number };
  /** Resolves when `count` messages have arrived. */
  messagesArrived(count: number): Promise<void>;
  /** Everything the peer has received. */
  received(): Buffer;
  dispose(): Promise<void>;
}

/** A StreamConnection on the accepting side of a loopback TCP pair. */
async function pair(limits: Partial<TransportLimits> = {}): Promise<Pair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  const [socket] = await accepted;
  await once(client, 'connect').catch(() => undefined);
  const messages: Buffer[] = [];
  const framingErrors: FramingError[] = [];
  const logs: TransportLogEvent[] = [];
  const closes = { count: 0 };
  const waiters: Array<() => void> = [];
  let signalClosed: () => void = () => undefined;
  const closedEvent = new Promise<void>((resolve) => (signalClosed = resolve));
  const clientBytes: Buffer[] = [];
  client.on('data', (chunk: Buffer) => clientBytes.push(chunk));
  client.on('error', () => undefined);
  const connection = new StreamConnection(socket, 'tcp', 'inbound', undefined, { ...TRANSPORT_LIMITS, ...limits }, SIP_LIMITS, {
    onMessage: (_c, bytes) => {
      messages.push(bytes);
      for (const w of waiters.splice(0)) w();
    },
    onFramingError: (_c, error) => framingErrors.push(error),
    onClose: () => {
      closes.count++;
      signalClosed();
    },
  }, (event) => logs.push(event));
  return {
    connection,
    client,
    messages,
    framingErrors,
    logs,
    closedEvent,
    closes,
    async messagesArrived(count) {
      while (messages.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    received: () => Buffer.concat(clientBytes),
    async dispose() {
      connection.close('local-close');
      client.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

test('two messages in one chunk are two messages, in order, byte for byte', async () => {
  const p = await pair();
  try {
    const a = message('two-a', 'hello');
    const b = message('two-b');
    p.client.write(Buffer.concat([a, b]));
    await p.messagesArrived(2);
    assert.deepEqual(p.messages, [a, b]);
    assert.equal(p.connection.closed, false);
  } finally {
    await p.dispose();
  }
});

test('one message written a byte at a time is one message', async () => {
  const p = await pair();
  try {
    const m = message('bytewise', 'a body of some length');
    for (let i = 0; i < m.length; i++) {
      p.client.write(m.subarray(i, i + 1));
      // Let each byte leave before the next, so that they tend to arrive in separate reads.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await p.messagesArrived(1);
    assert.deepEqual(p.messages, [m]);
    // A message split across two chunks in the middle of its body, then a whole one.
    const n = message('split', 'x'.repeat(100));
    const o = message('after');
    p.client.write(n.subarray(0, n.length - 40));
    p.client.write(Buffer.concat([n.subarray(n.length - 40), o]));
    await p.messagesArrived(3);
    assert.deepEqual(p.messages.slice(1), [n, o]);
  } finally {
    await p.dispose();
  }
});

test('a CRLFCRLF keep-alive is answered with CRLF and is not a message', async () => {
  const p = await pair();
  try {
    p.client.write('\r\n\r\n');
    await once(p.client, 'data');
    assert.equal(p.received().toString('latin1'), '\r\n');
    p.client.write(message('after-ping'));
    await p.messagesArrived(1);
    assert.equal(p.messages.length, 1);
  } finally {
    await p.dispose();
  }
});

test('framing lost: the messages before it are delivered, the error is handed up with the head, then the connection closes with its reason', async () => {
  const p = await pair();
  try {
    const good = message('before-bad');
    const bad = Buffer.from(message('bad').toString('latin1').replace(/Content-Length: 0/, 'Content-Length: -1'), 'latin1');
    p.client.write(Buffer.concat([good, bad, message('never')]));
    await p.closedEvent;
    assert.deepEqual(p.messages, [good]);
    assert.equal(p.framingErrors.length, 1);
    assert.equal(p.framingErrors[0]?.code, 'SIP_ERR_BAD_CONTENT_LENGTH');
    assert.ok(p.framingErrors[0]?.head?.toString('latin1').includes('Call-ID: bad'));
    assert.equal(p.framingErrors[0]?.response.status, 400);
    assert.equal(p.connection.closeReason, 'framing-lost: SIP_ERR_BAD_CONTENT_LENGTH');
    assert.ok(p.logs.some((e) => e.event === 'framing-lost' && e.connection === p.connection.id));
  } finally {
    await p.dispose();
  }
});

test('a message larger than maxMessageBytes loses the framing; nothing of it is delivered', async () => {
  const p = await pair();
  try {
    p.client.write(message('huge', 'x'.repeat(SIP_LIMITS.maxMessageBytes + 1)));
    await p.closedEvent;
    assert.deepEqual(p.messages, []);
    assert.equal(p.framingErrors[0]?.code, 'SIP_ERR_MESSAGE_TOO_LARGE');
    assert.equal(p.connection.closeReason, 'framing-lost: SIP_ERR_MESSAGE_TOO_LARGE');
  } finally {
    await p.dispose();
  }
});

test('a connection with no traffic for idleTimeoutMs closes with idle-timeout', async () => {
  const p = await pair({ idleTimeoutMs: 50 });
  try {
    await p.closedEvent;
    assert.equal(p.connection.closed, true);
    assert.equal(p.connection.closeReason, 'idle-timeout');
    assert.ok(p.logs.some((e) => e.event === 'connection-closed' && e.reason === 'idle-timeout' && e.level === 'warn'));
  } finally {
    await p.dispose();
  }
});

test('a message left incomplete for messageCompleteTimeoutMs closes with message-incomplete-timeout', async () => {
  const p = await pair({ messageCompleteTimeoutMs: 50 });
  try {
    const m = message('slow', 'body');
    p.client.write(m.subarray(0, m.length - 2));
    await p.closedEvent;
    assert.equal(p.connection.closeReason, 'message-incomplete-timeout');
    assert.deepEqual(p.messages, []);
  } finally {
    await p.dispose();
  }
});

test('whole messages leave no deadline behind: a connection that only completed messages is not cut off', async () => {
  // Without a partial message there is no message deadline; only the idle limit (here far away) applies.
  const p = await pair({ messageCompleteTimeoutMs: 50 });
  try {
    p.client.write(message('whole-1'));
    await p.messagesArrived(1);
    // Wait past the deadline a left-over timer would have, then show the connection still works.
    await new Promise((resolve) => setTimeout(resolve, 150));
    p.client.write(message('whole-2'));
    await p.messagesArrived(2);
    assert.equal(p.connection.closed, false);
  } finally {
    await p.dispose();
  }
});

test('a send that would queue more than maxWriteBufferBytes closes with write-buffer-full and rejects', async () => {
  const p = await pair({ maxWriteBufferBytes: 1000 });
  try {
    await p.connection.send(Buffer.alloc(500, 0x41));
    await assert.rejects(p.connection.send(Buffer.alloc(1001, 0x41)), (err: unknown) => err instanceof TransportError && err.reason === 'connection-reset');
    assert.equal(p.connection.closed, true);
    assert.equal(p.connection.closeReason, 'write-buffer-full');
  } finally {
    await p.dispose();
  }
});

test('sends reach the peer; after the peer closes, the reason is peer-closed and a send is refused', async () => {
  const p = await pair();
  try {
    const m = message('out');
    await p.connection.send(m);
    await p.connection.send(m);
    while (p.received().length < 2 * m.length) await once(p.client, 'data');
    assert.deepEqual(p.received(), Buffer.concat([m, m]));
    p.client.end();
    await p.closedEvent;
    assert.equal(p.connection.closed, true);
    assert.equal(p.connection.closeReason, 'peer-closed');
    await assert.rejects(p.connection.send(m), (err: unknown) => err instanceof TransportError && err.reason === 'connection-reset');
    assert.equal(p.closes.count, 1);
  } finally {
    await p.dispose();
  }
});

test('close: the first reason stays, it is logged once, onClose is called once, the peer sees the end', async () => {
  const p = await pair();
  try {
    const ended = once(p.client, 'close');
    p.connection.close('local-close');
    p.connection.close('idle-timeout');
    await p.closedEvent;
    await ended;
    assert.equal(p.connection.closeReason, 'local-close');
    assert.equal(p.logs.filter((e) => e.event === 'connection-closed').length, 1);
    assert.equal(p.logs.find((e) => e.event === 'connection-closed')?.level, 'debug');
    assert.equal(p.closes.count, 1);
    await assert.rejects(p.connection.send(message('late')), TransportError);
  } finally {
    await p.dispose();
  }
});

test('the connection names its transport, direction and both ends', async () => {
  const p = await pair();
  try {
    assert.match(p.connection.id, /^tcp-\d+$/);
    assert.equal(p.connection.transport, 'tcp');
    assert.equal(p.connection.direction, 'inbound');
    assert.equal(p.connection.remote.address, '127.0.0.1');
    assert.equal(p.connection.remote.port, p.client.localPort);
    assert.equal(p.connection.local.port, p.client.remotePort);
    assert.equal(p.connection.closeReason, '');
  } finally {
    await p.dispose();
  }
});
