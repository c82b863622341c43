/**
 * Route handling of a proxy, RFC 3261 sections 16.4 (on receipt: Route and the Request-URI's
 * maddr) and 16.6 items 6 and 7 (on forwarding), with the strict-router rules of section
 * 16.12.1.2. Pure: the functions change the request they are given and read nothing else.
 */
import type { SipRequest } from '../sip/message.js';
import type { NameAddr } from '../sip/name-addr.js';
import { serializeNameAddr } from '../sip/name-addr.js';
import { SipUri } from '../sip/uri.js';
import type { TransportProtocol } from '../transport/transport-context.js';
import type { OwnAddresses } from './own-addresses.js';

export interface RoutePreprocessing {
  /** The previous hop was a strict router: the Request-URI was ours and was replaced by the last Route. */
  readonly strictRouterFixed: boolean;
  /** How many of our own entries were taken off the top of Route (two after double record-routing). */
  readonly ownRoutesRemoved: number;
  /** Our URIs taken off: the Request-URI a strict router sent, and the Route entries (their flow tokens). */
  readonly ownUris: readonly SipUri[];
}

/**
 * Section 16.4. When the Request-URI is one we placed in a Record-Route (ours, with `lr`), a strict router sent the
 * request: the last Route value becomes the Request-URI again. Then our own entries are taken off
 * the top of Route: the first (section 16.4) and, when the second is ours too, that one, which
 * double record-routing (one entry per side when the transport changes) put there.
 */
export function preprocessRoutes(request: SipRequest, own: OwnAddresses): RoutePreprocessing {
  let strictRouterFixed = false;
  const ownUris: SipUri[] = [];
  const routes = request.routes();
  const last = routes[routes.length - 1];
  // Every Record-Route value we write carries `lr` (forward-request.ts): a Request-URI without it is
  // not one of them, only our name, e.g. a REGISTER to the domain we also advertise, sent through
  // an outbound proxy's Route.
  const uri = request.uri;
  const placedByUs = uri.type === 'sip' && uri.param('lr') !== undefined && own.isOwnUri(uri);
  if (last !== undefined && placedByUs && last.uri.type === 'sip') {
    ownUris.push(uri);
    request.uri = last.uri;
    setRoutes(request, routes.slice(0, -1));
    strictRouterFixed = true;
  }
  let ownRoutesRemoved = 0;
  while (ownRoutesRemoved < 2) {
    const top = request.routes()[0];
    if (top === undefined || top.uri.type !== 'sip' || !own.isOwnUri(top.uri)) break;
    ownUris.push(top.uri);
    request.removeFirstValue('route');
    ownRoutesRemoved++;
  }
  return { strictRouterFixed, ownRoutesRemoved, ownUris };
}

/**
 * What the Request-URI's maddr left (section 16.4): none; one naming us, taken off; or one naming
 * another element, which makes the Request-URI the only target (section 16.5).
 */
export type MaddrOutcome = 'absent' | 'stripped' | 'target';

/**
 * Section 16.4: a maddr naming a host we are responsible for (`responsibleFor`: our listeners'
 * names and addresses, our domains), on a request that arrived on the port and transport the
 * Request-URI indicates, is taken off with the port and transport parameters, and processing goes
 * on as if they had never been there. Any other maddr stays: the request goes where it says
 * (section 16.5), including back to us on the port and transport it names.
 *
 * "By default" is read as: no port means any port (a name in maddr has its port from SRV, and a
 * request that reached our listener through it was sent where the URI indicated; taking "5060"
 * literally would send it back to ourselves on a listener of another port, in a loop); no
 * transport parameter means any transport the scheme allows (TLS or WSS for sips), because a
 * name in maddr has no default transport until RFC 3263 chooses one.
 */
export function processMaddr(request: SipRequest, responsibleFor: (host: string) => boolean, received: { readonly transport: TransportProtocol; readonly port: number }): MaddrOutcome {
  const uri = request.uri;
  if (uri.type !== 'sip') return 'absent';
  const maddr = uri.param('maddr');
  if (maddr === undefined) return 'absent';
  // A maddr without a value names nothing: it stays for the locator to refuse with its own error.
  if (maddr === null || !responsibleFor(maddr)) return 'target';
  const indicated = indicatedTransports(uri);
  if (!indicated.includes(received.transport)) return 'target';
  if (uri.port !== undefined && uri.port !== received.port) return 'target';
  const kept = uri.params.filter((p) => !STRIPPED_WITH_MADDR.has(p.name.toLowerCase()));
  request.uri = new SipUri(uri.scheme, uri.user, uri.password, uri.host, uri.hostKind, undefined, kept, uri.headers);
  return 'stripped';
}

const STRIPPED_WITH_MADDR: ReadonlySet<string> = new Set(['maddr', 'transport']);

/** The transports a request for `uri` may arrive on (RFC 3261 section 19.1.2; RFC 5630: sips only over TLS or WSS). */
function indicatedTransports(uri: SipUri): readonly TransportProtocol[] {
  const param = uri.param('transport');
  const named = typeof param === 'string' ? param.toLowerCase() : undefined;
  const sips = uri.scheme === 'sips';
  switch (named) {
    case undefined:
      return sips ? ['tls', 'wss'] : ['udp', 'tcp', 'tls', 'ws', 'wss'];
    case 'udp':
      return sips ? [] : ['udp'];
    case 'tcp':
      return sips ? ['tls'] : ['tcp'];
    case 'tls':
      return ['tls'];
    case 'ws':
      return sips ? ['wss'] : ['ws'];
    case 'wss':
      return ['wss'];
    default:
      return [];
  }
}

/**
 * Section 16.6 item 6: when the first Route of the copy is a strict router (no `lr`), the
 * Request-URI goes to the end of Route and the first Route becomes the Request-URI.
 */
export function postprocessStrictRoute(copy: SipRequest): boolean {
  const routes = copy.routes();
  const first = routes[0];
  if (first === undefined || first.uri.type !== 'sip' || first.uri.param('lr') !== undefined) return false;
  const requestUri = copy.uri;
  copy.uri = first.uri;
  setRoutes(copy, [...routes.slice(1), { displayName: undefined, uri: requestUri, bracketed: true, params: [] }]);
  return true;
}

/** Section 16.6 item 7: the URI the next hop is located from: the first Route, else the Request-URI. */
export function nextHopUri(copy: SipRequest): SipUri | undefined {
  const first = copy.routes()[0];
  const uri = first === undefined ? copy.uri : first.uri;
  return uri.type === 'sip' ? uri : undefined;
}

function setRoutes(request: SipRequest, routes: readonly NameAddr[]): void {
  request.removeHeader('route');
  for (const route of routes) request.addHeader('route', serializeNameAddr(route));
}
