/**
 * One reading of a host or domain name typed by a person, for every command that takes one
 * (`cert verify --domain`, `dane verify --name`, `tlsa generate --host`, and `resolve`): IDNs become
 * A-labels (punycode, by UTS #46 through node:url's domainToASCII, as browsers and libidn2 map
 * them), case is folded, one trailing dot is dropped, and anything that is not a DNS host name is
 * refused with the reason. Certificates carry IDNs as A-labels (RFC 5280 section 7.2), DNS owner
 * names too, so the same A-label must come out of every command.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export type HostNameReading =
  | { readonly ok: true; readonly ascii: string }
  | { readonly ok: false; readonly why: string };

/** RFC 1035 section 2.3.4 and RFC 1123 section 2.1: letters, digits, hyphens inside. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_NAME_OCTETS = 253;

export function toAsciiHostName(name: string): HostNameReading {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return { ok: false, why: 'is empty' };
  const unbracketed = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  if (isIP(unbracketed) !== 0) return { ok: false, why: 'is an IP address, not a host name' };
  // WHATWG URL parsing reads "1.2.3" as an IPv4 address; RFC 3696 section 2 keeps top-level labels non-numeric.
  const last = trimmed.slice(trimmed.lastIndexOf('.') + 1);
  if (/^(?:\d+|0x[0-9a-f]*)$/i.test(last)) return { ok: false, why: 'ends in a numeric label, as an IP address does' };
  const ascii = domainToASCII(trimmed);
  if (ascii === '') return { ok: false, why: 'is not a valid host name (IDNA refuses it)' };
  if (ascii.length > MAX_NAME_OCTETS) return { ok: false, why: `is longer than ${MAX_NAME_OCTETS} characters` };
  for (const label of ascii.split('.')) {
    if (label === '') return { ok: false, why: 'has an empty label' };
    if (label.length > 63) return { ok: false, why: `has a label longer than 63 characters (${label.slice(0, 20)}...)` };
    if (!LDH_LABEL.test(label)) return { ok: false, why: `has a label that is not letters, digits and inner hyphens: ${JSON.stringify(label)}` };
  }
  return { ok: true, ascii };
}
