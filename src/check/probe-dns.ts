/**
 * The DNS probe: NAPTR of the domain, SRV of every SIP service (RFC 3263 section 4.1), A and AAAA
 * of every TLS target, TLSA at `_port._tcp.host` of every TLS target whose chain is secure
 * (RFC 7673 section 3.2). Unlike the locator it stops at nothing: an auditor wants every answer.
 */
import { weakestState, type DnssecState } from '../dns/dnssec-state.js';
import type { DnsAnswer, DnsRecordType, RecordByType, SrvRecord } from '../dns/records.js';
import type { DnsResolver } from '../dns/resolver.js';
import { tlsaName } from '../dns/tlsa-lookup.js';
import { CHECK_LIMITS, DNS_LIMITS } from '../limits.js';
import { formatTlsaRecord } from '../tls/tlsa.js';
import type { DnsLookupObservation, DnsObservation, ServiceName, ServiceObservation, TlsTargetPlan } from './observations.js';

/** NAPTR services of SIP (RFC 3263 section 4.1) and SIP over WebSocket (RFC 7118 section 5.5). */
const NAPTR_SERVICES: Readonly<Record<string, ServiceName>> = {
  'SIPS+D2T': 'tls',
  'SIP+D2T': 'tcp',
  'SIP+D2U': 'udp',
  'SIP+D2W': 'ws',
  'SIPS+D2W': 'wss',
};

const DIRECT_SRV: readonly (readonly [ServiceName, string])[] = [['tls', '_sips._tcp'], ['tcp', '_sip._tcp'], ['udp', '_sip._udp']];

/**
 * Every question the probe asks, in the order asked, with its answer once it came: a check cut
 * short before the DNS probe finished still reports what was asked and what was (not) answered.
 */
export class DnsLookupLog {
  private readonly entries = new Map<string, { name: string; type: DnsRecordType; answer?: DnsAnswer }>();

  /** Records a question; returns false when it was already asked. */
  asked(name: string, type: DnsRecordType): boolean {
    const key = `${type} ${name.toLowerCase()}`;
    if (this.entries.has(key)) return false;
    this.entries.set(key, { name, type });
    return true;
  }

  answered(answer: DnsAnswer): void {
    const entry = this.entries.get(`${answer.type} ${answer.name.toLowerCase()}`);
    if (entry !== undefined) entry.answer = answer;
  }

  /** The lookups so far; a question still waiting is `unanswered` (state indeterminate). */
  observations(): DnsLookupObservation[] {
    return [...this.entries.values()].map((e) => (e.answer !== undefined ? lookupObservation(e.answer) : {
      name: e.name, type: e.type, state: 'indeterminate', result: 'unanswered', records: [],
    }));
  }
}

/** Thrown once the check is stopped: no further question is asked. */
export class DnsProbeStopped extends Error {}

/**
 * `signal` stops the probe between questions: a check cut short asks nothing more, since every
 * libunbound question holds a libuv worker thread until libunbound gives up, and queued ones
 * would hold up the writes and the exit of the CLI.
 */
export async function probeDns(resolver: DnsResolver, domain: string, log: DnsLookupLog = new DnsLookupLog(), signal?: AbortSignal): Promise<DnsObservation> {
  const lookups = new Map<string, Promise<DnsAnswer>>();
  const ask = <T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> => {
    const key = `${type} ${name.toLowerCase()}`;
    let pending = lookups.get(key);
    if (pending === undefined) {
      if (signal?.aborted === true) return Promise.reject(new DnsProbeStopped('check stopped'));
      log.asked(name, type);
      pending = resolver.query(name, type).catch((err: unknown): DnsAnswer => ({
        kind: 'failure', name, type, cnames: [], state: 'indeterminate', failure: 'malformed', why: err instanceof Error ? err.message : String(err),
      })).then((answer) => {
        log.answered(answer);
        return answer;
      });
      lookups.set(key, pending);
    }
    return pending as Promise<DnsAnswer<T>>;
  };

  const naptr = await ask(domain, 'NAPTR');
  const services: ServiceObservation[] = [];
  const srvNames: { service: ServiceName; name: string; via: 'naptr' | 'srv' }[] = [];
  if (naptr.kind === 'records') {
    for (const record of naptr.records.slice(0, DNS_LIMITS.maxNaptrRecords)) {
      const service = NAPTR_SERVICES[record.services.toUpperCase()];
      if (service === undefined || record.replacement === '') continue;
      srvNames.push({ service, name: record.replacement, via: 'naptr' });
    }
  }
  for (const [service, prefix] of DIRECT_SRV) {
    const name = `${prefix}.${domain}`;
    if (!srvNames.some((s) => s.name === name)) srvNames.push({ service, name, via: 'srv' });
  }
  const srvAnswers = await Promise.all(srvNames.map(async (s) => ({ ...s, answer: await ask(s.name, 'SRV') })));
  const tlsSrv: { record: SrvRecord; states: DnssecState[] }[] = [];
  for (const s of srvAnswers) {
    if (s.answer.kind !== 'records') {
      // A NAPTR pointing to a name without SRV still says the service is meant to exist.
      if (s.via === 'naptr') services.push({ service: s.service, via: 'naptr', name: s.name });
      continue;
    }
    const usable = s.answer.records.filter((r) => r.target !== '');
    if (usable.length === 0) continue;
    services.push({ service: s.service, via: s.via, name: s.name });
    if (s.service !== 'tls') continue;
    for (const record of usable.slice(0, DNS_LIMITS.maxSrvRecords)) tlsSrv.push({ record, states: [naptr.state, s.answer.state] });
  }

  const hosts: { host: string; port: number; srvHost?: string; states: DnssecState[] }[] = [];
  const seenHosts = new Set<string>();
  for (const { record, states } of tlsSrv.sort((a, b) => a.record.priority - b.record.priority || b.record.weight - a.record.weight)) {
    const key = `${record.target} ${record.port}`;
    if (seenHosts.has(key)) continue;
    seenHosts.add(key);
    hosts.push({ host: record.target, port: record.port, srvHost: record.target, states });
  }
  const anySrv = srvAnswers.some((s) => s.answer.kind === 'records');
  const anyFailure = naptr.kind === 'failure' || srvAnswers.some((s) => s.answer.kind === 'failure');
  if (!anySrv && !anyFailure && naptr.kind !== 'records') {
    // RFC 3263 section 4.2: no SRV at all, so a sips URI goes to the domain's address at 5061.
    hosts.push({ host: domain, port: DNS_LIMITS.sipsPort, states: [naptr.state, ...srvAnswers.map((s) => s.answer.state)] });
  }

  const tlsTargets: TlsTargetPlan[] = [];
  for (const h of hosts) {
    const [a, aaaa] = await Promise.all([ask(h.host, 'A'), ask(h.host, 'AAAA')]);
    const found: { family: 4 | 6; answer: DnsAnswer<'A' | 'AAAA'> }[] = [{ family: 4, answer: a }, { family: 6, answer: aaaa }];
    const addressed = found.filter((f) => f.answer.kind === 'records');
    if (addressed.length > 0 && h.srvHost === undefined) services.push({ service: 'tls', via: 'address', name: domain });
    for (const { family, answer } of addressed) {
      if (answer.kind !== 'records') continue;
      const chainState = weakestState([...h.states, answer.state]);
      let tlsa: TlsTargetPlan['tlsa'];
      if (chainState === 'secure') {
        const t = await ask(tlsaName(h.port, h.host), 'TLSA');
        tlsa = { name: t.name, state: t.state, records: t.kind === 'records' ? t.records.map(formatTlsaRecord) : [], ...(t.why !== undefined && t.kind === 'failure' ? { why: t.why } : {}) };
      }
      for (const record of answer.records) {
        tlsTargets.push({
          host: h.host, port: h.port, address: record.address, family, chainState,
          ...(h.srvHost !== undefined ? { srvHost: h.srvHost } : {}),
          ...(tlsa !== undefined ? { tlsa } : {}),
        });
      }
    }
  }
  await Promise.all(lookups.values());
  return {
    domain,
    complete: true,
    lookups: log.observations(),
    services,
    tlsTargets: tlsTargets.slice(0, CHECK_LIMITS.maxTargetsPerDomain),
  };
}

function lookupObservation(answer: DnsAnswer): DnsLookupObservation {
  return {
    name: answer.name,
    type: answer.type,
    state: answer.state,
    result: answer.kind,
    records: answer.kind === 'records' ? answer.records.map((r) => presentRecord(answer.type, r)) : [],
    ...(answer.kind === 'failure' ? { failure: answer.failure, why: answer.why } : {}),
  };
}

/** Zone-file presentation of a record's RDATA. */
function presentRecord(type: DnsRecordType, record: RecordByType[DnsRecordType]): string {
  switch (type) {
    case 'NAPTR': {
      const r = record as RecordByType['NAPTR'];
      return `${r.order} ${r.preference} "${r.flags}" "${r.services}" "${r.regexp}" ${r.replacement}.`;
    }
    case 'SRV': {
      const r = record as RecordByType['SRV'];
      return `${r.priority} ${r.weight} ${r.port} ${r.target}.`;
    }
    case 'A':
    case 'AAAA':
      return (record as RecordByType['A']).address;
    case 'TLSA':
      return formatTlsaRecord(record as RecordByType['TLSA']);
    case 'PTR':
      return `${(record as RecordByType['PTR']).name}.`;
  }
}
