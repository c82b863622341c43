/**
 * Just enough DER (ITU-T X.690) to slice the raw bytes of the fields sipsec compares byte for byte:
 * issuer and subject names, and the SubjectPublicKeyInfo that TLSA selector 1 digests. The
 * structured parse (extensions, names) is @peculiar/asn1-x509's job; a re-encoding of its objects
 * is not guaranteed to reproduce the bytes that were signed, so the raw slices come from here.
 */
import { BadCertificateError } from './errors.js';

/** One tag-length-value element: `start` is the first byte of the header, `end` one past the value. */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** Reads the element at `offset`; throws BadCertificateError when it runs past `limit`. */
export function readDerElement(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement {
  if (offset + 2 > limit) throw new BadCertificateError('DER element truncated');
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new BadCertificateError('DER high tag numbers are not used in certificates');
  let length = bytes[offset + 1] as number;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || valueStart + count > limit) throw new BadCertificateError('DER length invalid');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[valueStart + i] as number);
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > limit) throw new BadCertificateError('DER element runs past its container');
  return { tag, start: offset, valueStart, end };
}

/** The children of a constructed element, in order. */
export function readDerChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  let offset = parent.valueStart;
  while (offset < parent.end) {
    const child = readDerElement(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Raw slices of a certificate's TBSCertificate fields (RFC 5280 section 4.1). */
export interface RawCertificateFields {
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly subjectPublicKeyInfo: Buffer;
}

const SEQUENCE = 0x30;
const CONTEXT_0 = 0xa0;

export function sliceCertificateFields(der: Buffer): RawCertificateFields {
  const certificate = readDerElement(der, 0);
  if (certificate.tag !== SEQUENCE || certificate.end !== der.length) {
    throw new BadCertificateError('certificate is not one DER SEQUENCE');
  }
  const [tbs] = readDerChildren(der, certificate);
  if (tbs === undefined || tbs.tag !== SEQUENCE) throw new BadCertificateError('tbsCertificate missing');
  const fields = readDerChildren(der, tbs);
  // version [0] EXPLICIT is absent in v1 certificates.
  const base = fields[0]?.tag === CONTEXT_0 ? 1 : 0;
  const issuer = fields[base + 2];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (issuer === undefined || subject === undefined || spki === undefined) {
    throw new BadCertificateError('tbsCertificate is missing issuer, subject or subjectPublicKeyInfo');
  }
  return {
    issuer: der.subarray(issuer.start, issuer.end),
    subject: der.subarray(subject.start, subject.end),
    subjectPublicKeyInfo: der.subarray(spki.start, spki.end),
  };
}
