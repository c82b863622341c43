import type { Clock, ClockTimer } from './clock.js';

/** A scheduled callback; `cancel` removes it lazily (it is skipped when it reaches the top). */
export interface ScheduledTimer {
  cancel(): void;
}

interface Entry {
  readonly atMs: number;
  readonly seq: number;
  /** Dropped on cancel: a cancelled entry may sit in the heap until its due time, and must not keep its transaction alive. */
  callback: (() => void) | undefined;
  cancelled: boolean;
}

/**
 * One scheduler for every transaction timer (STYLE "One scheduler", undici util/timers.js): a
 * binary min-heap ordered by due time, with a single clock timeout armed for the earliest entry.
 * Entries due at the same time fire in the order they were scheduled.
 */
export class TimerScheduler {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #live = 0;
  #armed: { readonly atMs: number; readonly timer: ClockTimer } | undefined = undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Entries scheduled and neither fired nor cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Entries held, cancelled ones included (these are dropped lazily, or compacted when they are the majority). */
  get storedEntries(): number {
    return this.#heap.length;
  }

  /** Stored entries that still hold their callback: equal to size, since cancelled entries drop theirs. */
  get heldCallbacks(): number {
    let n = 0;
    for (const e of this.#heap) if (e.callback !== undefined) n++;
    return n;
  }

  /** Whether a clock timeout is armed (none when nothing is scheduled). */
  get armed(): boolean {
    return this.#armed !== undefined;
  }

  schedule(delayMs: number, callback: () => void): ScheduledTimer {
    const entry: Entry = { atMs: this.#clock.now() + Math.max(0, delayMs), seq: this.#seq++, callback, cancelled: false };
    this.#push(entry);
    this.#live++;
    this.#arm();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        entry.callback = undefined;
        this.#live--;
        if (this.#live === 0) this.#disarm();
        else if (this.#heap.length > 64 && this.#live * 2 < this.#heap.length) this.#compact();
      },
    };
  }

  /** Cancels everything and disarms the clock: no timer is left behind. */
  clear(): void {
    for (const e of this.#heap) {
      e.cancelled = true;
      e.callback = undefined;
    }
    this.#heap.length = 0;
    this.#live = 0;
    this.#disarm();
  }

  #fire(): void {
    this.#armed = undefined;
    const now = this.#clock.now();
    while (true) {
      const top = this.#heap[0];
      if (top === undefined || top.atMs > now) break;
      this.#pop();
      if (top.cancelled) continue;
      const callback = top.callback;
      top.cancelled = true;
      top.callback = undefined;
      this.#live--;
      callback?.();
    }
    this.#arm();
  }

  #arm(): void {
    while (this.#heap[0]?.cancelled === true) this.#pop();
    const top = this.#heap[0];
    if (top === undefined) {
      this.#disarm();
      return;
    }
    if (this.#armed !== undefined && this.#armed.atMs <= top.atMs) return;
    this.#disarm();
    this.#armed = { atMs: top.atMs, timer: this.#clock.setTimer(() => this.#fire(), top.atMs - this.#clock.now()) };
  }

  #disarm(): void {
    this.#armed?.timer.cancel();
    this.#armed = undefined;
  }

  /** Drops cancelled entries (e.g. Timer B after every 1xx) so that they do not pile up for 64*T1. */
  #compact(): void {
    const live = this.#heap.filter((e) => !e.cancelled);
    this.#heap.length = 0;
    for (const e of live) this.#push(e);
  }

  #less(a: Entry, b: Entry): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry;
      if (!this.#less(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    while (true) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && this.#less(heap[r] as Entry, heap[l] as Entry) ? r : l;
      const c = heap[child] as Entry;
      if (!this.#less(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
