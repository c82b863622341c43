import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TX_TIMERS } from '../limits.js';
import { buildAckForNon2xx } from './ack-request.js';
import { FsmDriver, request, responseTo } from './fixtures.test.support.js';
import type { TxConfig } from './fsm.js';
import { reduceInviteServer, startInviteServer, type InviteServerEvent, type InviteServerState } from './invite-server-fsm.js';

const invite = request();
const udp: TxConfig = { timers: TX_TIMERS, reliable: false };
const tcp: TxConfig = { timers: TX_TIMERS, reliable: true };

function driver(config: TxConfig): FsmDriver<InviteServerState, InviteServerEvent> {
  return new FsmDriver(startInviteServer(config), (s, e) => reduceInviteServer(s, e, config));
}
const tu = (status: number): InviteServerEvent => ({ type: 'tuResponse', response: responseTo(invite, status) });
const again: InviteServerEvent = { type: 'requestReceived', request: invite };
const ack: InviteServerEvent = { type: 'requestReceived', request: buildAckForNon2xx(invite, responseTo(invite, 486)) };

test('Proceeding: starts with nothing sent; an INVITE retransmission before any response is absorbed', () => {
  const d = driver(udp);
  assert.equal(d.state.name, 'proceeding');
  d.dispatch(again);
  assert.deepEqual(d.log, []);
});

test('Proceeding: 1xx from the TU sent; INVITE retransmissions answered with the last 1xx', () => {
  const d = driver(udp);
  d.dispatch(tu(100));
  d.dispatch(tu(180));
  d.dispatch(again);
  d.dispatch(again);
  assert.deepEqual(d.log, ['0 send 100', '0 send 180', '0 send 180', '0 send 180']);
  assert.equal(d.state.lastResponse?.status, 180);
});

test('Proceeding -> Completed on 300-699: Timer G doubles to T2 until Timer H, then the TU is told', () => {
  const d = driver(udp);
  d.dispatch(tu(486));
  assert.equal(d.state.name, 'completed');
  d.advance(40_000);
  const sends = d.lines('send').map((l) => Number(l.split(' ')[0]));
  assert.deepEqual(sends, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(d.log.slice(-2), ['32000 terminate', '32000 timeout timerH']);
  assert.equal(d.timers.size, 0);
});

test('Completed: INVITE retransmission answered with the final; other TU responses discarded', () => {
  const d = driver(udp);
  d.dispatch(tu(486));
  d.dispatch(again);
  d.dispatch(tu(200));
  d.dispatch(tu(180));
  assert.deepEqual(d.lines('send'), ['0 send 486', '0 send 486']);
});

test('Completed -> Confirmed on ACK: G and H stop, Timer I = T4 absorbs ACKs, then Terminated', () => {
  const d = driver(udp);
  d.dispatch(tu(486));
  d.advance(700);
  d.dispatch(ack);
  assert.equal(d.state.name, 'confirmed');
  assert.deepEqual([...d.timers.keys()], ['timerI']);
  d.dispatch(ack);
  d.dispatch(again);
  d.advance(4999);
  assert.equal(d.state.name, 'confirmed');
  d.advance(1);
  assert.equal(d.state.name, 'terminated');
  assert.deepEqual(d.lines('send'), ['0 send 486', '500 send 486']);
  assert.deepEqual(d.lines('deliver'), [], 'the ACK of a non-2xx never reaches the TU');
});

test('over a reliable transport: no Timer G, Timer I zero', () => {
  const d = driver(tcp);
  d.dispatch(tu(486));
  assert.deepEqual(d.log, ['0 send 486', '0 start timerH 32000']);
  d.dispatch(ack);
  assert.equal(d.state.name, 'terminated');
  const h = driver(tcp);
  h.dispatch(tu(500));
  h.advance(32_000);
  assert.deepEqual(h.log.slice(-2), ['32000 terminate', '32000 timeout timerH']);
});

test('Proceeding -> Accepted on 2xx (RFC 6026): INVITE absorbed, 2xx resent by the TU, ACK to the TU, Timer L', () => {
  const d = driver(udp);
  d.dispatch(tu(180));
  d.dispatch(tu(200));
  assert.equal(d.state.name, 'accepted');
  d.dispatch(again);
  d.dispatch(tu(200));
  d.dispatch(tu(486));
  d.dispatch(ack);
  d.advance(31_999);
  assert.equal(d.state.name, 'accepted');
  d.advance(1);
  assert.equal(d.state.name, 'terminated');
  assert.deepEqual(d.log, ['0 send 180', '0 send 200', '0 start timerL 32000', '0 send 200', '0 deliver ACK', '32000 terminate']);
});

test('an ACK in Proceeding acknowledges nothing and is dropped', () => {
  const d = driver(udp);
  d.dispatch(tu(180));
  d.dispatch(ack);
  assert.equal(d.state.name, 'proceeding');
  assert.deepEqual(d.log, ['0 send 180']);
});

test('transport error in any live state: terminated and the TU told', () => {
  for (const prelude of [[], [tu(180)], [tu(486)], [tu(200)], [tu(486), ack]]) {
    const d = driver(udp);
    for (const e of prelude) d.dispatch(e);
    d.dispatch({ type: 'transportError', failure: { reason: 'connection-reset', detail: 'x', error: undefined } });
    assert.equal(d.state.name, 'terminated');
    assert.deepEqual(d.log.slice(-2), ['0 terminate', '0 transport-error connection-reset']);
    assert.equal(d.timers.size, 0);
    const before = d.log.length;
    d.dispatch(again);
    d.dispatch(tu(200));
    assert.equal(d.log.length, before, 'Terminated ignores everything');
  }
});
