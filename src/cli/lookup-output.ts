/**
 * The DNS lookups of a location (RFC 3263) as `resolve` and `options` print them, and why a
 * location found no target: the same fields in text and JSON for both commands.
 */
import type { LookupStep } from '../dns/locator.js';
import { EXIT_FINDINGS, EXIT_NO_ANSWER } from './command.js';

export interface JsonLookup {
  name: string;
  type: string;
  /** `records`, `nxdomain`, `nodata` or `failure`. */
  result: string;
  /** The DNSSEC state: secure, insecure, bogus, indeterminate. */
  state: string;
  /** For a failure: bogus, timeout, network (the resolver is unreachable), servfail ... */
  failure?: string;
  why?: string;
  /** For `records`: the record data as answered (NAPTR, SRV fields; `address` for A and AAAA). */
  records?: object[];
}

export function jsonLookup(step: LookupStep): JsonLookup {
  const line: JsonLookup = { name: step.name, type: step.type, result: step.result, state: step.state };
  if (step.failure !== undefined) line.failure = step.failure;
  if (step.why !== undefined) line.why = step.why;
  if (step.records !== undefined) line.records = step.records.map(jsonRecord);
  return line;
}

/** Binary fields (TLSA data) as hex; the rest as answered. */
function jsonRecord(record: object): object {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : (v as unknown)]));
}

/** `SRV _sips._tcp.example.com: failure (timeout), indeterminate  (why)` */
export function lookupLine(step: LookupStep): string {
  const result = step.result === 'failure' && step.failure !== undefined ? `${step.result} (${describeFailure(step.failure)})` : step.result;
  const why = step.why === undefined ? '' : `  (${step.why})`;
  return `${step.type} ${step.name}: ${result}, ${step.state}${why}`;
}

function describeFailure(failure: string): string {
  return failure === 'network' ? 'resolver unreachable' : failure;
}

/**
 * The lookups that explain why no target was found: the failed ones, else the denials (nxdomain,
 * nodata). Empty when every lookup found records (the records named no usable transport).
 */
export function blockingLookups(lookups: readonly LookupStep[]): LookupStep[] {
  const failed = lookups.filter((l) => l.result === 'failure');
  return failed.length > 0 ? failed : lookups.filter((l) => l.result === 'nxdomain' || l.result === 'nodata');
}

/** One line naming why a location gave no target: `no target: SRV _sips._tcp.example.com is bogus (why)`. */
export function noTargetLine(lookups: readonly LookupStep[]): string {
  const blocking = blockingLookups(lookups);
  if (blocking.length === 0) return 'no target: the DNS records name no transport this client speaks';
  const parts = blocking.map((l) => {
    const state = l.result === 'failure' ? (l.failure === 'bogus' || l.state === 'bogus' ? 'bogus' : describeFailure(l.failure ?? l.state)) : l.result;
    return `${l.type} ${l.name} is ${state}${l.why === undefined ? '' : ` (${l.why})`}`;
  });
  return `no target: ${parts.join('; ')}`;
}

/**
 * The exit code of a location without target: 1 when a lookup failed DNSSEC validation (an
 * answer that was not verified: a finding), 3 otherwise (no such name or service, no answer).
 */
export function noTargetExit(lookups: readonly LookupStep[]): number {
  return lookups.some((l) => l.state === 'bogus') ? EXIT_FINDINGS : EXIT_NO_ANSWER;
}
