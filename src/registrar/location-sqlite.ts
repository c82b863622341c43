import Database from 'better-sqlite3';
import { LOCATION_LIMITS } from '../limits.js';
import { liveBindings, type Binding } from './binding.js';
import { LocationUnavailableError, RegistrarError } from './errors.js';
import { latestExpiry, parseStoredBindings, serializeBindings, type LocationStore, type UpdateDecision } from './location-store.js';

export interface SqliteLocationOptions {
  /** The database file (created when missing); `:memory:` for a store that dies with the process. */
  readonly path: string;
  readonly now?: () => number;
  /** Sweep of expired bindings; 0 turns it off (reads hide them anyway). */
  readonly sweepIntervalMs?: number;
  /** Wait for another process's write lock (LOCATION_LIMITS.sqliteBusyTimeoutMs). */
  readonly busyTimeoutMs?: number;
}

/**
 * The default location store: one SQLite file in WAL mode (readers never block the writer, and a
 * crash loses no committed binding). One row per AOR holding its bindings as JSON, with the
 * earliest and latest expiry for the sweep. Updates run in a BEGIN IMMEDIATE transaction, so
 * processes sharing the file are serialised by SQLite's lock.
 */
export class SqliteLocationStore implements LocationStore {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #sweep: NodeJS.Timeout | undefined;
  readonly #select: Database.Statement<[string], { data: string }>;
  readonly #upsert: Database.Statement<[string, string, number, number]>;
  readonly #delete: Database.Statement<[string]>;
  #closed = false;

  constructor(options: SqliteLocationOptions) {
    this.#now = options.now ?? Date.now;
    try {
      this.#db = new Database(options.path);
      this.#db.pragma('journal_mode = WAL');
      // Another process holding the write lock is waited for, briefly, rather than failing at once.
      const busy = options.busyTimeoutMs ?? LOCATION_LIMITS.sqliteBusyTimeoutMs;
      if (!Number.isInteger(busy) || busy < 0) throw new RangeError(`busyTimeoutMs must be a non-negative integer, got ${busy}`);
      this.#db.pragma(`busy_timeout = ${busy}`);
      this.#db.exec(
        'CREATE TABLE IF NOT EXISTS bindings (aor TEXT PRIMARY KEY, data TEXT NOT NULL, first_expiry INTEGER NOT NULL, last_expiry INTEGER NOT NULL);' +
          'CREATE INDEX IF NOT EXISTS bindings_first_expiry ON bindings (first_expiry);',
      );
      this.#select = this.#db.prepare('SELECT data FROM bindings WHERE aor = ?');
      this.#upsert = this.#db.prepare(
        'INSERT INTO bindings (aor, data, first_expiry, last_expiry) VALUES (?, ?, ?, ?) ON CONFLICT (aor) DO UPDATE SET data = excluded.data, first_expiry = excluded.first_expiry, last_expiry = excluded.last_expiry',
      );
      this.#delete = this.#db.prepare('DELETE FROM bindings WHERE aor = ?');
    } catch (err) {
      throw new RegistrarError('LOCATION_ERR_CONFIG', `cannot open the location database ${options.path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const interval = options.sweepIntervalMs ?? LOCATION_LIMITS.sweepIntervalMs;
    if (interval > 0) {
      this.#sweep = setInterval(() => void this.expire().catch(() => undefined), interval);
      this.#sweep.unref();
    }
  }

  #run<T>(operation: string, work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new RegistrarError('LOCATION_ERR_CLOSED', 'the location store is closed'));
    try {
      return Promise.resolve(work());
    } catch (err) {
      if (err instanceof Database.SqliteError) return Promise.reject(new LocationUnavailableError('sqlite', operation, { cause: err }));
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #read(aor: string): Binding[] {
    const row = this.#select.get(aor);
    return row === undefined ? [] : liveBindings(parseStoredBindings(row.data), this.#now());
  }

  #write(aor: string, bindings: readonly Binding[]): void {
    if (bindings.length === 0) {
      this.#delete.run(aor);
      return;
    }
    let first = Number.POSITIVE_INFINITY;
    for (const b of bindings) first = Math.min(first, b.expiresAtMs);
    this.#upsert.run(aor, serializeBindings(bindings), first, latestExpiry(bindings));
  }

  get(aor: string): Promise<Binding[]> {
    return this.#run('get', () => this.#read(aor));
  }

  update<T>(aor: string, decide: (current: readonly Binding[]) => UpdateDecision<T>): Promise<T> {
    return this.#run('update', () =>
      this.#db
        .transaction(() => {
          const decision = decide(this.#read(aor));
          if (decision.next !== undefined) this.#write(aor, liveBindings(decision.next, this.#now()));
          return decision.result;
        })
        .immediate(),
    );
  }

  remove(aor: string): Promise<void> {
    return this.#run('remove', () => void this.#delete.run(aor));
  }

  expire(): Promise<number> {
    return this.#run('expire', () =>
      this.#db
        .transaction(() => {
          const now = this.#now();
          let removed = 0;
          const rows = this.#db.prepare<[number], { aor: string; data: string }>('SELECT aor, data FROM bindings WHERE first_expiry <= ?').all(now);
          for (const row of rows) {
            const all = parseStoredBindings(row.data);
            const live = liveBindings(all, now);
            removed += all.length - live.length;
            this.#write(row.aor, live);
          }
          return removed;
        })
        .immediate(),
    );
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#db.close();
    return Promise.resolve();
  }
}
