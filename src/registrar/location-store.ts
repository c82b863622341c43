import type { Binding } from './binding.js';

/**
 * Where the bindings of every address-of-record live, shared by the registrar (writes) and the
 * proxy (reads). Backends: location-sqlite.ts (the default, one file) and location-redis.ts
 * (several proxy instances). Every method may reject with LocationUnavailableError.
 */
export interface LocationStore {
  /** The live bindings of `aor` (expired ones are never returned). */
  get(aor: string): Promise<Binding[]>;
  /**
   * Reads the live bindings of `aor`, lets `decide` compute the new set, and stores it, as one
   * atomic step: no other update of `aor`, from this process or another sharing the backend,
   * comes between the read and the write. This is what makes RFC 3261 section 10.3's Call-ID/CSeq
   * ordering hold across instances. `decide` returns `next: undefined` to write nothing; it must
   * be synchronous and free of side effects, as a backend may call it more than once.
   */
  update<T>(aor: string, decide: (current: readonly Binding[]) => UpdateDecision<T>): Promise<T>;
  /** Removes every binding of `aor`. */
  remove(aor: string): Promise<void>;
  /** Removes what has expired; returns how many bindings went. Backends with their own expiry may return 0. */
  expire(): Promise<number>;
  close(): Promise<void>;
}

export interface UpdateDecision<T> {
  readonly next: readonly Binding[] | undefined;
  readonly result: T;
}

/** The latest expiry of a set of bindings, or 0 for none. */
export function latestExpiry(bindings: readonly Binding[]): number {
  let latest = 0;
  for (const b of bindings) if (b.expiresAtMs > latest) latest = b.expiresAtMs;
  return latest;
}

// JSON has no undefined: optional fields are stored as null and read back as undefined, so a
// binding read from any backend is deepEqual to the one written.
const OPTIONAL_FIELDS = ['q', 'connectionId', 'instanceId', 'regId', 'userAgent'] as const;

/** Bindings as stored JSON text. */
export function serializeBindings(bindings: readonly Binding[]): string {
  return JSON.stringify(bindings.map((b) => {
    const stored: Record<string, unknown> = { ...b };
    for (const field of OPTIONAL_FIELDS) stored[field] = b[field] ?? null;
    return stored;
  }));
}

/** Bindings from stored JSON; entries that are not objects are skipped. */
export function parseStoredBindings(json: string): Binding[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) return [];
  const out: Binding[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const stored = { ...(entry as Record<string, unknown>) };
    for (const field of OPTIONAL_FIELDS) if (stored[field] === null) stored[field] = undefined;
    out.push(stored as unknown as Binding);
  }
  return out;
}
