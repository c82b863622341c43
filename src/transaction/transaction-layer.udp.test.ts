import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import { openUdpPeer, type UdpPeer } from '../../test/support/udp-pair.js';
import { buildResponse } from './local-response.js';
import type { ResponseInfo, ServerTransaction } from './transaction-layer.js';

/**
 * Two TransactionLayers over real UDP sockets on 127.0.0.1, in real time with short timers. Each
 * exchange loses its first datagram of one kind, and retransmission must recover. Assertions are
 * on order and counts, never on durations.
 */
const timers = { t1Ms: 20, t2Ms: 80, t4Ms: 100 };

let alice: UdpPeer;
let bob: UdpPeer;
const bobRequests: string[] = [];
const bobServerTxEnded: Array<() => void> = [];
let droppedInvite = false;
let dropped200 = false;

before(async () => {
  bob = await openUdpPeer({
    timers,
    drop: (m) => {
      if (m.kind === 'response' && m.status === 200 && m.cseq().method === 'OPTIONS' && !dropped200) return (dropped200 = true);
      return false;
    },
    onRequest: (tx: ServerTransaction, req: SipRequest) => {
      bobRequests.push(req.method);
      tx.onTerminated = () => bobServerTxEnded.shift()?.();
      if (req.method === 'INVITE') {
        tx.respond(buildResponse(req, 180, 'Ringing', { toTag: 'bob1' }));
        tx.respond(buildResponse(req, 486, 'Busy Here', { toTag: 'bob1' }));
      } else {
        tx.respond(buildResponse(req, 200, 'OK', { toTag: 'bob2' }));
      }
    },
  });
  alice = await openUdpPeer({
    timers,
    drop: (m) => {
      if (m.kind === 'request' && m.method === 'INVITE' && !droppedInvite) return (droppedInvite = true);
      return false;
    },
  });
});

after(async () => {
  await Promise.all([alice.close(), bob.close()]);
  assert.equal(alice.layer.size + bob.layer.size, 0);
  assert.equal(alice.layer.pendingTimers + bob.layer.pendingTimers, 0);
});

function requestFromAlice(method: string): SipRequest {
  const text = [
    `${method} sip:bob@127.0.0.1:${bob.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${alice.port};rport;branch=z9hG4bK${randomBytes(8).toString('hex')}`,
    'Max-Forwards: 70',
    `To: <sip:bob@127.0.0.1:${bob.port}>`,
    `From: <sip:alice@127.0.0.1:${alice.port}>;tag=a${randomBytes(4).toString('hex')}`,
    `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:alice@127.0.0.1:${alice.port}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

/** Sends a request from alice and resolves with every response her TU saw, once the final arrives. */
function send(request: SipRequest): Promise<Array<{ status: number; origin: string }>> {
  return new Promise((resolve) => {
    const seen: Array<{ status: number; origin: string }> = [];
    alice.layer.sendRequest(request, { transport: 'udp', address: '127.0.0.1', port: bob.port }, {
      onResponse: (response: SipResponse, info: ResponseInfo) => {
        seen.push({ status: response.status, origin: info.origin });
        if (response.status >= 200) resolve(seen);
      },
    });
  });
}

test('INVITE / 100 / 180 / 486 / ACK over real UDP, the first INVITE lost', async () => {
  const bobDone = new Promise<void>((resolve) => bobServerTxEnded.push(resolve));
  const seen = await send(requestFromAlice('INVITE'));
  // Provisional responses first (100 and 180, resent if the INVITE came again), then exactly one final.
  const finals = seen.filter((r) => r.status >= 200);
  assert.deepEqual(finals, [{ status: 486, origin: 'network' }]);
  assert.deepEqual(seen.at(-1), { status: 486, origin: 'network' });
  assert.ok(seen.slice(0, -1).every((r) => r.status === 100 || r.status === 180));
  assert.ok(seen.some((r) => r.status === 180));
  await bobDone; // Bob's server transaction got the ACK (Confirmed) and Timer I ended it.
  assert.deepEqual(alice.dropped, ['INVITE']);
  assert.ok(alice.sent.filter((m) => m === 'INVITE').length >= 1, 'the INVITE was retransmitted after the loss');
  assert.equal(alice.sent.at(-1), 'ACK');
  assert.ok(bob.received.includes('ACK'));
  assert.deepEqual(bobRequests, ['INVITE'], 'retransmissions never reach the TU');
  assert.ok(bob.sent.includes('486 INVITE'));
  assert.ok(bob.sent.indexOf('100 INVITE') < bob.sent.indexOf('180 INVITE'));
});

test('OPTIONS / 200 over real UDP, the first 200 lost: Timer E retransmits, Completed answers again', async () => {
  const seen = await send(requestFromAlice('OPTIONS'));
  assert.deepEqual(seen, [{ status: 200, origin: 'network' }]);
  assert.deepEqual(bob.dropped, ['200 OPTIONS']);
  assert.ok(alice.sent.filter((m) => m === 'OPTIONS').length >= 2, 'OPTIONS retransmitted');
  assert.ok(bob.sent.filter((m) => m === '200 OPTIONS').length >= 1, 'the 200 resent from Completed');
  assert.deepEqual(bobRequests, ['INVITE', 'OPTIONS']);
});
