/**
 * DER (ITU-T X.690) tag-length-value elements, as offsets into the bytes: no copy, so raw slices
 * (names, SubjectPublicKeyInfo) are exactly the bytes that were signed; and the primitive values
 * certificates use (OBJECT IDENTIFIER, BOOLEAN, small INTEGER), read strictly as DER. x509-reader.ts
 * and x509-extensions.ts read certificates with it.
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

function derFail(what: string): never {
  throw new BadCertificateError(`DER: ${what}`);
}

/** The element, which must be there and have this tag. */
export function expectDerTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element === undefined) derFail(`${what} missing`);
  if (element.tag !== tag) derFail(`${what} has tag 0x${element.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return element;
}

/** Dotted decimal of an OBJECT IDENTIFIER (X.690 section 8.19). */
export function readOid(der: Uint8Array, el: DerElement): string {
  if (el.end === el.valueStart) derFail('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  let first = true;
  for (let p = el.valueStart; p < el.end; p++) {
    const byte = der[p] as number;
    // A leading 0x80 would be a non-minimal encoding.
    if (value === 0 && byte === 0x80) derFail('non-minimal OBJECT IDENTIFIER');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) derFail('OBJECT IDENTIFIER arc too large');
    if ((byte & 0x80) !== 0) continue;
    if (first) {
      const top = value < 40 ? 0 : value < 80 ? 1 : 2;
      arcs.push(top, value - top * 40);
      first = false;
    } else {
      arcs.push(value);
    }
    value = 0;
  }
  if (((der[el.end - 1] as number) & 0x80) !== 0) derFail('truncated OBJECT IDENTIFIER');
  return arcs.join('.');
}

export function readBoolean(der: Uint8Array, el: DerElement): boolean {
  if (el.end - el.valueStart !== 1) derFail('BOOLEAN of wrong length');
  const value = der[el.valueStart];
  // X.690 section 11.1: DER writes TRUE as FF and FALSE as 00, nothing else.
  if (value !== 0x00 && value !== 0xff) derFail('BOOLEAN that is neither 00 nor FF');
  return value === 0xff;
}

/** A non-negative INTEGER small enough for a number (versions, pathLenConstraint). */
export function readSmallInteger(der: Uint8Array, el: DerElement): number {
  const length = el.end - el.valueStart;
  if (length < 1 || length > 6) derFail('INTEGER of unsupported length');
  if (((der[el.valueStart] as number) & 0x80) !== 0) derFail('negative INTEGER');
  let n = 0;
  for (let p = el.valueStart; p < el.end; p++) n = n * 256 + (der[p] as number);
  return n;
}
