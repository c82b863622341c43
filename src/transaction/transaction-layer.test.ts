import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { TransportError, type Destination, type TransportContext } from '../transport/transport-context.js';
import { buildAckForNon2xx, buildCancel } from './ack-request.js';
import { TransactionError } from './errors.js';
import { context, request, responseTo, TCP_DEST, UDP_DEST } from './fixtures.test.support.js';
import type { TransportFailure } from './fsm.js';
import { ClientTransaction, TransactionLayer, type ResponseInfo, type ServerTransaction, type TransactionLayerOptions } from './transaction-layer.js';
import { messageBytes } from './retained-bytes.js';
import { VirtualClock } from './virtual-clock.js';

interface Sent {
  readonly atMs: number;
  readonly message: SipMessage;
  readonly destination: Destination;
}

/** A layer over a virtual clock whose send records, and fails when `fail` says so. */
function setup(options: Partial<TransactionLayerOptions> & { fail?: (m: SipMessage, n: number) => Error | undefined } = {}) {
  const clock = new VirtualClock();
  const sent: Sent[] = [];
  const events: string[] = [];
  const layer = new TransactionLayer({
    clock,
    send: (message, destination) => {
      sent.push({ atMs: clock.now(), message, destination });
      const err = options.fail?.(message, sent.length);
      return err === undefined ? Promise.resolve() : Promise.reject(err);
    },
    onRequest: (tx, req) => events.push(`request ${req.method} ${tx.kind}`),
    onAck: (ack, _ctx, tx) => events.push(`ack ${tx === undefined ? 'stray' : tx.state}`),
    onStrayResponse: (r) => events.push(`stray ${r.status}`),
    onTransportError: (tx, f) => events.push(`server-transport-error ${tx.request.method} ${f.reason}`),
    onTimeout: (tx, timer) => events.push(`server-timeout ${tx.request.method} ${timer}`),
    ...options,
  });
  return { clock, sent, events, layer };
}

/** Handlers that record every response with its origin and the time. */
function recorder(clock: VirtualClock) {
  const responses: Array<{ atMs: number; response: SipResponse; info: ResponseInfo }> = [];
  const lines: string[] = [];
  return {
    responses,
    lines,
    handlers: {
      onResponse: (response: SipResponse, info: ResponseInfo) => {
        responses.push({ atMs: clock.now(), response, info });
        lines.push(`${clock.now()} ${response.status} ${info.origin}`);
      },
      onTransportError: (f: TransportFailure) => lines.push(`${clock.now()} transport-error ${f.reason}`),
      onTerminated: () => lines.push(`${clock.now()} terminated`),
    },
  };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sends = (sent: Sent[], what: string): number[] =>
  sent.filter((s) => (s.message.kind === 'request' ? s.message.method : String(s.message.status)) === what).map((s) => s.atMs);
const udpCtx = context('udp');

test('client INVITE over UDP: Timer A retransmits, Timer B gives the TU a 408 and leaves no timer', () => {
  const { clock, sent, layer } = setup();
  const rec = recorder(clock);
  const tx = layer.sendRequest(request(), UDP_DEST, rec.handlers);
  assert.ok(tx instanceof ClientTransaction);
  assert.equal(tx.key, 'z9hg4bk776asdhds INVITE');
  assert.equal(layer.clientTransaction(tx.key), tx);
  clock.advance(40_000);
  assert.deepEqual(sends(sent, 'INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(sent.map((s) => s.destination), sent.map(() => UDP_DEST));
  assert.deepEqual(rec.lines, ['32000 408 timeout', '32000 terminated']);
  assert.equal(rec.responses[0]?.response.reasons()[0]?.text, 'timerB');
  assert.equal(layer.size, 0);
  assert.equal(layer.pendingTimers, 0);
  assert.equal(clock.pendingCount, 0);
});

test('client INVITE: 180 stops retransmission; 486 is ACKed, retransmitted 486 ACKed again but not passed up', () => {
  const { clock, sent, layer } = setup();
  const rec = recorder(clock);
  const invite = request();
  layer.sendRequest(invite, UDP_DEST, rec.handlers);
  clock.advance(700);
  const ctx = context('udp', { address: '192.0.2.9', port: 5060 });
  layer.receive(responseTo(invite, 180), ctx);
  clock.advance(10_000);
  layer.receive(responseTo(invite, 486), ctx);
  layer.receive(responseTo(invite, 486), ctx);
  assert.deepEqual(sends(sent, 'INVITE'), [0, 500]);
  assert.deepEqual(sends(sent, 'ACK'), [10_700, 10_700]);
  const ack = sent.find((s) => s.message.kind === 'request' && s.message.method === 'ACK');
  assert.deepEqual(ack?.destination, UDP_DEST, 'the ACK goes where the INVITE went (17.1.1.3)');
  assert.deepEqual(rec.lines, ['700 180 network', '10700 486 network']);
  assert.equal(rec.responses[0]?.info.context, ctx);
  clock.advance(32_000);
  assert.deepEqual(rec.lines.slice(-1), ['42700 terminated']);
  assert.equal(layer.size, 0);
});

test('client INVITE: a 2xx goes to the TU and ends the transaction; its retransmission is a stray for the TU', () => {
  const { clock, events, layer } = setup();
  const rec = recorder(clock);
  const invite = request();
  const tx = layer.sendRequest(invite, UDP_DEST, rec.handlers);
  layer.receive(responseTo(invite, 200), udpCtx);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(rec.lines, ['0 200 network', '0 terminated']);
  layer.receive(responseTo(invite, 200), udpCtx);
  assert.deepEqual(events, ['stray 200']);
  assert.equal(layer.pendingTimers, 0);
});

test('client non-INVITE over TCP: no retransmission, Timer K zero', () => {
  const { clock, sent, layer } = setup();
  const rec = recorder(clock);
  const options = request({ method: 'OPTIONS' });
  layer.sendRequest(options, TCP_DEST, rec.handlers);
  clock.advance(20_000);
  layer.receive(responseTo(options, 200), context('tcp'));
  assert.equal(sent.length, 1);
  assert.deepEqual(rec.lines, ['20000 200 network', '20000 terminated']);
  assert.equal(layer.size, 0);
});

test('immediate failure: a rejected send gives the TU a 503 with Warning 399 and Reason at once, not after Timer B/F', async () => {
  for (const method of ['INVITE', 'OPTIONS']) {
    const { clock, layer } = setup({ fail: () => new TransportError('tls-handshake-failed', 'name-mismatch: certificate for evil.example.net') });
    const rec = recorder(clock);
    const tx = layer.sendRequest(request({ method, via: 'SIP/2.0/TLS proxy.example.org:5061;branch=z9hG4bKf1' }), UDP_DEST, rec.handlers);
    assert.deepEqual(rec.lines, [], 'delivered after sendRequest returns, never inside it');
    await flush();
    assert.deepEqual(rec.lines, ['0 503 transport-error', '0 terminated']);
    const r = rec.responses[0]?.response;
    assert.deepEqual(r?.warnings(), [
      { code: 399, agent: 'proxy.example.org:5061', text: 'tls-handshake-failed: name-mismatch: certificate for evil.example.net' },
    ]);
    assert.equal(r?.header('reason'), 'SIP;cause=503;text="tls-handshake-failed"');
    assert.equal(rec.responses[0]?.info.failure?.reason, 'tls-handshake-failed');
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.size, 0);
    assert.equal(layer.pendingTimers, 0);
    assert.equal(clock.pendingCount, 0);
  }
});

test('connection lost: a transaction waiting on a closed stream connection gets the 503 at once, others are untouched', async () => {
  const clock = new VirtualClock();
  const layer = new TransactionLayer({ clock, send: (message) => Promise.resolve({ connectionId: message.kind === 'request' && message.callId().startsWith('a') ? 'tls-1' : 'tls-2' }) });
  const onFirst = recorder(clock);
  const onSecond = recorder(clock);
  layer.sendRequest(request({ method: 'OPTIONS', callId: 'a1', via: 'SIP/2.0/TLS p.example.org;branch=z9hG4bKa1' }), TCP_DEST, onFirst.handlers);
  layer.sendRequest(request({ method: 'INVITE', callId: 'b1', via: 'SIP/2.0/TLS p.example.org;branch=z9hG4bKb1' }), TCP_DEST, onSecond.handlers);
  await flush();
  clock.advance(100);
  layer.connectionLost('tls-1', 'tlsv13 alert certificate required');
  assert.deepEqual(onFirst.lines, ['100 503 transport-error', '100 terminated']);
  assert.equal(onFirst.responses[0]?.info.failure?.reason, 'connection-reset');
  assert.match(onFirst.responses[0]?.response.warnings()[0]?.text ?? '', /connection-reset: connection tls-1 closed before a final response: tlsv13 alert certificate required/);
  assert.deepEqual(onSecond.lines, []);
  layer.connectionLost('tls-1', 'again');
  assert.equal(onFirst.lines.length, 2, 'one final response only');
  await layer.close({ force: true });
});

test('immediate failure: any error (rejected or thrown) is `transport-failure`; warnAgent option overrides', async () => {
  const rejected = setup({ fail: () => new Error('EHOSTUNREACH'), warnAgent: 'edge.example.com' });
  const rec1 = recorder(rejected.clock);
  rejected.layer.sendRequest(request({ method: 'MESSAGE' }), UDP_DEST, rec1.handlers);
  await flush();
  assert.deepEqual(rec1.responses[0]?.response.warnings(), [{ code: 399, agent: 'edge.example.com', text: 'transport-failure: EHOSTUNREACH' }]);

  const clock = new VirtualClock();
  const layer = new TransactionLayer({
    clock,
    send: () => {
      throw new TransportError('connection-refused', 'ECONNREFUSED 192.0.2.9:5060');
    },
  });
  const rec2 = recorder(clock);
  layer.sendRequest(request(), TCP_DEST, rec2.handlers);
  assert.deepEqual(rec2.lines, []);
  await flush();
  assert.deepEqual(rec2.lines, ['0 503 transport-error', '0 terminated']);
});

test('a failed retransmission fails the transaction at that moment', async () => {
  const { clock, layer } = setup({ fail: (_m, n) => (n === 3 ? new TransportError('unreachable', 'ICMP port unreachable') : undefined) });
  const rec = recorder(clock);
  layer.sendRequest(request({ method: 'OPTIONS' }), UDP_DEST, rec.handlers);
  clock.advance(500);
  await flush();
  assert.deepEqual(rec.lines, []);
  clock.advance(1000);
  await flush();
  assert.deepEqual(rec.lines, ['1500 503 transport-error', '1500 terminated']);
  clock.advance(40_000);
  assert.equal(rec.lines.length, 2, 'no 408 after the 503');
});

test('a failed ACK after the final response is reported, not a second final', async () => {
  const { clock, layer } = setup({ fail: (m) => (m.kind === 'request' && m.method === 'ACK' ? new TransportError('connection-reset', 'RST') : undefined) });
  const rec = recorder(clock);
  const invite = request();
  layer.sendRequest(invite, UDP_DEST, rec.handlers);
  layer.receive(responseTo(invite, 603), udpCtx);
  await flush();
  assert.deepEqual(rec.lines, ['0 603 network', '0 transport-error connection-reset', '0 terminated']);
});

test('sendRequest refuses an ACK, a branch without the magic cookie, a duplicate, a full table and a closed layer', async () => {
  const { clock, layer } = setup({ limits: { maxTransactions: 2 } });
  const rec = recorder(clock);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof TransactionError);
      return err.code;
    }
    return 'none';
  };
  assert.equal(code(() => layer.sendRequest(request({ method: 'ACK' }), UDP_DEST, rec.handlers)), 'TX_ERR_BAD_REQUEST');
  assert.equal(code(() => layer.sendRequest(request({ branch: '776asdhds' }), UDP_DEST, rec.handlers)), 'TX_ERR_BAD_REQUEST');
  assert.equal(code(() => layer.sendRequest(request({ via: 'SIP/2.0/UDP h.example.com' }), UDP_DEST, rec.handlers)), 'TX_ERR_BAD_REQUEST');
  const mismatched = request();
  mismatched.setHeader('cseq', '314159 OPTIONS');
  assert.equal(code(() => layer.sendRequest(mismatched, UDP_DEST, rec.handlers)), 'TX_ERR_BAD_REQUEST');
  assert.equal(code(() => layer.sendRequest(request(), UDP_DEST, rec.handlers)), 'none');
  assert.equal(code(() => layer.sendRequest(request(), UDP_DEST, rec.handlers)), 'TX_ERR_DUPLICATE');
  assert.equal(code(() => layer.sendRequest(request({ branch: 'z9hG4bK2' }), UDP_DEST, rec.handlers)), 'none');
  assert.equal(code(() => layer.sendRequest(request({ branch: 'z9hG4bK3' }), UDP_DEST, rec.handlers)), 'TX_ERR_LIMIT');
  const closed = layer.close({ force: true });
  assert.equal(code(() => layer.sendRequest(request({ branch: 'z9hG4bK4' }), UDP_DEST, rec.handlers)), 'TX_ERR_CLOSED');
  await closed;
});

test('server INVITE: 100 Trying at once, retransmissions answered, 486 retransmitted by Timer G, ACK absorbed, Timer I ends it', () => {
  const { clock, sent, events, layer } = setup();
  layer.receive(request(), udpCtx);
  assert.deepEqual(events, ['request INVITE invite']);
  const serverTx = layer.serverTransaction('z9hg4bk776asdhds 192.0.2.1:5060 INVITE');
  assert.ok(serverTx !== undefined);
  assert.deepEqual(serverTx.responseDestination, { transport: 'udp', address: '192.0.2.1', port: 5060 });
  layer.receive(request(), udpCtx);
  assert.deepEqual(events, ['request INVITE invite'], 'a retransmission is absorbed, not a new request');
  serverTx.respond(responseTo(serverTx.request, 486, 'Busy Here'));
  clock.advance(2000);
  layer.receive(buildAckForNon2xx(request(), responseTo(request(), 486)), udpCtx);
  assert.equal(serverTx.state, 'confirmed');
  layer.receive(buildAckForNon2xx(request(), responseTo(request(), 486)), udpCtx);
  clock.advance(5000);
  assert.deepEqual(sends(sent, '100'), [0, 0]);
  assert.deepEqual(sends(sent, '486'), [0, 500, 1500]);
  assert.deepEqual(events, ['request INVITE invite'], 'the ACK for a non-2xx never reaches the TU');
  assert.equal(serverTx.state, 'terminated');
  assert.equal(layer.size, 0);
  assert.equal(layer.pendingTimers, 0);
});

test('server INVITE 2xx (RFC 6026 Accepted): retransmissions absorbed, ACK for 2xx to the TU, Timer L ends it', () => {
  const { clock, sent, events, layer } = setup({ sendTrying: false });
  layer.receive(request(), udpCtx);
  const tx = layer.serverTransaction('z9hg4bk776asdhds 192.0.2.1:5060 INVITE');
  assert.ok(tx !== undefined);
  tx.respond(responseTo(tx.request, 200, 'OK'));
  layer.receive(request(), udpCtx);
  tx.respond(responseTo(tx.request, 200, 'OK'));
  // The UAC's ACK for a 2xx has a branch of its own (section 13.2.2.4): no transaction matches.
  layer.receive(request({ method: 'ACK', branch: 'z9hG4bKack2xx', toTag: 'srv-tag' }), udpCtx);
  // An ACK with the INVITE's branch reaches the TU through the Accepted transaction.
  layer.receive(request({ method: 'ACK', toTag: 'srv-tag' }), udpCtx);
  assert.equal(tx.state, 'accepted');
  clock.advance(32_000);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(sends(sent, '200'), [0, 0]);
  assert.equal(sends(sent, '100').length, 0);
  assert.deepEqual(events, ['request INVITE invite', 'ack stray', 'ack accepted']);
  assert.throws(() => tx?.respond(responseTo(request(), 200, 'OK')), (err: unknown) => err instanceof TransactionError && err.code === 'TX_ERR_TERMINATED');
});

test('server non-INVITE: Trying absorbs, Completed answers retransmissions, Timer J ends it; over TCP J is zero', () => {
  const { clock, sent, events, layer } = setup();
  const options = request({ method: 'OPTIONS' });
  layer.receive(options, udpCtx);
  layer.receive(options, udpCtx);
  const tx = layer.serverTransaction('z9hg4bk776asdhds 192.0.2.1:5060 OPTIONS');
  assert.ok(tx !== undefined);
  assert.equal(sent.length, 0);
  tx.respond(responseTo(options, 200, 'OK'));
  clock.advance(10_000);
  layer.receive(options, udpCtx);
  assert.deepEqual(sends(sent, '200'), [0, 10_000]);
  clock.advance(22_000);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(events, ['request OPTIONS non-invite']);

  layer.receive(request({ method: 'REGISTER', via: 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKt1' }), context('tcp'));
  const reg = layer.serverTransaction('z9hg4bkt1 192.0.2.1:5060 REGISTER');
  reg?.respond(responseTo(reg.request, 200, 'OK'));
  assert.equal(reg?.state, 'terminated');
  assert.deepEqual(sent.at(-1)?.destination, { transport: 'tcp', address: '192.0.2.1', port: 5060, connectionId: 'conn-1' });
});

test('CANCEL: its own server transaction, matched to the INVITE it cancels (9.2)', () => {
  const received: Array<{ tx: ServerTransaction; req: SipRequest }> = [];
  const { sent, layer: l } = setup({ onRequest: (tx, req) => received.push({ tx, req }) });
  const invite = request();
  l.receive(invite, udpCtx);
  l.receive(buildCancel(invite), udpCtx);
  const [inv, cancel] = received;
  assert.ok(inv !== undefined && cancel !== undefined);
  assert.equal(cancel.req.method, 'CANCEL');
  assert.notEqual(cancel.tx, inv.tx);
  assert.equal(l.findInviteServerTxForCancel(cancel.req), inv.tx);
  cancel.tx.respond(responseTo(cancel.req, 200, 'OK'));
  inv.tx.respond(responseTo(inv.req, 487, 'Request Terminated'));
  assert.deepEqual(sent.map((s) => (s.message.kind === 'response' ? `${s.message.status} ${s.message.cseq().method}` : '')), ['100 INVITE', '200 CANCEL', '487 INVITE']);
  // A CANCEL for an unknown INVITE, or from another sent-by, matches nothing (the TU answers 481).
  assert.equal(l.findInviteServerTxForCancel(buildCancel(request({ branch: 'z9hG4bKzzz' }))), undefined);
  assert.equal(l.findInviteServerTxForCancel(buildCancel(request({ via: 'SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bK776asdhds' }))), undefined);
  // A CANCEL for a non-INVITE transaction finds no INVITE.
  l.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKo' }), udpCtx);
  assert.equal(l.findInviteServerTxForCancel(buildCancel(request({ method: 'OPTIONS', branch: 'z9hG4bKo' }))), undefined);
});

test('RFC 2543 peer: retransmission, ACK for non-2xx (by To tag) and CANCEL matched without a magic cookie', () => {
  const { sent, events, layer } = setup();
  const via = 'SIP/2.0/UDP 192.0.2.1:5060';
  const invite = request({ via });
  layer.receive(invite, udpCtx);
  layer.receive(request({ via }), udpCtx);
  assert.deepEqual(events, ['request INVITE invite']);
  const cancel = buildCancel(request({ via }));
  const tx = layer.findInviteServerTxForCancel(cancel);
  assert.ok(tx !== undefined);
  assert.equal(tx.rfc2543, true);
  assert.match(tx.key, /^rfc2543:/);
  tx.respond(responseTo(invite, 486, 'Busy Here', 'busy-tag'));
  // An ACK whose To tag is not the tag of our response is not ours (a forked 2xx's ACK): it goes to the TU.
  layer.receive(request({ via, method: 'ACK', cseqMethod: 'ACK', toTag: 'other-tag' }), udpCtx);
  assert.equal(tx.state, 'completed');
  layer.receive(request({ via, method: 'ACK', cseqMethod: 'ACK', toTag: 'busy-tag' }), udpCtx);
  assert.equal(tx.state, 'confirmed');
  assert.deepEqual(events, ['request INVITE invite', 'ack stray']);
  // A different request from the same peer is a new transaction.
  layer.receive(request({ via, method: 'INVITE', seq: 314160 }), udpCtx);
  assert.deepEqual(events, ['request INVITE invite', 'ack stray', 'request INVITE invite']);
  assert.equal(sends(sent, '100').length, 3);
});

test('server: Timer H without ACK tells the TU; a failed response send tells the TU and ends the transaction', async () => {
  const h = setup({ sendTrying: false });
  h.layer.receive(request(), udpCtx);
  h.layer.serverTransaction('z9hg4bk776asdhds 192.0.2.1:5060 INVITE')?.respond(responseTo(request(), 480, 'Temporarily Unavailable'));
  h.clock.advance(32_000);
  assert.deepEqual(h.events, ['request INVITE invite', 'server-timeout INVITE timerH']);
  assert.equal(h.layer.size, 0);

  const f = setup({ fail: (m) => (m.kind === 'response' && m.status === 200 ? new TransportError('connection-reset', 'peer closed') : undefined) });
  f.layer.receive(request({ method: 'SUBSCRIBE' }), udpCtx);
  f.layer.serverTransaction('z9hg4bk776asdhds 192.0.2.1:5060 SUBSCRIBE')?.respond(responseTo(request({ method: 'SUBSCRIBE' }), 200, 'OK'));
  await flush();
  assert.deepEqual(f.events, ['request SUBSCRIBE non-invite', 'server-transport-error SUBSCRIBE connection-reset']);
  assert.equal(f.layer.size, 0);
  assert.equal(f.layer.pendingTimers, 0);
});

test('overload: a full table answers a new request 503 with Retry-After statelessly (21.5.4)', () => {
  const { sent, events, layer } = setup({ limits: { maxTransactions: 1, overloadRetryAfterSeconds: 7 } });
  layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKa' }), udpCtx);
  layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKb' }), udpCtx);
  layer.receive(request({ method: 'ACK', branch: 'z9hG4bKc' }), udpCtx);
  assert.deepEqual(events, ['request OPTIONS non-invite', 'ack stray']);
  assert.equal(sent.length, 1);
  const r = sent[0]?.message as SipResponse;
  assert.equal(r.status, 503);
  assert.equal(r.header('retry-after'), '7');
  assert.ok(r.toTag() !== undefined);
  assert.equal(layer.size, 1);
});

test('Via maddr (18.2.2): ignored unless honourViaMaddr, so a sender cannot aim our responses at a third party', () => {
  const third = 'SIP/2.0/UDP 127.0.0.2:5060;maddr=127.0.0.99;branch=z9hG4bKm';
  for (const honourViaMaddr of [undefined, false, true]) {
    const { sent, layer } = setup({ ...(honourViaMaddr === undefined ? {} : { honourViaMaddr }), onRequest: (tx, req) => tx.respond(responseTo(req, 200)) });
    layer.receive(request({ method: 'OPTIONS', via: third }), context('udp', { address: '127.0.0.2', port: 5060 }));
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.destination.address, honourViaMaddr === true ? '127.0.0.99' : '127.0.0.2');
  }
});

test('byte budget: live transactions hold at most maxTransactionBytes of messages; beyond it a new request gets the overload 503', () => {
  const big = (branch: string): SipRequest => {
    const r = request({ method: 'OPTIONS', branch });
    r.setBody(Buffer.alloc(60_000, 0x61), 'text/plain');
    return r;
  };
  const one = messageBytes(big('z9hG4bKsize'));
  assert.ok(one > 60_000);
  const servers: ServerTransaction[] = [];
  const { clock, sent, events, layer } = setup({ limits: { maxTransactionBytes: 3 * one + 10_000 }, onRequest: (tx, req) => { events.push(`request ${req.method}`); servers.push(tx); } });
  const requests = ['a', 'b', 'c', 'd'].map((b) => big(`z9hG4bK${b}`));
  for (const r of requests) layer.receive(r, udpCtx);
  assert.deepEqual(events, ['request OPTIONS', 'request OPTIONS', 'request OPTIONS']);
  assert.equal(layer.size, 3);
  assert.deepEqual(sent.map((s) => (s.message as SipResponse).status), [503]);
  // Unanswered, the three requests are held whole.
  assert.equal(layer.retainedBytes, requests.slice(0, 3).reduce((n, r) => n + messageBytes(r), 0));
  // A client transaction over the budget is refused too.
  assert.throws(() => layer.sendRequest(big('z9hG4bKclient'), UDP_DEST, recorder(clock).handlers), (e: TransactionError) => e.code === 'TX_ERR_LIMIT');
  for (const tx of servers) tx.respond(responseTo(tx.request, 200));
  // Answered, each keeps the 200 it retransmits and the finished copy of its request, not its body.
  const held = servers.reduce((n, tx) => n + messageBytes(tx.request) + messageBytes(tx.lastResponse as SipResponse), 0);
  assert.ok(servers.every((tx) => tx.requestFinished && tx.request.body.byteLength === 0));
  assert.equal(layer.retainedBytes, held);
  assert.ok(held < one);
  const later = big('z9hG4bKe');
  layer.receive(later, udpCtx);
  assert.equal(layer.size, 4);
  clock.advance(layer.timers.timerJMs);
  assert.equal(layer.size, 1);
  assert.equal(layer.retainedBytes, messageBytes(later));
});

test('stray responses go to the TU', () => {
  const { events, layer } = setup();
  layer.receive(responseTo(request(), 180), udpCtx);
  layer.receive(responseTo(request({ via: 'SIP/2.0/UDP 192.0.2.1' }), 200), udpCtx);
  assert.deepEqual(events, ['stray 180', 'stray 200']);
});

test('close(): running transactions finish, new ones are refused, the promise resolves with no timer left', async () => {
  const { clock, sent, layer } = setup();
  const rec = recorder(clock);
  const options = request({ method: 'OPTIONS' });
  layer.sendRequest(options, UDP_DEST, rec.handlers);
  let closed = false;
  const done = layer.close().then(() => (closed = true));
  assert.equal(layer.closing, true);
  layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKnew' }), udpCtx);
  assert.equal((sent.at(-1)?.message as SipResponse).status, 503);
  clock.advance(600);
  layer.receive(responseTo(options, 200), udpCtx);
  await flush();
  assert.equal(closed, false, 'waits for Timer K');
  clock.advance(5000);
  await done;
  assert.equal(closed, true);
  assert.equal(layer.pendingTimers, 0);
  assert.equal(clock.pendingCount, 0);
});

test('close({ force: true }): a waiting client TU gets a 503, everything terminates at once', async () => {
  const { clock, layer } = setup();
  const rec = recorder(clock);
  layer.sendRequest(request(), UDP_DEST, rec.handlers);
  layer.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKs' }), udpCtx);
  let serverEnded = false;
  const stx = layer.serverTransaction('z9hg4bks 192.0.2.1:5060 OPTIONS');
  assert.ok(stx !== undefined);
  stx.onTerminated = () => (serverEnded = true);
  await layer.close({ force: true });
  assert.deepEqual(rec.lines, ['0 503 closed', '0 terminated']);
  assert.equal(rec.responses[0]?.response.reasons()[0]?.text, 'layer-closed');
  assert.equal(serverEnded, true);
  assert.equal(layer.size, 0);
  assert.equal(clock.pendingCount, 0);
  await layer.close();
});

test('a TU that responds inside onRequest sees a consistent transaction', () => {
  const clock = new VirtualClock();
  const sent: SipMessage[] = [];
  const states: string[] = [];
  const layer = new TransactionLayer({
    clock,
    send: (m) => {
      sent.push(m);
      return Promise.resolve();
    },
    onRequest: (tx: ServerTransaction, req: SipRequest, _ctx: TransportContext) => {
      tx.respond(responseTo(req, 200, 'OK'));
      states.push(tx.state);
    },
  });
  layer.receive(request({ method: 'OPTIONS', via: 'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKq' }), context('tcp'));
  assert.deepEqual(states, ['terminated']);
  assert.equal(sent.length, 1);
  assert.equal(layer.size, 0);
});

test('without onRequest, requests are answered 503 and no transaction is kept', () => {
  const sent: SipMessage[] = [];
  const layer = new TransactionLayer({
    clock: new VirtualClock(),
    send: (m) => {
      sent.push(m);
      return Promise.resolve();
    },
  });
  layer.receive(request({ method: 'OPTIONS' }), udpCtx);
  assert.equal((sent[0] as SipResponse).status, 503);
  assert.equal(layer.size, 0);
});

test('RFC 2543 transactions are found in their bucket among many', () => {
  const { events, layer } = setup();
  const via = 'SIP/2.0/UDP 192.0.2.1:5060';
  for (let i = 0; i < 300; i++) layer.receive(request({ via, method: 'OPTIONS', callId: `call-${i}@x` }), udpCtx);
  assert.equal(events.length, 300);
  layer.receive(request({ via, method: 'OPTIONS', callId: 'call-150@x' }), udpCtx);
  layer.receive(request({ via, method: 'OPTIONS', callId: 'call-299@x' }), udpCtx);
  assert.equal(events.length, 300, 'retransmissions absorbed');
  // Same Call-ID and CSeq, another From tag: another bucket, a new transaction.
  layer.receive(request({ via, method: 'OPTIONS', callId: 'call-150@x', fromTag: 'other' }), udpCtx);
  assert.equal(events.length, 301);
  assert.equal(layer.size, 301);
});

test('the constructor validates its options', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return err instanceof TransactionError ? err.code : 'other';
    }
    return undefined;
  };
  assert.equal(code(() => new TransactionLayer({} as TransactionLayerOptions)), 'TX_ERR_BAD_OPTION');
  assert.equal(code(() => new TransactionLayer({ send: () => Promise.resolve(), timers: { t1Ms: Number.NaN } })), 'TX_ERR_BAD_OPTION');
  assert.equal(code(() => new TransactionLayer({ send: () => Promise.resolve(), limits: { maxTransactions: -1 } })), 'TX_ERR_BAD_OPTION');
  const layer = new TransactionLayer({ send: () => Promise.resolve(), timers: { t1Ms: 100 } });
  assert.equal(layer.timers.timerBMs, 6400);
});

test('client CANCEL: its own transaction beside the INVITE; 200 for the CANCEL, 487 for the INVITE is ACKed', () => {
  const { clock, sent, layer } = setup();
  const inviteRec = recorder(clock);
  const cancelRec = recorder(clock);
  const invite = request();
  const inviteTx = layer.sendRequest(invite, UDP_DEST, inviteRec.handlers);
  layer.receive(responseTo(invite, 180), udpCtx);
  const cancel = buildCancel(invite);
  const cancelTx = layer.sendRequest(cancel, UDP_DEST, cancelRec.handlers);
  assert.notEqual(cancelTx.key, inviteTx.key);
  assert.equal(layer.size, 2);
  layer.receive(responseTo(cancel, 200, 'OK'), udpCtx);
  layer.receive(responseTo(invite, 487, 'Request Terminated'), udpCtx);
  assert.deepEqual(inviteRec.lines, ['0 180 network', '0 487 network']);
  assert.deepEqual(cancelRec.lines, ['0 200 network']);
  assert.deepEqual(
    sent.map((s) => (s.message.kind === 'request' ? `${s.message.method} ${s.message.cseq().method}` : '')),
    ['INVITE INVITE', 'CANCEL CANCEL', 'ACK ACK'],
  );
  clock.advance(32_000);
  assert.deepEqual(sends(sent, 'CANCEL'), [0], 'Timer E stopped by the 200');
  assert.equal(layer.size, 0);
});
