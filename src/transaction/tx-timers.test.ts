import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TX_TIMERS } from '../limits.js';
import { TransactionError } from './errors.js';
import { FsmDriver, request } from './fixtures.test.support.js';
import { reduceNonInviteClient, startNonInviteClient, type NonInviteClientEvent, type NonInviteClientState } from './non-invite-client-fsm.js';
import { resolveTxLimits, resolveTxTimers, timerEReachesT2Ms } from './tx-timers.js';

test('defaults are RFC 3261 Table 4: T1 500, T2 4 s, T4 5 s, B/F/H/J 64*T1, D 32 s, I/K T4', () => {
  const t = resolveTxTimers();
  assert.deepEqual(
    [t.t1Ms, t.t2Ms, t.t4Ms, t.timerBMs, t.timerDMs, t.timerFMs, t.timerHMs, t.timerIMs, t.timerJMs, t.timerKMs, t.timerLMs],
    [500, 4000, 5000, 32_000, 32_000, 32_000, 32_000, 5000, 32_000, 5000, 32_000],
  );
  assert.ok(Object.isFrozen(TX_TIMERS));
});

test('derived timers follow an overridden T1 and T4 unless given', () => {
  const t = resolveTxTimers({ t1Ms: 20, t2Ms: 160, t4Ms: 200, timerDMs: 50 });
  assert.equal(t.timerBMs, 1280);
  assert.equal(t.timerFMs, 1280);
  assert.equal(t.timerIMs, 200);
  assert.equal(t.timerKMs, 200);
  assert.equal(t.timerDMs, 50);
});

test('invalid timers and limits are refused naming the field', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof TransactionError);
      return `${err.code} ${err.detail.split(' ')[0]}`;
    }
    return undefined;
  };
  assert.equal(code(() => resolveTxTimers({ t1Ms: -1 })), 'TX_ERR_BAD_OPTION timers.t1Ms');
  assert.equal(code(() => resolveTxTimers({ t1Ms: 0 })), 'TX_ERR_BAD_OPTION timers.t1Ms');
  assert.equal(code(() => resolveTxTimers({ t1Ms: 5000 })), 'TX_ERR_BAD_OPTION timers.t2Ms');
  assert.equal(code(() => resolveTxTimers({ timerXMs: 1 } as never)), 'TX_ERR_BAD_OPTION timers.timerXMs');
  assert.equal(code(() => resolveTxLimits({ maxTransactions: 1.5 })), 'TX_ERR_BAD_OPTION limits.maxTransactions');
  assert.equal(resolveTxLimits({ maxTransactions: 3 }).maxTransactions, 3);
});

/** When the non-INVITE client state machine itself first restarts Timer E with T2 (over UDP). */
function firstTimerEAtT2(timers: ReturnType<typeof resolveTxTimers>): number | undefined {
  const config = { request: request({ method: 'OPTIONS' }), timers, reliable: false };
  const d = new FsmDriver<NonInviteClientState, NonInviteClientEvent>(startNonInviteClient(config), (s, e) => reduceNonInviteClient(s, e, config));
  d.advance(timers.timerFMs);
  // A reset, not the first start (with T1 = T2 the timer starts at T2 and is first reset at T1).
  const line = d.lines('start').find((l) => !l.startsWith('0 ') && l.endsWith(` timerE ${timers.t2Ms}`));
  return line === undefined ? undefined : Number(line.split(' ')[0]);
}

test('RFC 4320 section 4.1: Timer E reaches T2 when the client state machine resets it to T2 (3.5 s by default)', () => {
  const cases = [resolveTxTimers(), resolveTxTimers({ t1Ms: 20, t2Ms: 160 }), resolveTxTimers({ t1Ms: 500, t2Ms: 3000 }), resolveTxTimers({ t1Ms: 300, t2Ms: 300 })];
  for (const timers of cases) assert.equal(timerEReachesT2Ms(timers), firstTimerEAtT2(timers), `T1 ${timers.t1Ms} T2 ${timers.t2Ms}`);
  assert.equal(timerEReachesT2Ms(TX_TIMERS), TX_TIMERS.t1Ms + 2 * TX_TIMERS.t1Ms + 4 * TX_TIMERS.t1Ms);
});
