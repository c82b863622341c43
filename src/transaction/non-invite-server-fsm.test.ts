import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TX_TIMERS } from '../limits.js';
import { FsmDriver, request, responseTo } from './fixtures.test.support.js';
import type { TxConfig } from './fsm.js';
import { reduceNonInviteServer, startNonInviteServer, type NonInviteServerEvent, type NonInviteServerState } from './non-invite-server-fsm.js';

const register = request({ method: 'REGISTER' });
const udp: TxConfig = { timers: TX_TIMERS, reliable: false };
const tcp: TxConfig = { timers: TX_TIMERS, reliable: true };

function driver(config: TxConfig): FsmDriver<NonInviteServerState, NonInviteServerEvent> {
  return new FsmDriver(startNonInviteServer(), (s, e) => reduceNonInviteServer(s, e, config));
}
const tu = (status: number): NonInviteServerEvent => ({ type: 'tuResponse', response: responseTo(register, status) });
const again: NonInviteServerEvent = { type: 'requestReceived', request: register };

test('Trying absorbs retransmissions', () => {
  const d = driver(udp);
  assert.equal(d.state.name, 'trying');
  d.dispatch(again);
  d.dispatch(again);
  assert.deepEqual(d.log, []);
});

test('Trying -> Proceeding on 1xx; retransmissions answered with the last 1xx', () => {
  const d = driver(udp);
  d.dispatch(tu(100));
  assert.equal(d.state.name, 'proceeding');
  d.dispatch(again);
  d.dispatch(tu(100));
  assert.deepEqual(d.log, ['0 send 100', '0 send 100', '0 send 100']);
});

for (const from of ['trying', 'proceeding'] as const) {
  test(`${from} -> Completed on 200-699: Timer J 64*T1 answers retransmissions with the final`, () => {
    const d = driver(udp);
    if (from === 'proceeding') d.dispatch(tu(100));
    d.dispatch(tu(200));
    assert.equal(d.state.name, 'completed');
    d.advance(1000);
    d.dispatch(again);
    d.dispatch(tu(500));
    d.dispatch(tu(100));
    d.advance(30_999);
    assert.equal(d.state.name, 'completed');
    d.advance(1);
    assert.equal(d.state.name, 'terminated');
    assert.deepEqual(d.lines('send').slice(-2), ['0 send 200', '1000 send 200']);
    assert.deepEqual(d.log.slice(-1), ['32000 terminate']);
  });
}

test('over a reliable transport Timer J is zero', () => {
  const d = driver(tcp);
  d.dispatch(tu(403));
  assert.equal(d.state.name, 'terminated');
  assert.deepEqual(d.log, ['0 send 403', '0 terminate']);
});

test('transport error: terminated and the TU told', () => {
  for (const prelude of [[], [tu(100)], [tu(200)]]) {
    const d = driver(udp);
    for (const e of prelude) d.dispatch(e);
    d.dispatch({ type: 'transportError', failure: { reason: 'unreachable', detail: 'x', error: undefined } });
    assert.equal(d.state.name, 'terminated');
    assert.deepEqual(d.log.slice(-2), ['0 terminate', '0 transport-error unreachable']);
  }
});

test('a timer that does not belong to the state does nothing', () => {
  assert.deepEqual(reduceNonInviteServer(startNonInviteServer().state, { type: 'timerFired', timer: 'timerJ' }, udp).actions, []);
});

test('RFC 4320 section 4.2: the TU abandons; no response, retransmissions absorbed until Timer J, then terminated', () => {
  for (const prelude of [[], [tu(100)]]) {
    const d = driver(udp);
    for (const e of prelude) d.dispatch(e);
    d.dispatch({ type: 'tuAbandon' });
    assert.equal(d.state.name, 'completed');
    d.dispatch(again);
    d.dispatch(tu(408));
    assert.equal(d.lines('send').length, prelude.length, 'nothing sent after the abandon, not even the last 100');
    d.advance(TX_TIMERS.timerJMs);
    assert.equal(d.state.name, 'terminated');
  }
  const reliable = driver(tcp);
  reliable.dispatch({ type: 'tuAbandon' });
  assert.deepEqual(reliable.log, ['0 terminate']);
  const answered = driver(udp);
  answered.dispatch(tu(200));
  answered.dispatch({ type: 'tuAbandon' });
  answered.dispatch(again);
  assert.deepEqual(answered.lines('send'), ['0 send 200', '0 send 200'], 'an answered transaction is not abandoned');
});
