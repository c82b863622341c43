import type { SipRequest } from '../sip/message.js';
import { buildResponse } from '../transaction/local-response.js';
import type { TransactionLayer, ServerTransaction } from '../transaction/transaction-layer.js';
import { isSecureTransport, type TransportContext } from '../transport/transport-context.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import { newTag } from './identifiers.js';
import { SipStack, type SipStackOptions } from './sip-stack.js';

export interface ResponderOptions extends Omit<SipStackOptions, 'tu' | 'onInvalid'> {
  /** Contact host of answers to INVITE; default: the address a request arrived on. */
  readonly contactHost?: string;
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
  private constructor(readonly stack: SipStack) {}

  static async start(options: ResponderOptions): Promise<Responder> {
    const { contactHost, onAnswered, ...stackOptions } = options;
    const behaviour: AnswerOptions = { contactHost, onAnswered };
    const stack = await SipStack.start({
      ...stackOptions,
      tu: (self) => ({
        onRequest: (tx, request, context) => answer(tx, request, context, behaviour, self.transactions),
        onAck: () => undefined,
      }),
      onInvalid: (result, context, answered) => {
        const request = result.message;
        if (answered && request?.kind === 'request' && result.response !== undefined) onAnswered?.(request, result.response.status, context);
      },
    });
    return new Responder(stack);
  }

  get transport(): TransportLayer {
    return this.stack.transport;
  }

  get transactions(): TransactionLayer {
    return this.stack.transactions;
  }

  listening(): ReturnType<TransportLayer['listening']> {
    return this.stack.listening();
  }

  /**
   * Closes at once by default: a test responder's callers want their ports back, not 64*T1 of
   * Timer L. `graceful` lets running transactions finish first (closeLayers).
   */
  async close(options: { readonly graceful?: boolean } = {}): Promise<void> {
    await this.stack.close({ force: options.graceful !== true });
  }
}

interface AnswerOptions {
  readonly contactHost: string | undefined;
  readonly onAnswered: ResponderOptions['onAnswered'] | undefined;
}

function answer(tx: ServerTransaction, request: SipRequest, context: TransportContext, options: AnswerOptions, layer: TransactionLayer): void {
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
      const invite = layer.findInviteServerTxForCancel(request);
      respond(invite === undefined ? 481 : 200, invite === undefined ? 'Call/Transaction Does Not Exist' : 'OK');
      if (invite !== undefined) invite.respond(buildResponse(invite.request, 487, 'Request Terminated', { toTag }));
      return;
    }
    default:
      respond(405, 'Method Not Allowed', [['allow', ALLOW]]);
  }
}
