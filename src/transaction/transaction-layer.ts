import { randomBytes } from 'node:crypto';
import type { TxLimits, TxTimers } from '../limits.js';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { safeCallId } from '../sip/message.js';
import type { ParseResult } from '../sip/parse-message.js';
import { branchOf } from '../sip/via.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { isReliable, TransportError, type Destination, type HopReport, type TlsSession, type TransportContext } from '../transport/transport-context.js';
import { systemClock, type Clock } from './clock.js';
import { TransactionError } from './errors.js';
import type { Step, TimerName, TransportFailure, TxAction, TxConfig } from './fsm.js';
import { reduceInviteClient, startInviteClient, type ClientTxConfig, type InviteClientEvent, type InviteClientState } from './invite-client-fsm.js';
import { reduceInviteServer, startInviteServer, type InviteServerEvent, type InviteServerState } from './invite-server-fsm.js';
import { buildResponse, buildTimeoutResponse, buildTransportFailureResponse, warnAgentOf } from './local-response.js';
import { reduceNonInviteClient, startNonInviteClient, type NonInviteClientState } from './non-invite-client-fsm.js';
import { reduceNonInviteServer, startNonInviteServer, type NonInviteServerEvent, type NonInviteServerState } from './non-invite-server-fsm.js';
import { responseDestination } from './response-destination.js';
import { acceptedResponse, finishedRequest, finishedResponse } from './finished-request.js';
import { messageBytes } from './retained-bytes.js';
import { TimerScheduler, type ScheduledTimer } from './timer-scheduler.js';
import {
  cancelTargetKey, clientTxKey, hasMagicCookie, matchRfc2543Ack, matchRfc2543Cancel, matchRfc2543Request, rfc2543BucketKey, serverTxKey,
} from './tx-keys.js';
import { resolveTxLimits, resolveTxTimers } from './tx-timers.js';

/** How a response handed to a client TU came to be. */
export type ResponseOrigin =
  /** Received from the network. */
  | 'network'
  /** Synthesized 408: Timer B or F fired (sections 17.1.1.2, 17.1.2.2). */
  | 'timeout'
  /** Synthesized 503 with Warning 399 and Reason: the send failed (section 8.1.3.1, DESIGN rule 6). */
  | 'transport-error'
  /** Synthesized 503: close({ force: true }) ended the transaction before a final response. */
  | 'closed';

export interface ResponseInfo {
  readonly origin: ResponseOrigin;
  /** The context of the received response; undefined for synthesized ones. */
  readonly context: TransportContext | undefined;
  /** For `transport-error` and `closed`: the reason word and detail. */
  readonly failure: TransportFailure | undefined;
  /**
   * The hop the request went out on: its connection, the verdict on the server (also the one that
   * refused it), the TLS session. For a received response, what its connection says; otherwise
   * what the last send reported. Undefined when nothing was sent (or `send` reports nothing).
   */
  readonly hop: HopReport | undefined;
}

/** What `send` may report of the hop it used (TransportLayer.send's SendResult has this shape). */
export interface SendReport {
  readonly connectionId?: string | undefined;
  readonly peer?: PeerVerdict | undefined;
  readonly tls?: TlsSession | undefined;
}

/** The client TU's callbacks for one transaction. */
export interface ClientTransactionHandlers {
  /**
   * Every response the TU must see: provisional, final (2xx included, after which an INVITE client
   * transaction is terminated and further 2xx go to onStrayResponse), and the synthesized 408/503.
   * Exactly one final response reaches the TU per transaction.
   */
  onResponse(response: SipResponse, info: ResponseInfo, tx: ClientTransaction): void;
  /** The request (or a retransmission of it) went out on this hop; the wait for a response starts. */
  onSent?(hop: HopReport, tx: ClientTransaction): void;
  /** A send failed after the final response was delivered (the ACK for a non-2xx). */
  onTransportError?(failure: TransportFailure, tx: ClientTransaction): void;
  onTerminated?(tx: ClientTransaction): void;
}

export interface TransactionLayerOptions {
  /**
   * The transport layer's send; a rejection (TransportError or any error) is a transport error.
   * It may resolve with the stream connection used, so that connectionLost() can fail the
   * transactions still waiting for a response on it.
   */
  send(message: SipMessage, destination: Destination): Promise<void | SendReport>;
  clock?: Clock;
  timers?: Partial<TxTimers>;
  limits?: Partial<TxLimits>;
  /** The warn-agent of synthesized Warning headers; default: the sent-by of the request's top Via. */
  warnAgent?: string;
  /**
   * Send UDP responses to the top Via's `maddr` (RFC 3261 section 18.2.2). Default false: `maddr`
   * is whatever the sender wrote, so honouring it lets any peer reflect our responses (and their
   * retransmissions, larger than its request) at a third party. Set it only where every sender is
   * trusted, e.g. behind an edge proxy that strips or checks `maddr`.
   */
  honourViaMaddr?: boolean;
  /** Section 17.2.1: send 100 Trying as soon as an INVITE server transaction starts (default true). */
  sendTrying?: boolean;
  /**
   * A new server transaction (section 17.2.3 found no match). The TU answers with serverTx.respond().
   * Without this callback requests are answered 503. A CANCEL arrives here too, as its own
   * non-INVITE server transaction; findInviteServerTxForCancel() finds what it cancels.
   */
  onRequest?(serverTx: ServerTransaction, request: SipRequest, ctx: TransportContext): void;
  /**
   * An ACK for the TU: one matching no transaction (the ACK for a 2xx, sections 17.2.3 and 13.3.1.4,
   * `serverTx` undefined), or one that an INVITE server transaction in Accepted passes up (RFC 6026).
   */
  onAck?(ack: SipRequest, ctx: TransportContext, serverTx: ServerTransaction | undefined): void;
  /**
   * A response matching no client transaction (section 17.1.3): for a UAC core the 2xx
   * retransmissions to ACK again (13.2.2.4), for a proxy what 16.7 forwards statelessly.
   */
  onStrayResponse?(response: SipResponse, ctx: TransportContext): void;
  /** Section 17.2.4: a response of this server transaction could not be sent; it is terminated. */
  onTransportError?(serverTx: ServerTransaction, failure: TransportFailure): void;
  /** Timer H fired: no ACK came for a 300-699 response (section 17.2.1); the transaction is terminated. */
  onTimeout?(serverTx: ServerTransaction, timer: 'timerH'): void;
  /**
   * A TU callback threw. The layer has contained it (a server transaction still without a final
   * response got 500, the other transactions go on); this reports it. Default: one line on stderr.
   */
  onCallbackError?(report: CallbackErrorReport): void;
}

/** Which TU callback threw, for which transaction; `detail` is the error's message. */
export interface CallbackErrorReport {
  readonly event: 'tu-callback-failed';
  readonly callback: TuCallbackName;
  readonly transaction: string | undefined;
  readonly method: string | undefined;
  readonly callId: string | undefined;
  readonly detail: string;
  readonly error: unknown;
}

export type TuCallbackName =
  | 'onRequest' | 'onAck' | 'onStrayResponse' | 'onTransportError' | 'onTimeout' | 'onResponse' | 'onSent' | 'onTerminated';

type TxKind = 'invite' | 'non-invite';

/** What the runner keeps for every transaction, client or server. */
abstract class TxRuntime {
  #request: SipRequest;
  #requestFinished = false;
  readonly timerHandles = new Map<TimerName, ScheduledTimer>();
  terminated = false;
  terminationNotified = false;
  /** @internal Bytes of the request and the last response held, as counted in the layer's retainedBytes. */
  retainedBytes = 0;
  /** @internal The response retainedBytes last counted (server transactions). */
  countedResponse: SipResponse | undefined = undefined;
  abstract readonly key: string;
  abstract readonly kind: TxKind;
  abstract get state(): string;

  constructor(request: SipRequest) {
    this.#request = request;
  }

  /**
   * The request: as sent or received while the transaction runs; once it has its final response
   * and only handles retransmissions, the small copy of finished-request.ts (start line, Via,
   * From, To, Call-ID, CSeq), so that the wait states (Timers D, I, J, K, L) do not keep the rest.
   * A client transaction over UDP is already finished when its TU's onResponse sees the final: a
   * TU that resends the request (with credentials after a 401/407) keeps its own copy.
   */
  get request(): SipRequest {
    return this.#request;
  }

  /** Whether `request` is already the finished copy. */
  get requestFinished(): boolean {
    return this.#requestFinished;
  }

  /** @internal Swaps the request for its finished copy; returns the bytes let go of, as messageBytes counts them. */
  finishRequest(): number {
    if (this.#requestFinished) return 0;
    this.#requestFinished = true;
    const before = messageBytes(this.#request);
    this.#request = finishedRequest(this.#request);
    return before - messageBytes(this.#request);
  }
}

/** A client transaction (section 17.1) started by TransactionLayer.sendRequest. */
export class ClientTransaction extends TxRuntime {
  readonly kind: TxKind;
  /** @internal */ fsm: InviteClientState | NonInviteClientState;
  /** @internal */ config: ClientTxConfig;
  /** @internal */ lastContext: TransportContext | undefined = undefined;
  /** @internal */ finalDelivered = false;
  /** The stream connection the request last went out on, when the transport said. */
  connectionId: string | undefined = undefined;
  /** The hop the last send used or refused; undefined before the first send completes. */
  hop: HopReport | undefined = undefined;

  constructor(
    /** clientTxKey: top Via branch and method (section 17.1.3). */
    readonly key: string,
    request: SipRequest,
    readonly destination: Destination,
    /** @internal */ readonly handlers: ClientTransactionHandlers,
    timers: TxTimers,
  ) {
    super(request);
    this.kind = request.method === 'INVITE' ? 'invite' : 'non-invite';
    this.config = { request, timers, reliable: isReliable(destination.transport) };
    const start = this.kind === 'invite' ? startInviteClient(this.config) : startNonInviteClient(this.config);
    this.fsm = start.state;
    this.startActions = start.actions;
  }

  /** @internal */ startActions: readonly TxAction[];

  /** The state name of Figure 5 or 6. */
  get state(): string {
    return this.fsm.name;
  }

  /** @internal In Completed the reducers no longer read the request (the ACK for a non-2xx is built already). */
  override finishRequest(): number {
    const freed = super.finishRequest();
    this.config = { ...this.config, request: this.request };
    return freed;
  }

  /** @internal */
  reduce(event: InviteClientEvent): Step<unknown> {
    const step =
      this.kind === 'invite'
        ? reduceInviteClient(this.fsm as InviteClientState, event, this.config)
        : reduceNonInviteClient(this.fsm as NonInviteClientState, event, this.config);
    this.fsm = step.state;
    return step;
  }
}

/** A server transaction (section 17.2), handed to the TU by onRequest. */
export class ServerTransaction extends TxRuntime {
  readonly kind: TxKind;
  /** @internal */ fsm: InviteServerState | NonInviteServerState;
  /** @internal */ readonly config: TxConfig;
  /** Called once when the transaction terminates. */
  onTerminated: (() => void) | undefined = undefined;

  constructor(
    /** serverTxKey (section 17.2.3), or `rfc2543:N` for a request whose branch lacks the magic cookie. */
    readonly key: string,
    request: SipRequest,
    readonly context: TransportContext,
    /** Where responses go (section 18.2.2, RFC 3581). */
    readonly responseDestination: Destination,
    /** True when matched by the RFC 2543 rules. */
    readonly rfc2543: boolean,
    timers: TxTimers,
    private readonly layer: TransactionLayer,
  ) {
    super(request);
    this.kind = request.method === 'INVITE' ? 'invite' : 'non-invite';
    this.config = { timers, reliable: isReliable(context.transport) };
    this.fsm = this.kind === 'invite' ? startInviteServer(this.config).state : startNonInviteServer().state;
  }

  /** The state name of Figure 7 (with RFC 6026 Accepted) or Figure 8. */
  get state(): string {
    return this.fsm.name;
  }

  /** The last response sent (retransmitted on request retransmissions). */
  get lastResponse(): SipResponse | undefined {
    return this.fsm.lastResponse;
  }

  /**
   * Sends a response through the transaction. Throws TX_ERR_TERMINATED once it is terminated
   * (a proxy then forwards a late 2xx statelessly, section 16.7) and TX_ERR_BAD_RESPONSE for a
   * status outside 100-699. Responses the state does not allow are discarded (e.g. a second final).
   */
  respond(response: SipResponse): void {
    if (this.terminated) throw new TransactionError('TX_ERR_TERMINATED', `server transaction ${this.key} is terminated`);
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 699) {
      throw new TransactionError('TX_ERR_BAD_RESPONSE', `status ${response.status} is not 100-699`);
    }
    this.layer.dispatchServer(this, { type: 'tuResponse', response });
  }

  /**
   * Ends a non-INVITE server transaction without a response (RFC 4320 section 4.2: never a 408 to
   * a non-INVITE request): it absorbs retransmissions for Timer J, then terminates. No-op once a
   * final was sent or the transaction ended. Throws TX_ERR_BAD_REQUEST for an INVITE transaction.
   */
  abandon(): void {
    if (this.kind === 'invite') throw new TransactionError('TX_ERR_BAD_REQUEST', 'an INVITE server transaction ends with a final response');
    this.layer.dispatchServer(this, { type: 'tuAbandon' });
  }

  /**
   * @internal The final response kept becomes a message of its own (finished-request.ts), so the
   * TU's object, its datagram and its parsed caches can go; in Accepted, which never resends it,
   * only its status line and Via, From, To, Call-ID, CSeq.
   */
  finishResponse(): void {
    const last = this.fsm.lastResponse;
    if (last === undefined || last.status < 200) return;
    this.fsm = { ...this.fsm, lastResponse: this.fsm.name === 'accepted' ? acceptedResponse(last) : finishedResponse(last) };
  }

  /** @internal */
  reduce(event: InviteServerEvent | NonInviteServerEvent): Step<unknown> {
    const step =
      this.kind === 'invite'
        ? reduceInviteServer(this.fsm as InviteServerState, event as InviteServerEvent, this.config)
        : reduceNonInviteServer(this.fsm as NonInviteServerState, event, this.config);
    this.fsm = step.state;
    return step;
  }
}

/**
 * The RFC 3261 section 17 transaction layer: pure reducers (one per Figure 5-8) driven by one timer
 * scheduler over an injected clock. The transport calls receive(); the TU calls sendRequest() and
 * ServerTransaction.respond() and is called back through the options.
 */
export class TransactionLayer {
  readonly timers: TxTimers;
  readonly limits: TxLimits;
  readonly #options: TransactionLayerOptions;
  readonly #clock: Clock;
  readonly #scheduler: TimerScheduler;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  /**
   * Server transactions without an RFC 3261 branch (section 17.2.3), in buckets by Call-ID, CSeq
   * number and From tag; matching scans one bucket.
   */
  readonly #legacy = new Map<string, Set<ServerTransaction>>();
  #legacySeq = 0;
  #closing = false;
  #retainedBytes = 0;
  #closeWaiters: Array<() => void> = [];

  constructor(options: TransactionLayerOptions) {
    if (typeof options.send !== 'function') throw new TransactionError('TX_ERR_BAD_OPTION', 'send must be a function');
    this.#options = options;
    this.timers = resolveTxTimers(options.timers);
    this.limits = resolveTxLimits(options.limits);
    this.#clock = options.clock ?? systemClock;
    this.#scheduler = new TimerScheduler(this.#clock);
  }

  /** Live transactions, client and server. */
  get size(): number {
    return this.#clients.size + this.#servers.size;
  }

  /**
   * Bytes of SIP messages live transactions hold (requests, and the last response of each server
   * transaction), as messageBytes counts them; bounded by limits.maxTransactionBytes when a
   * transaction starts. Zero once every transaction has terminated.
   */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  /** Timers pending in the scheduler (zero once every transaction has terminated). */
  get pendingTimers(): number {
    return this.#scheduler.size;
  }

  get closing(): boolean {
    return this.#closing;
  }

  clientTransaction(key: string): ClientTransaction | undefined {
    return this.#clients.get(key);
  }

  serverTransaction(key: string): ServerTransaction | undefined {
    return this.#servers.get(key);
  }

  /**
   * Starts a client transaction (section 17.1) and sends the request. The TU has built the request
   * (section 8.1.1), including a top Via whose branch begins with z9hG4bK; nothing is added here.
   * Throws TransactionError: TX_ERR_CLOSED, TX_ERR_BAD_REQUEST (an ACK, no RFC 3261 branch, a CSeq
   * method that differs), TX_ERR_DUPLICATE, TX_ERR_LIMIT. A failed send is not thrown: the TU gets
   * a 503 through onResponse at once.
   */
  sendRequest(request: SipRequest, destination: Destination, handlers: ClientTransactionHandlers): ClientTransaction {
    if (this.#closing) throw new TransactionError('TX_ERR_CLOSED', 'the transaction layer is closing');
    if (request.method === 'ACK') {
      throw new TransactionError('TX_ERR_BAD_REQUEST', 'an ACK starts no transaction (section 17.1): send it with sendStateless');
    }
    let branch: string | undefined;
    let cseqMethod: string | undefined;
    try {
      const via = request.topVia();
      branch = via === undefined ? undefined : branchOf(via);
      cseqMethod = request.cseq().method;
    } catch (err) {
      throw new TransactionError('TX_ERR_BAD_REQUEST', `unreadable top Via or CSeq: ${(err as Error).message}`, { cause: err });
    }
    if (!hasMagicCookie(branch)) {
      throw new TransactionError('TX_ERR_BAD_REQUEST', 'the top Via needs a branch beginning with z9hG4bK (section 8.1.1.7)');
    }
    if (cseqMethod !== request.method) throw new TransactionError('TX_ERR_BAD_REQUEST', `CSeq method ${cseqMethod} is not ${request.method}`);
    const key = clientTxKey(request) as string;
    if (this.#clients.has(key)) throw new TransactionError('TX_ERR_DUPLICATE', `a client transaction ${key} is running`);
    if (this.size >= this.limits.maxTransactions) {
      throw new TransactionError('TX_ERR_LIMIT', `${this.size} live transactions, limit maxTransactions = ${this.limits.maxTransactions}`);
    }
    const bytes = messageBytes(request);
    if (!this.#fitsByteBudget(bytes)) {
      throw new TransactionError('TX_ERR_LIMIT', `live transactions hold ${this.#retainedBytes} bytes, limit maxTransactionBytes = ${this.limits.maxTransactionBytes}`);
    }
    const tx = new ClientTransaction(key, request, destination, handlers, this.timers);
    this.#clients.set(key, tx);
    this.#retain(tx, bytes);
    const start = tx.startActions;
    tx.startActions = [];
    this.#apply(tx, start);
    return tx;
  }

  /**
   * A stream connection closed (section 17.1.4: the transport layer informs the transaction layer).
   * Client transactions whose request went out on it and that have no final response yet get the
   * immediate 503 naming `connection-reset` and the reason, instead of waiting for Timer B or F:
   * e.g. a TLS 1.3 server that rejects our certificate after the handshake has completed.
   */
  connectionLost(connectionId: string, reason: string): void {
    for (const tx of [...this.#clients.values()]) {
      if (tx.connectionId !== connectionId || tx.finalDelivered || tx.terminated) continue;
      this.#dispatchClient(tx, {
        type: 'transportError',
        failure: { reason: 'connection-reset', detail: `connection ${connectionId} closed before a final response: ${reason}`, error: undefined },
      });
    }
  }

  /** Sends without a transaction: the ACK for a 2xx (section 13.2.2.4), stateless forwarding (16.11). */
  async sendStateless(message: SipMessage, destination: Destination): Promise<void> {
    await this.#options.send(message, destination);
  }

  /**
   * A message the transport could not parse. A request that the parser says how to answer (and
   * that is not an ACK, which is never answered) gets that response statelessly (no transaction:
   * its retransmissions are answered the same way, at no cost in state); anything else is dropped.
   * Returns whether a response was sent.
   */
  rejectMalformed(result: Extract<ParseResult, { ok: false }>, ctx: TransportContext): boolean {
    const partial = result.message;
    const answer = result.response;
    if (partial?.kind !== 'request' || answer === undefined || partial.method === 'ACK') return false;
    const via = safeTopVia(partial);
    if (via === undefined) return false; // Nowhere to send it (section 18.2.2).
    let response: SipResponse;
    try {
      response = buildResponse(partial, answer.status, answer.reason, { toTag: randomTag() });
    } catch {
      return false; // Too broken to echo its Call-ID, From, To and CSeq.
    }
    this.#options.send(response, responseDestination(via, ctx)).catch(() => undefined);
    return true;
  }

  /** Everything the transport received and parsed, with its context. */
  receive(message: SipMessage, ctx: TransportContext): void {
    if (message.kind === 'response') this.#receiveResponse(message, ctx);
    else this.#receiveRequest(message, ctx);
  }

  /**
   * The INVITE server transaction a CANCEL cancels (section 9.2; 16.10 for proxies): the CANCEL's
   * key with method INVITE, or the RFC 2543 rules when its branch has no magic cookie.
   */
  findInviteServerTxForCancel(cancel: SipRequest): ServerTransaction | undefined {
    const key = cancelTargetKey(cancel);
    if (key !== undefined) {
      const tx = this.#servers.get(key);
      return tx?.kind === 'invite' ? tx : undefined;
    }
    for (const tx of this.#legacyBucket(cancel)) if (tx.kind === 'invite' && matchRfc2543Cancel(tx.request, cancel)) return tx;
    return undefined;
  }

  /**
   * Stops new transactions (sendRequest throws TX_ERR_CLOSED, new requests get 503 with
   * Retry-After) and resolves when every running one has terminated. With `force`, terminates them
   * now: a client TU still waiting gets a 503 (origin `closed`). No timer is left behind.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    this.#closing = true;
    if (options.force === true) {
      const failure: TransportFailure = { reason: 'layer-closed', detail: 'the transaction layer was closed', error: undefined };
      for (const tx of [...this.#clients.values()]) {
        this.#terminate(tx);
        if (!tx.finalDelivered) this.#deliverClientFailure(tx, failure, 'closed');
        this.#notifyTerminated(tx);
      }
      for (const tx of [...this.#servers.values()]) {
        this.#terminate(tx);
        this.#notifyTerminated(tx);
      }
    }
    if (this.size === 0) {
      this.#scheduler.clear();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  /** @internal ServerTransaction.respond goes through here. */
  dispatchServer(tx: ServerTransaction, event: InviteServerEvent | NonInviteServerEvent): void {
    if (tx.terminated) return;
    const actions = tx.reduce(event).actions;
    this.#countResponse(tx);
    if (FINISHED_SERVER_STATES.has(tx.state)) this.#finishRequest(tx);
    this.#apply(tx, actions);
  }

  #fitsByteBudget(bytes: number): boolean {
    return this.#retainedBytes + bytes <= this.limits.maxTransactionBytes;
  }

  // A transaction that only handles retransmissions keeps the small copy of its request (finished-request.ts).
  #finishRequest(tx: ClientTransaction | ServerTransaction): void {
    if (tx.terminated || tx.requestFinished) return;
    this.#retain(tx, -tx.finishRequest());
    if (tx instanceof ServerTransaction) {
      tx.finishResponse();
      this.#countResponse(tx);
    }
  }

  #retain(tx: ClientTransaction | ServerTransaction, bytes: number): void {
    tx.retainedBytes += bytes;
    this.#retainedBytes += bytes;
  }

  // The response a server transaction keeps for retransmissions replaces the one counted before.
  #countResponse(tx: ServerTransaction): void {
    const response = tx.lastResponse;
    if (response === tx.countedResponse || tx.terminated) return;
    const before = tx.countedResponse === undefined ? 0 : messageBytes(tx.countedResponse);
    tx.countedResponse = response;
    this.#retain(tx, (response === undefined ? 0 : messageBytes(response)) - before);
  }

  /**
   * Runs a TU callback so that whatever it throws stays here (a TU's bug must neither escape as an
   * uncaughtException from a socket callback nor leave a transaction in the table forever).
   * Returns false when it threw.
   */
  #guard(callback: TuCallbackName, request: SipMessage | undefined, tx: ClientTransaction | ServerTransaction | undefined, run: () => void): boolean {
    try {
      run();
      return true;
    } catch (error) {
      const report: CallbackErrorReport = {
        event: 'tu-callback-failed',
        callback,
        transaction: tx?.key,
        method: request === undefined ? undefined : request.kind === 'request' ? request.method : safeCseqMethod(request),
        callId: request === undefined ? undefined : safeCallId(request),
        detail: error instanceof Error ? error.message : String(error),
        error,
      };
      try {
        (this.#options.onCallbackError ?? stderrCallbackError)(report);
      } catch {
        // A failing logger must not undo the containment.
      }
      return false;
    }
  }

  /**
   * onRequest threw: a server transaction that has no final response yet is answered 500 (section
   * 21.5.1) so that it ends through its own timers; if even that fails, it is terminated now.
   */
  #answerAfterTuFailure(tx: ServerTransaction): void {
    if (tx.terminated) return;
    const final = tx.lastResponse !== undefined && tx.lastResponse.status >= 200;
    if (final) return;
    try {
      tx.respond(buildResponse(tx.request, 500, 'Server Internal Error', { toTag: randomTag() }));
    } catch {
      this.#terminate(tx);
      this.#notifyTerminated(tx);
    }
  }

  #dispatchClient(tx: ClientTransaction, event: InviteClientEvent): void {
    if (tx.terminated) return;
    const actions = tx.reduce(event).actions;
    if (tx.state === 'completed') this.#finishRequest(tx);
    this.#apply(tx, actions);
  }

  #receiveResponse(response: SipResponse, ctx: TransportContext): void {
    const key = clientTxKey(response);
    const tx = key === undefined ? undefined : this.#clients.get(key);
    if (tx === undefined) {
      this.#guard('onStrayResponse', response, undefined, () => this.#options.onStrayResponse?.(response, ctx));
      return;
    }
    tx.lastContext = ctx;
    this.#dispatchClient(tx, { type: 'responseReceived', response });
  }

  #receiveRequest(request: SipRequest, ctx: TransportContext): void {
    const existing = this.#findServerTx(request);
    if (existing !== undefined) {
      this.dispatchServer(existing, { type: 'requestReceived', request });
      return;
    }
    if (request.method === 'ACK') {
      // Section 17.2.3 / 18.2.1: an ACK matching no transaction (the ACK for a 2xx) goes to the TU.
      this.#guard('onAck', request, undefined, () => this.#options.onAck?.(request, ctx, undefined));
      return;
    }
    let via;
    try {
      via = request.topVia();
    } catch {
      via = undefined;
    }
    if (via === undefined) return; // Nowhere to send a response (section 18.2.2); the parser rejects this first.
    const destination = responseDestination(via, ctx, { honourMaddr: this.#options.honourViaMaddr === true });
    const bytes = messageBytes(request);
    if (this.#closing || this.size >= this.limits.maxTransactions || !this.#fitsByteBudget(bytes) || this.#options.onRequest === undefined) {
      // Section 21.5.4: 503 with Retry-After, sent statelessly so that overload costs no state.
      const response = buildResponse(request, 503, 'Service Unavailable', { toTag: randomTag() });
      if (this.#options.onRequest !== undefined) response.addHeader('retry-after', String(this.limits.overloadRetryAfterSeconds));
      this.#options.send(response, destination).catch(() => undefined);
      return;
    }
    const key = serverTxKey(request);
    const legacy = key === undefined;
    const tx = new ServerTransaction(key ?? `rfc2543:${++this.#legacySeq}`, request, ctx, destination, legacy, this.timers, this);
    this.#servers.set(tx.key, tx);
    this.#retain(tx, bytes);
    if (legacy) this.#addLegacy(tx);
    if (tx.kind === 'invite' && this.#options.sendTrying !== false) tx.respond(buildResponse(request, 100, 'Trying'));
    if (!this.#guard('onRequest', request, tx, () => this.#options.onRequest?.(tx, request, ctx))) this.#answerAfterTuFailure(tx);
  }

  #findServerTx(request: SipRequest): ServerTransaction | undefined {
    const key = serverTxKey(request);
    if (key !== undefined) return this.#servers.get(key);
    for (const tx of this.#legacyBucket(request)) {
      if (request.method === 'ACK') {
        if (tx.kind === 'invite' && matchRfc2543Ack(tx.request, toTagOf(tx.lastResponse), request)) return tx;
      } else if (matchRfc2543Request(tx.request, request)) {
        return tx;
      }
    }
    return undefined;
  }

  #legacyBucket(request: SipRequest): Iterable<ServerTransaction> {
    if (this.#legacy.size === 0) return [];
    const bucket = rfc2543BucketKey(request);
    return (bucket === undefined ? undefined : this.#legacy.get(bucket)) ?? [];
  }

  #addLegacy(tx: ServerTransaction): void {
    const bucket = rfc2543BucketKey(tx.request);
    if (bucket === undefined) return; // Unmatchable: its retransmissions start new transactions.
    let set = this.#legacy.get(bucket);
    if (set === undefined) this.#legacy.set(bucket, (set = new Set()));
    set.add(tx);
  }

  #removeLegacy(tx: ServerTransaction): void {
    const bucket = rfc2543BucketKey(tx.request);
    const set = bucket === undefined ? undefined : this.#legacy.get(bucket);
    if (set === undefined || bucket === undefined) return;
    set.delete(tx);
    if (set.size === 0) this.#legacy.delete(bucket);
  }

  /** Applies a reducer's actions in order (timers and sends, terminate, then deliveries). */
  #apply(tx: ClientTransaction | ServerTransaction, actions: readonly TxAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.#send(tx, action.message);
          break;
        case 'startTimer':
          if (!tx.terminated) this.#startTimer(tx, action.timer, action.delayMs);
          break;
        case 'stopTimer':
          tx.timerHandles.get(action.timer)?.cancel();
          tx.timerHandles.delete(action.timer);
          break;
        case 'terminate':
          this.#terminate(tx);
          break;
        case 'deliverResponse':
          if (tx instanceof ClientTransaction) {
            if (action.response.status >= 200) tx.finalDelivered = true;
            const hop = hopOfResponse(tx.lastContext, tx.hop);
            this.#guard('onResponse', tx.request, tx, () => tx.handlers.onResponse(action.response, { origin: 'network', context: tx.lastContext, failure: undefined, hop }, tx));
          }
          break;
        case 'deliverRequest':
          if (tx instanceof ServerTransaction) this.#guard('onAck', action.request, tx, () => this.#options.onAck?.(action.request, tx.context, tx));
          break;
        case 'deliverTimeout':
          if (tx instanceof ClientTransaction) {
            const timer = action.timer;
            if (timer === 'timerH') break;
            tx.finalDelivered = true;
            this.#guard('onResponse', tx.request, tx, () => tx.handlers.onResponse(buildTimeoutResponse(tx.request, timer), { origin: 'timeout', context: undefined, failure: undefined, hop: tx.hop }, tx));
          } else {
            this.#guard('onTimeout', tx.request, tx, () => this.#options.onTimeout?.(tx, 'timerH'));
          }
          break;
        case 'deliverTransportError':
          if (tx instanceof ClientTransaction) {
            if (!tx.finalDelivered) this.#deliverClientFailure(tx, action.failure, 'transport-error');
            else this.#guard('onTransportError', tx.request, tx, () => tx.handlers.onTransportError?.(action.failure, tx));
          } else {
            this.#guard('onTransportError', tx.request, tx, () => this.#options.onTransportError?.(tx, action.failure));
          }
          break;
      }
    }
    if (tx.terminated) this.#notifyTerminated(tx);
  }

  #deliverClientFailure(tx: ClientTransaction, failure: TransportFailure, origin: 'transport-error' | 'closed'): void {
    tx.finalDelivered = true;
    const agent = this.#options.warnAgent ?? warnAgentOf(safeTopVia(tx.request));
    this.#guard('onResponse', tx.request, tx, () => tx.handlers.onResponse(buildTransportFailureResponse(tx.request, failure, agent), { origin, context: undefined, failure, hop: tx.hop }, tx));
  }

  #send(tx: ClientTransaction | ServerTransaction, message: SipMessage): void {
    const destination = tx instanceof ClientTransaction ? tx.destination : tx.responseDestination;
    const fail = (err: unknown): void => {
      const failure = toFailure(err);
      if (tx instanceof ClientTransaction) {
        if (err instanceof TransportError && err.verdict !== undefined) tx.hop = { connectionId: undefined, verdict: err.verdict, tls: undefined };
        this.#dispatchClient(tx, { type: 'transportError', failure });
      } else {
        this.dispatchServer(tx, { type: 'transportError', failure });
      }
    };
    const sent = (result: void | SendReport): void => {
      if (!(tx instanceof ClientTransaction) || tx.terminated && tx.finalDelivered) return;
      const hop: HopReport = { connectionId: result?.connectionId, verdict: result?.peer, tls: result?.tls };
      tx.hop = hop;
      if (hop.connectionId !== undefined) tx.connectionId = hop.connectionId;
      this.#guard('onSent', tx.request, tx, () => tx.handlers.onSent?.(hop, tx));
    };
    try {
      this.#options.send(message, destination).then(sent, fail);
    } catch (err) {
      // A send that throws instead of rejecting fails the same way, after the current step.
      queueMicrotask(() => fail(err));
    }
  }

  #startTimer(tx: ClientTransaction | ServerTransaction, timer: TimerName, delayMs: number): void {
    tx.timerHandles.get(timer)?.cancel();
    const handle = this.#scheduler.schedule(delayMs, () => {
      tx.timerHandles.delete(timer);
      if (tx instanceof ClientTransaction) this.#dispatchClient(tx, { type: 'timerFired', timer });
      else this.dispatchServer(tx, { type: 'timerFired', timer });
    });
    tx.timerHandles.set(timer, handle);
  }

  #terminate(tx: ClientTransaction | ServerTransaction): void {
    if (tx.terminated) return;
    tx.terminated = true;
    this.#retainedBytes -= tx.retainedBytes;
    tx.retainedBytes = 0;
    tx.countedResponse = undefined;
    for (const handle of tx.timerHandles.values()) handle.cancel();
    tx.timerHandles.clear();
    if (tx instanceof ClientTransaction) {
      if (this.#clients.get(tx.key) === tx) this.#clients.delete(tx.key);
    } else {
      if (this.#servers.get(tx.key) === tx) this.#servers.delete(tx.key);
      if (tx.rfc2543) this.#removeLegacy(tx);
    }
    if (this.#closing && this.size === 0) {
      this.#scheduler.clear();
      const waiters = this.#closeWaiters;
      this.#closeWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #notifyTerminated(tx: ClientTransaction | ServerTransaction): void {
    if (tx.terminationNotified) return;
    tx.terminationNotified = true;
    if (tx instanceof ClientTransaction) this.#guard('onTerminated', tx.request, tx, () => tx.handlers.onTerminated?.(tx));
    else this.#guard('onTerminated', tx.request, tx, () => tx.onTerminated?.());
  }
}

/**
 * Server states after a final response (or RFC 4320 abandon), where the transaction only answers
 * or absorbs retransmissions and ACKs (Figures 7 and 8, RFC 6026 Accepted).
 */
const FINISHED_SERVER_STATES: ReadonlySet<string> = new Set(['completed', 'accepted', 'confirmed']);

/**
 * The hop of a received response: its connection's word first (the response may overtake the
 * send's own report, which comes with the write's callback), then what the send reported.
 */
function hopOfResponse(context: TransportContext | undefined, sent: HopReport | undefined): HopReport | undefined {
  if (context === undefined) return sent;
  return {
    connectionId: context.connectionId ?? sent?.connectionId,
    verdict: context.peer ?? sent?.verdict,
    tls: context.tls ?? sent?.tls,
  };
}

/** A send rejection as a failure: TransportError keeps its vocabulary word, anything else is `transport-failure`. */
export function toFailure(err: unknown): TransportFailure {
  if (err instanceof TransportError) return { reason: err.reason, detail: err.detail, error: err };
  const detail = err instanceof Error ? err.message : String(err);
  return { reason: 'transport-failure', detail, error: err };
}

function toTagOf(response: SipResponse | undefined): string | undefined {
  try {
    return response?.toTag();
  } catch {
    return undefined;
  }
}

function safeTopVia(request: SipRequest): ReturnType<SipRequest['topVia']> {
  try {
    return request.topVia();
  } catch {
    return undefined;
  }
}


function safeCseqMethod(message: SipMessage): string | undefined {
  try {
    return message.cseq().method;
  } catch {
    return undefined;
  }
}

/** The default report of a TU callback that threw: one line on stderr, the error's stack after it. */
function stderrCallbackError(report: CallbackErrorReport): void {
  const stack = report.error instanceof Error && report.error.stack !== undefined ? `\n${report.error.stack}` : '';
  process.stderr.write(`sipsec transaction ${report.event} callback=${report.callback} tx=${report.transaction ?? '-'} method=${report.method ?? '-'} call-id=${JSON.stringify(report.callId ?? '-')} detail=${JSON.stringify(report.detail)}${stack}\n`);
}

/** A To tag for stateless responses (section 19.3: at least 32 bits of randomness). */
function randomTag(): string {
  return randomBytes(6).toString('hex');
}
