import { createClient } from 'redis';
import { LOCATION_LIMITS, type LocationLimits } from '../limits.js';
import { liveBindings, type Binding } from './binding.js';
import { LocationUnavailableError, RegistrarError } from './errors.js';
import { latestExpiry, parseStoredBindings, serializeBindings, type LocationStore, type UpdateDecision } from './location-store.js';

export interface RedisLocationOptions {
  /** redis://host:port/db (node-redis URL syntax). */
  readonly url: string;
  /** Prefix of every key, so that several domains or deployments share one Redis. */
  readonly keyPrefix?: string;
  readonly now?: () => number;
  readonly limits?: Partial<Pick<LocationLimits, 'redisCommandTimeoutMs' | 'redisUpdateAttempts' | 'redisMaxReconnectDelayMs'>>;
}

function makeClient(options: Parameters<typeof createClient>[0]) {
  return createClient(options);
}

type RedisClient = ReturnType<typeof makeClient>;

/**
 * Compare-and-set of one AOR's key: written only if it still holds what the caller read
 * (ARGV[1], '' for absent). Lua scripts run atomically in Redis, so two instances updating one
 * AOR cannot interleave between the check and the write; the loser reads again and retries.
 */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

/**
 * The shared location store: one Redis key per AOR holding its bindings as JSON, with a TTL that
 * ends at its latest expiry (Redis drops the key itself; reads also hide expired bindings).
 * Commands are not queued while the server is away: they fail at once with
 * LocationUnavailableError, and the client reconnects in the background.
 */
export class RedisLocationStore implements LocationStore {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #attempts: number;
  // Updates of one AOR from this process run one after another, so that retries are needed only
  // against other processes: optimistic updates racing each other in one process starve.
  readonly #queues = new Map<string, Promise<unknown>>();
  #closed = false;

  private constructor(client: RedisClient, options: RedisLocationOptions, attempts: number) {
    this.#client = client;
    this.#prefix = options.keyPrefix ?? 'sipsec:location:';
    this.#now = options.now ?? Date.now;
    this.#attempts = attempts;
  }

  /** Connects; rejects with LocationUnavailableError when the server cannot be reached within the command timeout. */
  static async open(options: RedisLocationOptions): Promise<RedisLocationStore> {
    const limits = { ...LOCATION_LIMITS, ...options.limits };
    if (!/^rediss?:\/\//.test(options.url)) throw new RegistrarError('LOCATION_ERR_CONFIG', `not a redis:// URL: ${options.url}`);
    const client = makeClient({
      url: options.url,
      disableOfflineQueue: true,
      commandOptions: { timeout: limits.redisCommandTimeoutMs, rejectInFlight: true },
      socket: {
        connectTimeout: limits.redisCommandTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), limits.redisMaxReconnectDelayMs),
      },
    });
    // Without a listener an 'error' event would end the process; failures surface through the commands.
    client.on('error', () => undefined);
    const connecting = client.connect();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${limits.redisCommandTimeoutMs} ms`)), limits.redisCommandTimeoutMs);
    });
    try {
      await Promise.race([connecting, deadline]);
    } catch (err) {
      client.destroy();
      throw new LocationUnavailableError('redis', 'connect', { cause: err });
    } finally {
      clearTimeout(timer);
    }
    return new RedisLocationStore(client, options, limits.redisUpdateAttempts);
  }

  #key(aor: string): string {
    return `${this.#prefix}${aor}`;
  }

  async #call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RegistrarError('LOCATION_ERR_CLOSED', 'the location store is closed');
    try {
      return await work();
    } catch (err) {
      if (err instanceof RegistrarError) throw err;
      throw new LocationUnavailableError('redis', operation, { cause: err });
    }
  }

  get(aor: string): Promise<Binding[]> {
    return this.#call('get', async () => {
      const json = await this.#client.get(this.#key(aor));
      return json === null ? [] : liveBindings(parseStoredBindings(json), this.#now());
    });
  }

  update<T>(aor: string, decide: (current: readonly Binding[]) => UpdateDecision<T>): Promise<T> {
    const previous = this.#queues.get(aor) ?? Promise.resolve();
    const run = previous.then(
      () => this.#update(aor, decide),
      () => this.#update(aor, decide),
    );
    const tail = run.catch(() => undefined);
    this.#queues.set(aor, tail);
    void tail.then(() => {
      if (this.#queues.get(aor) === tail) this.#queues.delete(aor);
    });
    return run;
  }

  #update<T>(aor: string, decide: (current: readonly Binding[]) => UpdateDecision<T>): Promise<T> {
    const key = this.#key(aor);
    return this.#call('update', async () => {
      for (let attempt = 0; attempt < this.#attempts; attempt++) {
        const read = await this.#client.get(key);
        const now = this.#now();
        const decision = decide(read === null ? [] : liveBindings(parseStoredBindings(read), now));
        if (decision.next === undefined) return decision.result;
        const next = liveBindings(decision.next, now);
        const ttlMs = Math.max(1, latestExpiry(next) - now);
        const written = await this.#client.eval(COMPARE_AND_SET, {
          keys: [key],
          arguments: [read ?? '', next.length === 0 ? '' : serializeBindings(next), String(ttlMs)],
        });
        if (written === 1) return decision.result;
        // Another process wrote between our read and our write: back off a little, at random, so two do not collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
      }
      throw new LocationUnavailableError('redis', `update (still contended after ${this.#attempts} attempts)`);
    });
  }

  remove(aor: string): Promise<void> {
    return this.#call('remove', async () => void (await this.#client.del(this.#key(aor))));
  }

  /** Redis expires keys at their latest binding's expiry; earlier ones are hidden on read and dropped at the next write. */
  expire(): Promise<number> {
    return this.#call('expire', () => Promise.resolve(0));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.close();
    } catch {
      // A client that is reconnecting cannot quit politely: drop its socket.
      this.#client.destroy();
    }
  }
}
