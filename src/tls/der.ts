/**
 * DER (ITU-T X.690) tag-length-value elements, as offsets into the bytes: no copy, so raw slices
 * (names, SubjectPublicKeyInfo) are exactly the bytes that were signed. x509-reader.ts and
 * x509-extensions.ts read certificates with it.
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
    // X.690 section 10.1: DER uses the fewest length octets (the short form below 128).
    if (length < 128 || bytes[valueStart] === 0) throw new BadCertificateError('DER length not in its shortest form');
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
