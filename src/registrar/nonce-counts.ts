/**
 * Which nonce-counts (RFC 7616 section 3.4: nc) each nonce has been used with, so that captured
 * credentials cannot be replayed. Bounded: at most maxNonces nonces (least recently used dropped
 * first), and per nonce the highest count with a window of the `window` counts below it.
 * A nonce dropped from memory, or never seen but issued no later than one that was dropped,
 * reads as 'forgotten': the caller answers stale=true, so eviction never reopens a replay.
 * Per process: instances sharing a nonce secret do not share these counts (docs/REGISTRAR.md).
 */
export type NonceCountVerdict = 'fresh' | 'replayed' | 'forgotten';

interface Entry {
  highest: number;
  /** Bit i set: count highest - i was used (bit 0 is highest itself). */
  seen: number;
  readonly issuedAtSeconds: number;
}

export class NonceCountTracker {
  readonly #maxNonces: number;
  readonly #window: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  readonly #entries = new Map<string, Entry>();
  #forgottenUpToSeconds = -1;

  constructor(maxNonces: number, window: number) {
    if (!Number.isInteger(maxNonces) || maxNonces < 1) throw new RangeError(`maxTrackedNonces must be a positive integer, got ${maxNonces}`);
    if (!Number.isInteger(window) || window < 1 || window > 32) throw new RangeError(`nonceCountWindow must be an integer from 1 to 32, got ${window}`);
    this.#maxNonces = maxNonces;
    this.#window = window;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records `nc` for `nonce` when it was not used before; says whether it was. */
  use(nonce: string, nc: number, issuedAtSeconds: number): NonceCountVerdict {
    const entry = this.#entries.get(nonce);
    if (entry === undefined) {
      if (issuedAtSeconds <= this.#forgottenUpToSeconds) return 'forgotten';
      this.#insert(nonce, { highest: nc, seen: 1, issuedAtSeconds });
      return 'fresh';
    }
    this.#entries.delete(nonce);
    this.#entries.set(nonce, entry);
    if (nc > entry.highest) {
      const shift = nc - entry.highest;
      entry.seen = shift >= 32 ? 1 : ((entry.seen << shift) | 1) >>> 0;
      entry.highest = nc;
      return 'fresh';
    }
    const back = entry.highest - nc;
    if (back >= this.#window) return 'replayed';
    const bit = (1 << back) >>> 0;
    if ((entry.seen & bit) !== 0) return 'replayed';
    entry.seen = (entry.seen | bit) >>> 0;
    return 'fresh';
  }

  #insert(nonce: string, entry: Entry): void {
    if (this.#entries.size >= this.#maxNonces) {
      const oldest = this.#entries.entries().next().value;
      if (oldest !== undefined) {
        this.#entries.delete(oldest[0]);
        this.#forgottenUpToSeconds = Math.max(this.#forgottenUpToSeconds, oldest[1].issuedAtSeconds);
      }
    }
    this.#entries.set(nonce, entry);
  }
}
