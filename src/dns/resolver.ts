import { DNS_LIMITS } from '../limits.js';
import type { DnsBackend, DnsBackendName } from './backend.js';
import { DnsCache } from './dns-cache.js';
import { checkDnsName } from './dns-name.js';
import { DnsConfigError, DnsError } from './errors.js';
import type { DnsAnswer, DnsRecordType } from './records.js';

/**
 * The resolver every other layer uses: each answer carries its DNSSEC state (records.ts). Backed
 * by one of three backends (create-resolver.ts).
 */
export interface DnsResolver {
  readonly backend: DnsBackendName;
  query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>>;
  close(): Promise<void>;
}

export interface ResolverOptions {
  /** Deadline of one attempt. */
  readonly queryTimeoutMs?: number;
  /** Further attempts after a timeout. */
  readonly queryRetries?: number;
  readonly cacheMaxEntries?: number;
  readonly cacheMaxTtlSeconds?: number;
  readonly cacheMaxNegativeTtlSeconds?: number;
  readonly bogusTtlSeconds?: number;
  /** The clock in milliseconds (injected for tests of expiry). */
  readonly now?: () => number;
}

/** Counters that show what the cache and the coalescing did. */
export interface ResolverStats {
  /** Questions asked of the backend (each attempt counts). */
  readonly backendQueries: number;
  readonly cacheHits: number;
  /** Questions that joined an identical question already in flight. */
  readonly coalesced: number;
  readonly timeouts: number;
}

/**
 * Wraps a backend with a cache by TTL (positive and negative, bounded in size), coalescing of
 * identical questions in flight, a deadline per attempt and retries after timeouts.
 *
 * Caching rules: answers with records and denials for their TTL (denials capped at
 * cacheMaxNegativeTtlSeconds, everything at cacheMaxTtlSeconds); bogus answers for bogusTtlSeconds
 * (unbound's val-bogus-ttl); indeterminate answers (timeouts, SERVFAIL) are not cached.
 */
export class CachingResolver implements DnsResolver {
  readonly backend: DnsBackendName;
  readonly #backend: DnsBackend;
  readonly #cache: DnsCache;
  readonly #inFlight = new Map<string, Promise<DnsAnswer>>();
  readonly #options: Required<Omit<ResolverOptions, 'now'>>;
  readonly #now: () => number;
  #closed = false;
  #stats = { backendQueries: 0, cacheHits: 0, coalesced: 0, timeouts: 0 };

  constructor(backend: DnsBackend, options: ResolverOptions = {}) {
    this.backend = backend.name;
    this.#backend = backend;
    this.#options = {
      queryTimeoutMs: positiveInteger('queryTimeoutMs', options.queryTimeoutMs ?? DNS_LIMITS.queryTimeoutMs, 1),
      queryRetries: positiveInteger('queryRetries', options.queryRetries ?? DNS_LIMITS.queryRetries, 0),
      cacheMaxEntries: positiveInteger('cacheMaxEntries', options.cacheMaxEntries ?? DNS_LIMITS.cacheMaxEntries, 0),
      cacheMaxTtlSeconds: positiveInteger('cacheMaxTtlSeconds', options.cacheMaxTtlSeconds ?? DNS_LIMITS.cacheMaxTtlSeconds, 0),
      cacheMaxNegativeTtlSeconds: positiveInteger(
        'cacheMaxNegativeTtlSeconds', options.cacheMaxNegativeTtlSeconds ?? DNS_LIMITS.cacheMaxNegativeTtlSeconds, 0),
      bogusTtlSeconds: positiveInteger('bogusTtlSeconds', options.bogusTtlSeconds ?? DNS_LIMITS.bogusTtlSeconds, 0),
    };
    this.#now = options.now ?? Date.now;
    this.#cache = new DnsCache(this.#options.cacheMaxEntries, this.#now);
  }

  stats(): ResolverStats {
    return { ...this.#stats };
  }

  query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    if (this.#closed) return Promise.reject(new DnsError('DNS_ERR_CLOSED', 'resolver closed'));
    let normalized: string;
    try {
      normalized = checkDnsName(name);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const key = `${type} ${normalized}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#stats.cacheHits++;
      const answer = cached.answer as DnsAnswer<T>;
      // A cached answer carries the time it has left, as a recursive resolver's would.
      return Promise.resolve(answer.kind === 'failure' ? answer : { ...answer, ttlSeconds: Math.min(answer.ttlSeconds, cached.remainingSeconds) });
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) {
      this.#stats.coalesced++;
      return pending as Promise<DnsAnswer<T>>;
    }
    const promise = this.#ask(normalized, type).then((answer) => {
      this.#cache.set(key, answer, this.#ttlFor(answer));
      return answer;
    }).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, promise);
    return promise;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cache.clear();
    await this.#backend.close();
  }

  async #ask<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const attempts = 1 + this.#options.queryRetries;
    let answer: DnsAnswer<T> | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      answer = await this.#attempt(name, type, attempt, attempts);
      if (!(answer.kind === 'failure' && answer.failure === 'timeout')) return answer;
    }
    // attempts >= 1, so answer is set.
    return answer as DnsAnswer<T>;
  }

  #attempt<T extends DnsRecordType>(name: string, type: T, attempt: number, attempts: number): Promise<DnsAnswer<T>> {
    this.#stats.backendQueries++;
    const timeoutMs = this.#options.queryTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#stats.timeouts++;
        resolve({
          kind: 'failure', name, type, cnames: [], state: 'indeterminate', failure: 'timeout',
          why: `no answer within ${timeoutMs} ms (attempt ${attempt} of ${attempts})`,
        });
      }, timeoutMs);
      this.#backend.lookup(name, type).then(
        (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  #ttlFor(answer: DnsAnswer): number {
    switch (answer.kind) {
      case 'records':
        return Math.min(answer.ttlSeconds, this.#options.cacheMaxTtlSeconds);
      case 'nxdomain':
      case 'nodata':
        return Math.min(answer.ttlSeconds, this.#options.cacheMaxNegativeTtlSeconds, this.#options.cacheMaxTtlSeconds);
      case 'failure':
        return answer.state === 'bogus' ? this.#options.bogusTtlSeconds : 0;
    }
  }
}

function positiveInteger(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new DnsConfigError(field, `must be an integer >= ${min}, got ${value}`);
  return value;
}
