import { isIPv6 } from 'node:net';
import { HNV, PARAM, PASSWORD, SCHEME, URIC, USER, isEscapedRun, isIn } from './charsets.js';
import { SipParseError } from './errors.js';
import { codesOf } from './char-codes.js';
import { classifyHost, scanHost, scannedHostEnd, scannedHostIsIpv4, scannedPortEnd, scannedPortValue, scanPort } from './host.js';

/** A `name[=value]` URI parameter or header, as written (escapes kept). */
export interface UriParam {
  readonly name: string;
  /** null when the parameter has no `=value` (e.g. `;lr`). */
  readonly value: string | null;
}

export type HostKind = 'domain' | 'ipv4' | 'ipv6';

/** The parameter or header list of a URI that has none, shared. */
const NO_URI_PARAMS: readonly UriParam[] = Object.freeze([]);

/** A list, or the shared empty one: every parse path gives an empty list the same way. */
function orNone(list: readonly UriParam[]): readonly UriParam[] {
  return list.length === 0 ? NO_URI_PARAMS : list;
}

/**
 * A sip: or sips: URI (RFC 3261 section 19.1). Every part is kept as written, %-escapes included.
 * Immutable: `params` and `headers` are read-only lists, and an empty one may be a frozen list
 * shared by many URIs; build a new SipUri to change one.
 */
export class SipUri {
  readonly type = 'sip' as const;
  constructor(
    readonly scheme: 'sip' | 'sips',
    readonly user: string | undefined,
    readonly password: string | undefined,
    /** Host as written; an IPv6 reference without its brackets. */
    readonly host: string,
    readonly hostKind: HostKind,
    readonly port: number | undefined,
    readonly params: readonly UriParam[],
    readonly headers: readonly UriParam[],
  ) {}

  /** The value of a URI parameter: undefined when absent, null when present without a value. */
  param(name: string): string | null | undefined {
    return findParam(this.params, name);
  }

  /** The same URI with another scheme (sip to sips promotion, RFC 5630 retargeting); itself when it has that scheme. */
  withScheme(scheme: 'sip' | 'sips'): SipUri {
    return scheme === this.scheme ? this : new SipUri(scheme, this.user, this.password, this.host, this.hostKind, this.port, this.params, this.headers);
  }

  /** `host` or `[v6]`, followed by `:port` when the URI has one. */
  hostport(): string {
    const host = this.hostKind === 'ipv6' ? `[${this.host}]` : this.host;
    return this.port === undefined ? host : `${host}:${this.port}`;
  }

  toString(): string {
    let out = `${this.scheme}:`;
    if (this.user !== undefined) {
      out += this.user;
      if (this.password !== undefined) out += `:${this.password}`;
      out += '@';
    }
    out += this.hostport();
    out += serializeParams(this.params);
    if (this.headers.length > 0) {
      out += `?${this.headers.map((h) => (h.value === null ? h.name : `${h.name}=${h.value}`)).join('&')}`;
    }
    return out;
  }
}

/** A tel: URI (RFC 3966): the number as written and its parameters. */
export class TelUri {
  readonly type = 'tel' as const;
  readonly scheme = 'tel' as const;
  constructor(
    readonly number: string,
    readonly params: readonly UriParam[],
  ) {}

  param(name: string): string | null | undefined {
    return findParam(this.params, name);
  }

  toString(): string {
    return `tel:${this.number}${serializeParams(this.params)}`;
  }
}

/** Any other absolute URI (RFC 3261 absoluteURI), kept whole. */
export class AbsoluteUri {
  readonly type = 'absolute' as const;
  constructor(
    /** Lower-case scheme. */
    readonly scheme: string,
    readonly text: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

export type Uri = SipUri | TelUri | AbsoluteUri;

function findParam(params: readonly UriParam[], name: string): string | null | undefined {
  const wanted = name.toLowerCase();
  for (const p of params) {
    if (p.name.toLowerCase() === wanted) return p.value;
  }
  return undefined;
}

function serializeParams(params: readonly UriParam[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

function fail(detail: string): never {
  throw new SipParseError('SIP_ERR_BAD_URI', detail);
}

/** Parses any URI that may appear in a SIP message; throws SipParseError (SIP_ERR_BAD_URI). */
export function parseUri(text: string): Uri {
  const codes = codesOf(text);
  const plain = codes === undefined ? undefined : parsePlainSipUri(text, codes, 0, 0, text.length);
  if (plain !== undefined) return plain;
  return parseUriByGrammar(text);
}

/**
 * parseUri where text[i] is codes[at + i] (char-codes.ts): what parseUri gives, without
 * encoding the text again.
 */
export function parseUriAt(text: string, codes: Uint8Array, at: number): Uri {
  return parsePlainSipUri(text, codes, at, 0, text.length) ?? parseUriByGrammar(text);
}

/**
 * The form nearly every sip/sips URI takes, read by hand: `sip:` or `sips:`, a user of plain
 * characters (no escapes), a host name or IPv4 address, a port, and parameters of plain
 * characters. Gives what the grammar gives for text.slice(from, end), or undefined to leave it
 * to the grammar. (A regular expression between the two once took escapes and a few more
 * parameter characters too; no message of the parse benchmark reached it.) Reads in place from codes (`codes[at + i]` is text[i], see
 * char-codes.ts), so that a name-addr need not copy its URI.
 */
export function parsePlainSipUri(text: string, codes: Uint8Array, at: number, from: number, end: number): SipUri | undefined {
  // A local, not the imported binding: read on every character.
  const userChars = USER;
  const paramChars = PARAM;
  // Positions below are indexes into codes; text indexes are `position - at`.
  const stop = at + end;
  let i = at + from;
  if (stop - i < 5 || codes[i] !== 115 || codes[i + 1] !== 105 || codes[i + 2] !== 112) return undefined;
  i += 3;
  let scheme: 'sip' | 'sips' = 'sip';
  if (codes[i] === 115 /* s */) {
    scheme = 'sips';
    i++;
  }
  if (codes[i] !== 58 /* : */) return undefined;
  i++;
  let user: string | undefined;
  const at1 = text.indexOf('@', i - at) + at;
  if (at1 >= at && at1 < stop) {
    if (at1 === i) return undefined;
    for (let j = i; j < at1; j++) {
      if (userChars[codes[j] as number] !== 1) return undefined;
    }
    user = text.slice(i - at, at1 - at);
    i = at1 + 1;
  }
  const hostStart = i;
  const scanned = scanHost(codes, i);
  if (scanned < 0) return undefined;
  i = scannedHostEnd(scanned);
  // Each part below may read past `end` when the text goes on with its characters; such a URI
  // is not the slice it was asked about.
  if (i > stop) return undefined;
  const host = text.slice(hostStart - at, i - at);
  const hostKind: HostKind = scannedHostIsIpv4(scanned) ? 'ipv4' : 'domain';
  let c = codes[i] as number;
  let port: number | undefined;
  if (c === 58 /* : */) {
    const scannedPort = scanPort(codes, i);
    if (scannedPort < 0) return undefined;
    i = scannedPortEnd(scannedPort);
    if (i > stop) return undefined;
    port = scannedPortValue(scannedPort);
  }
  // Allocated with its first parameter: most Request-URIs and name-addr URIs have none.
  let params: UriParam[] | undefined;
  while (i < stop) {
    if (codes[i] !== 59 /* ; */) return undefined;
    const nameStart = ++i;
    c = codes[i] as number;
    while (paramChars[c] === 1) c = codes[++i] as number;
    if (i === nameStart || i > stop) return undefined;
    const name = text.slice(nameStart - at, i - at);
    let value: string | null = null;
    if (c === 61 /* = */) {
      const valueStart = ++i;
      c = codes[i] as number;
      while (paramChars[c] === 1) c = codes[++i] as number;
      if (i === valueStart || i > stop) return undefined;
      value = text.slice(valueStart - at, i - at);
    }
    if (params === undefined) params = [{ name, value }];
    else params[params.length] = { name, value };
  }
  return new SipUri(scheme, user, undefined, host, hostKind, port, params ?? NO_URI_PARAMS, NO_URI_PARAMS);
}

/** Any URI the grammar allows; parseUri's fast path agrees with it (a property test checks). */
export function parseUriByGrammar(text: string): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0) fail(`no scheme in '${text}'`);
  const scheme = text.slice(0, colon).toLowerCase();
  if (!/^[a-z]/.test(scheme)) fail(`scheme must start with a letter in '${text}'`);
  for (let i = 0; i < scheme.length; i++) {
    if (!isIn(SCHEME, scheme.charCodeAt(i))) fail(`bad character in scheme of '${text}'`);
  }
  const rest = text.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUriBody(scheme, rest);
  if (scheme === 'tel') return parseTelUriBody(rest);
  if (rest.length === 0 || !isEscapedRun(rest, URIC)) fail(`bad characters in '${text}'`);
  return new AbsoluteUri(scheme, text);
}

/** Parses a sip: or sips: URI; anything else is an error. */
export function parseSipUri(text: string): SipUri {
  const uri = parseUri(text);
  if (uri.type !== 'sip') fail(`not a sip: or sips: URI: '${text}'`);
  return uri;
}

function parseSipUriBody(scheme: 'sip' | 'sips', body: string): SipUri {
  let user: string | undefined;
  let password: string | undefined;
  let rest = body;
  // userinfo cannot contain an unescaped '@', and nothing before the host may: the first one ends it.
  const at = body.indexOf('@');
  if (at >= 0) {
    const userinfo = body.slice(0, at);
    rest = body.slice(at + 1);
    const pw = userinfo.indexOf(':');
    user = pw >= 0 ? userinfo.slice(0, pw) : userinfo;
    if (pw >= 0) {
      password = userinfo.slice(pw + 1);
      if (!isEscapedRun(password, PASSWORD, true)) fail(`bad character in password of '${scheme}:${body}'`);
    }
    if (!isEscapedRun(user, USER)) fail(`bad or empty user part in '${scheme}:${body}'`);
  }

  let host: string;
  let hostKind: HostKind;
  let i: number;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail(`unterminated IPv6 reference in '${scheme}:${body}'`);
    host = rest.slice(1, close);
    if (!isIPv6(host)) fail(`'${host}' is not an IPv6 address`);
    hostKind = 'ipv6';
    i = close + 1;
  } else {
    i = 0;
    while (i < rest.length) {
      const c = rest.charCodeAt(i);
      if (c === 58 /* : */ || c === 59 /* ; */ || c === 63 /* ? */) break;
      i++;
    }
    host = rest.slice(0, i);
    const kind = classifyHost(host);
    if (kind === undefined) {
      fail(host.length === 0 ? `no host in '${scheme}:${body}'` : `'${host}' is not a host name, IPv4 address or [IPv6] reference`);
    }
    hostKind = kind;
  }

  let port: number | undefined;
  if (rest.charCodeAt(i) === 58 /* : */) {
    let j = i + 1;
    while (j < rest.length && rest.charCodeAt(j) >= 48 && rest.charCodeAt(j) <= 57) j++;
    const digits = rest.slice(i + 1, j);
    if (digits.length === 0 || digits.length > 5 || Number(digits) > 65535) {
      fail(`bad port in '${scheme}:${body}'`);
    }
    port = Number(digits);
    i = j;
  }

  const params: UriParam[] = [];
  while (rest.charCodeAt(i) === 59 /* ; */) {
    let j = i + 1;
    while (j < rest.length && rest.charCodeAt(j) !== 59 && rest.charCodeAt(j) !== 63) j++;
    params.push(splitParam(rest.slice(i + 1, j), PARAM, `${scheme}:${body}`));
    i = j;
  }

  const headers: UriParam[] = [];
  if (rest.charCodeAt(i) === 63 /* ? */) {
    for (const part of rest.slice(i + 1).split('&')) {
      const h = splitParam(part, HNV, `${scheme}:${body}`);
      if (h.value === null) fail(`URI header '${h.name}' has no '=' in '${scheme}:${body}'`);
      headers.push(h);
    }
    i = rest.length;
  }
  if (i !== rest.length) fail(`unexpected '${rest.slice(i, i + 1)}' in '${scheme}:${body}'`);
  return new SipUri(scheme, user, password, host, hostKind, port, orNone(params), orNone(headers));
}

function splitParam(text: string, chars: Uint8Array, uri: string): UriParam {
  const eq = text.indexOf('=');
  const name = eq >= 0 ? text.slice(0, eq) : text;
  const value = eq >= 0 ? text.slice(eq + 1) : null;
  if (!isEscapedRun(name, chars)) fail(`bad parameter name '${name}' in '${uri}'`);
  // hvalue may be empty (RFC 3261 hvalue = *( hnv-unreserved / unreserved / escaped )).
  if (value !== null && !isEscapedRun(value, chars, chars === HNV)) fail(`bad value for '${name}' in '${uri}'`);
  return { name, value };
}

function parseTelUriBody(body: string): TelUri {
  const semi = body.indexOf(';');
  const number = semi >= 0 ? body.slice(0, semi) : body;
  if (!isTelNumber(number)) fail(`'${number}' is not a telephone number`);
  const params: UriParam[] = [];
  if (semi >= 0) {
    for (const part of body.slice(semi + 1).split(';')) params.push(splitParam(part, PARAM, `tel:${body}`));
  }
  return new TelUri(number, params);
}

/**
 * global-number-digits = "+" *phonedigit DIGIT *phonedigit; a local number also takes hex digits,
 * `*` and `#` (RFC 3966 section 3): at least one of those among visual separators `( ) . -`.
 * A scan: the expression this replaces (`[sep]*[digit][sep or digit]*`) backtracked quadratically
 * on a long run of digits followed by a bad character (issue 12).
 */
function isTelNumber(number: string): boolean {
  const global = number.charCodeAt(0) === 43; /* + */
  let significant = false;
  for (let i = global ? 1 : 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (c >= 48 && c <= 57) significant = true;
    else if (c === 40 || c === 41 || c === 46 || c === 45) continue;
    else if (!global && ((c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 42 || c === 35)) significant = true;
    else return false;
  }
  return significant;
}

/**
 * Normalises %-escapes for comparison: an escaped unreserved character equals the character itself,
 * other escapes compare by value whatever the case of their hex digits (RFC 3261 section 19.1.4).
 */
export function normalizeEscapes(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-_.!~*'()]/.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/** Parameters that, present in one URI, must be present and equal in the other (19.1.4). */
const SIGNIFICANT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

/** URI equality as RFC 3261 section 19.1.4 defines it for sip/sips; exact text otherwise. */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.type === 'sip' && b.type === 'sip') return sipUriEquals(a, b);
  if (a.type === 'tel' && b.type === 'tel') {
    return (
      a.number.replace(/[().-]/g, '').toLowerCase() === b.number.replace(/[().-]/g, '').toLowerCase() &&
      paramsMatchAll(a.params, b.params)
    );
  }
  if (a.type === 'absolute' && b.type === 'absolute') {
    return normalizeEscapes(a.text).toLowerCase() === normalizeEscapes(b.text).toLowerCase();
  }
  return false;
}

function sipUriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if ((a.user === undefined) !== (b.user === undefined)) return false;
  if (a.user !== undefined && normalizeEscapes(a.user) !== normalizeEscapes(b.user ?? '')) return false;
  if (normalizeEscapes(a.password ?? '') !== normalizeEscapes(b.password ?? '')) return false;
  if (a.hostKind !== b.hostKind || !hostsEqual(a, b)) return false;
  if (a.port !== b.port) return false;
  for (const name of SIGNIFICANT_PARAMS) {
    const va = a.param(name);
    const vb = b.param(name);
    if ((va === undefined) !== (vb === undefined)) return false;
  }
  // A parameter present in both must match; one present in only one URI is ignored.
  for (const p of a.params) {
    const other = b.param(p.name);
    if (other === undefined) continue;
    if (!valuesEqualIgnoringCase(p.value, other)) return false;
  }
  // Header components are never ignored: every one must be present in both and match.
  if (a.headers.length !== b.headers.length) return false;
  for (const h of a.headers) {
    const match = b.headers.find((o) => normalizeEscapes(o.name).toLowerCase() === normalizeEscapes(h.name).toLowerCase());
    if (match === undefined || normalizeEscapes(match.value ?? '') !== normalizeEscapes(h.value ?? '')) return false;
  }
  return true;
}

function hostsEqual(a: SipUri, b: SipUri): boolean {
  const ha = a.host.toLowerCase().replace(/\.$/, '');
  const hb = b.host.toLowerCase().replace(/\.$/, '');
  if (a.hostKind === 'ipv6') return expandIPv6(ha) === expandIPv6(hb);
  return ha === hb;
}

function valuesEqualIgnoringCase(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return normalizeEscapes(a).toLowerCase() === normalizeEscapes(b).toLowerCase();
}

function paramsMatchAll(a: readonly UriParam[], b: readonly UriParam[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p) => {
    const other = findParam(b, p.name);
    return other !== undefined && valuesEqualIgnoringCase(p.value, other);
  });
}

/** Expands an IPv6 address to eight groups of four hex digits, for comparison only. */
export function expandIPv6(address: string): string {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [, a, b, c, d] = v4.map(Number) as [number, number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.padStart(4, '0')).join(':');
}
