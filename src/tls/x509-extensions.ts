/**
 * The certificate extensions sipsec acts on (RFC 5280 section 4.2.1), decoded from their extnValue
 * DER: subjectAltName (dNSName and URI), basicConstraints, keyUsage, extKeyUsage and the key
 * identifiers that link a chain. Each decoder reads the whole value and refuses trailing bytes.
 */
import { expectDerTag, readBoolean, readDerChildren, readDerElement, readOid, readSmallInteger, type DerElement } from './der.js';
import { BadCertificateError } from './errors.js';

export type KeyUsageName =
  | 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement'
  | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';

/** KeyUsage bits in BIT STRING order: bit 0 is the most significant bit of the first byte. */
const KEY_USAGE_ORDER: readonly KeyUsageName[] = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
];

export const OID = {
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const BOOLEAN = 0x01;
const INTEGER = 0x02;
const OID_TAG = 0x06;
/** GeneralName choices used here (RFC 5280 section 4.2.1.6), context-specific and IMPLICIT. */
const GENERAL_NAME_DNS = 0x82;
const GENERAL_NAME_URI = 0x86;
const AKI_KEY_IDENTIFIER = 0x80;

function fail(extension: string, what: string): never {
  throw new BadCertificateError(`certificate extension does not parse: ${extension}: ${what}`);
}

/** The one element that fills `value`. */
function whole(value: Buffer, extension: string): DerElement {
  const el = readDerElement(value, 0);
  if (el.end !== value.length) fail(extension, 'data after the value');
  return el;
}

export function decodeSubjectAltName(value: Buffer): { dnsNames: string[]; uris: string[] } {
  const seq = whole(value, 'subjectAltName');
  if (seq.tag !== SEQUENCE) fail('subjectAltName', 'not a SEQUENCE');
  const dnsNames: string[] = [];
  const uris: string[] = [];
  const names = readDerChildren(value, seq);
  // RFC 5280 section 4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName.
  if (names.length === 0) fail('subjectAltName', 'empty');
  for (const name of names) {
    if (name.tag === GENERAL_NAME_DNS) dnsNames.push(ia5(value, name, 'dNSName'));
    else if (name.tag === GENERAL_NAME_URI) uris.push(ia5(value, name, 'uniformResourceIdentifier'));
  }
  return { dnsNames, uris };
}

/**
 * An IA5String name: ASCII only. A byte over 0x7f is no IA5 character, and read as Latin-1 it could
 * turn into an IDN label that matches a reference identity (RFC 5280 4.2.1.6 keeps IDNs as A-labels).
 */
function ia5(value: Buffer, el: DerElement, what: string): string {
  for (let p = el.valueStart; p < el.end; p++) if ((value[p] as number) > 0x7f) fail('subjectAltName', `${what} is not IA5 (ASCII)`);
  return value.toString('latin1', el.valueStart, el.end);
}

export function decodeBasicConstraints(value: Buffer): { ca: boolean; pathLen: number | undefined } {
  const seq = whole(value, 'basicConstraints');
  if (seq.tag !== SEQUENCE) fail('basicConstraints', 'not a SEQUENCE');
  const parts = readDerChildren(value, seq);
  let k = 0;
  let ca = false;
  let pathLen: number | undefined;
  if (parts[k]?.tag === BOOLEAN) ca = readBoolean(value, parts[k++] as DerElement);
  if (parts[k]?.tag === INTEGER) pathLen = readSmallInteger(value, parts[k++] as DerElement);
  if (parts[k] !== undefined) fail('basicConstraints', 'unexpected field');
  return { ca, pathLen };
}

export function decodeKeyUsage(value: Buffer): KeyUsageName[] {
  const bits = whole(value, 'keyUsage');
  if (bits.tag !== BIT_STRING || bits.end - bits.valueStart < 1) fail('keyUsage', 'not a BIT STRING');
  const unused = value[bits.valueStart] as number;
  const contentBytes = bits.end - bits.valueStart - 1;
  if (unused > 7 || (contentBytes === 0 && unused !== 0)) fail('keyUsage', 'bad count of unused bits');
  // X.690 section 11.2.1: unused bits are zero in DER; read as usages they would grant purposes.
  if (contentBytes > 0 && ((value[bits.end - 1] as number) & ((1 << unused) - 1)) !== 0) fail('keyUsage', 'unused bits set');
  const names: KeyUsageName[] = [];
  for (let i = 0; i < KEY_USAGE_ORDER.length; i++) {
    const byte = value[bits.valueStart + 1 + (i >> 3)];
    if (byte !== undefined && (byte & (0x80 >> (i & 7))) !== 0) names.push(KEY_USAGE_ORDER[i] as KeyUsageName);
  }
  return names;
}

export function decodeExtKeyUsage(value: Buffer): string[] {
  const seq = whole(value, 'extKeyUsage');
  if (seq.tag !== SEQUENCE) fail('extKeyUsage', 'not a SEQUENCE');
  return readDerChildren(value, seq).map((el) => readOid(value, expectDerTag(el, OID_TAG, 'extKeyUsage KeyPurposeId')));
}

export function decodeSubjectKeyIdentifier(value: Buffer): Buffer {
  const el = whole(value, 'subjectKeyIdentifier');
  if (el.tag !== OCTET_STRING) fail('subjectKeyIdentifier', 'not an OCTET STRING');
  return Buffer.from(value.subarray(el.valueStart, el.end));
}

/** The keyIdentifier of an authorityKeyIdentifier, when it has one. */
export function decodeAuthorityKeyIdentifier(value: Buffer): Buffer | undefined {
  const seq = whole(value, 'authorityKeyIdentifier');
  if (seq.tag !== SEQUENCE) fail('authorityKeyIdentifier', 'not a SEQUENCE');
  const first = readDerChildren(value, seq)[0];
  return first?.tag === AKI_KEY_IDENTIFIER ? Buffer.from(value.subarray(first.valueStart, first.end)) : undefined;
}
