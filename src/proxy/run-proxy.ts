/**
 * Runs `sipsec proxy` from a loaded configuration: the process wiring that turns a ProxyConfig
 * into a running proxy (resolver, location store, users and digest, registrar, local users, the
 * outbound router, the stack and the core), logs what it does, and takes it all down in reverse
 * when asked to stop. Everything here is plumbing; the behaviour lives in the parts it wires.
 */
import { createResolver } from '../dns/create-resolver.js';
import type { CachingResolver } from '../dns/resolver.js';
import { DigestAuthenticator } from '../registrar/digest.js';
import { RedisLocationStore } from '../registrar/location-redis.js';
import { SqliteLocationStore } from '../registrar/location-sqlite.js';
import type { LocationStore } from '../registrar/location-store.js';
import type { ProxyConfig, ProxyListener } from './config.js';
import type { LocalDomains } from './contracts.js';
import { startExpirySweeper, type ExpirySweeper } from './expiry-sweeper.js';
import { HopInboundPolicy } from './inbound-policy.js';
import { LocalUsersService } from './local-users.js';
import { LocatingRouter } from './outbound-router.js';
import { ProxyCore } from './proxy-core.js';
import { offeringAliases } from './connection-reuse.js';
import { createProxyLog, loggerOf, type LogLevel, type ProxyLog } from './proxy-log.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { RegistrarService } from './registrar-service.js';
import { DigestRequestAuthorizer } from './request-authorizer.js';

/** What the proxy may touch of its process: output, and the signal that asks it to stop. */
export interface ProxyRunIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted on SIGINT or SIGTERM: stop taking requests, finish transactions, close. */
  readonly signal?: AbortSignal;
}

/** A running proxy, for tests and embedders: its parts, and how to stop it. */
export interface RunningProxy {
  readonly core: ProxyCore;
  readonly store: LocationStore;
  readonly resolver: CachingResolver;
  close(): Promise<void>;
}

/**
 * Starts every part in order and returns the running proxy; a part that cannot start (a port in
 * use, an unreachable Redis, libunbound refusing its config) stops the start with what was
 * already started closed again, and the error names it.
 */
export async function startProxy(config: ProxyConfig, log: ProxyLog): Promise<RunningProxy> {
  const logger = loggerOf(log);
  for (const warning of config.warnings) log.warn('config-warning', { detail: warning });
  for (const note of config.notes) log.info('config-note', { detail: note });
  const undo: Array<() => Promise<void>> = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    const resolver = await createResolver({
      ...(config.dns.unbound !== undefined ? { configFile: config.dns.unbound } : {}),
      queryTimeoutMs: config.limits.dns.queryTimeoutMs,
    }).catch((err: unknown) => Promise.reject(new ProxyStartError('dns', err)));
    undo.push(() => resolver.close());

    const store = await openStore(config).catch((err: unknown) => Promise.reject(new ProxyStartError('location', err)));
    undo.push(() => store.close());
    const sweeper: ExpirySweeper = startExpirySweeper({ store, intervalMs: config.limits.location.sweepIntervalMs, log: logger });
    undo.push(() => sweeper.stop());

    const domains = new Set(config.domains.map((d) => d.name));
    const localDomains: LocalDomains = { isLocal: (host) => domains.has(host.toLowerCase()) };
    const users = config.users.directory;
    const authenticator = new DigestAuthenticator({ secret: config.auth.secret, algorithms: config.auth.algorithms, limits: config.limits.auth });
    const retryAfterSeconds = config.limits.location.unavailableRetryAfterSeconds;
    // The first domain's certificate is the transport's default client certificate; the router names each hop's own.
    const [first] = config.domains;
    if (first === undefined) throw new ProxyStartError('domains', new Error('no domain configured'));
    let isConnectionOpen: (connectionId: string) => boolean = () => false;
    const metrics = new ProxyMetrics();
    // Each domain's certificate on the hops of its users' requests; the first domain's for the rest (LocatingRouter.securityFor).
    const router = new LocatingRouter({
      resolver,
      clientCertificates: new Map(config.domains.map((d) => [d.name, { cert: d.cert, key: d.key }])),
      requireDnssec: config.policy.requireDnssec,
      requireDane: config.policy.requireDane,
    });

    const core = await ProxyCore.start({
      stack: {
        listeners: config.listeners,
        trustStore: config.trust.store,
        clientCertificate: { cert: first.cert, key: first.key },
        limits: config.limits.transport,
        sipLimits: config.limits.sip,
        transactions: { timers: config.timers, limits: config.limits.transaction },
        // RFC 5923: which inbound aliases are honoured, and which connections carry our requests.
        connectionReuse: config.policy.connectionReuse,
        // A far side's reverse-dns check (the PTR of our source address) sees the address we listen on.
        bindOutboundToListener: config.outboundSource === 'listener',
        // Connections, their verdicts (tls-connected, tls-accepted) and every cut-off, in the proxy's log;
        // a refused alias is also a policy event (it refuses no request).
        log: (e) => {
          if (e.event === 'alias-refused') metrics.policyEvents.inc({ word: 'alias-refused' });
          log[e.level](e.event, {
            ...(e.connection !== undefined ? { connection: e.connection } : {}),
            ...(e.remote !== undefined ? { remote: `${e.remote.address}:${e.remote.port}` } : {}),
            ...(e.reason !== undefined ? { reason: e.reason } : {}),
            ...(e.detail !== undefined ? { detail: e.detail } : {}),
          });
        },
        onInvalid: (result, context, answered) => log.debug('message-invalid', {
          faults: result.faults.map((f) => f.code), from: `${context.remote.address}:${context.remote.port}`, transport: context.transport, answered,
        }),
      },
      localDomains,
      promoteSips: config.policy.promoteSips,
      inboundPolicy: new HopInboundPolicy({ policies: config.policy, localDomains, resolver, log: logger }),
      localUsers: new LocalUsersService({ users, store, isConnectionOpen: (id) => isConnectionOpen(id), log: logger, retryAfterSeconds }),
      registrar: new RegistrarService({ users, authenticator, store, localDomains, log: logger, limits: config.limits.registrar, retryAfterSeconds }),
      authorizer: new DigestRequestAuthorizer({ users, authenticator, localDomains, log: logger }),
      outbound: config.policy.connectionReuse ? offeringAliases(router) : router,
      metrics,
      advertisedNames: config.listeners.map((l) => ({ transport: l.transport, address: l.address, ...(l.port !== 0 ? { port: l.port } : {}), name: l.advertisedHost })),
      timerCMs: config.timers.timerCMs,
      flowTokenSecret: config.auth.secret,
      log: logger,
    }).catch((err: unknown) => Promise.reject(err instanceof ProxyStartError ? err : listenStartError(err, config.listeners)));
    undo.push(() => core.close());
    const transport = core.stack.transport;
    isConnectionOpen = (id) => transport.hasConnection(id);

    log.info('proxy-started', {
      domains: config.domains.map((d) => d.name),
      listeners: core.listening().map((l) => `${l.transport}://${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`),
      location: config.location.kind,
      dns: config.dns.unbound ?? 'libunbound (root trust anchor)',
    });
    return {
      core, store, resolver,
      close: async () => {
        log.info('proxy-stopping', {});
        const counted = await core.metrics.totals();
        await unwind();
        log.info('proxy-stopped', { counted });
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** Runs the proxy until `io.signal` aborts; resolves with the exit code. */
export async function runProxy(config: ProxyConfig, io: ProxyRunIo): Promise<number> {
  const log = createProxyLog({ level: logLevelOf(config.log.level), format: config.log.format, sink: { write: (line) => io.stdout(line) } });
  let running: RunningProxy;
  try {
    running = await startProxy(config, log);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    log.error('proxy-start-failed', { part: err instanceof ProxyStartError ? err.part : undefined, detail });
    io.stderr(`sipsec proxy: ${detail}\n`);
    return 1;
  }
  // An exception in one request's handling never takes the process down: the layers contain
  // their callbacks; this catches what escapes them anyway (a timer of a library, say).
  const onUncaught = (err: unknown): void => log.error('uncaught-exception', { detail: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  try {
    await new Promise<void>((resolve) => {
      if (io.signal === undefined) return;
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await running.close();
    return 0;
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
}

async function openStore(config: ProxyConfig): Promise<LocationStore> {
  const location = config.location;
  if (location.kind === 'sqlite') {
    // The expiry sweeper sweeps; the store's own timer would do it twice.
    return new SqliteLocationStore({ path: location.path, sweepIntervalMs: 0 });
  }
  return RedisLocationStore.open({ url: location.url, limits: config.limits.location });
}

/** pino's levels beyond ours map to the nearest we log at. */
function logLevelOf(level: string): LogLevel {
  switch (level) {
    case 'trace':
    case 'debug': return 'debug';
    case 'warn': return 'warn';
    case 'error':
    case 'fatal': return 'error';
    default: return 'info';
  }
}

const BIND_ERROR_WORDS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use (another process, or another sipsec proxy, listens there)',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
  EACCES: 'permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)',
};

/**
 * A listener that could not bind, named by its `listen` URL and the reason in words: Node's own
 * message ("bind EADDRINUSE 127.0.0.2:5060") says neither which listener nor what to do.
 */
export function listenStartError(err: unknown, listeners: readonly Pick<ProxyListener, 'url' | 'transport' | 'address' | 'port'>[]): ProxyStartError {
  const e = err as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
  const words = typeof e?.code === 'string' ? BIND_ERROR_WORDS[e.code] : undefined;
  if (words === undefined || !(err instanceof Error)) return new ProxyStartError('listen', err);
  // UDP sockets fail in bind(), stream servers in listen(): that tells the two listeners of one
  // address and port apart.
  const udp = e.syscall === 'bind';
  const listener = listeners.find((l) => l.address === e.address && l.port === e.port && (l.transport === 'udp') === udp);
  const where = listener?.url ?? `${String(e.address)}:${String(e.port)}`;
  return new ProxyStartError('listen', new Error(`${where}: ${words} (${e.code})`, { cause: err }));
}

/** A part of the proxy could not start; `part` names it (dns, location, listen, domains). */
export class ProxyStartError extends Error {
  readonly code = 'PROXY_ERR_START' as const;
  constructor(
    readonly part: 'dns' | 'location' | 'listen' | 'domains',
    cause: unknown,
  ) {
    super(`${part}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ProxyStartError';
  }
}
