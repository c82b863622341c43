import { isIPv4, isIPv6 } from 'node:net';
import { codesOf, isSip20At } from './char-codes.js';
import { classifyHost, scanHost, scannedHostEnd, scannedHostIsIpv4, scannedPortEnd, scannedPortValue, scanPort } from './host.js';
import { HeaderScanner, paramValue, scanSimpleParams, serializeHeaderParams, type HeaderParam } from './header-scanner.js';
import type { HostKind } from './uri.js';

/** One Via value (RFC 3261 section 20.42, RFC 3581 rport). */
export interface Via {
  readonly protocol: string;
  readonly version: string;
  /** Transport as written, upper-cased: UDP, TCP, TLS, SCTP, WS, WSS or an unknown token. */
  readonly transport: string;
  /** sent-by host; an IPv6 reference without brackets. */
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port: number | undefined;
  readonly params: readonly HeaderParam[];
}

/** The RFC 3261 magic cookie that marks a branch as globally unique (section 8.1.1.7). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export function branchOf(via: Via): string | undefined {
  const branch = paramValue(via.params, 'branch');
  return branch === null ? undefined : branch;
}

export function parseVia(text: string): Via {
  const codes = codesOf(text);
  return (codes === undefined ? undefined : parsePlainVia(text, codes, 0)) ?? parseViaByGrammar(text);
}

/** parseVia where text[i] is codes[at + i] (char-codes.ts), without encoding the text again. */
export function parseViaAt(text: string, codes: Uint8Array, at: number): Via {
  return parsePlainVia(text, codes, at) ?? parseViaByGrammar(text);
}

/**
 * The form nearly every Via takes, read by hand from codes (`codes[at + i]` is text[i]):
 * `SIP/2.0/transport host[:port]` and simple parameters, no white space around separators, no
 * quoting, no IPv6. What the grammar gives for it, or undefined to leave the text to the grammar.
 * (A regular expression between the two once took [IPv6] parameter values too; no message of the
 * parse benchmark reached it.)
 */
function parsePlainVia(text: string, codes: Uint8Array, at: number): Via | undefined {
  // Positions below are indexes into codes; text indexes are `position - at`.
  if (!isSip20At(codes, at) || codes[at + 7] !== 47 /* / */) return undefined;
  const first = at + 8;
  let i = first;
  let c = codes[i] as number;
  let upper = true;
  while ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
    if (c >= 97) upper = false;
    c = codes[++i] as number;
  }
  if (i === first || c !== 32) return undefined;
  const transport = (upper ? commonTransport(codes, first, i - first) : undefined) ?? text.slice(8, i - at).toUpperCase();
  const hostStart = ++i;
  const scanned = scanHost(codes, i);
  if (scanned < 0) return undefined;
  i = scannedHostEnd(scanned);
  const host = text.slice(hostStart - at, i - at);
  const hostKind: HostKind = scannedHostIsIpv4(scanned) ? 'ipv4' : 'domain';
  c = codes[i] as number;
  let port: number | undefined;
  if (c === 58 /* : */) {
    const scannedPort = scanPort(codes, i);
    if (scannedPort < 0) return undefined;
    i = scannedPortEnd(scannedPort);
    port = scannedPortValue(scannedPort);
  }
  const params = scanSimpleParams(text, codes, at, i - at, text.length);
  if (params === undefined) return undefined;
  // Last: checkVia may encode into the shared codes (classifyHost), which this may be reading.
  checkVia(text, port, params);
  return { protocol: 'SIP', version: '2.0', transport, host, hostKind, port, params };
}

/** The transports of nearly every Via as constants, read from codes[at, at + n): no slice to make. */
function commonTransport(codes: Uint8Array, at: number, n: number): string | undefined {
  const a = codes[at];
  const b = codes[at + 1];
  if (n === 3) {
    const c = codes[at + 2];
    if (a === 84 /* T */) {
      if (b === 76 /* L */ && c === 83 /* S */) return 'TLS';
      if (b === 67 /* C */ && c === 80 /* P */) return 'TCP';
    } else if (a === 85 /* U */ && b === 68 /* D */ && c === 80 /* P */) {
      return 'UDP';
    } else if (a === 87 /* W */ && b === 83 /* S */ && c === 83 /* S */) {
      return 'WSS';
    }
  } else if (n === 2 && a === 87 /* W */ && b === 83 /* S */) {
    return 'WS';
  }
  return undefined;
}

/** Any Via the grammar allows: LWS around every separator, [IPv6] sent-by, quoted values. */
export function parseViaByGrammar(text: string): Via {
  const s = new HeaderScanner(text, 'via');
  const protocol = s.token('the protocol name');
  s.expect('/', 'after the protocol name');
  const version = s.token('the protocol version');
  s.expect('/', 'after the protocol version');
  const transport = s.token('the transport').toUpperCase();
  s.skipWs();
  let host: string;
  let hostKind: HostKind;
  if (s.peek() === 91 /* [ */) {
    const close = text.indexOf(']', s.pos);
    if (close < 0) s.fail('unterminated IPv6 reference in sent-by');
    host = text.slice(s.pos + 1, close);
    if (!isIPv6(host)) s.fail(`'${host}' is not an IPv6 address`);
    hostKind = 'ipv6';
    s.pos = close + 1;
  } else {
    const start = s.pos;
    for (let c = s.peek(); (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46; c = s.peek()) s.pos++;
    host = text.slice(start, s.pos);
    if (host.length === 0) s.fail('missing sent-by host');
    const kind = classifyHost(host);
    if (kind === undefined) return s.fail(`'${host}' is not a host name or IPv4 address`);
    hostKind = kind;
  }
  let port: number | undefined;
  if (s.accept(':')) {
    s.skipWs();
    const start = s.pos;
    while (s.peek() >= 48 && s.peek() <= 57) s.pos++;
    const digits = text.slice(start, s.pos);
    if (digits.length === 0 || digits.length > 5) s.fail('bad sent-by port');
    port = Number(digits);
  }
  const params = s.params();
  s.end('the Via parameters');
  checkVia(text, port, params);
  return { protocol, version, transport, host, hostKind, port, params };
}

/** What the grammar leaves to semantics: port range and the values of the RFC 3261/3581 parameters. */
function checkVia(text: string, port: number | undefined, params: readonly HeaderParam[]): void {
  if (port !== undefined && port > 65535) fail(text, 'bad sent-by port');
  for (const p of params) {
    // Only these names have rules; the others skip the lower-casing.
    const length = p.name.length;
    if (length !== 8 && length !== 3 && length !== 5 && length !== 6) continue;
    // Nearly every message writes them in lower case: no need to lower-case a copy.
    const name = p.name === 'branch' || p.name === 'received' || p.name === 'rport' ? p.name : p.name.toLowerCase();
    if (name === 'received' && p.value !== null) {
      const addr = p.value.startsWith('[') ? p.value.slice(1, -1) : p.value;
      // A dotted quad is what nearly every received= holds; classifyHost reads it without a regex.
      if (classifyHost(addr) !== 'ipv4' && !isIPv4(addr) && !isIPv6(addr)) fail(text, `received=${p.value} is not an IP address`);
    } else if (name === 'ttl' && (p.value === null || !/^\d{1,3}$/.test(p.value) || Number(p.value) > 255)) {
      fail(text, 'ttl must be 0 to 255');
    } else if (name === 'rport' && p.value !== null && !/^\d{1,5}$/.test(p.value)) {
      fail(text, 'rport must be a port number');
    } else if ((name === 'branch' || name === 'maddr') && p.value === null) {
      fail(text, `${name} needs a value`);
    }
  }
}

/** The scanner only names the fault: a valid Via never builds one. */
function fail(text: string, detail: string): never {
  return new HeaderScanner(text, 'via').fail(detail);
}

export function serializeVia(via: Via): string {
  const host = via.hostKind === 'ipv6' ? `[${via.host}]` : via.host;
  const sentBy = via.port === undefined ? host : `${host}:${via.port}`;
  return `${via.protocol}/${via.version}/${via.transport} ${sentBy}${serializeHeaderParams(via.params)}`;
}
