/**
 * Flow tokens in our Record-Route (RFC 5626 section 5.3, as Kamailio's rr and outbound modules do
 * it): a call to a user behind NAT reaches it over the flow its REGISTER came on, and so must every
 * later request of the dialog, whose Request-URI (the user's Contact) names an address nobody can
 * reach. The token says which flow; it is signed, so that nobody can aim requests at someone else's
 * connection by writing a Route. It also holds the caller's From tag: a request of the dialog with
 * that From tag comes from the caller and goes over the flow; one with another From tag comes from
 * the user behind the flow (its BYE) and is routed normally. RFC 5626 tells the two apart by the
 * connection a request arrives on, which fails for a user that opens a new connection for it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Destination, TransportProtocol } from '../transport/transport-context.js';

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

  /** A token for the flow a binding is reached over (transport, address, port, connection), for a dialog whose caller has `fromTag`. */
  encode(flow: Destination, fromTag: string): string {
    const body = Buffer.from(`${flow.transport} ${flow.address} ${flow.port} ${flow.connectionId ?? ''} ${fromTag}`).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The flow and caller's From tag a token names, or undefined for anything we did not sign. */
  decode(token: string): { readonly flow: Destination; readonly fromTag: string } | undefined {
    const dot = token.indexOf('.');
    if (dot < 0) return undefined;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#mac(body), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    const [transport = '', address = '', port = '', connectionId = '', fromTag = ''] = Buffer.from(body, 'base64url').toString().split(' ');
    const portNumber = Number(port);
    if (!TRANSPORTS.has(transport) || address === '' || !Number.isInteger(portNumber)) return undefined;
    return { flow: { transport: transport as TransportProtocol, address, port: portNumber, ...(connectionId !== '' ? { connectionId } : {}) }, fromTag };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}
