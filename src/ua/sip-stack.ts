import type { TxLimits, TxTimers } from '../limits.js';
import type { ParseResult } from '../sip/parse-message.js';
import type { Clock } from '../transaction/clock.js';
import { TransactionLayer, type TransactionLayerOptions } from '../transaction/transaction-layer.js';
import type { TransportContext } from '../transport/transport-context.js';
import { TransportLayer, type TransportLayerOptions } from '../transport/transport-layer.js';
import { closeLayers } from './close-layers.js';

/** The TU's side of the transaction layer: every callback but `send`, which the stack wires. */
export type TransactionUser = Pick<
  TransactionLayerOptions,
  'onRequest' | 'onAck' | 'onStrayResponse' | 'onTransportError' | 'onTimeout' | 'onCallbackError'
>;

/** The transaction layer's settings (TransactionLayerOptions, less what the stack wires). */
export interface StackTransactionOptions {
  readonly timers?: Partial<TxTimers>;
  readonly limits?: Partial<TxLimits>;
  readonly clock?: Clock;
  readonly warnAgent?: string;
  readonly sendTrying?: boolean;
}

export interface SipStackOptions extends Omit<TransportLayerOptions, 'onMessage' | 'onInvalid' | 'onConnectionClosed'> {
  /**
   * Makes the TU's callbacks, given the stack they will use (to send, to find a CANCEL's INVITE):
   * called once, before the layers exist, so the callbacks must read `stack.transactions` when
   * they run, not when they are made.
   */
  readonly tu: (stack: SipStack) => TransactionUser;
  readonly transactions?: StackTransactionOptions;
  /**
   * Seen after the stack has dealt with a message that failed to parse (a request answered with
   * the parser's response, anything else dropped): for logs, counters and tests.
   */
  readonly onInvalid?: (result: Extract<ParseResult, { ok: false }>, context: TransportContext, answered: boolean) => void;
  /**
   * A connection closed: called before the transaction layer fails the transactions waiting on it
   * (each gets its 503 at once), so that the element can first record why (a framing fault, say).
   */
  readonly onConnectionClosed?: (connectionId: string, reason: string) => void;
}

/**
 * One SIP element's layers, built, wired and closed in one place (sipgo's UserAgent is the model):
 * the transport hands what it parses to the transaction layer, the transaction layer answers
 * malformed requests itself and tells the TU only about transactions, and close() takes them
 * down in reverse order. The responder, `sipsec options` and the proxy all start from here.
 */
export class SipStack {
  readonly transactions: TransactionLayer;
  #transport: TransportLayer | undefined;

  private constructor(makeTu: SipStackOptions['tu'], settings: StackTransactionOptions) {
    // Built before the transport, which needs somewhere to deliver from its first datagram; its
    // sends reach the transport only once start() has set it, and nothing can send before that.
    this.transactions = new TransactionLayer({
      ...settings,
      ...makeTu(this),
      send: (message, destination) => this.transport.send(message, destination),
    });
  }

  /** Starts the listeners; rejects (with nothing left open) when one cannot be started. */
  static async start(options: SipStackOptions): Promise<SipStack> {
    const { tu, transactions: settings, onInvalid, onConnectionClosed, ...transportOptions } = options;
    const stack = new SipStack(tu, settings ?? {});
    const transactions = stack.transactions;
    stack.#transport = await TransportLayer.start({
      ...transportOptions,
      onMessage: (message, context) => transactions.receive(message, context),
      onConnectionClosed: (connectionId, reason) => {
        onConnectionClosed?.(connectionId, reason);
        transactions.connectionLost(connectionId, reason);
      },
      onInvalid: (result, context) => {
        const answered = transactions.rejectMalformed(result, context);
        onInvalid?.(result, context, answered);
      },
    });
    return stack;
  }

  get transport(): TransportLayer {
    if (this.#transport === undefined) throw new Error('SipStack: the transport is not started');
    return this.#transport;
  }

  listening(): ReturnType<TransportLayer['listening']> {
    return this.transport.listening();
  }

  /** Graceful by default (closeLayers); `force` ends every transaction and connection now. */
  async close(options: { readonly force?: boolean } = {}): Promise<void> {
    await closeLayers(this.transactions, this.transport, options);
  }
}
