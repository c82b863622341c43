import { createAdBitBackend, type AdBitBackendConfig } from './ad-bit-backend.js';
import type { DnsBackend } from './backend.js';
import { DnsConfigError } from './errors.js';
import { CachingResolver, type ResolverOptions } from './resolver.js';
import { createSystemBackend, type SystemBackendConfig } from './system-backend.js';
import { createUnboundBackend, loadUnboundModule, type UnboundBackendConfig, type UnboundLoader } from './unbound-backend.js';

/**
 * The resolver configuration: the backend and its settings, plus the cache and deadline options.
 * `libunbound` (in-process validation) is the default.
 */
export type DnsConfig = ResolverOptions & (
  | ({ readonly backend?: 'libunbound' } & UnboundBackendConfig)
  | ({ readonly backend: 'ad-bit' } & AdBitBackendConfig)
  | ({ readonly backend: 'system' } & SystemBackendConfig)
);

export interface CreateResolverDeps {
  /** How the native `unbound` module is loaded (a test replaces it to see the missing-module error). */
  readonly loadUnbound?: UnboundLoader;
}

/**
 * Builds the resolver the config asks for. Throws DnsError `DNS_ERR_BACKEND_UNAVAILABLE` (saying
 * how to install it) when libunbound is asked for and the native module is missing, and
 * `DNS_ERR_CONFIG` naming the field for a bad config.
 */
export async function createResolver(config: DnsConfig = {}, deps: CreateResolverDeps = {}): Promise<CachingResolver> {
  let backend: DnsBackend;
  const timeoutMs = config.queryTimeoutMs;
  switch (config.backend) {
    case undefined:
    case 'libunbound':
      backend = await createUnboundBackend(config, deps.loadUnbound ?? loadUnboundModule);
      break;
    case 'ad-bit':
      backend = createAdBitBackend({ ...config, ...(timeoutMs !== undefined && config.timeoutMs === undefined ? { timeoutMs } : {}) });
      break;
    case 'system':
      backend = createSystemBackend({ ...config, ...(timeoutMs !== undefined && config.timeoutMs === undefined ? { timeoutMs } : {}) });
      break;
    default: {
      const backendName: unknown = (config as { backend: unknown }).backend;
      throw new DnsConfigError('backend', `unknown backend ${JSON.stringify(backendName)}: use 'libunbound', 'ad-bit' or 'system'`);
    }
  }
  // libunbound retries upstream itself; a second ub_resolve() after a deadline would only hold a
  // second worker thread for the same question.
  const retries = config.queryRetries ?? (backend.name === 'libunbound' ? 0 : undefined);
  return new CachingResolver(backend, retries === undefined ? config : { ...config, queryRetries: retries });
}
