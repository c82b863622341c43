/**
 * A parsed X.509 certificate: the fields that identity matching, path validation and TLSA matching
 * read, decoded once. Structure comes from @peculiar/asn1-x509; signatures are checked with
 * node:crypto's X509Certificate (OpenSSL underneath); raw byte slices come from der.ts.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  type Name,
} from '@peculiar/asn1-x509';
import { sliceCertificateFields } from './der.js';
import { BadCertificateError, BadPemError } from './errors.js';

export type KeyUsageName =
  | 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement'
  | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';

const KEY_USAGE_BITS: readonly [KeyUsageName, number][] = [
  ['digitalSignature', KeyUsageFlags.digitalSignature],
  ['nonRepudiation', KeyUsageFlags.nonRepudiation],
  ['keyEncipherment', KeyUsageFlags.keyEncipherment],
  ['dataEncipherment', KeyUsageFlags.dataEncipherment],
  ['keyAgreement', KeyUsageFlags.keyAgreement],
  ['keyCertSign', KeyUsageFlags.keyCertSign],
  ['cRLSign', KeyUsageFlags.cRLSign],
  ['encipherOnly', KeyUsageFlags.encipherOnly],
  ['decipherOnly', KeyUsageFlags.decipherOnly],
];

/**
 * Extensions sipsec either processes or may safely ignore. A certificate with any other extension
 * marked critical is refused (RFC 5280 section 4.2), which is how name constraints and policy
 * constraints, not implemented here, fail closed.
 */
const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  id_ce_basicConstraints, id_ce_keyUsage, id_ce_extKeyUsage, id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier, id_ce_authorityKeyIdentifier,
  '2.5.29.32', // certificatePolicies: accepted, policies are not evaluated
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.18', // issuerAltName
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '1.3.6.1.4.1.11129.2.4.2', // certificate transparency SCT list
]);

export interface ParsedCertificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  /** SHA-256 of the DER, lower-case hex: a stable name for logs and verdicts. */
  readonly sha256: string;
  /** One-line rendering of the subject and issuer, for verdicts and logs only. */
  readonly subjectText: string;
  readonly issuerText: string;
  readonly raw: { readonly subject: Buffer; readonly issuer: Buffer; readonly subjectPublicKeyInfo: Buffer };
  /** Every commonName attribute of the subject, in order. */
  readonly commonNames: readonly string[];
  /** True when the subjectAltName extension is present at all (RFC 5922 section 7.1 step 2). */
  readonly hasSubjectAltName: boolean;
  readonly sanDnsNames: readonly string[];
  readonly sanUris: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | undefined } | undefined;
  readonly keyUsage: readonly KeyUsageName[] | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
  readonly unknownCriticalExtensions: readonly string[];
  /** Subject and issuer are the same name (RFC 5280 section 6.1: self-issued). */
  readonly selfIssued: boolean;
}

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let asn: Certificate;
  try {
    asn = AsnConvert.parse(bytes, Certificate);
  } catch (err) {
    throw new BadCertificateError(`not an X.509 certificate: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const raw = sliceCertificateFields(bytes);
  const tbs = asn.tbsCertificate;
  let hasSubjectAltName = false;
  const sanDnsNames: string[] = [];
  const sanUris: string[] = [];
  let basicConstraints: ParsedCertificate['basicConstraints'];
  let keyUsage: KeyUsageName[] | undefined;
  let extKeyUsage: string[] | undefined;
  let subjectKeyId: Buffer | undefined;
  let authorityKeyId: Buffer | undefined;
  const unknownCriticalExtensions: string[] = [];
  try {
    for (const ext of tbs.extensions ?? []) {
      const value = ext.extnValue.buffer;
      switch (ext.extnID) {
        case id_ce_subjectAltName: {
          hasSubjectAltName = true;
          for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
            if (name.dNSName !== undefined) sanDnsNames.push(name.dNSName);
            if (name.uniformResourceIdentifier !== undefined) sanUris.push(name.uniformResourceIdentifier);
          }
          break;
        }
        case id_ce_basicConstraints: {
          const bc = AsnConvert.parse(value, BasicConstraints);
          basicConstraints = { ca: bc.cA, pathLen: bc.pathLenConstraint };
          break;
        }
        case id_ce_keyUsage: {
          const bits = AsnConvert.parse(value, KeyUsage).toNumber();
          keyUsage = KEY_USAGE_BITS.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
          break;
        }
        case id_ce_extKeyUsage:
          extKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)];
          break;
        case id_ce_subjectKeyIdentifier:
          subjectKeyId = Buffer.from(AsnConvert.parse(value, SubjectKeyIdentifier).buffer);
          break;
        case id_ce_authorityKeyIdentifier: {
          const aki = AsnConvert.parse(value, AuthorityKeyIdentifier);
          if (aki.keyIdentifier !== undefined) authorityKeyId = Buffer.from(aki.keyIdentifier.buffer);
          break;
        }
        default:
          if (ext.critical && !UNDERSTOOD_EXTENSIONS.has(ext.extnID)) unknownCriticalExtensions.push(ext.extnID);
      }
    }
  } catch (err) {
    throw new BadCertificateError(`certificate extension does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // OpenSSL's parse decodes the public key, which costs ~0.25-0.6 ms with OpenSSL 3.0 decoders:
  // done on first use only (signature checks), never for DANE-EE or identity checks.
  let x509: X509Certificate | undefined;
  return {
    der: bytes,
    get x509(): X509Certificate {
      x509 ??= new X509Certificate(bytes);
      return x509;
    },
    sha256: sha256Hex(bytes),
    subjectText: renderName(tbs.subject),
    issuerText: renderName(tbs.issuer),
    raw,
    commonNames: attributeValues(tbs.subject, '2.5.4.3'),
    hasSubjectAltName,
    sanDnsNames,
    sanUris,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    basicConstraints,
    keyUsage,
    extKeyUsage,
    subjectKeyId,
    authorityKeyId,
    unknownCriticalExtensions,
    selfIssued: raw.subject.equals(raw.issuer),
  };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Parsed certificates by the SHA-256 of their DER, least recently used dropped first. A peer sends
 * the same chain on every connection; parsing it again (ASN.1 decoding, OpenSSL key decoding) would
 * cost milliseconds per connection. Parsed certificates are immutable, so sharing them is safe.
 */
export class CertificateCache {
  readonly #entries = new Map<string, ParsedCertificate>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  parse(der: Uint8Array): ParsedCertificate {
    const key = sha256Hex(der);
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const parsed = parseCertificate(der);
    this.#entries.set(key, parsed);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return parsed;
  }

  get size(): number {
    return this.#entries.size;
  }
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
};

function renderName(name: Name): string {
  return name
    .map((rdn) => rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'))
    .join(', ');
}

function attributeValues(name: Name, type: string): string[] {
  const values: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === type) values.push(atv.value.toString());
  return values;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM text, in order, as DER; text between blocks is skipped. */
export function decodePemCertificates(pem: string): Buffer[] {
  const ders: Buffer[] = [];
  for (const match of pem.matchAll(PEM_CERTIFICATE)) {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length === 0) throw new BadPemError('a CERTIFICATE block is not base64');
    ders.push(Buffer.from(body, 'base64'));
  }
  return ders;
}

/** Parses every certificate of a PEM text; throws BadPemError when there is none. */
export function parsePemCertificates(pem: string): ParsedCertificate[] {
  const ders = decodePemCertificates(pem);
  if (ders.length === 0) throw new BadPemError('no CERTIFICATE block found');
  return ders.map(parseCertificate);
}

/** The DER of a certificate as PEM text. */
export function encodePemCertificate(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}
