import type { DnsAnswer, DnsRecordType } from './records.js';

/** The backends: in-process validation (libunbound), a trusted AD bit, the system resolver. */
export type DnsBackendName = 'libunbound' | 'ad-bit' | 'system';

/**
 * The seam between the resolver (cache, coalescing, deadlines, retries) and one way of asking DNS.
 * A backend answers one question once; it reports failures as `failure` answers and throws only
 * for bugs. `name` is already checked and normalized.
 */
export interface DnsBackend {
  readonly name: DnsBackendName;
  lookup<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>>;
  close(): Promise<void>;
}
