/**
 * Who "this proxy" is on the wire (RFC 3261 sections 16.3 item 4, 16.4, 16.6 items 4 and 8): one
 * advertised host name per listener, written into our Via sent-by and Record-Route, and the rules
 * that recognise them (and our listener addresses) when they come back in a Via, a Route or a
 * Request-URI. The name is configured, never derived from an IP address: peers verify our
 * certificate against it.
 */
import type { Via } from '../sip/via.js';
import type { SipUri } from '../sip/uri.js';
import { expandIPv6 } from '../sip/uri.js';
import { DEFAULT_PORT } from '../ua/destinations.js';
import { isSecureTransport, type TransportProtocol } from '../transport/transport-context.js';

/** A listener of the stack as the core uses it: where it is bound and the name it is known by. */
export interface OwnListener {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  /** The advertised host (a DNS name our certificate covers), for Via sent-by and Record-Route. */
  readonly name: string;
}

/** What the core is configured with: the advertised name of each listener, matched by transport and address (and port when given). */
export interface AdvertisedName {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port?: number;
  readonly name: string;
}

export class ProxyConfigError extends Error {
  readonly code = 'PROXY_ERR_CONFIG' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ProxyConfigError';
  }
}

/**
 * Joins the bound listeners (SipStack.listening()) with their advertised names. Throws
 * ProxyConfigError for a listener without a name: a Via or Record-Route naming a bare address
 * would fail certificate checks at the next hop, so it is a configuration error, not a default.
 */
export function ownListeners(bound: readonly { transport: TransportProtocol; address: string; port: number }[], names: readonly AdvertisedName[]): OwnListener[] {
  if (bound.length === 0) throw new ProxyConfigError('the proxy needs at least one listener');
  return bound.map((l) => {
    const named = names.find((n) => n.transport === l.transport && sameAddress(n.address, l.address) && (n.port === undefined || n.port === l.port));
    if (named === undefined) throw new ProxyConfigError(`no advertised name for the ${l.transport} listener ${l.address}:${l.port}`);
    return { transport: l.transport, address: l.address, port: l.port, name: named.name };
  });
}

/** The listeners, and the questions the core asks about its own addresses. */
export class OwnAddresses {
  readonly #keys: Set<string>;
  readonly #hosts: Set<string>;

  constructor(readonly listeners: readonly OwnListener[]) {
    this.#keys = new Set();
    this.#hosts = new Set();
    for (const l of listeners) {
      this.#keys.add(hostPortKey(l.name, l.port));
      this.#keys.add(hostPortKey(l.address, l.port));
      this.#hosts.add(hostKey(l.name));
      this.#hosts.add(hostKey(l.address));
    }
  }

  /** Whether a host (a name or an address, IPv6 with or without brackets) is one of our listeners', whatever the port. */
  isOwnHost(host: string): boolean {
    return this.#hosts.has(hostKey(host));
  }

  /** The listener a message to or from `transport` uses: the first of that transport, else undefined. */
  listenerFor(transport: TransportProtocol): OwnListener | undefined {
    return this.listeners.find((l) => l.transport === transport);
  }

  /** The listener a message arrived on (its local endpoint), else the first of its transport. */
  listenerAt(transport: TransportProtocol, local: { readonly address: string; readonly port: number }): OwnListener | undefined {
    return this.listeners.find((l) => l.transport === transport && l.port === local.port && sameAddress(l.address, local.address)) ?? this.listenerFor(transport);
  }

  /** Whether a Via sent-by is one we write (section 16.3 item 4). */
  isOwnVia(via: Via): boolean {
    const transport = via.transport.toLowerCase();
    const port = via.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060);
    return this.#keys.has(hostPortKey(via.host, port));
  }

  /**
   * Whether a URI names this proxy (a Route or Request-URI we placed in a Record-Route, section
   * 16.4): its host is one of our names or listener addresses and its port one of our listeners',
   * the default port of its transport when it has none. A URI with a user part is a user's, not ours.
   */
  isOwnUri(uri: SipUri): boolean {
    if (uri.user !== undefined) return false;
    const port = uri.port ?? defaultPortOf(uri);
    return this.#keys.has(hostPortKey(uri.host, port));
  }
}

function defaultPortOf(uri: SipUri): number {
  const transport = uri.param('transport');
  const t = typeof transport === 'string' ? transport.toLowerCase() : undefined;
  if (t === 'ws' || t === 'wss') return uri.scheme === 'sips' || t === 'wss' ? DEFAULT_PORT.wss : DEFAULT_PORT.ws;
  return uri.scheme === 'sips' || t === 'tls' ? DEFAULT_PORT.tls : DEFAULT_PORT.udp;
}

function hostPortKey(host: string, port: number): string {
  return `${hostKey(host)} ${port}`;
}

function hostKey(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h.includes(':') ? expandIPv6(h.replace(/^\[|\]$/g, '')) : h;
}

function sameAddress(a: string, b: string): boolean {
  return a.includes(':') || b.includes(':') ? expandIPv6(a) === expandIPv6(b) : a === b;
}

/** `sips` for a listener on TLS or WSS (section 16.6 item 4: a Record-Route on TLS is a sips URI). */
export function schemeOf(transport: TransportProtocol): 'sip' | 'sips' {
  return isSecureTransport(transport) ? 'sips' : 'sip';
}
