import type { DnsAnswer } from './records.js';

/**
 * Answers by (name, type) until their TTL runs out, positive and negative alike, bounded in size:
 * the least recently used entry goes first. Time is injected (milliseconds).
 */
export class DnsCache {
  readonly #entries = new Map<string, { readonly answer: DnsAnswer; readonly expiresAtMs: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The answer and its remaining lifetime in whole seconds (rounded up), or undefined. */
  get(key: string): { readonly answer: DnsAnswer; readonly remainingSeconds: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const remainingMs = entry.expiresAtMs - this.#now();
    if (remainingMs <= 0) {
      this.#entries.delete(key);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return { answer: entry.answer, remainingSeconds: Math.ceil(remainingMs / 1000) };
  }

  /** Stores for `ttlSeconds`; a TTL of 0 or less is not stored (RFC 1035: use only for this transaction). */
  set(key: string, answer: DnsAnswer, ttlSeconds: number): void {
    this.#entries.delete(key);
    if (ttlSeconds <= 0 || this.#maxEntries <= 0) return;
    this.#entries.set(key, { answer, expiresAtMs: this.#now() + ttlSeconds * 1000 });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
