/**
 * RFC 3263 section 4.3 failover: a request is tried at each destination in turn, each time as a
 * new client transaction (a new branch), until one gives a final answer that is not a failure of
 * that destination; the TU gets exactly one final answer. resiprocate's TransactionState (its
 * DNS result handling on a transport error, a 503 or a timeout) is the model.
 */
import { quote } from '../sip/header-scanner.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { warnAgentOf } from '../transaction/local-response.js';
import type { ResponseInfo, ResponseOrigin, TransactionLayer } from '../transaction/transaction-layer.js';
import type { Destination, HopReport } from '../transport/transport-context.js';

/**
 * Whether a final answer from one destination sends the request on to the next (RFC 3263 section
 * 4.3): a transport error (a refused connection, a refused certificate `peer-not-authenticated`,
 * a reset, a failed handshake: the layer's 503, origin `transport-error`), a 503 from the server,
 * or a timeout (the 408 of Timer B or F), unless the destination had already sent a provisional
 * response other than 100 (the request is being handled there: waiting longer elsewhere would
 * fork it). Any other answer, and a layer closed with force, is the final one.
 */
export function failsOver(final: { readonly status: number; readonly origin: ResponseOrigin }, provisionalSeen = false): boolean {
  switch (final.origin) {
    case 'transport-error': return true;
    case 'timeout': return !provisionalSeen;
    case 'network': return final.status === 503;
    case 'closed': return false;
  }
}

/**
 * Runs `attempt` for each destination in order until `again` says an outcome is final, and returns
 * every outcome (the last is the answer). The one failover loop: sendWithFailover runs it over the
 * transaction layer, `sipsec options` over one requestOnce per located target.
 */
export async function failoverLoop<D, R>(
  destinations: readonly D[], attempt: (destination: D, index: number) => Promise<R>, again: (outcome: R) => boolean,
): Promise<R[]> {
  const outcomes: R[] = [];
  for (const [index, destination] of destinations.entries()) {
    const outcome = await attempt(destination, index);
    outcomes.push(outcome);
    if (!again(outcome)) break;
  }
  return outcomes;
}

/** One destination tried: its final answer and the hop it used (ResponseInfo.hop: connection, verdict, TLS session). */
export interface FailoverAttempt {
  readonly index: number;
  readonly destination: Destination;
  readonly request: SipRequest;
  readonly response: SipResponse;
  readonly info: ResponseInfo;
  /** Whether the request went on to the next destination after this answer. */
  readonly failedOver: boolean;
}

export interface FailoverResult {
  /**
   * The one final answer: the first that does not fail over, else the last destination's (when it
   * is locally made, it names the last failure in Warning 399 and Reason).
   */
  readonly response: SipResponse;
  readonly info: ResponseInfo;
  /** Every destination tried, in order; the last gave `response`. */
  readonly attempts: readonly FailoverAttempt[];
}

export interface FailoverOptions {
  readonly transactions: Pick<TransactionLayer, 'sendRequest'>;
  /** In failover order (destinationsFor gives them so); at least one. */
  readonly destinations: readonly Destination[];
  /**
   * The request for one attempt: each needs a top Via with a new branch (a new client transaction,
   * RFC 3263 section 4.3) and the Via transport of its destination; Call-ID, From tag and CSeq stay.
   */
  readonly request: (destination: Destination, index: number) => SipRequest;
  /** Provisional responses, as they come, with the destination they came from. */
  readonly onProvisional?: (response: SipResponse, info: ResponseInfo, attempt: { readonly index: number; readonly destination: Destination }) => void;
  /** The request went out to a destination (or was sent again): the hop it used. */
  readonly onSent?: (hop: HopReport, attempt: { readonly index: number; readonly destination: Destination }) => void;
  /** Each destination's final answer, as it comes, before the next is tried: for showing every attempt. */
  readonly onAttempt?: (attempt: FailoverAttempt) => void;
}

/**
 * Sends a request with failover across destinations on TransactionLayer.sendRequest, and resolves
 * with the one final answer. Rejects only when no request can be started: no destination, or the
 * layer refuses a transaction (TransactionError: closed, limits, a bad request).
 */
export async function sendWithFailover(options: FailoverOptions): Promise<FailoverResult> {
  const { destinations } = options;
  if (destinations.length === 0) throw new RangeError('sendWithFailover: no destination to send to');
  const attempts = await failoverLoop(destinations, (destination, index) => attemptAt(options, destination, index), (a) => a.failedOver);
  const last = attempts[attempts.length - 1] as FailoverAttempt;
  return { response: finalResponse(last), info: last.info, attempts };
}

function attemptAt(options: FailoverOptions, destination: Destination, index: number): Promise<FailoverAttempt> {
  const request = options.request(destination, index);
  const isLast = index === options.destinations.length - 1;
  const where = { index, destination };
  return new Promise((resolve) => {
    let provisionalSeen = false;
    options.transactions.sendRequest(request, destination, {
      onSent: (hop) => options.onSent?.(hop, where),
      onResponse: (response, info) => {
        if (response.status < 200) {
          if (response.status > 100) provisionalSeen = true;
          options.onProvisional?.(response, info, where);
          return;
        }
        const attempt: FailoverAttempt = { index, destination, request, response, info, failedOver: !isLast && failsOver({ status: response.status, origin: info.origin }, provisionalSeen) };
        options.onAttempt?.(attempt);
        resolve(attempt);
      },
    });
  });
}

/**
 * The TU's answer from the last attempt. The layer's 503 already names its failure in Warning 399
 * and Reason; its 408 names the timer in Reason and gets the Warning here, so that every locally
 * made final answer says in the same two headers why the last destination failed.
 */
function finalResponse(last: FailoverAttempt): SipResponse {
  const { response, info, destination, request } = last;
  if (info.origin === 'timeout' && response.header('warning') === undefined) {
    const where = `${destination.transport} ${destination.address.includes(':') ? `[${destination.address}]` : destination.address}:${destination.port}`;
    response.addHeader('warning', `399 ${warnAgentOf(request.topVia())} ${quote(`timeout: no final response from ${where}`)}`);
  }
  return response;
}
