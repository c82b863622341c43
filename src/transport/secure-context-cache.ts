/**
 * Secure contexts built once and reused: building one with the system root list costs about 30 ms
 * (DESIGN.md, measured here), a price a connection must not pay. Keyed by the options' content.
 */
import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { TLS_LIMITS } from '../limits.js';

export interface SecureContextSpec {
  /**
   * Trust store of the context. `none` (the default) gives OpenSSL an empty store, so that
   * getPeerCertificate(true) returns the chain the peer presented and nothing appended from a
   * store; sipsec validates paths itself (src/tls). PEM strings trust exactly those certificates.
   */
  readonly ca?: 'none' | readonly string[];
  /** Our own certificate chain (PEM, leaf first) and key, for servers and for mutual TLS clients. */
  readonly cert?: string;
  readonly key?: string;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export class SecureContextCache {
  readonly #contexts = new Map<string, SecureContext>();
  readonly #maxEntries: number;
  #builds = 0;

  constructor(maxEntries: number = TLS_LIMITS.maxCachedSecureContexts) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, not ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  /** The context for these options, built on first use; least recently used contexts are dropped. */
  get(spec: SecureContextSpec = {}): SecureContext {
    const key = cacheKey(spec);
    const cached = this.#contexts.get(key);
    if (cached !== undefined) {
      this.#contexts.delete(key);
      this.#contexts.set(key, cached);
      return cached;
    }
    const context = createSecureContext({
      ca: spec.ca === undefined || spec.ca === 'none' ? [] : [...spec.ca],
      ...(spec.cert !== undefined ? { cert: spec.cert } : {}),
      ...(spec.key !== undefined ? { key: spec.key } : {}),
      minVersion: spec.minVersion ?? 'TLSv1.2',
    });
    this.#builds++;
    this.#contexts.set(key, context);
    if (this.#contexts.size > this.#maxEntries) {
      const oldest = this.#contexts.keys().next().value;
      if (oldest !== undefined) this.#contexts.delete(oldest);
    }
    return context;
  }

  get size(): number {
    return this.#contexts.size;
  }

  /** Contexts built so far (cache misses), for tests and the benchmark. */
  get builds(): number {
    return this.#builds;
  }

  clear(): void {
    this.#contexts.clear();
  }
}

function cacheKey(spec: SecureContextSpec): string {
  const hash = createHash('sha256');
  const ca = spec.ca === undefined || spec.ca === 'none' ? ['none'] : ['pem', ...spec.ca];
  for (const part of [...ca, '\0', spec.cert ?? '', '\0', spec.key ?? '', '\0', spec.minVersion ?? '']) hash.update(part).update('\0');
  return hash.digest('hex');
}
