/**
 * The Responder (src/ua/responder.ts) on UDP and TCP on 127.0.0.1 port 0, driven by raw sockets:
 * OPTIONS 200 with Allow, INVITE 180 then 200 (after the transaction layer's 100) with a Contact on the address and transport it came
 * in on, BYE 200, CANCEL 481 without its INVITE and 200 with it, other methods 405 with Allow, and
 * invalid requests the parser's response; onAnswered sees each status sent.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import { StreamFramer } from '../sip/stream-framer.js';
import type { TransportContext } from '../transport/transport-context.js';
import { Responder } from './responder.js';

interface Client {
  readonly transport: 'udp' | 'tcp';
  readonly port: number;
  readonly responses: SipResponse[];
  send(bytes: Buffer): void;
  /** Resolves when `count` responses have arrived in all. */
  until(count: number): Promise<void>;
  close(): void;
}

function waiter(responses: SipResponse[]): { notify(): void; until(count: number): Promise<void> } {
  const waiting: Array<() => void> = [];
  return {
    notify: () => {
      for (const w of waiting.splice(0)) w();
    },
    async until(count) {
      while (responses.length < count) await new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
}

async function udpClient(serverPort: number): Promise<Client> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const responses: SipResponse[] = [];
  const w = waiter(responses);
  socket.on('message', (bytes) => {
    responses.push(parseMessage(bytes) as SipResponse);
    w.notify();
  });
  return {
    transport: 'udp',
    port: socket.address().port,
    responses,
    send: (bytes) => socket.send(bytes, serverPort, '127.0.0.1'),
    until: (count) => w.until(count),
    close: () => socket.close(),
  };
}

async function tcpClient(serverPort: number): Promise<Client> {
  const socket = connect(serverPort, '127.0.0.1');
  await once(socket, 'connect');
  const responses: SipResponse[] = [];
  const w = waiter(responses);
  const framer = new StreamFramer();
  socket.on('data', (chunk: Buffer) => {
    for (const item of framer.push(chunk)) if (item.type === 'message') responses.push(parseMessage(item.bytes, { framing: 'stream' }) as SipResponse);
    w.notify();
  });
  return { transport: 'tcp', port: socket.localPort ?? 0, responses, send: (bytes) => socket.write(bytes), until: (count) => w.until(count), close: () => socket.destroy() };
}

let sequence = 0;

/** A request from `client`; `branch` and `callId` default to fresh ones. */
function request(client: Client, method: string, options: { branch?: string; callId?: string; cseqMethod?: string; startLine?: string; extra?: string } = {}): Buffer {
  const n = ++sequence;
  const via = `SIP/2.0/${client.transport.toUpperCase()} 127.0.0.1:${client.port};rport;branch=${options.branch ?? `z9hG4bKresp${n}`}`;
  return Buffer.from(
    `${options.startLine ?? `${method} sip:responder@127.0.0.1 SIP/2.0`}\r\nVia: ${via}\r\nMax-Forwards: 70\r\n` +
      `To: <sip:responder@127.0.0.1>\r\nFrom: <sip:tester@127.0.0.1>;tag=t${n}\r\nCall-ID: ${options.callId ?? `call${n}@tester`}\r\n` +
      `CSeq: 1 ${options.cseqMethod ?? method}\r\n${options.extra ?? ''}Content-Length: 0\r\n\r\n`,
  );
}

interface Answered {
  readonly method: string;
  readonly status: number;
  readonly transport: TransportContext['transport'];
}

/** Runs `body` against a Responder listening on UDP and TCP, with a client of `transport`. */
async function withResponder(transport: 'udp' | 'tcp', body: (client: Client, answered: Answered[], responder: Responder) => Promise<void>): Promise<void> {
  const answered: Answered[] = [];
  const responder = await Responder.start({
    listeners: [
      { transport: 'udp', address: '127.0.0.1', port: 0 },
      { transport: 'tcp', address: '127.0.0.1', port: 0 },
    ],
    log: () => undefined,
    onAnswered: (req: SipRequest, status, context) => answered.push({ method: req.method, status, transport: context.transport }),
  });
  const port = responder.listening().find((l) => l.transport === transport)?.port ?? 0;
  assert.notEqual(port, 0);
  const client = transport === 'udp' ? await udpClient(port) : await tcpClient(port);
  try {
    await body(client, answered, responder);
  } finally {
    client.close();
    await responder.close();
  }
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`${transport}: OPTIONS is answered 200 with Allow, in the request's transaction and dialog identifiers, with a To tag`, async () => {
    await withResponder(transport, async (client, answered) => {
      client.send(request(client, 'OPTIONS', { branch: 'z9hG4bKopt1', callId: 'opt1@tester' }));
      await client.until(1);
      const [ok] = client.responses;
      assert.equal(ok?.status, 200);
      assert.equal(ok?.topVia()?.params.find((p) => p.name === 'branch')?.value, 'z9hG4bKopt1');
      assert.equal(ok?.callId(), 'opt1@tester');
      assert.deepEqual(ok?.cseq(), { seq: 1, method: 'OPTIONS' });
      assert.ok((ok?.toTag() ?? '').length > 0);
      assert.ok(ok?.headerValues('allow').includes('OPTIONS'));
      assert.ok(ok?.headerValues('allow').includes('INVITE'));
      assert.deepEqual(answered, [{ method: 'OPTIONS', status: 200, transport }]);
    });
  });

  test(`${transport}: INVITE gets 180 then 200 with a Contact on the address and transport it came in on; BYE gets 200`, async () => {
    await withResponder(transport, async (client, answered, responder) => {
      client.send(request(client, 'INVITE', { callId: 'inv1@tester' }));
      await client.until(3);
      // The 100 is the INVITE server transaction's own (RFC 3261 section 17.2.1), sent before the TU answers.
      assert.deepEqual(client.responses.map((r) => r.status), [100, 180, 200]);
      const port = responder.listening().find((l) => l.transport === transport)?.port;
      for (const r of client.responses.slice(1)) {
        assert.equal(r.contacts().length, 1);
        const contact = r.contacts()[0];
        assert.ok(contact !== undefined && 'uri' in contact);
        assert.equal(contact.uri.toString(), `sip:responder@127.0.0.1:${port};transport=${transport}`);
      }
      // One To tag for the dialog: the 180 and the 200 carry the same.
      assert.ok((client.responses[1]?.toTag() ?? '').length > 0);
      assert.equal(client.responses[1]?.toTag(), client.responses[2]?.toTag());
      client.send(request(client, 'BYE', { callId: 'inv1@tester' }));
      await client.until(4);
      assert.equal(client.responses[3]?.status, 200);
      assert.deepEqual(client.responses[3]?.cseq(), { seq: 1, method: 'BYE' });
      assert.deepEqual(answered.map((a) => `${a.method} ${a.status}`), ['INVITE 180', 'INVITE 200', 'BYE 200']);
    });
  });

  test(`${transport}: methods it does not implement get 405 with Allow`, async () => {
    await withResponder(transport, async (client, answered) => {
      for (const method of ['REGISTER', 'MESSAGE', 'SUBSCRIBE']) client.send(request(client, method));
      await client.until(3);
      // Datagrams may come back in any order.
      assert.deepEqual(client.responses.map((r) => `${r.cseq().method} ${r.status}`).sort(), ['MESSAGE 405', 'REGISTER 405', 'SUBSCRIBE 405']);
      for (const r of client.responses) assert.ok(r.headerValues('allow').includes('OPTIONS'));
      assert.equal(answered.filter((a) => a.status === 405).length, 3);
    });
  });

  test(`${transport}: CANCEL with no INVITE to cancel gets 481; a CANCEL after the INVITE's 200 gets 200 and no 487`, async () => {
    await withResponder(transport, async (client) => {
      client.send(request(client, 'CANCEL', { branch: 'z9hG4bKnothing', callId: 'lonely@tester' }));
      await client.until(1);
      assert.equal(client.responses[0]?.status, 481);
      // The INVITE is answered at once; its CANCEL (same branch, RFC 3261 section 9.1) comes after.
      client.send(request(client, 'INVITE', { branch: 'z9hG4bKcancelled', callId: 'cancel@tester' }));
      await client.until(4);
      client.send(request(client, 'CANCEL', { branch: 'z9hG4bKcancelled', callId: 'cancel@tester' }));
      await client.until(5);
      assert.equal(client.responses[4]?.status, 200);
      assert.equal(client.responses[4]?.cseq().method, 'CANCEL');
      // A later OPTIONS comes back next: nothing else (no 487 for the answered INVITE) came between.
      client.send(request(client, 'OPTIONS'));
      await client.until(6);
      assert.deepEqual(client.responses.map((r) => `${r.cseq().method} ${r.status}`), ['CANCEL 481', 'INVITE 100', 'INVITE 180', 'INVITE 200', 'CANCEL 200', 'OPTIONS 200']);
    });
  });

  test(`${transport}: an invalid request gets the parser's response, and onAnswered sees it`, async () => {
    await withResponder(transport, async (client, answered) => {
      client.send(request(client, 'OPTIONS', { startLine: 'OPTIONS sip:responder@127.0.0.1 SIP/3.0' }));
      await client.until(1);
      assert.equal(client.responses[0]?.status, 505);
      client.send(request(client, 'OPTIONS', { extra: 'Max-Forwards: 69\r\n' }));
      await client.until(2);
      assert.equal(client.responses[1]?.status, 400);
      assert.deepEqual(answered.map((a) => a.status), [505, 400]);
    });
  });
}
