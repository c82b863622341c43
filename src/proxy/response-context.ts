/**
 * One proxied request's response context (RFC 3261 sections 16.6 to 16.10): its branches, each a
 * failover across a destination list (RFC 3263 section 4.3) with a new client transaction per
 * attempt, Timer C per INVITE branch, the responses forwarded at once (provisional but 100, 2xx),
 * the best final when every branch has one, and CANCEL of the pending branches. For a non-INVITE
 * request (RFC 4320): our own 100 once the caller's Timer E has reached T2, no 408 upstream, and no
 * failover after a branch's Timer F.
 */
import type { SipRequest, SipResponse } from '../sip/message.js';
import { safeCallId } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import { branchOf } from '../sip/via.js';
import type { Clock, ClockTimer } from '../transaction/clock.js';
import { buildCancel } from '../transaction/ack-request.js';
import { TransactionError } from '../transaction/errors.js';
import { buildResponse, buildTransportFailureResponse } from '../transaction/local-response.js';
import { timerEReachesT2Ms } from '../transaction/tx-timers.js';
import { toFailure, type ClientTransaction, type ResponseInfo, type ServerTransaction, type TransactionLayer } from '../transaction/transaction-layer.js';
import type { Destination, TransportContext, TransportProtocol } from '../transport/transport-context.js';
import { TX_TIMERS, type TxTimers } from '../limits.js';
import { failoverLoop, failsOver } from '../ua/failover.js';
import { warning399, reasonHeader } from './local-answer.js';
import { newTag } from '../ua/identifiers.js';
import type { FlowTokens } from './flow-token.js';
import { proxyBranch } from './loop-branch.js';
import type { OwnAddresses } from './own-addresses.js';
import { forwardCopy, recordRouteValues, viaValue } from './forward-request.js';
import type { ProxyLogger } from './proxy-log.js';
import type { DestinationFailureWord } from './routing-words.js';
import { finalForCaller } from './response-selection.js';

/** Where a branch goes: its Request-URI, Route values to push, and how to find its destinations. */
export interface BranchTarget {
  /** The new Request-URI (section 16.5 target); undefined keeps the request's (loose routing to a Route). */
  readonly requestUri: SipUri | undefined;
  readonly pushRoutes: readonly string[];
  /** The destinations in failover order, or the word and detail of why there are none. */
  readonly destinations: () => Promise<DestinationList>;
  /** For logs: the binding or the domain. */
  readonly label: string;
  /** A binding's flow: its token goes into our Record-Route, so that the dialog's requests use it too. */
  readonly flow?: Destination;
}

export type DestinationList =
  | { readonly kind: 'destinations'; readonly destinations: readonly Destination[] }
  /** `logged`: whoever refused the destinations logged it with its evidence (a DNSSEC policy's `policy-refused`). */
  | { readonly kind: 'none'; readonly word: DestinationFailureWord; readonly detail: string; readonly logged?: true };

/** What a response context needs from the core. */
export interface ContextDeps {
  readonly layer: TransactionLayer;
  readonly own: OwnAddresses;
  readonly clock: Clock;
  readonly timerCMs: number;
  readonly log: ProxyLogger;
  readonly flowTokens: FlowTokens;
  /** Our branches are indexed so that stray 2xx (section 16.7) find their context. */
  readonly indexBranch: (branch: string, context: ResponseContext) => void;
}

interface Branch {
  readonly target: BranchTarget;
  current: ClientTransaction | undefined;
  /** The current attempt had a provisional response (a CANCEL may be sent, section 9.1). */
  provisional: boolean;
  cancelRequested: boolean;
  cancelSent: boolean;
  done: boolean;
  timerC: ClockTimer | undefined;
  cancelGuard: ClockTimer | undefined;
  /** Resolves the current attempt with a locally made final (Timer C, an unanswered CANCEL). */
  endAttempt: ((response: SipResponse) => void) | undefined;
}

interface Outcome {
  readonly response: SipResponse;
  readonly failsOver: boolean;
}

export class ResponseContext {
  readonly #deps: ContextDeps;
  readonly #branches: Branch[] = [];
  readonly #finals: SipResponse[] = [];
  #finalSent = false;
  /** The groups of targets not tried yet (sequential forking by q, section 16.6). */
  readonly #later: Array<readonly BranchTarget[]> = [];
  /** No new branch or attempt (section 16.7 step 5 after a 6xx; 16.10 after a CANCEL). */
  #stopped = false;
  /**
   * The request after Route preprocessing (section 16.4): what each copy is made from. Let go of
   * once the final is sent and every branch has ended (#releaseIfFinished): the context then lives
   * on with its server transaction only to forward stray 2xx and to take a late CANCEL.
   */
  #routed: SipRequest | undefined;
  readonly #method: string;
  readonly #callId: string | undefined;
  /** RFC 4320 section 4.1: our 100 to a non-INVITE request still without a response. */
  #trying: ClockTimer | undefined;

  constructor(
    deps: ContextDeps,
    readonly serverTx: ServerTransaction,
    routed: SipRequest,
    readonly context: TransportContext,
    readonly loopHash: string,
    /** Record-Route (section 16.6 item 4): on requests that may create a dialog. */
    readonly recordRoute: boolean,
  ) {
    this.#deps = deps;
    this.#routed = routed;
    this.#method = routed.method;
    this.#callId = safeCallId(routed);
    // RFC 4320 section 4.1: a 100 to a non-INVITE request, not before the caller's Timer E reaches
    // T2 (over UDP an earlier one would slow its retransmissions to T2 and lose the race for its
    // final), and then only when nothing was sent upstream: it stops the caller's retransmissions
    // from doubling while the branches wait. An INVITE has the layer's 100 at once (17.2.1).
    this.#trying = routed.method === 'INVITE' ? undefined : deps.clock.setTimer(() => this.#sendTrying(), tryingDelayMs(deps.layer.timers, context.transport));
  }

  /** Whether the final is sent and every branch has ended: the routed request and the branches are let go of. */
  get finished(): boolean {
    return this.#routed === undefined;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get finalSent(): boolean {
    return this.#finalSent;
  }

  /** Forks to every target at once (parallel forking, section 16.6). */
  fork(targets: readonly BranchTarget[]): void {
    this.forkInOrder([targets]);
  }

  /**
   * Sequential forking by q (section 16.6, fork-order.ts): the first group at once, each next
   * group only when every branch so far has failed without a 2xx or a 6xx and nobody cancelled.
   */
  forkInOrder(groups: ReadonlyArray<readonly BranchTarget[]>): void {
    const [first = [], ...later] = groups;
    this.#later.push(...later.filter((group) => group.length > 0));
    this.#startGroup(first);
  }

  #startGroup(targets: readonly BranchTarget[]): void {
    if (this.#stopped) {
      this.#sendFinal(buildResponse(this.serverTx.request, 487, 'Request Terminated', { toTag: newTag() }));
      return;
    }
    if (targets.length === 0 && this.#branches.length === 0) {
      // Nowhere to fork to: the best of no response at all (section 16.7 step 6), never a wait.
      this.#sendBest();
      return;
    }
    const branches = targets.map((target): Branch => ({
      target, current: undefined, provisional: false, cancelRequested: false, cancelSent: false, done: false,
      timerC: undefined, cancelGuard: undefined, endAttempt: undefined,
    }));
    this.#branches.push(...branches);
    for (const branch of branches) {
      this.#runBranch(branch).catch((err: unknown) => {
        this.#deps.log('error', 'proxy-branch-failed', { callId: this.#callId, detail: err instanceof Error ? err.message : String(err) });
        try {
          this.#branchFinal(branch, buildTransportFailureResponse(this.#withOurVia(), toFailure(err), this.#agent()));
        } catch {
          // Even the branch's own failure could not be built: the caller still gets a final.
          branch.done = true;
          try {
            this.#sendFinal(buildResponse(this.serverTx.request, 500, 'Server Internal Error', { toTag: newTag() }));
          } catch {
            // The server transaction is gone: nothing is waiting for an answer.
          }
        }
      });
    }
  }

  /**
   * CANCEL of every pending branch: the caller cancelled (section 16.10), a 6xx arrived (16.7
   * step 5), or a final was forwarded (16.7 step 10). `reason`: the RFC 3326 Reason of the CANCEL.
   */
  cancelPending(reason: string | undefined): void {
    this.#stopped = true;
    for (const branch of [...this.#branches]) {
      if (branch.done || branch.cancelRequested) continue;
      branch.cancelRequested = true;
      if (branch.current === undefined) {
        // Still locating its destinations: nothing was sent, so nothing to cancel. It ends now
        // with 487 rather than when DNS answers, and #runBranch sends nothing afterwards.
        this.#branchFinal(branch, buildResponse(this.#withOurVia(), 487, 'Request Terminated'));
        continue;
      }
      if (branch.provisional) this.#sendCancel(branch, reason);
    }
    // Cancelled before any branch existed (the location look-up still running): 487 at once.
    if (this.#branches.length === 0 && !this.#finalSent) this.#sendFinal(buildResponse(this.serverTx.request, 487, 'Request Terminated', { toTag: newTag() }));
  }

  /** A 2xx matching no client transaction, of one of our branches (section 16.7: forwarded, 16.11). */
  forwardStray(response: SipResponse): void {
    if (response.status < 200 || response.status > 299) return;
    response.removeFirstValue('via');
    this.#forward(response);
  }

  /** Cancels what is still armed: the server transaction ended. */
  dispose(): void {
    this.#stopTrying();
    for (const branch of this.#branches) this.#stopTimers(branch);
  }

  #sendTrying(): void {
    this.#trying = undefined;
    const tx = this.serverTx;
    if (this.#finalSent || tx.terminated || tx.lastResponse !== undefined) return;
    try {
      tx.respond(buildResponse(tx.request, 100, 'Trying'));
    } catch (err) {
      if (!(err instanceof TransactionError)) throw err;
      // The transaction ended meanwhile: nobody is waiting for a 100.
    }
  }

  #stopTrying(): void {
    this.#trying?.cancel();
    this.#trying = undefined;
  }

  /** A final went upstream, or none will (RFC 4320 section 4.2): no 100 after it. */
  #finalGone(): void {
    this.#finalSent = true;
    this.#stopTrying();
  }

  async #runBranch(branch: Branch): Promise<void> {
    const list = await branch.target.destinations();
    if (branch.done) return; // Cancelled while its destinations were located.
    if (list.kind === 'none') {
      if (list.logged !== true) this.#deps.log('info', 'proxy-no-destination', { callId: this.#callId, target: branch.target.label, word: list.word, detail: list.detail });
      this.#branchFinal(branch, this.#hopFailure(list.word, list.detail));
      return;
    }
    if (branch.cancelRequested || this.#stopped) {
      this.#branchFinal(branch, buildResponse(this.#withOurVia(), 487, 'Request Terminated'));
      return;
    }
    const destinations = list.destinations;
    const outcomes = await failoverLoop(
      destinations,
      (destination, index) => this.#attempt(branch, destination, index === destinations.length - 1),
      (outcome) => outcome.failsOver && !branch.cancelRequested && !this.#stopped,
    );
    const last = outcomes[outcomes.length - 1] as Outcome;
    this.#branchFinal(branch, last.response);
  }

  /** One destination of a branch: a new copy with a new branch, a new client transaction (RFC 3263 section 4.3). */
  #attempt(branch: Branch, destination: Destination, isLast: boolean): Promise<Outcome> {
    const own = this.#deps.own;
    const inbound = own.listenerAt(this.context.transport, this.context.local) ?? own.listeners[0];
    const outbound = own.listenerFor(destination.transport);
    const id = proxyBranch(this.loopHash);
    const routed = this.#routed;
    if (routed === undefined) throw new Error('the response context has finished: no new attempt');
    // Let go of at settle (below): the client transaction keeps what it needs of its request.
    let copy: SipRequest | undefined = forwardCopy(routed, {
      requestUri: branch.target.requestUri,
      pushRoutes: branch.target.pushRoutes,
      recordRoute: this.recordRoute && inbound !== undefined
        ? recordRouteValues(inbound, outbound, this.#flowToken(branch.target.flow))
        : [],
      via: viaValue(destination.transport, outbound, inbound?.name ?? 'sipsec', id, { alias: destination.offersAlias === true }),
    });
    this.#deps.indexBranch(id, this);
    branch.provisional = false;
    branch.cancelSent = false;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let provisionalSeen = false;
      const settle = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        copy = undefined;
        // The attempt's transaction has its final: a CANCEL from now on must not name it.
        branch.current = undefined;
        branch.provisional = false;
        branch.endAttempt = undefined;
        this.#stopTimers(branch);
        resolve(outcome);
      };
      branch.endAttempt = (response) => settle({ response, failsOver: false });
      const onResponse = (response: SipResponse, info: ResponseInfo): void => {
        if (info.origin === 'network' && response.via().length < 2) {
          // Section 16.7 step 3: once our Via is off, none is left: the callee dropped the caller's
          // Vias and the response cannot go upstream. A final ends the branch with 502 at once.
          this.#deps.log('info', 'proxy-invalid-message', { kind: 'response', answered: false, callId: this.#callId, status: response.status, fault: 'no Via under ours' });
          if (response.status >= 200 && copy !== undefined) settle({ response: buildResponse(copy, 502, 'Bad Gateway'), failsOver: false });
          return;
        }
        if (response.status < 200) {
          if (settled) return;
          branch.provisional = true;
          if (response.status > 100) {
            provisionalSeen = true;
            this.#armTimerC(branch); // Section 16.8: reset by every provisional but 100.
          }
          if (branch.cancelRequested && !branch.cancelSent) this.#sendCancel(branch, undefined);
          this.#provisional(response);
          return;
        }
        if (settled) {
          // A 2xx after Timer C or an unanswered CANCEL ended the attempt is forwarded all the same (16.7 step 5).
          if (response.status < 300 && info.origin === 'network') this.forwardStray(response);
          return;
        }
        // RFC 4320: after a non-INVITE branch's Timer F the caller's own client transaction has
        // given up too (the same 64*T1): another destination would answer nobody. An INVITE still
        // fails over on Timer B (RFC 3263 section 4.3); the caller waits up to Timer C for it.
        const timedOutNonInvite = info.origin === 'timeout' && this.#method !== 'INVITE';
        // For the same reason no later q-group and no other branch's failover starts after it.
        if (timedOutNonInvite) this.#stopped = true;
        const again = !isLast && !timedOutNonInvite && failsOver({ status: response.status, origin: info.origin }, provisionalSeen);
        if (info.origin !== 'network' || response.status === 503) {
          this.#deps.log('info', 'proxy-hop-failed', {
            callId: this.#callId, target: branch.target.label, destination: `${destination.transport}:${destination.address}:${destination.port}`,
            status: response.status, origin: info.origin, word: info.failure?.reason, detail: info.failure?.detail,
            verdict: info.hop?.verdict?.reasons.map((r) => r.code), failsOver: again,
          });
        }
        settle({ response, failsOver: again });
      };
      const request = copy as SipRequest;
      try {
        branch.current = this.#deps.layer.sendRequest(request, destination, { onResponse });
      } catch (err) {
        if (!(err instanceof TransactionError)) throw err;
        // The layer refused a new transaction (limits, closing): this destination failed, locally.
        settle({ response: buildTransportFailureResponse(request, toFailure(err), this.#agent()), failsOver: false });
        return;
      }
      if (this.#method === 'INVITE') this.#armTimerC(branch);
    });
  }

  #provisional(response: SipResponse): void {
    if (response.status === 100 || this.#finalSent) return; // Section 16.7 step 5: never a 100, nothing after a final.
    if (this.#method !== 'INVITE') return; // RFC 4320 section 4.1: no 1xx but 100 to a non-INVITE request.
    response.removeFirstValue('via');
    this.#forward(response);
  }

  #branchFinal(branch: Branch, response: SipResponse): void {
    this.#settleBranch(branch, response);
    this.#releaseIfFinished();
  }

  /**
   * Once the final is sent (or withheld) and no branch is pending, nothing is forked or failed
   * over any more: the copies' source, the branches and the finals collected go. What is left
   * answers a late CANCEL (cancelPending) and forwards stray 2xx (forwardStray) for as long as the
   * server transaction lives (Timer L).
   */
  #releaseIfFinished(): void {
    if (this.#routed === undefined || !this.#finalSent || !this.#branches.every((b) => b.done)) return;
    this.#routed = undefined;
    this.#branches.length = 0;
    this.#finals.length = 0;
    this.#later.length = 0;
  }

  #settleBranch(branch: Branch, response: SipResponse): void {
    if (branch.done) return;
    branch.done = true;
    branch.current = undefined;
    this.#stopTimers(branch);
    // Every final here answers a copy whose top Via is ours (received, or made by the layer on the copy).
    response.removeFirstValue('via');
    const status = response.status;
    if (status >= 200 && status < 300) {
      this.#forward(response);
      if (!this.#finalSent) {
        this.#finalGone();
        this.cancelPending('SIP;cause=200;text="Call completed elsewhere"');
      }
      return;
    }
    if (this.#finalSent) return;
    // RFC 4320 section 4.2: no 408 goes upstream to a non-INVITE request (a branch's Timer F, or a
    // callee's own 408); without another final the server transaction ends with none (#sendBest).
    if (status !== 408 || this.#method === 'INVITE') this.#finals.push(response);
    if (status >= 600) this.cancelPending(undefined); // Section 16.7 step 5: cancel the others, fork no more.
    if (!this.#branches.every((b) => b.done)) return;
    const next = this.#stopped ? undefined : this.#later.shift();
    if (next !== undefined) {
      this.#startGroup(next);
      return;
    }
    this.#sendBest();
  }

  /** Section 16.7 step 6: the best final upstream; for a non-INVITE request without any, none (RFC 4320 section 4.2). */
  #sendBest(): void {
    if (this.#method === 'INVITE' || this.#finals.length > 0) {
      this.#sendFinal(finalForCaller(this.serverTx.request, this.#finals));
      return;
    }
    if (this.#finalSent) return;
    this.#finalGone();
    this.#stopped = true;
    this.#deps.log('info', 'proxy-final-withheld', { callId: this.#callId, method: this.#method, detail: 'no final but 408 (a branch\'s Timer F or the callee\'s own): none upstream to a non-INVITE request (RFC 4320)' });
    this.serverTx.abandon();
    this.#releaseIfFinished();
  }

  #sendFinal(response: SipResponse): void {
    if (this.#finalSent) return;
    this.#finalGone();
    this.#stopped = true;
    this.#forward(response);
    this.#releaseIfFinished();
  }

  /** Sends upstream through the server transaction; a 2xx after it ended goes statelessly (section 16.7 step 5). */
  #forward(response: SipResponse): void {
    try {
      this.serverTx.respond(response);
    } catch (err) {
      if (!(err instanceof TransactionError) || err.code !== 'TX_ERR_TERMINATED') throw err;
      // RFC 4320 section 4.2: a late response to a non-INVITE request is not forwarded.
      if (response.status < 200 || response.status > 299 || this.#method !== 'INVITE') return;
      this.#deps.layer.sendStateless(response, this.serverTx.responseDestination).catch((e: unknown) => {
        this.#deps.log('warn', 'proxy-response-not-sent', { callId: this.#callId, status: response.status, detail: e instanceof Error ? e.message : String(e) });
      });
    }
  }

  #sendCancel(branch: Branch, reason: string | undefined): void {
    const tx = branch.current;
    if (tx === undefined || branch.cancelSent) return;
    branch.cancelSent = true;
    const cancel = buildCancel(tx.request);
    if (reason !== undefined) cancel.addHeader('reason', reason);
    const destination: Destination = tx.connectionId === undefined ? tx.destination : { ...tx.destination, connectionId: tx.connectionId };
    try {
      this.#deps.layer.sendRequest(cancel, destination, { onResponse: () => undefined });
    } catch (err) {
      this.#deps.log('warn', 'proxy-cancel-not-sent', { callId: this.#callId, detail: err instanceof Error ? err.message : String(err) });
    }
    // A callee that never answers the CANCEL with a final would hold the branch forever: the INVITE
    // client transaction has no timer in Proceeding. After Timer B's span the branch ends with 487.
    branch.cancelGuard?.cancel();
    const request = tx.request;
    branch.cancelGuard = this.#deps.clock.setTimer(() => {
      branch.cancelGuard = undefined;
      branch.endAttempt?.(buildResponse(request, 487, 'Request Terminated'));
    }, this.#deps.layer.timers.timerBMs);
  }

  /**
   * Section 16.8: Timer C fired. A branch with a provisional response is cancelled; one without
   * ends as if it had received a 408 (its client transaction goes on until Timer B, and a 2xx it
   * still gets is forwarded).
   */
  #armTimerC(branch: Branch): void {
    branch.timerC?.cancel();
    branch.timerC = this.#deps.clock.setTimer(() => {
      branch.timerC = undefined;
      const tx = branch.current;
      if (tx === undefined) return;
      this.#deps.log('info', 'proxy-timer-c', { callId: this.#callId, target: branch.target.label, provisional: branch.provisional });
      if (branch.provisional) {
        branch.cancelRequested = true;
        this.#sendCancel(branch, undefined);
        return;
      }
      const timeout = buildResponse(tx.request, 408, 'Request Timeout');
      timeout.addHeader(...warning399(this.#agent(), 'timer-c', `no final response within ${Math.round(this.#deps.timerCMs / 1000)} s`));
      timeout.addHeader(...reasonHeader(408, 'timer-c'));
      branch.endAttempt?.(timeout);
    }, this.#deps.timerCMs);
  }

  #stopTimers(branch: Branch): void {
    branch.timerC?.cancel();
    branch.timerC = undefined;
    branch.cancelGuard?.cancel();
    branch.cancelGuard = undefined;
  }

  /** The 503 of a branch that could not be sent anywhere, naming why (becomes 500 upstream, section 16.7 step 6). */
  #hopFailure(word: DestinationFailureWord, detail: string): SipResponse {
    const response = buildResponse(this.#withOurVia(), 503, 'Service Unavailable');
    response.addHeader(...warning399(this.#agent(), word, detail));
    response.addHeader(...reasonHeader(503, word));
    return response;
  }

  /** The received request with a Via of ours on top, so that a locally made branch final loses it like any other. */
  #withOurVia(): SipRequest {
    const own = this.#deps.own;
    const listener = own.listenerAt(this.context.transport, this.context.local) ?? own.listeners[0];
    const copy = forwardCopy(this.serverTx.request, { requestUri: undefined, pushRoutes: [], recordRoute: [], via: viaValue(this.context.transport, listener, 'sipsec', proxyBranch(this.loopHash)) });
    return copy;
  }

  /**
   * The flow token of our Record-Route (flow-token.ts), when the dialog has a flow to keep: the
   * binding's toward the callee, and the caller's when its request came straight from its user
   * agent (one Via): its Contact is often a private address, and the callee's requests (a BYE)
   * must reach it where its INVITE came from, as RFC 3581 does for responses.
   */
  #flowToken(toCallee: Destination | undefined): string | undefined {
    const c = this.context;
    const direct = this.serverTx.request.via().length === 1;
    const toCaller: Destination | undefined = direct ? { transport: c.transport, address: c.remote.address, port: c.remote.port, ...(c.connectionId !== undefined ? { connectionId: c.connectionId } : {}) } : undefined;
    if (toCallee === undefined && toCaller === undefined) return undefined;
    return this.#deps.flowTokens.encode({ ...(toCallee !== undefined ? { toCallee } : {}), ...(toCaller !== undefined ? { toCaller } : {}) }, this.#routed?.fromTag() ?? '');
  }

  /** The warn-agent of our Warnings: the advertised name of the listener the request arrived on. */
  #agent(): string {
    const own = this.#deps.own;
    const listener = own.listenerAt(this.context.transport, this.context.local) ?? own.listeners[0];
    return listener === undefined ? 'sipsec' : `${listener.name}:${listener.port}`;
  }
}

/** The branch of a response's top Via, for finding its context. */
export function topBranch(message: SipRequest | SipResponse): string | undefined {
  try {
    const via = message.topVia();
    return via === undefined ? undefined : branchOf(via);
  } catch {
    return undefined;
  }
}


/**
 * When our own 100 to a non-INVITE request goes (RFC 4320 section 4.1): once the caller's Timer E
 * has reached T2. The caller's timers are not ours: over UDP, where a 100 before that moment is
 * forbidden, the RFC 3261 defaults set the floor whatever T1 and T2 this proxy runs with.
 */
function tryingDelayMs(timers: TxTimers, transport: TransportProtocol): number {
  const ours = timerEReachesT2Ms(timers);
  return transport === 'udp' ? Math.max(ours, timerEReachesT2Ms(TX_TIMERS)) : ours;
}
