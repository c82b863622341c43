import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TX_TIMERS } from '../limits.js';
import type { SipRequest } from '../sip/message.js';
import { described, FsmDriver, request, responseTo } from './fixtures.test.support.js';
import type { TransportFailure } from './fsm.js';
import { reduceInviteClient, startInviteClient, type ClientTxConfig, type InviteClientEvent, type InviteClientState } from './invite-client-fsm.js';

const invite = request();
const udp: ClientTxConfig = { request: invite, timers: TX_TIMERS, reliable: false };
const tcp: ClientTxConfig = { ...udp, reliable: true };
const failure: TransportFailure = { reason: 'tls-handshake-failed', detail: 'x', error: undefined };

function driver(config: ClientTxConfig): FsmDriver<InviteClientState, InviteClientEvent> {
  return new FsmDriver(startInviteClient(config), (s, e) => reduceInviteClient(s, e, config));
}
const rx = (status: number): InviteClientEvent => ({ type: 'responseReceived', response: responseTo(invite, status) });

test('Calling: INVITE sent, Timer A at T1 and Timer B at 64*T1 over UDP (17.1.1.2)', () => {
  const start = startInviteClient(udp);
  assert.equal(start.state.name, 'calling');
  assert.deepEqual(described(start), ['send INVITE', 'start timerA 500', 'start timerB 32000']);
});

test('over a reliable transport no Timer A (no retransmissions)', () => {
  assert.deepEqual(described(startInviteClient(tcp)), ['send INVITE', 'start timerB 32000']);
  const d = driver(tcp);
  d.advance(40_000);
  assert.deepEqual(d.lines('send'), ['0 send INVITE']);
  assert.deepEqual(d.lines('timeout'), ['32000 timeout timerB']);
});

test('Timer A doubles without cap until Timer B: 7 transmissions, then timeout to the TU', () => {
  const d = driver(udp);
  d.advance(40_000);
  assert.deepEqual(d.lines('send').map((l) => Number(l.split(' ')[0])), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(d.log.slice(-2), ['32000 terminate', '32000 timeout timerB']);
  assert.equal(d.state.name, 'terminated');
  assert.equal(d.timers.size, 0);
});

test('Calling -> Proceeding on 1xx: delivered, retransmissions and Timer B stop; more 1xx delivered', () => {
  const d = driver(udp);
  d.advance(600);
  d.dispatch(rx(100));
  assert.equal(d.state.name, 'proceeding');
  d.dispatch(rx(180));
  d.advance(60_000);
  assert.deepEqual(d.lines('send'), ['0 send INVITE', '500 send INVITE']);
  assert.deepEqual(d.lines('deliver'), ['600 deliver 100', '600 deliver 180']);
  assert.equal(d.state.name, 'proceeding');
  assert.equal(d.timers.size, 0);
});

for (const from of ['calling', 'proceeding'] as const) {
  test(`${from} -> Terminated on 2xx: passed to the TU, no ACK from the transaction`, () => {
    const d = driver(udp);
    if (from === 'proceeding') d.dispatch(rx(180));
    d.dispatch(rx(200));
    assert.equal(d.state.name, 'terminated');
    assert.deepEqual(d.log.slice(-2), ['0 terminate', '0 deliver 200']);
    assert.equal(d.lines('send').length, 1);
    assert.equal(d.timers.size, 0);
  });

  test(`${from} -> Completed on 300-699: ACK sent, response to the TU, Timer D 32 s`, () => {
    const d = driver(udp);
    if (from === 'proceeding') d.dispatch(rx(183));
    d.dispatch(rx(486));
    assert.equal(d.state.name, 'completed');
    assert.deepEqual(d.log.slice(-3), ['0 send ACK', '0 start timerD 32000', '0 deliver 486']);
    assert.deepEqual([...d.timers.keys()], ['timerD']);
  });
}

test('Completed: retransmitted final answered with the same ACK, not passed up; Timer D terminates', () => {
  const d = driver(udp);
  d.dispatch(rx(486));
  const ack = d.state.ack;
  d.advance(1000);
  const step = reduceInviteClient(d.state, rx(486), udp);
  assert.equal(step.actions.length, 1);
  assert.equal(step.actions[0]?.type === 'send' && step.actions[0].message, ack);
  d.dispatch(rx(486));
  d.dispatch(rx(180));
  d.dispatch(rx(200));
  d.advance(31_000);
  assert.deepEqual(d.lines('deliver'), ['0 deliver 486']);
  assert.deepEqual(d.lines('send').map((l) => l.split(' ').slice(1).join(' ')), ['send INVITE', 'send ACK', 'send ACK']);
  assert.deepEqual(d.log.slice(-1), ['32000 terminate']);
});

test('over a reliable transport Timer D is zero: Completed ends at once', () => {
  const d = driver(tcp);
  d.dispatch(rx(603));
  assert.equal(d.state.name, 'terminated');
  assert.deepEqual(d.log, ['0 send INVITE', '0 start timerB 32000', '0 send ACK', '0 terminate', '0 deliver 603']);
});

test('transport error in Calling or Completed: terminated and reported', () => {
  for (const prelude of [[], [rx(180)], [rx(500)]]) {
    const d = driver(udp);
    for (const e of prelude) d.dispatch(e);
    d.dispatch({ type: 'transportError', failure });
    assert.equal(d.state.name, 'terminated');
    assert.deepEqual(d.log.slice(-2), ['0 terminate', '0 transport-error tls-handshake-failed']);
    assert.equal(d.timers.size, 0);
  }
});

test('Terminated ignores everything; stray timers in other states do nothing', () => {
  const d = driver(udp);
  d.dispatch(rx(200));
  const before = d.log.length;
  d.dispatch(rx(200));
  d.dispatch({ type: 'transportError', failure });
  d.dispatch({ type: 'timerFired', timer: 'timerD' });
  assert.equal(d.log.length, before);
  const calling = startInviteClient(udp).state;
  assert.deepEqual(reduceInviteClient(calling, { type: 'timerFired', timer: 'timerD' }, udp).actions, []);
  assert.deepEqual(reduceInviteClient({ ...calling, name: 'proceeding' }, { type: 'timerFired', timer: 'timerB' }, udp).actions, []);
});

test('the ACK for a non-2xx is built by 17.1.1.3', () => {
  const withRoute: SipRequest = request({ routes: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'], extraVia: ['SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower'] });
  const config: ClientTxConfig = { request: withRoute, timers: TX_TIMERS, reliable: false };
  const response = responseTo(withRoute, 486, 'Busy Here', 'bob-tag');
  const step = reduceInviteClient(startInviteClient(config).state, { type: 'responseReceived', response }, config);
  const ack = step.state.ack;
  assert.ok(ack !== undefined);
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.uri.toString(), withRoute.uri.toString());
  assert.deepEqual(ack.headerValues('via'), ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds']);
  assert.deepEqual(ack.headerValues('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.equal(ack.header('to'), response.header('to'));
  assert.equal(ack.toTag(), 'bob-tag');
  assert.equal(ack.header('from'), withRoute.header('from'));
  assert.equal(ack.callId(), withRoute.callId());
  assert.deepEqual(ack.cseq(), { seq: 314159, method: 'ACK' });
  assert.equal(ack.header('max-forwards'), '70');
  assert.equal(ack.body.length, 0);
  assert.equal(ack.header('contact'), undefined);
});
