import { LOCATION_LIMITS } from '../limits.js';
import type { LocationStore } from '../registrar/location-store.js';
import { silentRegistrationLogger, type RegistrationLogger } from './registration-log.js';

export interface ExpirySweeperOptions {
  readonly store: LocationStore;
  /** Between sweeps (LOCATION_LIMITS.sweepIntervalMs). */
  readonly intervalMs?: number;
  readonly log?: RegistrationLogger;
}

export interface ExpirySweeper {
  /** Stops the sweeps; resolves once a sweep in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Removes expired bindings from the location store at an interval, for the whole process. Reads
 * hide expired bindings anyway: this only gives their space back. A failed sweep (the backend is
 * away) is logged and the next one tries again; sweeps never overlap, and the timer does not keep
 * the process alive.
 */
export function startExpirySweeper(options: ExpirySweeperOptions): ExpirySweeper {
  const intervalMs = options.intervalMs ?? LOCATION_LIMITS.sweepIntervalMs;
  if (!Number.isInteger(intervalMs) || intervalMs <= 0) throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);
  const log = options.log ?? silentRegistrationLogger;
  let running: Promise<void> | undefined;
  const sweep = async (): Promise<void> => {
    try {
      const removed = await options.store.expire();
      if (removed > 0) log('debug', 'bindings-expired', { removed });
    } catch (err) {
      log('warn', 'location-sweep-failed', { detail: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown } | null)?.code });
    }
  };
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = sweep().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
