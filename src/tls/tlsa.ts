/**
 * TLSA records as DANE uses them: usability (RFC 6698 section 2.1, RFC 7671 section 4),
 * digest algorithm agility (RFC 7671 section 9), matching (RFC 6698 section 2.1.2-2.1.3), the
 * presentation form "U S M HEX", and generating the record to publish for a certificate.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { TlsaRecord } from '../dns/tlsa-record.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { BadTlsaError } from './errors.js';
import type { TlsaUsageName } from './reasons.js';

export type TlsaSelectorName = 'cert' | 'spki';
export type TlsaMatchingName = 'full' | 'sha2-256' | 'sha2-512';
export type DigestName = 'sha2-256' | 'sha2-512';

/** Protocol numbers (RFC 6698 sections 7.2-7.4) and their names. */
const USAGES: readonly TlsaUsageName[] = ['pkix-ta', 'pkix-ee', 'dane-ta', 'dane-ee'];
const SELECTORS: readonly TlsaSelectorName[] = ['cert', 'spki'];
const MATCHING: readonly TlsaMatchingName[] = ['full', 'sha2-256', 'sha2-512'];
const DIGEST_BYTES: Readonly<Record<DigestName, number>> = { 'sha2-256': 32, 'sha2-512': 64 };
const NODE_HASH: Readonly<Record<DigestName, string>> = { 'sha2-256': 'sha256', 'sha2-512': 'sha512' };

/** A record that passed the usability checks, with its fields named. */
export interface UsableTlsaRecord {
  readonly record: TlsaRecord;
  readonly usage: TlsaUsageName;
  readonly selector: TlsaSelectorName;
  readonly matching: TlsaMatchingName;
  /** For `x 0 0` records: the certificate carried in the record. */
  readonly certificate?: ParsedCertificate;
}

export type TlsaClassification =
  | { readonly usable: true; readonly value: UsableTlsaRecord }
  | { readonly usable: false; readonly record: TlsaRecord; readonly why: string };

/** Decides whether one record is usable; unusable records are ignored, never fatal (RFC 7671 4). */
export function classifyTlsaRecord(record: TlsaRecord, allowedDigests: readonly DigestName[]): TlsaClassification {
  const usage = USAGES[record.usage];
  const selector = SELECTORS[record.selector];
  const matching = MATCHING[record.matchingType];
  if (usage === undefined) return { usable: false, record, why: `unknown certificate usage ${record.usage}` };
  if (selector === undefined) return { usable: false, record, why: `unknown selector ${record.selector}` };
  if (matching === undefined) return { usable: false, record, why: `unknown matching type ${record.matchingType}` };
  if (matching !== 'full') {
    if (!allowedDigests.includes(matching)) return { usable: false, record, why: `matching type ${matching} is not allowed by policy` };
    if (record.data.length !== DIGEST_BYTES[matching]) return { usable: false, record, why: `${matching} data is ${record.data.length} bytes, not ${DIGEST_BYTES[matching]}` };
    return { usable: true, value: { record, usage, selector, matching } };
  }
  const data = Buffer.from(record.data);
  try {
    if (selector === 'cert') return { usable: true, value: { record, usage, selector, matching, certificate: parseCertificate(data) } };
    createPublicKey({ key: data, format: 'der', type: 'spki' });
    return { usable: true, value: { record, usage, selector, matching } };
  } catch {
    return { usable: false, record, why: `full ${selector === 'cert' ? 'certificate' : 'public key'} data does not parse` };
  }
}

export interface UsableTlsaSet {
  readonly usable: readonly UsableTlsaRecord[];
  readonly ignored: readonly { readonly record: TlsaRecord; readonly why: string }[];
}

/**
 * Drops unusable records, then applies digest agility (RFC 7671 section 9): per (usage, selector)
 * keep every Full record and only the records of the strongest digest present, strength being the
 * order of `digestPreference` (strongest first).
 */
export function selectUsableRecords(records: readonly TlsaRecord[], digestPreference: readonly DigestName[]): UsableTlsaSet {
  const usable: UsableTlsaRecord[] = [];
  const ignored: { record: TlsaRecord; why: string }[] = [];
  for (const record of records) {
    const c = classifyTlsaRecord(record, digestPreference);
    if (c.usable) usable.push(c.value);
    else ignored.push({ record: c.record, why: c.why });
  }
  const strongest = new Map<string, number>();
  for (const r of usable) {
    if (r.matching === 'full') continue;
    const key = `${r.usage}/${r.selector}`;
    const rank = digestPreference.indexOf(r.matching);
    const best = strongest.get(key);
    if (best === undefined || rank < best) strongest.set(key, rank);
  }
  const kept: UsableTlsaRecord[] = [];
  for (const r of usable) {
    if (r.matching !== 'full' && digestPreference.indexOf(r.matching) !== strongest.get(`${r.usage}/${r.selector}`)) {
      ignored.push({ record: r.record, why: `a stronger digest than ${r.matching} is published for ${r.usage} ${r.selector} (RFC 7671 section 9)` });
      continue;
    }
    kept.push(r);
  }
  return { usable: kept, ignored };
}

/** The bytes a selector picks from a certificate (RFC 6698 section 2.1.2). */
export function selectedData(cert: ParsedCertificate, selector: TlsaSelectorName): Buffer {
  return selector === 'cert' ? cert.der : cert.raw.subjectPublicKeyInfo;
}

/** Association data for a certificate (RFC 6698 section 2.1.3). */
export function associationData(cert: ParsedCertificate, selector: TlsaSelectorName, matching: TlsaMatchingName): Buffer {
  const data = selectedData(cert, selector);
  return matching === 'full' ? Buffer.from(data) : createHash(NODE_HASH[matching]).update(data).digest();
}

/** Whether a usable record matches a certificate (selector and matching type applied). */
export function tlsaMatches(record: UsableTlsaRecord, cert: ParsedCertificate): boolean {
  return associationData(cert, record.selector, record.matching).equals(record.record.data);
}

/**
 * "U S M hex" (RFC 6698 section 2.2). The hex is lower case, everywhere sipsec prints it (RFC 6698
 * allows either case; `sipsec resolve` prints lower case too).
 */
export function formatTlsaRecord(record: TlsaRecord): string {
  return `${record.usage} ${record.selector} ${record.matchingType} ${Buffer.from(record.data).toString('hex')}`;
}

/** RFC 7218 mnemonics of the three fields, upper-cased; the Priv* values are 255. */
const FIELD_MNEMONICS: readonly Readonly<Record<string, number>>[] = [
  { 'PKIX-TA': 0, 'PKIX-EE': 1, 'DANE-TA': 2, 'DANE-EE': 3, PRIVCERT: 255 },
  { CERT: 0, SPKI: 1, PRIVSEL: 255 },
  { FULL: 0, 'SHA2-256': 1, 'SHA2-512': 2, PRIVMATCH: 255 },
];
const FIELD_NAMES = ['usage', 'selector', 'matching type'] as const;

/**
 * Parses a TLSA record as people have it: "U S M HEX" with each field a number or its RFC 7218
 * mnemonic ("DANE-EE SPKI SHA2-256 ..."), or a whole zone file line ("_5061._tcp.host. [TTL] [IN]
 * TLSA ...", as `sipsec tlsa generate` and dig print it; the owner name is not checked). Spaces
 * and zone file parentheses inside the hex are allowed, a `;` comment is dropped.
 */
export function parseTlsaRecord(text: string): TlsaRecord {
  const semicolon = text.indexOf(';');
  let tokens = (semicolon < 0 ? text : text.slice(0, semicolon)).replace(/[()]/g, ' ').split(/\s+/).filter((t) => t !== '');
  const type = tokens.findIndex((t) => t.toUpperCase() === 'TLSA');
  if (type >= 0) tokens = tokens.slice(type + 1);
  if (tokens.length < 4) throw new BadTlsaError(`TLSA record must be "usage selector matching-type hex": ${JSON.stringify(text)}`);
  const [usage, selector, matchingType] = [0, 1, 2].map((i) => tlsaField(tokens[i] as string, i)) as [number, number, number];
  const hex = tokens.slice(3).join('');
  if (!/^[0-9A-Fa-f]+$/.test(hex)) throw new BadTlsaError(`TLSA association data is not hex: ${JSON.stringify(hex.length > 40 ? `${hex.slice(0, 40)}...` : hex)}`);
  if (hex.length % 2 !== 0) throw new BadTlsaError('TLSA association data has an odd number of hex digits');
  return { usage, selector, matchingType, data: Buffer.from(hex, 'hex') };
}

function tlsaField(token: string, index: number): number {
  const mnemonic = FIELD_MNEMONICS[index]?.[token.toUpperCase()];
  if (mnemonic !== undefined) return mnemonic;
  if (!/^\d{1,3}$/.test(token) || Number(token) > 255) {
    const names = Object.keys(FIELD_MNEMONICS[index] ?? {}).join(', ');
    throw new BadTlsaError(`TLSA ${FIELD_NAMES[index] ?? 'field'} must be a number from 0 to 255 or one of ${names}, not ${JSON.stringify(token)}`);
  }
  return Number(token);
}

/** Wire RDATA (usage, selector, matching type, data) to a record. */
export function decodeTlsaRdata(rdata: Uint8Array): TlsaRecord {
  if (rdata.length < 3) throw new BadTlsaError('TLSA RDATA shorter than 3 octets');
  return { usage: rdata[0] as number, selector: rdata[1] as number, matchingType: rdata[2] as number, data: Buffer.from(rdata.subarray(3)) };
}

/** The TLSA owner name for a service (RFC 6698 section 3, RFC 7673 section 3.3): `_port._tcp.host.`. */
export function tlsaOwnerName(host: string, port: number, protocol: 'tcp' | 'udp' | 'sctp' = 'tcp'): string {
  const base = host.endsWith('.') ? host : `${host}.`;
  return `_${port}._${protocol}.${base.toLowerCase()}`;
}

/** The record to publish for a certificate. */
export function generateTlsaRecord(cert: ParsedCertificate, usage: number, selector: number, matchingType: number): TlsaRecord {
  const sel = SELECTORS[selector];
  const mt = MATCHING[matchingType];
  if (USAGES[usage] === undefined || sel === undefined || mt === undefined) {
    throw new BadTlsaError(`cannot generate TLSA ${usage} ${selector} ${matchingType}: usage 0-3, selector 0-1, matching type 0-2`);
  }
  return { usage, selector, matchingType, data: associationData(cert, sel, mt) };
}
