/**
 * The security state of a DNS answer, in unbound's words (RFC 4033 section 5, RFC 4035 section 4.3).
 * Only `secure` ever enables DANE; `bogus` and `indeterminate` never fall back to weaker checks.
 */
export type DnssecState = 'secure' | 'insecure' | 'bogus' | 'indeterminate';

/** The weakest of several states: a chain of lookups is only as secure as its weakest link. */
export function weakestState(states: Iterable<DnssecState>): DnssecState {
  let weakest: DnssecState = 'secure';
  for (const state of states) {
    if (STATE_RANK[state] > STATE_RANK[weakest]) weakest = state;
  }
  return weakest;
}

// bogus outranks everything: one forged answer taints the whole chain.
const STATE_RANK: Readonly<Record<DnssecState, number>> = {
  secure: 0,
  insecure: 1,
  indeterminate: 2,
  bogus: 3,
};
