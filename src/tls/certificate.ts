/**
 * A parsed X.509 certificate: the fields that identity matching, path validation and TLSA matching
 * read, decoded once. Structure comes from x509-reader.ts and x509-extensions.ts (DER read by hand,
 * checked against @peculiar/asn1-x509 in the tests); signatures are checked with node:crypto's
 * X509Certificate (OpenSSL underneath).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readDerElement } from './der.js';
import { BadPemError } from './errors.js';
import {
  OID,
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltName,
  decodeSubjectKeyIdentifier,
  type KeyUsageName,
} from './x509-extensions.js';
import { readCertificateFields, type DistinguishedName } from './x509-reader.js';

export type { KeyUsageName } from './x509-extensions.js';

/**
 * The extensions sipsec processes, the only ones a certificate may mark critical. Any other
 * critical extension fails the certificate (RFC 5280 section 4.2: "A certificate-using system MUST
 * reject the certificate if it encounters a critical extension it does not recognize or a critical
 * extension that contains information that it cannot process"): cRLDistributionPoints and
 * authorityInfoAccess (no revocation checking), certificatePolicies, policy and name constraints,
 * issuerAltName and the rest. Non-critical, they are ignored.
 */
const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName,
  // Both link a certificate to its issuer in path building (RFC 5280 4.2.1.1, 4.2.1.2).
  OID.subjectKeyIdentifier, OID.authorityKeyIdentifier,
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
  /** OIDs of the extensions marked critical that sipsec does not process: each fails the certificate. */
  readonly unknownCriticalExtensions: readonly string[];
  /** Subject and issuer are the same name (RFC 5280 section 6.1: self-issued). */
  readonly selfIssued: boolean;
}

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const fields = readCertificateFields(bytes);
  let hasSubjectAltName = false;
  let sanDnsNames: string[] = [];
  let sanUris: string[] = [];
  let basicConstraints: ParsedCertificate['basicConstraints'];
  let keyUsage: KeyUsageName[] | undefined;
  let extKeyUsage: string[] | undefined;
  let subjectKeyId: Buffer | undefined;
  let authorityKeyId: Buffer | undefined;
  const unknownCriticalExtensions: string[] = [];
  for (const ext of fields.extensions) {
    switch (ext.oid) {
      case OID.subjectAltName: {
        hasSubjectAltName = true;
        const san = decodeSubjectAltName(ext.value);
        sanDnsNames = san.dnsNames;
        sanUris = san.uris;
        break;
      }
      case OID.basicConstraints:
        basicConstraints = decodeBasicConstraints(ext.value);
        break;
      case OID.keyUsage:
        keyUsage = decodeKeyUsage(ext.value);
        break;
      case OID.extKeyUsage:
        extKeyUsage = decodeExtKeyUsage(ext.value);
        break;
      case OID.subjectKeyIdentifier:
        subjectKeyId = decodeSubjectKeyIdentifier(ext.value);
        break;
      case OID.authorityKeyIdentifier:
        authorityKeyId = decodeAuthorityKeyIdentifier(ext.value);
        break;
      default:
        if (ext.critical && !PROCESSED_EXTENSIONS.has(ext.oid)) unknownCriticalExtensions.push(ext.oid);
    }
  }
  const raw = fields.raw;
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
    subjectText: renderName(fields.subject),
    issuerText: renderName(fields.issuer),
    raw,
    commonNames: attributeValues(fields.subject, '2.5.4.3'),
    hasSubjectAltName,
    sanDnsNames,
    sanUris,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
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

function renderName(name: DistinguishedName): string {
  return name.map((rdn) => rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value}`).join('+')).join(', ');
}

function attributeValues(name: DistinguishedName, type: string): string[] {
  const values: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === type) values.push(atv.value);
  return values;
}

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every CERTIFICATE block of a PEM text, in order, as DER; text between blocks is skipped. Found
 * with indexOf, each search starting where the last one stopped, so the cost is linear in the text
 * whatever it holds (a lazy regular expression rescanned to the end for every BEGIN without an END).
 */
export function decodePemCertificates(pem: string): Buffer[] {
  const ders: Buffer[] = [];
  let from = 0;
  for (;;) {
    const begin = pem.indexOf(PEM_BEGIN, from);
    if (begin < 0) break;
    const bodyStart = begin + PEM_BEGIN.length;
    const end = pem.indexOf(PEM_END, bodyStart);
    if (end < 0) throw new BadPemError('a CERTIFICATE block has no END CERTIFICATE line');
    const body = pem.slice(bodyStart, end).replace(/\s+/g, '');
    if (body.length === 0 || !BASE64.test(body)) throw new BadPemError('a CERTIFICATE block is not base64');
    ders.push(Buffer.from(body, 'base64'));
    from = end + PEM_END.length;
  }
  return ders;
}

/** Parses every certificate of a PEM text; throws BadPemError when there is none. */
export function parsePemCertificates(pem: string): ParsedCertificate[] {
  const ders = decodePemCertificates(pem);
  if (ders.length === 0) throw new BadPemError(`no CERTIFICATE block found${otherPemBlock(pem)}`);
  return ders.map(parseCertificate);
}

/** ", the file holds a PRIVATE KEY block" when a PEM block of another kind is there: the likely mix-up. */
function otherPemBlock(pem: string): string {
  const at = pem.indexOf('-----BEGIN ');
  if (at < 0) return '';
  const close = pem.indexOf('-----', at + 11);
  const label = close < 0 ? '' : pem.slice(at + 11, close);
  return /^[A-Z0-9 ]{1,40}$/.test(label) ? `, only a ${label} block` : '';
}

/**
 * The certificates of a file as people have them: PEM (any number of CERTIFICATE blocks) or DER
 * (one certificate, or several back to back), told apart by content, not by the file name, as
 * `openssl x509 -inform` would need to be told. Throws BadPemError when it is neither.
 */
export function decodeCertificateFile(bytes: Uint8Array): { readonly format: 'pem' | 'der'; readonly ders: Buffer[] } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pem = buffer.includes('-----BEGIN ');
  // A certificate is a DER SEQUENCE (0x30, the character '0'); text only rarely starts with '0',
  // and a DER certificate could hold the PEM marker in a name: DER is tried first when it can be.
  if (buffer[0] === 0x30) {
    try {
      return { format: 'der', ders: splitDer(buffer) };
    } catch (err) {
      if (!pem) throw err;
    }
  }
  if (!pem) throw new BadPemError('neither PEM (no BEGIN CERTIFICATE line) nor DER (no SEQUENCE at the start)');
  const text = buffer.toString('latin1');
  const ders = decodePemCertificates(text);
  if (ders.length === 0) throw new BadPemError(`no CERTIFICATE block found${otherPemBlock(text)}`);
  return { format: 'pem', ders };
}

/** DER certificates back to back: each a SEQUENCE, nothing between or after them. */
function splitDer(buffer: Buffer): Buffer[] {
  const ders: Buffer[] = [];
  for (let offset = 0; offset < buffer.length;) {
    let element;
    try {
      element = readDerElement(buffer, offset);
    } catch (err) {
      throw new BadPemError(`DER: the certificate at byte ${offset} does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (element.tag !== 0x30) throw new BadPemError(`DER: byte ${offset} does not start a certificate (SEQUENCE)`);
    ders.push(buffer.subarray(element.start, element.end));
    offset = element.end;
  }
  return ders;
}

/** Parses every certificate of a PEM or DER file (decodeCertificateFile). */
export function parseCertificateFile(bytes: Uint8Array): ParsedCertificate[] {
  return decodeCertificateFile(bytes).ders.map(parseCertificate);
}

/** The DER of a certificate as PEM text. */
export function encodePemCertificate(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}
