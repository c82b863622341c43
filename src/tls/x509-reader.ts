/**
 * Reads the fields of an X.509 certificate (RFC 5280 section 4.1) that identity matching, path
 * validation and TLSA matching use, straight from the DER. Why by hand: @peculiar/asn1-x509 (the
 * schema-driven parser this replaced) took about 2 ms per certificate here, more than the TLS
 * handshake itself, and every new peer's chain pays it; this reader takes microseconds. The
 * @peculiar parser stays in the test suite as the oracle that this reader must agree with
 * (src/tls/x509-reader.test.ts), on generated certificates, every DANE vector and Node's roots.
 *
 * Strict where a lax reading could change a verdict (lengths, tags, times, extension structure);
 * extensions sipsec does not use are kept as OID, criticality and raw value only.
 */
import { expectDerTag, readBoolean, readDerChildren, readDerElement, readOid, readSmallInteger, type DerElement } from './der.js';
import { BadCertificateError } from './errors.js';

/** One AttributeTypeAndValue of a Name, the value as text (RFC 4514 `#hex` when not a string). */
export interface NameAttribute {
  readonly type: string;
  readonly value: string;
}

/** A Name: its RelativeDistinguishedNames in order, each a set of attributes. */
export type DistinguishedName = readonly (readonly NameAttribute[])[];

export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's contents: the DER of the extension's own structure. */
  readonly value: Buffer;
}

export interface CertificateFields {
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly CertificateExtension[];
  /** Raw slices, compared or digested byte for byte (selfIssued, AKI/SKI chaining, TLSA selector 1). */
  readonly raw: { readonly issuer: Buffer; readonly subject: Buffer; readonly subjectPublicKeyInfo: Buffer };
}

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  numericString: 0x12,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  visibleString: 0x1a,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  version: 0xa0,
  issuerUniqueId: 0x81,
  subjectUniqueId: 0x82,
  extensions: 0xa3,
} as const;

function fail(what: string): never {
  throw new BadCertificateError(`not an X.509 certificate: ${what}`);
}

/** Reads a whole certificate; throws BadCertificateError naming the first structural fault. */
export function readCertificateFields(der: Buffer): CertificateFields {
  const certificate = readDerElement(der, 0);
  if (certificate.tag !== TAG.sequence || certificate.end !== der.length) fail('not one DER SEQUENCE');
  const [tbs, signatureAlgorithm, signature, extra] = readDerChildren(der, certificate);
  expectDerTag(tbs, TAG.sequence, 'tbsCertificate');
  expectDerTag(signatureAlgorithm, TAG.sequence, 'signatureAlgorithm');
  expectDerTag(signature, TAG.bitString, 'signatureValue');
  if (extra !== undefined) fail('data after signatureValue');

  const fields = readDerChildren(der, tbs as DerElement);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === TAG.version) {
    const [v] = readDerChildren(der, fields[0]);
    version = readSmallInteger(der, expectDerTag(v, TAG.integer, 'version')) + 1;
    if (version < 1 || version > 3) fail(`version ${version}`);
    i = 1;
  }
  expectDerTag(fields[i], TAG.integer, 'serialNumber');
  expectDerTag(fields[i + 1], TAG.sequence, 'signature');
  const issuer = expectDerTag(fields[i + 2], TAG.sequence, 'issuer');
  const validity = expectDerTag(fields[i + 3], TAG.sequence, 'validity');
  const subject = expectDerTag(fields[i + 4], TAG.sequence, 'subject');
  const spki = expectDerTag(fields[i + 5], TAG.sequence, 'subjectPublicKeyInfo');
  const [notBefore, notAfter, moreTimes] = readDerChildren(der, validity);
  if (notBefore === undefined || notAfter === undefined || moreTimes !== undefined) fail('validity is not two times');

  let extensions: CertificateExtension[] = [];
  let rest = i + 6;
  if (fields[rest]?.tag === TAG.issuerUniqueId) rest++;
  if (fields[rest]?.tag === TAG.subjectUniqueId) rest++;
  const extensionsField = fields[rest];
  if (extensionsField !== undefined) {
    if (extensionsField.tag !== TAG.extensions) fail(`unexpected field 0x${extensionsField.tag.toString(16)} in tbsCertificate`);
    if (version !== 3) fail('extensions in a certificate that is not version 3');
    const [list, after] = readDerChildren(der, extensionsField);
    extensions = readExtensions(der, expectDerTag(list, TAG.sequence, 'extensions'));
    if (after !== undefined) fail('data after extensions');
    rest++;
  }
  if (fields[rest] !== undefined) fail('data after the last tbsCertificate field');

  return {
    issuer: readName(der, issuer),
    subject: readName(der, subject),
    notBefore: readTime(der, notBefore),
    notAfter: readTime(der, notAfter),
    extensions,
    raw: {
      issuer: der.subarray(issuer.start, issuer.end),
      subject: der.subarray(subject.start, subject.end),
      subjectPublicKeyInfo: der.subarray(spki.start, spki.end),
    },
  };
}

function readExtensions(der: Buffer, list: DerElement): CertificateExtension[] {
  const out: CertificateExtension[] = [];
  const seen = new Set<string>();
  for (const ext of readDerChildren(der, list)) {
    expectDerTag(ext, TAG.sequence, 'extension');
    const parts = readDerChildren(der, ext);
    const oid = readOid(der, expectDerTag(parts[0], TAG.oid, 'extnID'));
    let critical = false;
    let k = 1;
    if (parts[1]?.tag === TAG.boolean) {
      critical = readBoolean(der, parts[1]);
      k = 2;
    }
    const value = expectDerTag(parts[k], TAG.octetString, `extnValue of ${oid}`);
    if (parts[k + 1] !== undefined) fail(`data after extnValue of ${oid}`);
    // RFC 5280 section 4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) fail(`extension ${oid} appears twice`);
    seen.add(oid);
    out.push({ oid, critical, value: der.subarray(value.valueStart, value.end) });
  }
  return out;
}

function readName(der: Buffer, name: DerElement): NameAttribute[][] {
  return readDerChildren(der, name).map((rdn) => {
    expectDerTag(rdn, TAG.set, 'RelativeDistinguishedName');
    return readDerChildren(der, rdn).map((atv) => {
      expectDerTag(atv, TAG.sequence, 'AttributeTypeAndValue');
      const [type, value, extra] = readDerChildren(der, atv);
      if (value === undefined || extra !== undefined) fail('AttributeTypeAndValue is not a type and a value');
      return { type: readOid(der, expectDerTag(type, TAG.oid, 'attribute type')), value: readDirectoryString(der, value) };
    });
  });
}

function readDirectoryString(der: Buffer, el: DerElement): string {
  const bytes = der.subarray(el.valueStart, el.end);
  switch (el.tag) {
    case TAG.utf8String:
      return bytes.toString('utf8');
    case TAG.printableString:
    case TAG.ia5String:
    case TAG.numericString:
    case TAG.visibleString:
    case TAG.teletexString:
      return bytes.toString('latin1');
    case TAG.bmpString:
      return decodeUtf16Be(bytes);
    case TAG.universalString:
      return decodeUtf32Be(bytes);
    default:
      return `#${der.subarray(el.start, el.end).toString('hex')}`;
  }
}

function decodeUtf16Be(bytes: Buffer): string {
  if (bytes.length % 2 !== 0) fail('BMPString of odd length');
  const swapped = Buffer.from(bytes);
  swapped.swap16();
  return swapped.toString('utf16le');
}

function decodeUtf32Be(bytes: Buffer): string {
  if (bytes.length % 4 !== 0) fail('UniversalString length not a multiple of 4');
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const cp = bytes.readUInt32BE(i);
    if (cp > 0x10ffff) fail('UniversalString code point out of range');
    out += String.fromCodePoint(cp);
  }
  return out;
}

/** UTCTime YYMMDDHHMMSSZ and GeneralizedTime YYYYMMDDHHMMSSZ, the only forms RFC 5280 4.1.2.5 allows. */
function readTime(der: Buffer, el: DerElement): Date {
  const text = der.toString('latin1', el.valueStart, el.end);
  let m: RegExpExecArray | null;
  let year: number;
  if (el.tag === TAG.utcTime) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (m === null) fail(`UTCTime ${JSON.stringify(text)}`);
    const yy = Number(m[1]);
    // RFC 5280 section 4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (el.tag === TAG.generalizedTime) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (m === null) fail(`GeneralizedTime ${JSON.stringify(text)}`);
    year = Number(m[1]);
  } else {
    fail(`a time has tag 0x${el.tag.toString(16)}`);
  }
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) fail(`time ${JSON.stringify(text)} out of range`);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC reads the years 0 to 99 as 1900 to 1999; a GeneralizedTime year is the year written.
  date.setUTCFullYear(year);
  if (date.getUTCDate() !== day) fail(`time ${JSON.stringify(text)} is not a calendar date`);
  return date;
}

