import type { SipRequest } from '../sip/message.js';
import { buildResponse } from '../transaction/local-response.js';
import { responseDestination } from '../transaction/response-destination.js';
import { TransactionLayer, type ServerTransaction } from '../transaction/transaction-layer.js';
import type { TxTimers } from '../limits.js';
import { isSecureTransport, type TransportContext } from '../transport/transport-context.js';
import { TransportLayer, type TransportLayerOptions } from '../transport/transport-layer.js';
import { closeLayers } from './close-layers.js';
import { newTag } from './identifiers.js';

export interface ResponderOptions extends Omit<TransportLayerOptions, 'onMessage' | 'onInvalid'> {
  /** Contact host of answers to INVITE; default: the address a request arrived on. */
  readonly contactHost?: string;
  readonly timers?: Partial<TxTimers>;
  /** Called for every request answered, with the status sent (for logs and tests). */
  readonly onAnswered?: (request: SipRequest, status: number, context: TransportContext) => void;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

/**
 * A minimal user agent server for tests and for operators checking a path: answers OPTIONS 200,
 * INVITE 180 then 200, BYE 200, CANCEL 200 with 487 for the INVITE, other methods 405; invalid
 * requests get the response the parser names (400, 505, 513 ...).
 */
export class Responder {
  private constructor(
    readonly transport: TransportLayer,
    readonly transactions: TransactionLayer,
  ) {}

  static async start(options: ResponderOptions): Promise<Responder> {
    // The transport is built first and hands messages to the transaction layer built next.
    const layers: { transactions?: TransactionLayer } = {};
    const transport = await TransportLayer.start({
      ...options,
      onMessage: (message, context) => layers.transactions?.receive(message, context),
      onConnectionClosed: (connectionId, reason) => layers.transactions?.connectionLost(connectionId, reason),
      onInvalid: (result, context) => {
        const partial = result.message;
        const response = result.response;
        if (partial?.kind !== 'request' || response === undefined || partial.method === 'ACK') return;
        const top = safeTopVia(partial);
        if (top === undefined) return;
        const answer = buildResponse(partial, response.status, response.reason, { toTag: newTag() });
        options.onAnswered?.(partial, response.status, context);
        layers.transactions?.sendStateless(answer, responseDestination(top, context)).catch(() => undefined);
      },
    });
    const transactions = new TransactionLayer({
      send: async (message, destination) => {
        const { connectionId } = await transport.send(message, destination);
        return { connectionId };
      },
      ...(options.timers ? { timers: options.timers } : {}),
      onRequest: (tx, request, context) => answer(tx, request, context, options, layers.transactions),
      onAck: () => undefined,
    });
    layers.transactions = transactions;
    return new Responder(transport, transactions);
  }

  listening(): ReturnType<TransportLayer['listening']> {
    return this.transport.listening();
  }

  /**
   * Closes at once by default: a test responder's callers want their ports back, not 64*T1 of
   * Timer L. `graceful` lets running transactions finish first (closeLayers).
   */
  async close(options: { readonly graceful?: boolean } = {}): Promise<void> {
    await closeLayers(this.transactions, this.transport, { force: options.graceful !== true });
  }
}

function safeTopVia(request: SipRequest): ReturnType<SipRequest['topVia']> {
  try {
    return request.topVia();
  } catch {
    return undefined;
  }
}

function answer(tx: ServerTransaction, request: SipRequest, context: TransportContext, options: ResponderOptions, layer: TransactionLayer | undefined): void {
  const toTag = newTag();
  const respond = (status: number, reason: string, extra: ReadonlyArray<readonly [string, string]> = []): void => {
    const response = buildResponse(request, status, reason, { toTag });
    for (const [name, value] of extra) response.addHeader(name, value);
    options.onAnswered?.(request, status, context);
    tx.respond(response);
  };
  switch (request.method) {
    case 'OPTIONS':
      respond(200, 'OK', [['allow', ALLOW], ['accept', 'application/sdp'], ['supported', '']]);
      return;
    case 'INVITE': {
      const scheme = isSecureTransport(context.transport) ? 'sips' : 'sip';
      const host = options.contactHost ?? (context.local.address.includes(':') ? `[${context.local.address}]` : context.local.address);
      // RFC 7118 section 5.2 defines only transport=ws: with sips it means WSS.
      const transportParam = context.transport === 'wss' ? 'ws' : context.transport;
      const contact = `<${scheme}:responder@${host}:${context.local.port};transport=${transportParam}>`;
      respond(180, 'Ringing', [['contact', contact]]);
      respond(200, 'OK', [['contact', contact], ['allow', ALLOW]]);
      return;
    }
    case 'BYE':
      respond(200, 'OK');
      return;
    case 'CANCEL': {
      const invite = layer?.findInviteServerTxForCancel(request);
      respond(invite === undefined ? 481 : 200, invite === undefined ? 'Call/Transaction Does Not Exist' : 'OK');
      if (invite !== undefined) invite.respond(buildResponse(invite.request, 487, 'Request Terminated', { toTag }));
      return;
    }
    default:
      respond(405, 'Method Not Allowed', [['allow', ALLOW]]);
  }
}
