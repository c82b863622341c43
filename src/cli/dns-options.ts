import { createResolver, type DnsConfig } from '../dns/create-resolver.js';
import { DnsError } from '../dns/errors.js';
import type { CachingResolver } from '../dns/resolver.js';
import { UsageError } from './command.js';

/** The parseArgs options of every command that resolves (`resolve`, `options`). */
export const DNS_OPTIONS = {
  'dns-config': { type: 'string' },
  backend: { type: 'string' },
  server: { type: 'string' },
} as const;

export interface DnsOptionValues {
  readonly 'dns-config'?: string | undefined;
  readonly backend?: string | undefined;
  readonly server?: string | undefined;
}

/** The resolver configuration the DNS options ask for; a contradiction is a usage error. */
export function dnsConfigOf(values: DnsOptionValues): DnsConfig {
  const { backend, server } = values;
  const configFile = values['dns-config'];
  switch (backend) {
    case undefined:
    case 'libunbound':
      if (server !== undefined) throw new UsageError('--server goes with --backend ad-bit or system');
      return configFile === undefined ? { backend: 'libunbound' } : { backend: 'libunbound', configFile };
    case 'ad-bit':
      if (server === undefined) throw new UsageError('--backend ad-bit needs --server');
      if (configFile !== undefined) throw new UsageError('--dns-config goes with --backend libunbound');
      return { backend: 'ad-bit', server };
    case 'system':
      if (configFile !== undefined) throw new UsageError('--dns-config goes with --backend libunbound');
      return server === undefined ? { backend: 'system' } : { backend: 'system', servers: [server] };
    default:
      throw new UsageError(`unknown backend '${backend}': use libunbound, ad-bit or system`);
  }
}

/** Builds the resolver; a configuration it refuses (missing module, bad file) is a usage error. */
export async function createResolverFor(values: DnsOptionValues, overrides: { readonly queryTimeoutMs?: number } = {}): Promise<CachingResolver> {
  try {
    return await createResolver({ ...dnsConfigOf(values), ...overrides });
  } catch (err) {
    if (err instanceof DnsError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}
