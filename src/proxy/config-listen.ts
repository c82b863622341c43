/**
 * The `listen:` URLs of the proxy config (`tls://192.0.2.1:5061`, `wss://[2001:db8::1]:443/sip`)
 * read into listener addresses, and the host and port each listener puts into Via sent-by and
 * Record-Route (`advertise`).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { toAsciiHostName } from '../tls/host-name.js';
import type { TransportProtocol } from '../transport/transport-context.js';

export const LISTEN_TRANSPORTS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** RFC 3261 section 19.1.2 for SIP; RFC 7118 leaves WebSocket on the HTTP ports (RFC 6455 section 3). */
export const DEFAULT_LISTEN_PORTS: Readonly<Record<TransportProtocol, number>> = { udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 };

export interface ListenAddress {
  readonly transport: TransportProtocol;
  /** The IP address to bind, IPv6 without brackets and in its shortest form. */
  readonly address: string;
  /** 0: a free port chosen at start. */
  readonly port: number;
  /** WS and WSS: the only HTTP path upgraded; absent: any. */
  readonly path?: string;
}

export type Reading<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

// RFC 3986 path characters (pchar and "/"): no query, no fragment, no white space.
const PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/** Reads one listen URL: transport://address[:port][/path]. */
export function parseListenUrl(url: string): Reading<ListenAddress> {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\](?::[^/]*)?|[^/[\]]*)(\/.*)?$/.exec(url);
  if (m === null) return { ok: false, why: `must be a URL transport://address:port, as tls://192.0.2.1:5061, not ${JSON.stringify(url)}` };
  const scheme = (m[1] as string).toLowerCase();
  if (!(LISTEN_TRANSPORTS as readonly string[]).includes(scheme)) {
    const hint = scheme === 'sip' || scheme === 'sips' ? ` (a listener names its transport: ${scheme === 'sips' ? 'tls' : 'udp or tcp'}://...)` : '';
    return { ok: false, why: `unknown transport '${m[1] as string}': use ${LISTEN_TRANSPORTS.map((t) => `${t}://`).join(', ')}${hint}` };
  }
  const transport = scheme as TransportProtocol;
  const authority = m[2] as string;
  const path = m[3];
  const hostPort = readHostPort(authority);
  if (!hostPort.ok) return hostPort;
  const { host, port } = hostPort.value;
  const address = host.startsWith('[') ? host.slice(1, -1) : host;
  if (host.startsWith('[') ? !isIPv6(address) : !isIPv4(address)) {
    return { ok: false, why: `'${host}' is not an IP address: a listener binds an address (0.0.0.0 for every IPv4 address, [::] for every IPv6 one); the name peers use goes in advertise` };
  }
  if (path !== undefined) {
    if (transport !== 'ws' && transport !== 'wss') return { ok: false, why: `a ${transport} listener takes no path (only ws:// and wss:// do)` };
    if (!PATH.test(path)) return { ok: false, why: `the path ${JSON.stringify(path)} is not a URL path (no query, fragment or white space)` };
  }
  return {
    ok: true,
    value: { transport, address: canonicalAddress(address), port: port ?? DEFAULT_LISTEN_PORTS[transport], ...(path !== undefined ? { path } : {}) },
  };
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`; a bare IPv6 address is refused with the fix. */
export function readHostPort(text: string): Reading<{ host: string; port: number | undefined }> {
  if (isIPv6(text)) return { ok: false, why: `write an IPv6 address in brackets, with the port after them: [${text}]:PORT` };
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::([^:]*))?$/.exec(text);
  if (m === null || m[1] === '') return { ok: false, why: `needs a host and optional port (192.0.2.1:5061, [2001:db8::1]:5061), not ${JSON.stringify(text)}` };
  const host = m[1] as string;
  if (m[2] === undefined) return { ok: true, value: { host, port: undefined } };
  const port = Number(m[2]);
  if (!/^\d{1,5}$/.test(m[2]) || port > 65_535) return { ok: false, why: `the port must be from 0 to 65535, not '${m[2]}'` };
  return { ok: true, value: { host, port } };
}

/** The address as Node prints it, so that `::0001` and `::1` are one listener. */
function canonicalAddress(address: string): string {
  return isIPv6(address) ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

export interface Advertised {
  /** A host name (A-labels, lower case) or an IP address (IPv6 without brackets). */
  readonly host: string;
  /** undefined: the listener's port. */
  readonly port: number | undefined;
}

/** Reads an `advertise:` value: a host name or IP address, with an optional port. */
export function parseAdvertise(text: string): Reading<Advertised> {
  const hostPort = readHostPort(text);
  if (!hostPort.ok) return hostPort;
  const { host, port } = hostPort.value;
  if (port === 0) return { ok: false, why: 'the advertised port must be from 1 to 65535' };
  if (host.startsWith('[')) {
    const address = host.slice(1, -1);
    if (!isIPv6(address)) return { ok: false, why: `'${host}' is not an IPv6 address` };
    return { ok: true, value: { host: canonicalAddress(address), port } };
  }
  if (isIPv4(host)) return { ok: true, value: { host, port } };
  const name = toAsciiHostName(host);
  if (!name.ok) return { ok: false, why: `'${host}' ${name.why}` };
  return { ok: true, value: { host: name.ascii.toLowerCase(), port } };
}

/** Whether the address binds every address of its family (0.0.0.0, ::). */
export function isUnspecifiedAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Two listeners that cannot both bind: UDP uses a UDP port, TCP, TLS, WS and WSS all a TCP one.
 * Port 0 never clashes (each gets its own free port). A wildcard address against a specific one
 * of the same port is left to start-up, where the system decides.
 */
export function socketKey(listener: ListenAddress): string | undefined {
  if (listener.port === 0) return undefined;
  return `${listener.transport === 'udp' ? 'udp' : 'tcp'} ${listener.address} ${listener.port}`;
}
