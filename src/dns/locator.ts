import { isIP } from 'node:net';
import { DNS_LIMITS } from '../limits.js';
import { normalizeName } from './dns-name.js';
import { weakestState, type DnssecState } from './dnssec-state.js';
import { DnsError } from './errors.js';
import { selectNaptr } from './naptr-select.js';
import { referenceNames } from './srv-identity.js';
import type { DnsAnswer, DnsFailure, DnsRecordType, RecordByType, SrvRecord } from './records.js';
import type { DnsResolver } from './resolver.js';
import {
  ALL_TRANSPORTS, defaultPort, isTlsTransport, srvPrefix, transportOfParam, type SipTransport,
} from './sip-transport.js';
import { orderSrv } from './srv-order.js';

/** What the locator needs of a SIP or SIPS URI (src/sip/uri.ts's SipUri has all of it). */
export interface LocateInput {
  readonly scheme: 'sip' | 'sips';
  /** The URI's host: a domain, or an IP address (IPv6 without brackets). */
  readonly host: string;
  readonly hostKind: 'domain' | 'ipv4' | 'ipv6';
  readonly port?: number;
  /** The URI's `transport` parameter. */
  readonly transport?: string;
  /** The URI's `maddr` parameter: when present it is TARGET (RFC 3263 section 4). */
  readonly maddr?: string;
}

export interface LocateOptions {
  /** Transports this client supports, in its order of preference. Default: TLS, TCP, UDP. */
  readonly transports?: readonly SipTransport[];
  /**
   * "TLS first" (draft-johansson-dispatch-dane-sip Appendix A): for a sip: URI, look for
   * `_sips._tcp` SRV records first when the domain has no NAPTR records (and the TLS service of
   * an explicit transport), so that a domain reachable over TLS is reached over TLS. On by default
   * for proxies (PROXY_LOCATE_OPTIONS); off by default here, as RFC 3263 has it.
   */
  readonly tlsFirst?: boolean;
  /**
   * The transport on which the request carrying this URI arrived. A request that came over TLS
   * is sent on with "TLS first" whatever `tlsFirst` says, so that a hop does not downgrade.
   */
  readonly receivedOn?: SipTransport;
  /** The random source of the SRV weighted choice, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Deterministic SRV order for stateless proxies (RFC 3263 section 4.4). */
  readonly deterministic?: boolean;
  /** Address families, in order of preference. Default IPv4, then IPv6. */
  readonly families?: readonly (4 | 6)[];
}

/** The options a proxy uses: TLS first (seed 004, Appendix A). */
export const PROXY_LOCATE_OPTIONS: LocateOptions = Object.freeze({ tlsFirst: true });

/** One DNS lookup made on the way to a target, with its DNSSEC state. */
export interface LookupStep {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly state: DnssecState;
  readonly result: DnsAnswer['kind'];
  /** The validator's reason (bogus) or the failure (indeterminate). */
  readonly why?: string;
  /** For `result: 'failure'`: what failed (`bogus`, `timeout`, `network` for an unreachable resolver ...). */
  readonly failure?: DnsFailure;
  /** For `result: 'records'`: the records as answered (NAPTR, SRV, or addresses), for display. */
  readonly records?: readonly RecordByType[DnsRecordType][];
}

/** One place to send the request, in failover order (RFC 3263 section 4.3). */
export interface LocatedTarget {
  readonly transport: SipTransport;
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** The SRV target host name, when the target came through SRV. */
  readonly srvHost?: string;
  /** The name whose A or AAAA record gave the address (the SRV host or TARGET); absent for a numeric TARGET. */
  readonly hostName?: string;
  /** The weakest state of the lookups that led here; `insecure` for a numeric host (no DNS). */
  readonly dnssec: DnssecState;
  /** Every lookup that led to this target, in order: NAPTR, SRV, then A or AAAA. */
  readonly lookups: readonly LookupStep[];
  /**
   * The reference identities the server's certificate may be verified against: the SIP domain
   * always (RFC 5922), and the SRV host name only when every lookup that led here was secure
   * (RFC 7673 section 4, draft-johansson-dispatch-dane-sip section 5): referenceNames
   * (src/dns/srv-identity.ts), the rule the verifier applies too. Whether DANE then applies is the
   * TLS layer's decision (a secure TLSA RRset, lookupTlsa).
   */
  readonly identities: readonly string[];
}

/**
 * The transports sipsec's transport layer sends over: a located target with one of these is a
 * `Destination` as it is (its transport type-checks as TransportProtocol, no cast). SCTP is located
 * (RFC 3263) but not spoken.
 */
export type SendableTransport = Extract<SipTransport, 'udp' | 'tcp' | 'tls'>;

export type SendableTarget = LocatedTarget & { readonly transport: SendableTransport };

export function isSendableTarget(target: LocatedTarget): target is SendableTarget {
  return target.transport === 'udp' || target.transport === 'tcp' || target.transport === 'tls';
}

/** The targets this stack can send to, in failover order: SCTP targets left out. */
export function sendableTargets(targets: readonly LocatedTarget[]): SendableTarget[] {
  return targets.filter(isSendableTarget);
}

export interface LocateResult {
  /** The SIP domain: the URI's host, lowercase. */
  readonly domain: string;
  readonly targets: readonly LocatedTarget[];
  /** Every lookup made, in the order they were asked, each once. */
  readonly lookups: readonly LookupStep[];
}

const DEFAULT_TRANSPORTS: readonly SipTransport[] = ['tls', 'tcp', 'udp'];

/**
 * RFC 3263 section 4: the ordered targets (transport, address, port) for a SIP or SIPS URI.
 *
 * - A numeric TARGET is used as is: UDP for sip, TLS for sips, unless the URI names a transport.
 * - An explicit port skips NAPTR and SRV: A/AAAA at that port.
 * - A transport parameter skips NAPTR: SRV for that transport, then A/AAAA at the default port.
 * - Otherwise NAPTR, then SRV (RFC 2782 priority and weighted order), then A/AAAA; without usable
 *   NAPTR records, SRV for every supported transport (`_sip` for sip, `_sips` for sips, and
 *   `_sips._tcp` first for sip with TLS first); without SRV records, A/AAAA at the default port.
 * - sips means TLS only: no other transport is ever returned for it.
 *
 * DNSSEC: a `bogus` or failed (`indeterminate`) lookup ends its path: no target comes from it, and
 * a failed NAPTR or SRV lookup never falls back to the next step (that would let a forger
 * downgrade). An address lookup that fails drops its SRV target (RFC 7673 section 3.2).
 *
 * Throws DnsError DNS_ERR_BAD_TARGET for a URI that cannot be located (sips with transport=udp, a
 * transport this client does not support) and DNS_ERR_BAD_NAME for a host that is no DNS name.
 */
export async function locate(resolver: DnsResolver, input: LocateInput, options: LocateOptions = {}): Promise<LocateResult> {
  const supported = options.transports ?? DEFAULT_TRANSPORTS;
  for (const t of supported) {
    if (!ALL_TRANSPORTS.includes(t)) throw new DnsError('DNS_ERR_BAD_TARGET', `unknown transport ${JSON.stringify(t)}`);
  }
  const session = new LocateSession(resolver, input, options, supported);
  const targets = dedupe(await session.run()).slice(0, DNS_LIMITS.maxTargets);
  return { domain: session.domain, targets, lookups: session.lookups() };
}

type PathStatus = 'found' | 'empty' | 'failed' | 'not-available';

interface PathResult {
  readonly status: PathStatus;
  readonly targets: readonly LocatedTarget[];
}

class LocateSession {
  readonly domain: string;
  readonly #resolver: DnsResolver;
  readonly #input: LocateInput;
  readonly #supported: readonly SipTransport[];
  readonly #tlsFirst: boolean;
  readonly #random: () => number;
  readonly #deterministic: boolean;
  readonly #families: readonly (4 | 6)[];
  readonly #asked: { readonly key: string; step?: LookupStep }[] = [];

  constructor(resolver: DnsResolver, input: LocateInput, options: LocateOptions, supported: readonly SipTransport[]) {
    this.#resolver = resolver;
    this.#input = input;
    this.#supported = supported;
    this.domain = input.hostKind === 'domain' ? normalizeName(input.host) : input.host.toLowerCase();
    this.#tlsFirst = options.tlsFirst === true || (options.receivedOn !== undefined && isTlsTransport(options.receivedOn));
    this.#random = options.random ?? Math.random;
    this.#deterministic = options.deterministic === true;
    this.#families = options.families ?? [4, 6];
  }

  lookups(): LookupStep[] {
    const seen = new Set<string>();
    const steps: LookupStep[] = [];
    for (const entry of this.#asked) {
      if (entry.step === undefined || seen.has(entry.key)) continue;
      seen.add(entry.key);
      steps.push(entry.step);
    }
    return steps;
  }

  async run(): Promise<LocatedTarget[]> {
    const input = this.#input;
    const scheme = input.scheme;
    const paramTransport = input.transport === undefined ? undefined : transportOfParam(scheme, input.transport);
    if (paramTransport !== undefined && !this.#supported.includes(paramTransport)) {
      throw new DnsError('DNS_ERR_BAD_TARGET', `transport ${paramTransport} is not supported by this client`);
    }
    const target = bare(input.maddr ?? input.host);
    const targetKind = input.maddr === undefined ? input.hostKind : kindOf(target);

    // RFC 3263 section 4.1 and 4.2: a numeric TARGET.
    if (targetKind !== 'domain') {
      const transport = paramTransport ?? this.#defaultTransport();
      const family = targetKind === 'ipv6' ? 6 : 4;
      return [{
        transport, address: target, family, port: input.port ?? defaultPort(transport),
        dnssec: 'insecure', lookups: [], identities: [this.domain],
      }];
    }
    // An explicit port: A/AAAA only.
    if (input.port !== undefined) {
      const transport = paramTransport ?? this.#defaultTransport();
      return this.#addressTargets(target, input.port, transport, [], undefined);
    }
    // A transport parameter: SRV for it (and its TLS service first for sip with TLS first).
    if (paramTransport !== undefined) {
      const transports: SipTransport[] = [paramTransport];
      if (scheme === 'sip' && this.#tlsFirst && !isTlsTransport(paramTransport)) {
        const tls = paramTransport === 'tcp' ? 'tls' : paramTransport === 'sctp' ? 'tls-sctp' : undefined;
        if (tls !== undefined && this.#supported.includes(tls)) transports.unshift(tls);
      }
      return this.#srvThenAddresses(target, transports, [], transports);
    }
    // NAPTR (RFC 3263 section 4.1).
    const naptr = await this.#query(target, 'NAPTR');
    const naptrStep = stepOf(naptr);
    if (naptr.kind === 'failure') return [];
    const selected = naptr.kind === 'records' ? selectNaptr(naptr.records.slice(0, DNS_LIMITS.maxNaptrRecords), scheme, this.#supported) : [];
    if (selected.length > 0) {
      // TLS first: "If there are NAPTR records for the domain and the domain indicates support of
      // TLS, use it" (seed 004 Appendix A): TLS services move ahead, each group in NAPTR order.
      const ordered = scheme === 'sip' && this.#tlsFirst
        ? [...selected.filter((s) => isTlsTransport(s.transport)), ...selected.filter((s) => !isTlsTransport(s.transport))]
        : selected;
      const paths = await Promise.all(ordered.map((s) => this.#srvPath(s.record.replacement, s.transport, [naptrStep])));
      return paths.flatMap((p) => p.targets);
    }
    // No usable NAPTR: SRV for each supported transport.
    return this.#srvThenAddresses(target, this.#srvTransports(), [naptrStep], this.#fallbackTransports());
  }

  /** The transport without NAPTR or SRV: UDP for sip (TCP if UDP is not supported), TLS for sips. */
  #defaultTransport(): SipTransport {
    if (this.#input.scheme === 'sips') return this.#supported.includes('tls') || !this.#supported.includes('tls-sctp') ? 'tls' : 'tls-sctp';
    return this.#supported.includes('udp') ? 'udp' : this.#supported.includes('tcp') ? 'tcp' : (this.#supported[0] ?? 'udp');
  }

  /** The transports whose SRV records are asked for when there is no NAPTR, in preference order. */
  #srvTransports(): SipTransport[] {
    if (this.#input.scheme === 'sips') return this.#supported.filter(isTlsTransport);
    const plain = this.#supported.filter((t) => !isTlsTransport(t));
    return this.#tlsFirst ? [...this.#supported.filter(isTlsTransport), ...plain] : plain;
  }

  /** The transports used at the default port when no SRV records exist. */
  #fallbackTransports(): SipTransport[] {
    const fallback = this.#defaultTransport();
    if (this.#input.scheme === 'sip' && this.#tlsFirst && this.#supported.includes('tls') && fallback !== 'tls') return ['tls', fallback];
    return [fallback];
  }

  /** SRV for each transport; A/AAAA at the default port only when every SRV lookup cleanly found nothing. */
  async #srvThenAddresses(
    host: string, transports: readonly SipTransport[], prior: readonly LookupStep[], fallback: readonly SipTransport[],
  ): Promise<LocatedTarget[]> {
    const paths = await Promise.all(transports.map((t) => this.#srvPath(`${srvPrefix(t)}.${host}`, t, prior)));
    if (paths.some((p) => p.status !== 'empty')) return paths.flatMap((p) => p.targets);
    const denials = [...prior, ...this.#stepsFor(transports.map((t) => `${srvPrefix(t)}.${host}`), 'SRV')];
    const perTransport = await Promise.all(fallback.map((t) => this.#addressTargets(host, defaultPort(t), t, denials, undefined)));
    return perTransport.flat();
  }

  async #srvPath(name: string, transport: SipTransport, prior: readonly LookupStep[]): Promise<PathResult> {
    const answer = await this.#query(name, 'SRV');
    const step = stepOf(answer);
    if (answer.kind === 'failure') return { status: 'failed', targets: [] };
    if (answer.kind !== 'records') return { status: 'empty', targets: [] };
    // RFC 2782: a single record with target "." says the service is decidedly not available.
    const usable = answer.records.filter((r) => r.target !== '').slice(0, DNS_LIMITS.maxSrvRecords);
    if (usable.length === 0) return { status: 'not-available', targets: [] };
    const ordered: SrvRecord[] = orderSrv(usable, this.#random, this.#deterministic);
    const perRecord = await Promise.all(ordered.map((srv) => this.#addressTargets(srv.target, srv.port, transport, [...prior, step], srv.target)));
    return { status: 'found', targets: perRecord.flat() };
  }

  /** A and AAAA of a host; if either lookup fails, the host gives no target (RFC 7673 section 3.2). */
  async #addressTargets(
    host: string, port: number, transport: SipTransport, prior: readonly LookupStep[], srvHost: string | undefined,
  ): Promise<LocatedTarget[]> {
    const answers = await Promise.all(this.#families.map(async (family) => ({ family, answer: await this.#query(host, family === 4 ? 'A' : 'AAAA') })));
    if (answers.some((a) => a.answer.kind === 'failure')) return [];
    const targets: LocatedTarget[] = [];
    for (const { family, answer } of answers) {
      if (answer.kind !== 'records') continue;
      const lookups = [...prior, stepOf(answer)];
      const dnssec = weakestState(lookups.map((l) => l.state));
      const identities = referenceNames(this.domain, srvHost, dnssec);
      for (const record of answer.records.slice(0, DNS_LIMITS.maxAddressesPerHost)) {
        targets.push({
          transport, address: record.address, family, port, dnssec, lookups, identities, hostName: normalizeName(host),
          ...(srvHost === undefined ? {} : { srvHost }),
        });
      }
    }
    return targets;
  }

  #query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const entry: { key: string; step?: LookupStep } = { key: `${type} ${normalizeName(name)}` };
    this.#asked.push(entry);
    return this.#resolver.query(name, type).then((answer) => {
      entry.step = stepOf(answer);
      return answer;
    });
  }

  #stepsFor(names: readonly string[], type: DnsRecordType): LookupStep[] {
    const keys = new Set(names.map((n) => `${type} ${normalizeName(n)}`));
    const steps: LookupStep[] = [];
    for (const entry of this.#asked) {
      if (keys.has(entry.key) && entry.step !== undefined) {
        steps.push(entry.step);
        keys.delete(entry.key);
      }
    }
    return steps;
  }
}

function stepOf(answer: DnsAnswer): LookupStep {
  const base = { name: answer.name, type: answer.type, state: answer.state, result: answer.kind };
  // Only the reasons of failures: a backend's general note (e.g. "not validated") is not a lookup's.
  if (answer.kind === 'records') return { ...base, records: answer.records };
  return answer.kind === 'failure' ? { ...base, why: answer.why, failure: answer.failure } : base;
}

/** Without the brackets of an IPv6 reference. */
function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function kindOf(host: string): 'domain' | 'ipv4' | 'ipv6' {
  const version = isIP(host);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : 'domain';
}

function dedupe(targets: readonly LocatedTarget[]): LocatedTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.transport} ${t.address} ${t.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
