import { LOCATION_LIMITS } from '../limits.js';
import type { Binding } from '../registrar/binding.js';
import { RegistrarError } from '../registrar/errors.js';
import type { LocationStore } from '../registrar/location-store.js';
import { aorOf } from '../registrar/registrar.js';
import { SipParseError } from '../sip/errors.js';
import { expandIPv6, parseUri, type SipUri } from '../sip/uri.js';
import { isSecureTransport, type Destination, type TransportProtocol } from '../transport/transport-context.js';
import type { LocalLookup, LocalTarget, LocalUsers } from './contracts.js';
import { silentRegistrationLogger, type RegistrationLogger } from './registration-log.js';

export interface LocalUsersOptions {
  /** Whether an address is a local user (a UserDirectory): 404 versus 480 (RFC 3261 section 16.5). */
  readonly users: { has(address: string): boolean; forwardOf?(address: string): SipUri | undefined };
  readonly store: LocationStore;
  /** Whether a connection is still open (TransportLayer.hasConnection): a flow that is gone is no target. */
  readonly isConnectionOpen: (connectionId: string) => boolean;
  readonly log?: RegistrationLogger;
  /** Retry-After of the 500 while the location backend fails (LOCATION_LIMITS.unavailableRetryAfterSeconds). */
  readonly retryAfterSeconds?: number;
}

/** What one binding comes to for a request. */
export type BindingRoute =
  | { readonly kind: 'target'; readonly target: LocalTarget }
  /** Registered over a connection that has closed (RFC 5626 section 5.3 for an outbound flow). */
  | { readonly kind: 'flow-gone'; readonly outbound: boolean }
  /** A sips request (RFC 5630), and this binding is reached over neither TLS nor WSS. */
  | { readonly kind: 'not-secure' }
  /** The stored Contact does not parse as a sip or sips URI (the registrar never stores one: defence only). */
  | { readonly kind: 'unusable'; readonly detail: string };

const TRANSPORT_PARAMS: ReadonlySet<string> = new Set<TransportProtocol>(['udp', 'tcp', 'tls', 'ws', 'wss']);

function sameAddress(a: string, b: string): boolean {
  return a.includes(':') || b.includes(':') ? expandIPv6(a) === expandIPv6(b) : a === b;
}

/**
 * Where a UDP binding is reached. Over UDP there is no connection to reuse, and a UA behind NAT
 * writes a Contact (a private address) that nobody outside can reach. As Kamailio's
 * fix_nated_register does, the request goes to the address the REGISTER came from (the NAT's
 * mapping, which the UA's refreshes keep open, and where our 200 went, RFC 3581), unless the
 * Contact names that same address: then the UA is not behind NAT and the Contact's port and
 * transport are where it listens (a UA may send from another port than the one it listens on).
 */
function udpDestination(binding: Binding, uri: SipUri): Destination {
  const r = binding.receivedFrom;
  const contactIsSource = uri.hostKind !== 'domain' && sameAddress(uri.host, r.address);
  if (!contactIsSource) return { transport: 'udp', address: r.address, port: r.port };
  const param = uri.param('transport');
  const named = typeof param === 'string' ? param.toLowerCase() : 'udp';
  // A transport sipsec does not speak (sctp): the way the REGISTER came is the one that works.
  if (!TRANSPORT_PARAMS.has(named)) return { transport: 'udp', address: r.address, port: r.port };
  const transport = uri.scheme === 'sips' ? 'tls' : (named as TransportProtocol);
  return { transport, address: uri.host, port: uri.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060) };
}

/**
 * One binding, made sendable: over its flow when it registered over a connection that is still
 * open; a flow that has closed is gone (the UA cannot be reached at a Contact behind NAT, and
 * must not be waited for: 480 or 430 at once, issue 13 item 5); UDP bindings as udpDestination says.
 */
export function routeBinding(binding: Binding, isConnectionOpen: (connectionId: string) => boolean, sipsOnly: boolean): BindingRoute {
  let uri: SipUri;
  try {
    const parsed = parseUri(binding.contact);
    if (parsed.type !== 'sip') return { kind: 'unusable', detail: `Contact ${binding.contact} is not a sip or sips URI` };
    uri = parsed;
  } catch (err) {
    if (err instanceof SipParseError) return { kind: 'unusable', detail: err.detail };
    throw err;
  }
  const r = binding.receivedFrom;
  let destination: Destination;
  if (binding.connectionId !== undefined) {
    if (sipsOnly && !isSecureTransport(r.transport)) return { kind: 'not-secure' };
    if (!isConnectionOpen(binding.connectionId)) return { kind: 'flow-gone', outbound: binding.regId !== undefined };
    destination = { transport: r.transport, address: r.address, port: r.port, connectionId: binding.connectionId };
  } else {
    destination = udpDestination(binding, uri);
    if (sipsOnly && !isSecureTransport(destination.transport)) return { kind: 'not-secure' };
  }
  return { kind: 'target', target: { uri, destination, path: binding.path, q: binding.q, instanceId: binding.instanceId } };
}

/**
 * The answer for an AOR's live bindings (RFC 3261 section 16.5, RFC 5626 section 5.3): the
 * reachable ones, highest q first; none registered is 480 not-registered; bindings whose flows are
 * all gone are 430 when each was an outbound flow (the UA will register a new one), 480
 * flow-failed otherwise; a sips request with no binding reachable over TLS or WSS is 480
 * sips-not-deliverable.
 */
export function lookupBindings(
  bindings: readonly Binding[],
  isConnectionOpen: (connectionId: string) => boolean,
  sipsOnly: boolean,
  onRoute?: (binding: Binding, route: BindingRoute) => void,
): Exclude<LocalLookup, { kind: 'unknown-user' | 'store-failed' | 'forward' }> {
  const targets: LocalTarget[] = [];
  let gone = 0;
  let goneOutbound = 0;
  let notSecure = 0;
  for (const binding of bindings) {
    const route = routeBinding(binding, isConnectionOpen, sipsOnly);
    onRoute?.(binding, route);
    if (route.kind === 'target') targets.push(route.target);
    else if (route.kind === 'flow-gone') {
      gone++;
      if (route.outbound) goneOutbound++;
    } else if (route.kind === 'not-secure') notSecure++;
  }
  if (targets.length > 0) {
    // Stable: equal q-values keep the order of registration. A Contact without q counts as 1.
    targets.sort((a, b) => (b.q ?? 1) - (a.q ?? 1));
    return { kind: 'targets', targets };
  }
  if (gone > 0) return goneOutbound === gone ? { kind: 'unavailable', status: 430, why: 'flow-failed' } : { kind: 'unavailable', status: 480, why: 'flow-failed' };
  // RFC 5630 section 3.1.3: a sips request is delivered over TLS to the end or not at all, and the
  // caller is told that it was the scheme, not the user's absence.
  if (notSecure > 0) return { kind: 'unavailable', status: 480, why: 'sips-not-deliverable' };
  return { kind: 'unavailable', status: 480, why: 'not-registered' };
}

/**
 * LocalUsers for the proxy core: a local request-URI's user, its bindings from the location
 * store, and where each is reached (routeBinding). The store is read on every look-up, so
 * bindings another instance wrote to a shared backend are found.
 */
export class LocalUsersService implements LocalUsers {
  readonly #users: LocalUsersOptions['users'];
  readonly #store: LocationStore;
  readonly #isConnectionOpen: (connectionId: string) => boolean;
  readonly #log: RegistrationLogger;
  readonly #retryAfterSeconds: number;

  constructor(options: LocalUsersOptions) {
    const retry = options.retryAfterSeconds ?? LOCATION_LIMITS.unavailableRetryAfterSeconds;
    if (!Number.isInteger(retry) || retry < 0) throw new RangeError(`retryAfterSeconds must be a non-negative integer, got ${retry}`);
    this.#users = options.users;
    this.#store = options.store;
    this.#isConnectionOpen = options.isConnectionOpen;
    this.#log = options.log ?? silentRegistrationLogger;
    this.#retryAfterSeconds = retry;
  }

  async lookup(requestUri: SipUri, options: { readonly sipsOnly: boolean }): Promise<LocalLookup> {
    const aor = aorOf(requestUri);
    if (aor === undefined || !this.#users.has(aor)) return { kind: 'unknown-user' };
    const forward = this.#users.forwardOf?.(aor);
    if (forward !== undefined) return { kind: 'forward', target: forward };
    let bindings: Binding[];
    try {
      bindings = await this.#store.get(aor);
    } catch (err) {
      if (!(err instanceof RegistrarError)) throw err;
      this.#log('warn', 'location-unavailable', { aor, operation: 'lookup', code: err.code, detail: err.message });
      return { kind: 'store-failed', retryAfterS: this.#retryAfterSeconds, detail: err.message };
    }
    return lookupBindings(bindings, this.#isConnectionOpen, options.sipsOnly, (binding, route) => {
      if (route.kind === 'unusable') this.#log('warn', 'binding-unusable', { aor, contact: binding.contact, detail: route.detail });
      else if (route.kind === 'flow-gone') this.#log('debug', 'flow-gone', { aor, contact: binding.contact, connection: binding.connectionId, outbound: route.outbound });
    });
  }
}
