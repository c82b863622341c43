/** Codes of the transaction layer's errors (configuration, misuse and overload; STYLE "Errors"). */
export type TransactionErrorCode =
  /** An option is unknown or out of range. */
  | 'TX_ERR_BAD_OPTION'
  /** The request cannot start a client transaction (no top Via, no RFC 3261 branch, an ACK, no CSeq). */
  | 'TX_ERR_BAD_REQUEST'
  /** A client transaction with the same key (branch and method) is already running. */
  | 'TX_ERR_DUPLICATE'
  /** The table holds TX_LIMITS.maxTransactions live transactions. */
  | 'TX_ERR_LIMIT'
  /** The layer is closing or closed. */
  | 'TX_ERR_CLOSED'
  /** respond() on a server transaction that is terminated, or a response that does not fit. */
  | 'TX_ERR_TERMINATED'
  | 'TX_ERR_BAD_RESPONSE';

export class TransactionError extends Error {
  constructor(
    readonly code: TransactionErrorCode,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options);
    this.name = 'TransactionError';
  }
}
