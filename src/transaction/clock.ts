/**
 * The time seam of the transaction layer (STYLE "Injection"): the layer reads the time and arms at
 * most one timeout at a time through a Clock, so that tests drive it with a VirtualClock.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are used. */
  now(): number;
  /** Calls `callback` once after `delayMs`; the returned handle cancels it. */
  setTimer(callback: () => void, delayMs: number): ClockTimer;
}

export interface ClockTimer {
  cancel(): void;
}

/**
 * The real clock: performance.now() and one Node timeout. The timeout is unref'd, as undici does,
 * so that pending transaction timers alone do not keep a process alive; sockets do.
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimer(callback: () => void, delayMs: number): ClockTimer {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
});
