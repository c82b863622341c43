import type { CliIo } from './command.js';

/** How long a wait runs before it is shown: shorter waits would only flicker. */
const SHOW_AFTER_MS = 1_000;

export interface Progress {
  /** What is being waited for now (`resolving sips:example.com`); the clock restarts. */
  step(label: string): void;
  /** Clears the line; call before printing results. */
  stop(): void;
}

/**
 * A status line for waits longer than a second (`resolving ... 3 s`), on stderr and only when it is
 * a terminal (io.progress is set by main.ts then). Its timers never keep the process alive.
 */
export function startProgress(io: CliIo, label: string): Progress {
  const show = io.progress;
  if (show === undefined) return { step: () => undefined, stop: () => undefined };
  let current = label;
  let started = Date.now();
  let shown = false;
  const timer = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed < SHOW_AFTER_MS) return;
    shown = true;
    show(`${current} ... ${Math.floor(elapsed / 1000)} s`);
  }, SHOW_AFTER_MS / 4);
  timer.unref();
  return {
    step(next) {
      current = next;
      started = Date.now();
    },
    stop() {
      clearInterval(timer);
      if (shown) show(undefined);
      shown = false;
    },
  };
}
