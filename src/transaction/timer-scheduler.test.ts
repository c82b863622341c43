import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimerScheduler } from './timer-scheduler.js';
import { VirtualClock } from './virtual-clock.js';

test('fires in due order with one clock timeout armed at a time', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  const fired: string[] = [];
  scheduler.schedule(300, () => fired.push('c'));
  scheduler.schedule(100, () => fired.push('a'));
  scheduler.schedule(200, () => fired.push('b'));
  scheduler.schedule(100, () => fired.push('a2'));
  assert.equal(clock.pendingCount, 1);
  clock.advance(99);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['a', 'a2']);
  clock.advance(500);
  assert.deepEqual(fired, ['a', 'a2', 'b', 'c']);
  assert.equal(scheduler.size, 0);
  assert.equal(clock.pendingCount, 0);
});

test('cancelled entries never fire; cancelling the last disarms the clock', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  const fired: string[] = [];
  const a = scheduler.schedule(100, () => fired.push('a'));
  const b = scheduler.schedule(200, () => fired.push('b'));
  a.cancel();
  a.cancel();
  assert.equal(scheduler.size, 1);
  clock.advance(150);
  assert.deepEqual(fired, []);
  b.cancel();
  assert.equal(scheduler.size, 0);
  assert.equal(scheduler.armed, false);
  assert.equal(clock.pendingCount, 0);
  clock.advance(1000);
  assert.deepEqual(fired, []);
});

test('an earlier entry re-arms the clock; callbacks may schedule more', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  const fired: number[] = [];
  scheduler.schedule(1000, () => fired.push(clock.now()));
  scheduler.schedule(10, () => {
    fired.push(clock.now());
    scheduler.schedule(10, () => fired.push(clock.now()));
  });
  clock.advance(2000);
  assert.deepEqual(fired, [10, 20, 1000]);
});

test('clear() leaves no timer behind', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  let fired = 0;
  for (let i = 0; i < 50; i++) scheduler.schedule(i * 7, () => fired++);
  scheduler.clear();
  assert.equal(scheduler.size, 0);
  assert.equal(clock.pendingCount, 0);
  clock.advance(10_000);
  assert.equal(fired, 0);
});

test('many random entries come out sorted by due time, then by scheduling order', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  const fired: Array<[number, number]> = [];
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 1000;
  const cancels: Array<{ cancel(): void }> = [];
  for (let i = 0; i < 500; i++) {
    const at = rand();
    cancels.push(scheduler.schedule(at, () => fired.push([at, i])));
  }
  for (let i = 0; i < 500; i += 5) cancels[i]?.cancel();
  clock.advance(1000);
  assert.equal(fired.length, 400);
  for (let i = 1; i < fired.length; i++) {
    const [pa, pi] = fired[i - 1] as [number, number];
    const [ca, ci] = fired[i] as [number, number];
    assert.ok(pa < ca || (pa === ca && pi < ci), `entry ${i} out of order`);
  }
  assert.ok(fired.every(([, i]) => i % 5 !== 0));
});

test('cancelled entries are compacted away when they are the majority', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  const fired: number[] = [];
  const handles = Array.from({ length: 1000 }, (_, i) => scheduler.schedule(10_000 + i, () => fired.push(i)));
  handles.forEach((h, i) => {
    if (i % 10 !== 0) h.cancel();
  });
  assert.equal(scheduler.size, 100);
  assert.ok(scheduler.storedEntries <= 200, `${scheduler.storedEntries} entries kept for 100 live ones`);
  clock.advance(20_000);
  assert.deepEqual(fired, Array.from({ length: 100 }, (_, i) => i * 10));
});

test('a cancelled entry left in the heap no longer holds its callback (nor what the callback holds)', () => {
  const clock = new VirtualClock();
  const scheduler = new TimerScheduler(clock);
  // Fewer cancelled than live entries: no compaction, so the cancelled ones stay stored until due.
  const live = Array.from({ length: 100 }, () => scheduler.schedule(1000, () => undefined));
  const cancelled = Array.from({ length: 50 }, () => scheduler.schedule(2000, () => undefined));
  for (const timer of cancelled) timer.cancel();
  assert.equal(scheduler.storedEntries, 150);
  assert.equal(scheduler.size, 100);
  assert.equal(scheduler.heldCallbacks, 100);
  clock.advance(1000);
  assert.equal(scheduler.heldCallbacks, 0);
  assert.equal(live.length, 100);
});
