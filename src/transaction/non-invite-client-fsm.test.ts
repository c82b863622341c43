import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TX_TIMERS } from '../limits.js';
import { described, FsmDriver, request, responseTo } from './fixtures.test.support.js';
import type { ClientTxConfig } from './invite-client-fsm.js';
import { reduceNonInviteClient, startNonInviteClient, type NonInviteClientEvent, type NonInviteClientState } from './non-invite-client-fsm.js';

const options = request({ method: 'OPTIONS' });
const udp: ClientTxConfig = { request: options, timers: TX_TIMERS, reliable: false };
const tcp: ClientTxConfig = { ...udp, reliable: true };

function driver(config: ClientTxConfig): FsmDriver<NonInviteClientState, NonInviteClientEvent> {
  return new FsmDriver(startNonInviteClient(config), (s, e) => reduceNonInviteClient(s, e, config));
}
const rx = (status: number): NonInviteClientEvent => ({ type: 'responseReceived', response: responseTo(options, status) });
const sendTimes = (d: FsmDriver<NonInviteClientState, NonInviteClientEvent>): number[] => d.lines('send').map((l) => Number(l.split(' ')[0]));

test('Trying: request sent, Timer E at T1 and Timer F at 64*T1 over UDP (17.1.2.2)', () => {
  const start = startNonInviteClient(udp);
  assert.equal(start.state.name, 'trying');
  assert.deepEqual(described(start), ['send OPTIONS', 'start timerE 500', 'start timerF 32000']);
  assert.deepEqual(described(startNonInviteClient(tcp)), ['send OPTIONS', 'start timerF 32000']);
});

test('Timer E doubles up to T2 in Trying; Timer F times out to the TU', () => {
  const d = driver(udp);
  d.advance(40_000);
  assert.deepEqual(sendTimes(d), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(d.log.slice(-2), ['32000 terminate', '32000 timeout timerF']);
  assert.equal(d.state.name, 'terminated');
  assert.equal(d.timers.size, 0);
});

test('Proceeding: 1xx delivered, Timer E then fires every T2; Timer F still times out', () => {
  const d = driver(udp);
  d.advance(600);
  d.dispatch(rx(100));
  assert.equal(d.state.name, 'proceeding');
  d.dispatch(rx(100));
  d.advance(40_000);
  // Sent at 0 and 500; the E armed at 500 (1000 ms) fires at 1500 in Proceeding, then every 4000.
  assert.deepEqual(sendTimes(d), [0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
  assert.deepEqual(d.lines('deliver'), ['600 deliver 100', '600 deliver 100']);
  assert.deepEqual(d.lines('timeout'), ['32000 timeout timerF']);
});

test('over a reliable transport: no retransmission at all', () => {
  const d = driver(tcp);
  d.advance(40_000);
  assert.deepEqual(sendTimes(d), [0]);
  assert.deepEqual(d.lines('timeout'), ['32000 timeout timerF']);
});

for (const from of ['trying', 'proceeding'] as const) {
  test(`${from} -> Completed on 200-699: to the TU, retransmissions stop, Timer K = T4`, () => {
    const d = driver(udp);
    if (from === 'proceeding') d.dispatch(rx(100));
    d.advance(700);
    d.dispatch(rx(200));
    assert.equal(d.state.name, 'completed');
    assert.deepEqual(d.log.slice(-2), ['700 start timerK 5000', '700 deliver 200']);
    d.dispatch(rx(200));
    d.dispatch(rx(100));
    d.advance(10_000);
    assert.deepEqual(sendTimes(d), [0, 500]);
    assert.equal(d.lines('deliver').filter((l) => l.endsWith('200')).length, 1, 'retransmitted finals are absorbed');
    assert.deepEqual(d.log.slice(-1), ['5700 terminate']);
  });
}

test('over a reliable transport Timer K is zero', () => {
  const d = driver(tcp);
  d.dispatch(rx(404));
  assert.equal(d.state.name, 'terminated');
  assert.deepEqual(d.log.slice(-2), ['0 terminate', '0 deliver 404']);
});

test('transport error in Trying or Proceeding: terminated and reported', () => {
  for (const prelude of [[], [rx(100)]]) {
    const d = driver(udp);
    for (const e of prelude) d.dispatch(e);
    d.dispatch({ type: 'transportError', failure: { reason: 'connection-refused', detail: 'x', error: undefined } });
    assert.equal(d.state.name, 'terminated');
    assert.deepEqual(d.log.slice(-2), ['0 terminate', '0 transport-error connection-refused']);
    assert.equal(d.timers.size, 0);
  }
});

test('timers that do not belong to a state do nothing', () => {
  const trying = startNonInviteClient(udp).state;
  assert.deepEqual(reduceNonInviteClient(trying, { type: 'timerFired', timer: 'timerK' }, udp).actions, []);
  assert.deepEqual(reduceNonInviteClient({ ...trying, name: 'completed' }, { type: 'timerFired', timer: 'timerE' }, udp).actions, []);
  assert.deepEqual(reduceNonInviteClient({ ...trying, name: 'completed' }, { type: 'timerFired', timer: 'timerF' }, udp).actions, []);
});
