import { TX_LIMITS, TX_TIMERS, type TxLimits, type TxTimers } from '../limits.js';
import { TransactionError } from './errors.js';

/** The derived timers and how each follows from T1/T4 (RFC 3261 Table 4, RFC 6026 Timer L). */
const DERIVED: ReadonlyArray<readonly [keyof TxTimers, (t: { t1Ms: number; t4Ms: number }) => number]> = [
  ['timerBMs', (t) => 64 * t.t1Ms],
  ['timerDMs', (t) => 64 * t.t1Ms],
  ['timerFMs', (t) => 64 * t.t1Ms],
  ['timerHMs', (t) => 64 * t.t1Ms],
  ['timerIMs', (t) => t.t4Ms],
  ['timerJMs', (t) => 64 * t.t1Ms],
  ['timerKMs', (t) => t.t4Ms],
  ['timerLMs', (t) => 64 * t.t1Ms],
];

/**
 * Merges user timers over TX_TIMERS once (STYLE "Constructors merge ... and validate every field").
 * A derived timer not given explicitly is recomputed from the given T1/T4, so `{ t1Ms: 20 }` gives
 * Timer B = 1280 ms. Every field must be a finite number >= 0, T1 and T2 > 0, and T2 >= T1.
 */
export function resolveTxTimers(options: Partial<TxTimers> = {}): TxTimers {
  const out: Record<string, number> = { ...TX_TIMERS };
  for (const [name, value] of Object.entries(options)) {
    if (!(name in TX_TIMERS)) throw new TransactionError('TX_ERR_BAD_OPTION', `timers.${name} is not a transaction timer`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TransactionError('TX_ERR_BAD_OPTION', `timers.${name} must be a finite number of milliseconds >= 0`);
    }
    out[name] = value;
  }
  const base = { t1Ms: out.t1Ms as number, t4Ms: out.t4Ms as number };
  for (const [name, derive] of DERIVED) if (options[name] === undefined) out[name] = derive(base);
  const timers = Object.freeze(out) as TxTimers;
  if (timers.t1Ms <= 0) throw new TransactionError('TX_ERR_BAD_OPTION', 'timers.t1Ms must be > 0');
  if (timers.t2Ms < timers.t1Ms) throw new TransactionError('TX_ERR_BAD_OPTION', 'timers.t2Ms must be >= timers.t1Ms');
  return timers;
}

export function resolveTxLimits(options: Partial<TxLimits> = {}): TxLimits {
  const out: Record<string, number> = { ...TX_LIMITS };
  for (const [name, value] of Object.entries(options)) {
    if (!(name in TX_LIMITS)) throw new TransactionError('TX_ERR_BAD_OPTION', `limits.${name} is not a transaction limit`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new TransactionError('TX_ERR_BAD_OPTION', `limits.${name} must be an integer >= 0`);
    }
    out[name] = value;
  }
  return Object.freeze(out) as TxLimits;
}

/**
 * How long after a non-INVITE request is first sent its client transaction's Timer E is reset to
 * T2 (section 17.1.2.2: T1, then 2*T1, 4*T1 ... capped at T2): 500 + 1000 + 2000 ms with the
 * defaults. RFC 4320 section 4.1: no 100 to a non-INVITE request over an unreliable transport
 * before then, and a 100 after it when the element has not otherwise responded.
 */
export function timerEReachesT2Ms(timers: Pick<TxTimers, 't1Ms' | 't2Ms'>): number {
  if (!(timers.t1Ms > 0) || !(timers.t2Ms > 0)) return 0; // No retransmission schedule to wait for (and no endless loop).
  let elapsedMs = 0;
  let intervalMs = timers.t1Ms;
  // Each firing resets the timer to the doubled interval: stop at the firing whose reset is T2.
  do {
    elapsedMs += intervalMs;
    intervalMs = Math.min(intervalMs * 2, timers.t2Ms);
  } while (intervalMs < timers.t2Ms);
  return elapsedMs;
}
