/**
 * What a transaction keeps of its request once it has its final response (finished-request.ts):
 * structural checks (no heap sizes, no timing), and that every wait state still does its work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import { buildCancel } from './ack-request.js';
import { context, request, responseTo, UDP_DEST } from './fixtures.test.support.js';
import { TransactionLayer, type ServerTransaction } from './transaction-layer.js';
import { messageBytes } from './retained-bytes.js';
import { VirtualClock } from './virtual-clock.js';

const udpCtx = context('udp');

function setup() {
  const clock = new VirtualClock();
  const sent: SipMessage[] = [];
  const servers: ServerTransaction[] = [];
  const acks: string[] = [];
  const layer = new TransactionLayer({
    clock,
    send: (message) => {
      sent.push(message);
      return Promise.resolve();
    },
    sendTrying: false,
    onRequest: (tx) => servers.push(tx),
    onAck: (_ack, _ctx, tx) => acks.push(tx === undefined ? 'stray' : tx.state),
  });
  return { clock, sent, servers, acks, layer };
}

const status = (m: SipMessage | undefined): number | undefined => (m?.kind === 'response' ? m.status : undefined);

test('a non-INVITE server transaction in Completed keeps the finished copy of its request and still answers retransmissions', () => {
  const { clock, sent, servers, layer } = setup();
  const options = request({ method: 'OPTIONS', routes: ['<sip:p1.example.com;lr>'] });
  options.setBody(Buffer.from('a body the transaction no longer needs'), 'text/plain');
  layer.receive(options, udpCtx);
  const tx = servers[0] as ServerTransaction;
  assert.equal(tx.requestFinished, false);
  assert.equal(tx.request, options);
  const ok = responseTo(options, 200);
  tx.respond(ok);
  assert.equal(tx.state, 'completed');
  assert.equal(tx.requestFinished, true);
  assert.notEqual(tx.request, options);
  assert.deepEqual(tx.request.headers.map((h) => h.key), ['via', 'to', 'from', 'call-id', 'cseq']);
  assert.equal(tx.request.body.byteLength, 0);
  assert.equal(tx.request.callId(), options.callId());
  assert.equal(layer.retainedBytes, messageBytes(tx.request) + messageBytes(ok));
  // The TU's own request object is untouched.
  assert.equal(options.header('route'), '<sip:p1.example.com;lr>');
  layer.receive(request({ method: 'OPTIONS', routes: ['<sip:p1.example.com;lr>'] }), udpCtx);
  assert.deepEqual(sent.map(status), [200, 200]);
  assert.equal(servers.length, 1);
  clock.advance(layer.timers.timerJMs);
  assert.equal(layer.size, 0);
  assert.equal(layer.retainedBytes, 0);
});

test('an abandoned non-INVITE server transaction (RFC 4320) keeps the finished copy while it absorbs retransmissions', () => {
  const { sent, servers, layer } = setup();
  layer.receive(request({ method: 'BYE' }), udpCtx);
  const tx = servers[0] as ServerTransaction;
  tx.abandon();
  assert.equal(tx.requestFinished, true);
  layer.receive(request({ method: 'BYE' }), udpCtx);
  assert.equal(sent.length, 0);
  assert.equal(servers.length, 1);
});

test('an INVITE server transaction in Accepted or Completed keeps the finished copy; CANCEL and ACK still find it', () => {
  const { sent, servers, acks, layer } = setup();
  const invite = request({ branch: 'z9hG4bKaccepted' });
  layer.receive(invite, udpCtx);
  const accepted = servers[0] as ServerTransaction;
  accepted.respond(responseTo(invite, 200));
  assert.equal(accepted.state, 'accepted');
  assert.equal(accepted.requestFinished, true);
  assert.equal(layer.findInviteServerTxForCancel(buildCancel(invite)), accepted);
  // Accepted never resends the 2xx (the TU does, section 13.3.1.4): it keeps its status and To tag only.
  assert.equal(accepted.lastResponse?.status, 200);
  assert.equal(accepted.lastResponse?.toTag(), 'srv-tag');
  assert.deepEqual(accepted.lastResponse?.headers.map((h) => h.key), ['via', 'from', 'to', 'call-id', 'cseq']);
  layer.receive(request({ branch: 'z9hG4bKaccepted' }), udpCtx); // absorbed in Accepted
  assert.equal(sent.length, 1);
  // A non-2xx: Completed resends it for the retransmitted INVITE, the ACK moves it to Confirmed.
  const busy = request({ branch: 'z9hG4bKbusy' });
  layer.receive(busy, udpCtx);
  const completed = servers[1] as ServerTransaction;
  completed.respond(responseTo(busy, 486, 'Busy Here'));
  assert.equal(completed.requestFinished, true);
  layer.receive(request({ branch: 'z9hG4bKbusy' }), udpCtx);
  assert.deepEqual(sent.map(status), [200, 486, 486]);
  layer.receive(request({ branch: 'z9hG4bKbusy', method: 'ACK', cseqMethod: 'ACK', toTag: 'srv-tag' }), udpCtx);
  assert.equal(completed.state, 'confirmed');
  assert.deepEqual(acks, []);
});

test('a client transaction in Completed keeps the finished copy; an INVITE one still resends the same ACK', () => {
  const { sent, layer } = setup();
  const invite = request({ branch: 'z9hG4bKclient', routes: ['<sip:p1.example.com;lr>'] });
  const responses: number[] = [];
  const tx = layer.sendRequest(invite, UDP_DEST, { onResponse: (r: SipResponse) => responses.push(r.status) });
  assert.equal(tx.requestFinished, false);
  layer.receive(responseTo(invite, 486, 'Busy Here'), udpCtx);
  assert.equal(tx.state, 'completed');
  assert.equal(tx.requestFinished, true);
  assert.equal(tx.request.header('route'), undefined);
  const firstAck = sent.at(-1) as SipRequest;
  assert.equal(firstAck.method, 'ACK');
  assert.equal(firstAck.header('route'), '<sip:p1.example.com;lr>'); // 17.1.1.3: built from the whole request
  layer.receive(responseTo(invite, 486, 'Busy Here'), udpCtx);
  assert.equal(sent.at(-1), firstAck);
  assert.deepEqual(responses, [486]);

  const bye = request({ method: 'BYE', branch: 'z9hG4bKbye' });
  const byeTx = layer.sendRequest(bye, UDP_DEST, { onResponse: (r: SipResponse) => responses.push(r.status) });
  layer.receive(responseTo(bye, 200), udpCtx);
  assert.equal(byeTx.state, 'completed');
  assert.equal(byeTx.requestFinished, true);
  layer.receive(responseTo(bye, 200), udpCtx); // absorbed in Completed
  assert.deepEqual(responses, [486, 200]);
});

test('a server transaction keeps its final response as a message of its own, which serializes as the TU\'s did', () => {
  const { sent, servers, layer } = setup();
  const invite = request({ branch: 'z9hG4bKown' });
  layer.receive(invite, udpCtx);
  const tx = servers[0] as ServerTransaction;
  // A received response, as a proxy forwards it: parsed from a datagram, its caches filled.
  const text = serializeMessage(responseTo(invite, 486, 'Busy Here')).toString('latin1').replace('\r\n\r\n', '\r\nContact:   <sip:bob@192.0.2.7>\r\nRecord-Route: <sip:p1.example.com;lr>\r\n\r\n');
  const busy = parseMessage(Buffer.from(text, 'latin1')) as SipResponse;
  assert.equal(busy.contacts().length, 1);
  tx.respond(busy);
  assert.notEqual(tx.lastResponse, busy);
  assert.deepEqual(serializeMessage(tx.lastResponse as SipResponse), serializeMessage(busy));
  assert.equal(layer.retainedBytes, messageBytes(tx.request) + messageBytes(busy));
  layer.receive(request({ branch: 'z9hG4bKown' }), udpCtx);
  assert.equal(sent.length, 2);
  assert.deepEqual(serializeMessage(sent[1] as SipMessage), serializeMessage(busy));
});
