import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SrvRecord } from './records.js';
import { orderSrv } from './srv-order.js';

const srv = (priority: number, weight: number, target: string, port = 5061): SrvRecord => ({ priority, weight, port, target });

/** A random source that returns the given values in turn. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => {
    const value = values[i++];
    if (value === undefined) throw new Error('more draws than expected');
    return value;
  };
}

test('lower priority first, whatever the weights', () => {
  const order = orderSrv([srv(20, 100, 'b'), srv(10, 0, 'a'), srv(30, 5, 'c')], () => 0);
  assert.deepEqual(order.map((r) => r.target), ['a', 'b', 'c']);
});

test('the draw picks the first record whose running sum reaches it (RFC 2782)', () => {
  // Weights 60 and 40: running sums 60, 100. A draw of 61 (of 0..100) picks the second.
  const records = [srv(10, 60, 'sip1'), srv(10, 40, 'sip2')];
  assert.deepEqual(orderSrv(records, draws(61 / 101, 0)).map((r) => r.target), ['sip2', 'sip1']);
  assert.deepEqual(orderSrv(records, draws(60 / 101, 0)).map((r) => r.target), ['sip1', 'sip2']);
  assert.deepEqual(orderSrv(records, draws(0, 0)).map((r) => r.target), ['sip1', 'sip2']);
});

test('weights give proportional chances of coming first', () => {
  const records = [srv(10, 60, 'sip1'), srv(10, 40, 'sip2')];
  let first = 0;
  const n = 1010;
  // Every draw value in turn, evenly spread over [0, 1): exactly proportional counts.
  for (let i = 0; i < n; i++) {
    const order = orderSrv(records, draws(i / n, 0));
    if (order[0]?.target === 'sip1') first++;
  }
  // Draws 0..60 of 0..100 pick sip1: 61 of 101 values.
  assert.equal(first, (61 / 101) * n);
});

test('zero-weight records are placed first and chosen only by a zero draw', () => {
  const records = [srv(10, 10, 'heavy'), srv(10, 0, 'zero')];
  assert.deepEqual(orderSrv(records, draws(0, 0)).map((r) => r.target), ['zero', 'heavy']);
  assert.deepEqual(orderSrv(records, draws(0.5, 0)).map((r) => r.target), ['heavy', 'zero']);
});

test('all zero weights keep the order received', () => {
  const records = [srv(10, 0, 'a'), srv(10, 0, 'b'), srv(10, 0, 'c')];
  assert.deepEqual(orderSrv(records, () => 0.99).map((r) => r.target), ['a', 'b', 'c']);
});

test('deterministic order for stateless proxies: weight, then name', () => {
  const records = [srv(10, 1000, 'b'), srv(10, 1001, 'c'), srv(10, 1000, 'a'), srv(5, 0, 'z')];
  const order = orderSrv(records, () => {
    throw new Error('no randomness in deterministic mode');
  }, true);
  assert.deepEqual(order.map((r) => r.target), ['z', 'c', 'a', 'b']);
});

test('every record appears exactly once', () => {
  const records = [srv(1, 5, 'a'), srv(1, 7, 'b'), srv(2, 0, 'c'), srv(1, 0, 'd'), srv(2, 3, 'e')];
  for (const r of [0, 0.3, 0.7, 0.999]) {
    const order = orderSrv(records, () => r);
    assert.deepEqual([...order].map((x) => x.target).sort(), ['a', 'b', 'c', 'd', 'e']);
  }
});
