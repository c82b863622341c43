/**
 * One domain's check: the probes gather (DNS, then every TLS target in parallel: handshakes, then
 * an OPTIONS over the verified hop), the evaluators grade. A deadline cuts the gathering short and
 * what was gathered is still evaluated, with a `check-cut-short` finding.
 */
import { isIP } from 'node:net';
import { checkDnsName } from '../dns/dns-name.js';
import { DnsError } from '../dns/errors.js';
import type { DnsResolver } from '../dns/resolver.js';
import { SipParseError } from '../sip/errors.js';
import { parseSipUri } from '../sip/uri.js';
import type { TrustStore } from '../tls/trust-store.js';
import { parseTlsaRecord } from '../tls/tlsa.js';
import type { ServerTarget } from '../tls/verify-peer.js';
import { CHECK_LIMITS } from '../limits.js';
import { evaluate, type CheckReport } from './evaluate.js';
import type { DnsObservation, Observations, SipObservation, TargetObservation, TlsTargetPlan } from './observations.js';
import { DnsLookupLog, probeDns } from './probe-dns.js';
import { probeSip } from './probe-sip.js';
import { probeTls } from './probe-tls.js';

export interface CheckOptions {
  readonly resolver: DnsResolver;
  readonly trustStore: TrustStore;
  /** Deadline of the whole domain. */
  readonly timeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly optionsTimeoutMs?: number;
  readonly expiryWarningDays?: number;
  /** openssl for the client-certificate probe; null: skip it. */
  readonly openssl?: string | null;
  /** Stops the check (Ctrl-C); what was gathered is evaluated. */
  readonly signal?: AbortSignal;
  /** The clock; injected by tests. */
  readonly now?: () => Date;
}

/** A domain name or sip:/sips: URI that cannot be checked. */
export class CheckInputError extends Error {
  readonly code = 'CHECK_ERR_INPUT';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckInputError';
  }
}

/** The SIP domain to check, from `example.com`, `sip:example.com` or `sips:alice@example.com`. */
export function domainOf(input: string): string {
  const text = input.trim();
  let host = text;
  if (/^sips?:/i.test(text)) {
    try {
      const uri = parseSipUri(text);
      if (uri.hostKind !== 'domain') throw new CheckInputError(`${text}: the URI names an address, not a SIP domain`);
      host = uri.host;
    } catch (err) {
      if (err instanceof SipParseError) throw new CheckInputError(`${text}: not a sip: or sips: URI: ${err.detail}`, { cause: err });
      throw err;
    }
  }
  if (isIP(host) !== 0) throw new CheckInputError(`${text}: an address is not a SIP domain`);
  try {
    const name = checkDnsName(host);
    if (!/^[a-z0-9_.-]+$/.test(name)) throw new CheckInputError(`${text}: not a domain name`);
    return name;
  } catch (err) {
    if (err instanceof DnsError) throw new CheckInputError(`${text}: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function checkDomain(domain: string, options: CheckOptions): Promise<CheckReport> {
  const observations = await gatherObservations(domain, options);
  return evaluate(observations, { trustStore: options.trustStore, ...(options.expiryWarningDays !== undefined ? { expiryWarningDays: options.expiryWarningDays } : {}) });
}

/** Runs the probes until done, the deadline or the caller's abort; never rejects on a network outcome. */
export async function gatherObservations(domain: string, options: CheckOptions): Promise<Observations> {
  const now = options.now ?? (() => new Date());
  const checkedAt = now().toISOString();
  const timeoutMs = options.timeoutMs ?? CHECK_LIMITS.domainTimeoutMs;
  const controller = new AbortController();
  const stop = (why: string): void => {
    if (!controller.signal.aborted) controller.abort(new Error(why));
  };
  const timer = setTimeout(() => stop(`no result within ${timeoutMs} ms`), timeoutMs);
  const onOuterAbort = (): void => stop('interrupted');
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted === true) stop('interrupted');
  // What is known so far, for a report cut short.
  const partial: { dns?: DnsObservation; targets: Map<number, TargetObservation> } = { targets: new Map() };
  const dnsLog = new DnsLookupLog();
  const aborted = new Promise<'aborted'>((resolve) => {
    if (controller.signal.aborted) resolve('aborted');
    else controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const work = (async (): Promise<void> => {
    const dns = await probeDns(options.resolver, domain, dnsLog, controller.signal);
    partial.dns = dns;
    await Promise.all(dns.tlsTargets.map(async (plan, index) => {
      partial.targets.set(index, await probeTarget(plan, domain, options, controller.signal));
    }));
  })();
  try {
    const outcome = await Promise.race([work.then(() => 'done' as const), aborted]);
    // Cut short before the DNS probe finished: the questions asked, answered or not, and nothing
    // inferred from them (services and targets need every answer).
    const dns = partial.dns ?? { domain, complete: false, lookups: dnsLog.observations(), services: [], tlsTargets: [] };
    const targets = [...partial.targets.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
    const reason = controller.signal.reason instanceof Error ? controller.signal.reason.message : 'stopped';
    return { domain, checkedAt, dns, targets, ...(outcome === 'aborted' ? { cutShort: reason } : {}) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
    // Lingering probes end on this abort (sockets destroyed, openssl killed).
    stop('finished');
    work.catch(() => undefined);
  }
}

async function probeTarget(plan: TlsTargetPlan, domain: string, options: CheckOptions, signal: AbortSignal): Promise<TargetObservation> {
  const tls = await probeTls(plan, domain, {
    signal,
    ...(options.handshakeTimeoutMs !== undefined ? { timeoutMs: options.handshakeTimeoutMs } : {}),
    ...(options.openssl !== undefined ? { openssl: options.openssl } : {}),
  });
  let sip: SipObservation = { sent: false, answered: false, error: tls.connected ? 'not sent' : 'no TLS connection' };
  if (tls.connected) {
    sip = await probeSip(plan, domain, {
      trustStore: options.trustStore,
      target: serverTargetOf(plan, domain),
      signal,
      ...(options.optionsTimeoutMs !== undefined ? { timeoutMs: options.optionsTimeoutMs } : {}),
    });
  }
  return { plan, tls, sip };
}

/** What the transport verifies the hop against: the same evidence the evaluators use. */
export function serverTargetOf(plan: TlsTargetPlan, domain: string): ServerTarget {
  const records = [];
  for (const text of plan.tlsa?.records ?? []) {
    try {
      records.push(parseTlsaRecord(text));
    } catch {
      // Unparsable records cannot match (evaluate.ts does the same).
    }
  }
  return {
    sipDomain: domain,
    ...(plan.srvHost !== undefined ? { srvHost: plan.srvHost } : {}),
    dnsState: plan.chainState,
    ...(plan.tlsa !== undefined ? { tlsa: { name: plan.tlsa.name, state: plan.tlsa.state, records, ...(plan.tlsa.why !== undefined ? { why: plan.tlsa.why } : {}) } } : {}),
  };
}
