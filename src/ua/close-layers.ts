import type { TransactionLayer } from '../transaction/transaction-layer.js';
import type { TransportLayer } from '../transport/transport-layer.js';

/**
 * Closes an element's layers in reverse of their construction (STYLE: one constructor wires them
 * and closes them). Graceful (the default): the transaction layer stops taking new work at once
 * (new requests get 503 with Retry-After, RFC 3261 section 21.5.4) while the transport refuses new
 * connections but keeps carrying the messages of running transactions; the transport closes when
 * they have all terminated or after TRANSPORT_LIMITS.gracefulCloseMs. Transactions still running at
 * that deadline are then ended, so that every TU gets its 503 at once and no timer is left behind:
 * origin `transport-error` for a client transaction whose connection the deadline closed (that news
 * reaches it first), `closed` for the others. With `force`, both close now.
 */
export async function closeLayers(transactions: TransactionLayer, transport: TransportLayer, options: { readonly force?: boolean } = {}): Promise<void> {
  if (options.force === true) {
    await transactions.close({ force: true });
    await transport.close({ force: true });
    return;
  }
  await transport.close({ after: transactions.close() });
  await transactions.close({ force: true });
}
