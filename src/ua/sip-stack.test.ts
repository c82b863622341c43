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
