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
