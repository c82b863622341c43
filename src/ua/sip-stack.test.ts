import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { parseMessage } from '../sip/parse-message.js';
import type { SipResponse } from '../sip/message.js';
import { buildResponse } from '../transaction/local-response.js';
import type { CallbackErrorReport } from '../transaction/transaction-layer.js';
import { SipStack } from './sip-stack.js';

function options(branch: string, extra = ''): Buffer {
  return Buffer.from(
    `OPTIONS sip:stack@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=${branch}\r\nMax-Forwards: 70\r\n` +
      `To: <sip:stack@127.0.0.1>\r\nFrom: <sip:test@127.0.0.1>;tag=t1\r\nCall-ID: ${branch}@test\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`,
  );
}

/** A UDP client on loopback that sends raw datagrams and collects the parsed responses. */
async function udpClient() {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const responses: SipResponse[] = [];
  socket.on('message', (bytes) => responses.push(parseMessage(bytes) as SipResponse));
  return {
    responses,
    send: (bytes: Buffer, port: number) => socket.send(bytes, port, '127.0.0.1'),
    until: async (count: number) => {
      while (responses.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    close: () => socket.close(),
  };
}

test('one stack: requests reach the TU, malformed ones are answered by the stack, a throwing TU gets 500, close() takes both layers down', async () => {
  const reports: CallbackErrorReport[] = [];
  const invalid: number[] = [];
  const stack = await SipStack.start({
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
    tu: () => ({
      onRequest: (tx, request) => {
        if (request.callId().startsWith('z9hG4bKthrow')) throw new Error('TU bug');
        tx.respond(buildResponse(request, 200, 'OK', { toTag: 'stack-test' }));
      },
      onCallbackError: (report) => reports.push(report),
    }),
    onInvalid: (result, _context, answered) => {
      if (answered) invalid.push(result.response?.status ?? 0);
    },
  });
  const port = stack.listening()[0]?.port ?? 0;
  const client = await udpClient();
  try {
    client.send(options('z9hG4bKok1'), port);
    await client.until(1);
    client.send(options('z9hG4bKthrow1'), port);
    await client.until(2);
    client.send(options('z9hG4bKbad1', 'Content-Length: x\r\n'), port);
    await client.until(3);
    assert.deepEqual(client.responses.map((r) => r.status), [200, 500, 400]);
    assert.deepEqual(invalid, [400]);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.callback, 'onRequest');
  } finally {
    client.close();
    await stack.close({ force: true });
  }
  assert.equal(stack.transactions.size, 0);
  assert.equal(stack.transactions.pendingTimers, 0);
});

test('a stream whose framing is lost gets the fixed-word 400 before the close: no peer bytes in the status line', async () => {
  const stack = await SipStack.start({
    listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }],
    tu: () => ({}),
    log: () => undefined,
  });
  const port = stack.listening()[0]?.port ?? 0;
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  try {
    await once(socket, 'connect');
    const hostile = `1\x1b[31m\x00\x07 injected="yes"${'9'.repeat(5000)}`;
    socket.write(options('z9hG4bKframe1', '').toString('latin1').replace('Content-Length: 0', `Content-Length: ${hostile}`));
    // The close may come as a reset (the element drops what it did not read): 'close' follows either way.
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const text = Buffer.concat(received).toString('latin1');
    const statusLine = text.slice(0, text.indexOf('\r\n'));
    assert.equal(statusLine, 'SIP/2.0 400 Bad Request (invalid Content-Length)');
    assert.ok(!text.includes('injected'), 'the forged field is not echoed');
    for (const control of ['\x1b', '\x00', '\x07']) assert.ok(!text.includes(control), `no ${JSON.stringify(control)} in the response`);
  } finally {
    socket.destroy();
    await stack.close({ force: true });
  }
});
