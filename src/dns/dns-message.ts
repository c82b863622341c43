import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket as LibDecodedPacket, Packet } from 'dns-packet';
import { DNS_LIMITS } from '../limits.js';
import { normalizeName } from './dns-name.js';
import type { CnameLink, DnsAnswer, DnsRecordType, RecordByType } from './records.js';

/**
 * Reads one DNS response message (RFC 1035 section 4) into a DnsAnswer, for the backends that see
 * wire messages (libunbound's answer packet, the AD-bit stub). The caller has decided the DNSSEC
 * state and has handled every RCODE other than NOERROR and NXDOMAIN.
 *
 * The CNAME chain is followed from `name` through the answer section; records of `type` at its
 * end are the answer. An NXDOMAIN or a NOERROR without such records is a denial whose TTL is the
 * SOA's (RFC 2308 section 5: the smaller of the SOA's TTL and its MINIMUM field).
 */
export function answerFromMessage<T extends DnsRecordType>(
  packet: DecodedPacket,
  name: string,
  type: T,
  state: 'secure' | 'insecure',
): DnsAnswer<T> {
  const answers = packet.answers ?? [];
  const cnames: CnameLink[] = [];
  let current = normalizeName(name);
  const seen = new Set([current]);
  while (true) {
    const link = answers.find((rr) => rr.type === 'CNAME' && normalizeName(rr.name) === current);
    if (link === undefined || link.type !== 'CNAME') break;
    const to = normalizeName(link.data);
    cnames.push({ from: current, to });
    if (seen.has(to) || cnames.length > DNS_LIMITS.maxCnameChain) {
      return {
        kind: 'failure', name: normalizeName(name), type, cnames, state: 'indeterminate', failure: 'cname-chain-too-long',
        why: seen.has(to) ? `CNAME loop at ${to}` : `CNAME chain longer than ${DNS_LIMITS.maxCnameChain}`,
      };
    }
    seen.add(to);
    current = to;
  }
  const chainNames = new Set(cnames.map((c) => c.from));
  const usedTtls = answers.filter((rr) => rr.type === 'CNAME' && chainNames.has(normalizeName(rr.name))).map(ttlOf);
  const matching = answers.filter((rr) => rr.type === type && normalizeName(rr.name) === current);
  const base = { name: normalizeName(name), type, cnames, state };
  if (matching.length > 0 && packet.rcode !== 'NXDOMAIN') {
    const records = matching.map((rr) => recordOf(type, rr));
    const ttlSeconds = Math.min(...usedTtls, ...matching.map(ttlOf));
    return { ...base, kind: 'records', records, ttlSeconds };
  }
  const kind = packet.rcode === 'NXDOMAIN' ? 'nxdomain' : 'nodata';
  return { ...base, kind, ttlSeconds: Math.min(...usedTtls, negativeTtl(packet)) };
}

/** A decoded message: dns-packet also returns the RCODE (as a name), which its types omit. */
export type DecodedPacket = LibDecodedPacket & { readonly rcode?: string };

/** RFC 2308 section 5: min(SOA TTL, SOA MINIMUM) of the SOA in the authority section. */
export function negativeTtl(packet: Packet): number {
  const soa = (packet.authorities ?? []).find((rr) => rr.type === 'SOA');
  if (soa === undefined || soa.type !== 'SOA') return DNS_LIMITS.negativeTtlWithoutSoaSeconds;
  return Math.min(ttlOf(soa), soa.data.minimum ?? 0);
}

function ttlOf(rr: Answer): number {
  return 'ttl' in rr && typeof rr.ttl === 'number' ? rr.ttl : 0;
}

function recordOf<T extends DnsRecordType>(type: T, rr: Answer): RecordByType[T] {
  return decodeRecord(type, rr) as RecordByType[T];
}

function decodeRecord(type: DnsRecordType, rr: Answer): RecordByType[DnsRecordType] {
  switch (type) {
    case 'A':
    case 'AAAA':
      if (rr.type === 'A' || rr.type === 'AAAA') return { address: rr.data };
      break;
    case 'PTR':
      if (rr.type === 'PTR') return { name: normalizeName(rr.data) };
      break;
    case 'SRV':
      if (rr.type === 'SRV') {
        return { priority: rr.data.priority ?? 0, weight: rr.data.weight ?? 0, port: rr.data.port, target: normalizeName(rr.data.target) };
      }
      break;
    case 'NAPTR':
      if (rr.type === 'NAPTR') {
        const d = rr.data;
        return { order: d.order, preference: d.preference, flags: d.flags, services: d.services, regexp: d.regexp, replacement: normalizeName(d.replacement) };
      }
      break;
    case 'TLSA':
      if (rr.type === 'TLSA') {
        return { usage: rr.data.usage, selector: rr.data.selector, matchingType: rr.data.matchingType, data: new Uint8Array(rr.data.certificate) };
      }
      break;
  }
  throw new Error(`record of type ${rr.type} where ${type} was expected`);
}

/** Decodes a message, or undefined when it is malformed. */
export function decodeMessage(bytes: Uint8Array): DecodedPacket | undefined {
  try {
    return dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return undefined;
  }
}
