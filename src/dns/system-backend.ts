import { Resolver } from 'node:dns/promises';
import { DNS_LIMITS } from '../limits.js';
import type { DnsBackend } from './backend.js';
import { normalizeName } from './dns-name.js';
import { DnsError } from './errors.js';
import type { DnsAnswer, DnsFailure, DnsRecordType, RecordByType } from './records.js';

export interface SystemBackendConfig {
  /** Servers instead of /etc/resolv.conf's, e.g. `['127.0.0.1:5353']`. */
  readonly servers?: readonly string[];
  readonly timeoutMs?: number;
}

const NOT_VALIDATED = 'system resolver: DNSSEC is not validated, so every answer is insecure and DANE never applies';

/**
 * Node's own resolver (c-ares, /etc/resolv.conf). It does not validate, so every answer is
 * `insecure`, and TLSA is never asked (Node 20 has no TLSA query): the answer is an insecure
 * NODATA, with which DANE does not apply. CNAME chains are followed by the recursive server and
 * are not visible here. TTLs: A/AAAA carry theirs; other types are cached for
 * DNS_LIMITS.systemAnswerTtlSeconds, denials for the same time.
 */
export function createSystemBackend(config: SystemBackendConfig = {}): DnsBackend {
  const resolver = new Resolver({ timeout: config.timeoutMs ?? DNS_LIMITS.queryTimeoutMs, tries: 1 });
  if (config.servers !== undefined) resolver.setServers([...config.servers]);
  let closed = false;
  return {
    name: 'system',
    async lookup<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
      if (closed) throw new DnsError('DNS_ERR_CLOSED', 'resolver closed');
      const base = { name, type, cnames: [], state: 'insecure' as const, why: NOT_VALIDATED };
      if (type === 'TLSA') return { ...base, kind: 'nodata', ttlSeconds: DNS_LIMITS.systemAnswerTtlSeconds };
      try {
        const { records, ttlSeconds } = await ask(resolver, name, type);
        if (records.length === 0) return { ...base, kind: 'nodata', ttlSeconds: DNS_LIMITS.systemAnswerTtlSeconds };
        return { ...base, kind: 'records', records: records as RecordByType[T][], ttlSeconds };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'ENOTFOUND') return { ...base, kind: 'nxdomain', ttlSeconds: DNS_LIMITS.systemAnswerTtlSeconds };
        if (code === 'ENODATA') return { ...base, kind: 'nodata', ttlSeconds: DNS_LIMITS.systemAnswerTtlSeconds };
        const failure: DnsFailure = code === 'ETIMEOUT' ? 'timeout' : code === 'ESERVFAIL' ? 'servfail' : code === 'EREFUSED' ? 'refused' : 'network';
        const text = err instanceof Error ? err.message : String(err);
        return { name, type, cnames: [], kind: 'failure', state: 'indeterminate', failure, why: `system resolver: ${text}` };
      }
    },
    close(): Promise<void> {
      closed = true;
      resolver.cancel();
      return Promise.resolve();
    },
  };
}

async function ask(
  resolver: Resolver, name: string, type: Exclude<DnsRecordType, 'TLSA'>,
): Promise<{ records: readonly RecordByType[DnsRecordType][]; ttlSeconds: number }> {
  const fixedTtl = DNS_LIMITS.systemAnswerTtlSeconds;
  switch (type) {
    case 'A':
    case 'AAAA': {
      const list = type === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
      return { records: list.map((r) => ({ address: r.address })), ttlSeconds: Math.min(...list.map((r) => r.ttl)) };
    }
    case 'SRV': {
      const list = await resolver.resolveSrv(name);
      return { records: list.map((r) => ({ priority: r.priority, weight: r.weight, port: r.port, target: normalizeName(r.name) })), ttlSeconds: fixedTtl };
    }
    case 'NAPTR': {
      const list = await resolver.resolveNaptr(name);
      return {
        records: list.map((r) => ({
          order: r.order, preference: r.preference, flags: r.flags, services: r.service, regexp: r.regexp, replacement: normalizeName(r.replacement),
        })),
        ttlSeconds: fixedTtl,
      };
    }
    case 'PTR': {
      const list = await resolver.resolvePtr(name);
      return { records: list.map((n) => ({ name: normalizeName(n) })), ttlSeconds: fixedTtl };
    }
  }
}
