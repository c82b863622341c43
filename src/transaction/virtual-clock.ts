import type { Clock, ClockTimer } from './clock.js';

interface PendingTimer {
  readonly atMs: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * Virtual time for tests (like unbound's replay files): nothing happens until `advance` moves the
 * time, and then due timers run in time order, including timers they arm themselves.
 */
export class VirtualClock implements Clock {
  #nowMs: number;
  #seq = 0;
  #pending: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  setTimer(callback: () => void, delayMs: number): ClockTimer {
    const timer: PendingTimer = { atMs: this.#nowMs + Math.max(0, delayMs), seq: this.#seq++, callback, cancelled: false };
    this.#pending.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers armed and not yet fired or cancelled. */
  get pendingCount(): number {
    return this.#pending.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    this.advanceTo(this.#nowMs + ms);
  }

  advanceTo(targetMs: number): void {
    while (true) {
      this.#pending = this.#pending.filter((t) => !t.cancelled);
      let next: PendingTimer | undefined;
      for (const t of this.#pending) {
        if (t.atMs <= targetMs && (next === undefined || t.atMs < next.atMs || (t.atMs === next.atMs && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.#nowMs = Math.max(this.#nowMs, next.atMs);
      next.cancelled = true;
      next.callback();
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs);
  }
}
