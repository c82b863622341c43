/**
 * The copy a proxy forwards to one target, RFC 3261 section 16.6 items 1 to 8: copy, Request-URI,
 * Max-Forwards, Record-Route, Path as Route, strict-route postprocessing, Via. Pure: it builds
 * header values from what it is given and never reads the network.
 */
import { isIP } from 'node:net';
import { SipRequest } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import type { TransportProtocol } from '../transport/transport-context.js';
import { DEFAULT_PORT } from '../ua/destinations.js';
import { FLOW_PARAM } from './flow-token.js';
import { schemeOf, type OwnListener } from './own-addresses.js';
import { postprocessStrictRoute } from './route-processing.js';

/** What makes one forwarded copy differ from the request received. */
export interface ForwardPlan {
  /** The target (section 16.5) that becomes the Request-URI; undefined keeps it (loose routing to a Route). */
  readonly requestUri: SipUri | undefined;
  /** Route values pushed ahead of the existing ones, in order (a binding's Path, RFC 3327). */
  readonly pushRoutes: readonly string[];
  /** Record-Route values pushed on top, top first (recordRouteValues). */
  readonly recordRoute: readonly string[];
  /** Our Via, top of the copy (viaValue). */
  readonly via: string;
}

/** Max-Forwards when the request had none (section 16.6 item 3). */
export const DEFAULT_MAX_FORWARDS = 70;

/**
 * Section 16.6 items 1-8 on a copy of `request` (the original stays as received, for the other
 * branches and for the responses the proxy makes itself).
 */
export function forwardCopy(request: SipRequest, plan: ForwardPlan): SipRequest {
  // Header fields are immutable values: the methods below replace them, so a shallow copy of the
  // list is a copy of the request.
  const copy = new SipRequest(request.method, plan.requestUri ?? request.uri, [...request.headers], request.body, request.version, request.headerEncoding);
  const maxForwards = request.maxForwards();
  copy.setHeader('max-forwards', String(maxForwards === undefined ? DEFAULT_MAX_FORWARDS : maxForwards - 1));
  for (const value of [...plan.recordRoute].reverse()) copy.addHeader('record-route', value, { prepend: true });
  for (const value of [...plan.pushRoutes].reverse()) copy.addHeader('route', value, { prepend: true });
  postprocessStrictRoute(copy);
  copy.addHeader('via', plan.via, { prepend: true });
  return copy;
}

/**
 * One Record-Route URI of ours: `sip:` or, on TLS and WSS, `sips:` (section 16.6 item 4), with
 * `lr`, and the flow token of the binding the request goes to, when it goes to one (flow-token.ts).
 */
export function recordRouteUri(listener: OwnListener, flowToken?: string): string {
  const transport = listener.transport === 'tls' ? '' : `;transport=${listener.transport === 'wss' ? 'ws' : listener.transport}`;
  const flow = flowToken === undefined ? '' : `;${FLOW_PARAM}=${flowToken}`;
  // A name on its transport's default port goes without the port, so that the UA and the far proxy
  // locate it by RFC 3263 (NAPTR and SRV of the domain): with a port, only its address record is
  // looked up, and a SIP domain's name often has none (its SRV names the server).
  const port = isIP(listener.name) === 0 && listener.port === DEFAULT_PORT[listener.transport] ? '' : `:${listener.port}`;
  return `<${schemeOf(listener.transport)}:${hostOf(listener.name)}${port}${transport};lr${flow}>`;
}

/**
 * The Record-Route values for a request received on `inbound` and sent on `outbound`: one entry
 * when both sides use the same listener; two when they differ (the transport changes, say UDP to
 * TLS), top first: the side the callee reaches us on, then the caller's side. Each UA then
 * reaches us on its own side (the callee reads the list top first, the caller bottom first), as
 * Kamailio's rr module does it (double record-routing).
 */
export function recordRouteValues(inbound: OwnListener, outbound: OwnListener | undefined, flowToken?: string): string[] {
  if (outbound === undefined || (outbound.transport === inbound.transport && outbound.name === inbound.name && outbound.port === inbound.port)) {
    return [recordRouteUri(inbound, flowToken)];
  }
  return [recordRouteUri(outbound, flowToken), recordRouteUri(inbound, flowToken)];
}

/** How our Via says more than where we are. */
export interface ViaOptions {
  /**
   * RFC 5923 section 8.1: offer the connection for the peer's requests back (`;alias`); only on
   * TLS, the one transport whose connections are reused by both sides (connection-reuse.ts).
   */
  readonly alias?: boolean;
}

/** Our Via for a copy sent over `transport` (section 16.6 item 8): the listener's advertised name and port. */
export function viaValue(transport: TransportProtocol, listener: OwnListener | undefined, fallbackName: string, branch: string, options: ViaOptions = {}): string {
  const sentBy = listener === undefined ? hostOf(fallbackName) : `${hostOf(listener.name)}:${listener.port}`;
  const alias = options.alias === true && transport === 'tls' ? ';alias' : '';
  return `SIP/2.0/${transport.toUpperCase()} ${sentBy};branch=${branch}${alias}`;
}

function hostOf(name: string): string {
  return name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
}
