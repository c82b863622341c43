import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TX_TIMERS } from '../limits.js';
import { TransactionError } from './errors.js';
import { resolveTxLimits, resolveTxTimers } from './tx-timers.js';

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
