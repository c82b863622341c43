/**
 * Flow tokens in our Record-Route (RFC 5626 section 5.3, as Kamailio's rr and outbound modules do
 * it): a call to a user behind NAT reaches it over the flow its REGISTER came on, and so must every
 * later request of the dialog, whose Request-URI (the user's Contact) names an address nobody can
 * reach. The token says which flow; it is signed, so that nobody can aim requests at someone else's
 * connection by writing a Route. It holds both sides: the callee's flow (a binding's) and the
 * caller's (the flow its INVITE came on, when it came straight from the user agent: a local user
 * behind NAT, whose Contact nobody can reach either), with the caller's From tag: a request of the
 * dialog with that From tag comes from the caller and goes over the callee's flow; one with another
 * From tag comes from the callee (its BYE) and goes over the caller's flow, or is routed normally
 * when there is none. RFC 5626 tells the two apart by the connection a request arrives on, which
 * fails for a user that opens a new connection for it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Destination, TransportProtocol } from '../transport/transport-context.js';

/** The flows of one dialog: toward the callee, toward the caller; either may be unknown. */
export interface DialogFlows {
  readonly toCallee?: Destination;
  readonly toCaller?: Destination;
}

/** The Record-Route URI parameter that carries the token. */
export const FLOW_PARAM = 'sxflow';

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);
const MAC_BYTES = 16;

export class FlowTokens {
  readonly #secret: Uint8Array;

  /** `secret`: shared by every instance that may receive the dialog's requests; default a random one for this process. */
  constructor(secret: Uint8Array = randomBytes(32)) {
    this.#secret = secret;
  }

  /** A token for the flows of a dialog (transport, address, port, connection of each side) whose caller has `fromTag`. */
  encode(flows: DialogFlows, fromTag: string): string {
    const body = Buffer.from(`${flowText(flows.toCallee)} ${flowText(flows.toCaller)} ${fromTag}`).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The flows and caller's From tag a token names, or undefined for anything we did not sign. */
  decode(token: string): (DialogFlows & { readonly fromTag: string }) | undefined {
    const dot = token.indexOf('.');
    if (dot < 0) return undefined;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#mac(body), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    const fields = Buffer.from(body, 'base64url').toString().split(' ');
    if (fields.length !== 9) return undefined;
    const toCallee = flowOf(fields.slice(0, 4));
    const toCaller = flowOf(fields.slice(4, 8));
    if (toCallee === null || toCaller === null) return undefined;
    return { ...(toCallee !== undefined ? { toCallee } : {}), ...(toCaller !== undefined ? { toCaller } : {}), fromTag: fields[8] ?? '' };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

/** One side in the token: four fields, `-` for each when the side is unknown. */
function flowText(flow: Destination | undefined): string {
  return flow === undefined ? '- - - -' : `${flow.transport} ${flow.address} ${flow.port} ${flow.connectionId ?? '-'}`;
}

/** The side four fields name: undefined when unknown, null when they make no flow (not ours). */
function flowOf([transport = '', address = '', port = '', connectionId = '']: readonly string[]): Destination | undefined | null {
  if (transport === '-') return undefined;
  const portNumber = Number(port);
  if (!TRANSPORTS.has(transport) || address === '' || !Number.isInteger(portNumber)) return null;
  return { transport: transport as TransportProtocol, address, port: portNumber, ...(connectionId !== '-' ? { connectionId } : {}) };
}
