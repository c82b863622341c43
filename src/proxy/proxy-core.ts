/**
 * The stateful proxy core of `sipsec proxy` (RFC 3261 section 16): the transaction user of one
 * SipStack. For each request it validates (16.3), preprocesses Route (16.4), finds targets (16.5:
 * the location service for a local domain, the Request-URI or the next Route otherwise, the
 * registrar for REGISTER), refuses to relay for strangers, and forwards (16.6) through a response
 * context (response-context.ts). ACK for 2xx is forwarded statelessly by its Route (16.11);
 * CANCEL is answered here and cancels the branches (16.10). The parts it does not own come in as
 * the interfaces of contracts.ts.
 */
import type { SipRequest, SipResponse } from '../sip/message.js';
import { safeCallId, SipRequest as Request } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import { TX_TIMERS } from '../limits.js';
import { systemClock, type Clock } from '../transaction/clock.js';
import { buildResponse } from '../transaction/local-response.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { Destination, TransportContext, TransportProtocol } from '../transport/transport-context.js';
import { newTag } from '../ua/identifiers.js';
import { SipStack, type SipStackOptions, type TransactionUser } from '../ua/sip-stack.js';
import type { InboundPolicy, LocalDomains, LocalLookup, LocalUsers, OutboundRouter, PolicyDecision, RegistrarHandler, RequestAuthorizer } from './contracts.js';
import { FLOW_PARAM, FlowTokens } from './flow-token.js';
import { groupsByQ } from './fork-order.js';
import { answer, buildLocalResponse, reasonHeader, warning399, type LocalAnswer } from './local-answer.js';
import { chosenThroughSrv, isPromotable, promotedRequestUri } from './sips-promotion.js';
import { unavailableAnswer } from './unavailable-answer.js';
import { statelessBranch } from './loop-branch.js';
import { OwnAddresses, ownListeners, type AdvertisedName } from './own-addresses.js';
import { forwardCopy, viaValue } from './forward-request.js';
import { silentProxyLogger, type ProxyLogger } from './proxy-log.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { ResponseContext, topBranch, type BranchTarget, type DestinationList } from './response-context.js';
import { nextHopUri, preprocessRoutes, processMaddr, type MaddrOutcome } from './route-processing.js';
import type { HopPolicyWord, ProxyRoutingWord } from './routing-words.js';
import { validateRequest } from './validate-request.js';

export interface ProxyCoreOptions {
  /** The stack's listeners, TLS settings and limits; the core supplies its TU callbacks. */
  readonly stack: Omit<SipStackOptions, 'tu'>;
  readonly localDomains: LocalDomains;
  readonly localUsers: LocalUsers;
  readonly registrar: RegistrarHandler;
  readonly authorizer: RequestAuthorizer;
  readonly outbound: OutboundRouter;
  /**
   * The checks on every request as it arrives (issue 15: mutual authentication between domains,
   * the Via trail); none when absent (a core without policies, as the library's unit tests use).
   */
  readonly inboundPolicy?: InboundPolicy;
  /**
   * promote-sips (draft-gurbani 5.3, issue 15 item 3): a request for another domain sent over TLS
   * chosen through NAPTR/SRV goes with a sips Request-URI. Default off (docs/PROXY.md says why).
   */
  readonly promoteSips?: boolean;
  /** Where refusals and malformed messages are counted; default a registry of this core's own. */
  readonly metrics?: ProxyMetrics;
  /** The host name each listener is known by (Via sent-by, Record-Route); every listener needs one. */
  readonly advertisedNames: readonly AdvertisedName[];
  /** Timer C (section 16.8); default TX_TIMERS.timerCMs (3 min). */
  readonly timerCMs?: number;
  /** The clock of Timer C; default the system clock. */
  readonly clock?: Clock;
  /** Option tags accepted in Proxy-Require (section 16.3 item 5); default none. */
  readonly proxyRequireSupported?: readonly string[];
  /**
   * The key that signs the flow tokens of our Record-Route (flow-token.ts); give every instance
   * serving a domain the same one. Default: a random key per process.
   */
  readonly flowTokenSecret?: Uint8Array;
  readonly log?: ProxyLogger;
}

/** Methods whose out-of-dialog request never creates a dialog: no Record-Route (section 16.6 item 4). */
const NO_RECORD_ROUTE = new Set(['REGISTER', 'CANCEL', 'ACK']);

export class ProxyCore {
  readonly #options: ProxyCoreOptions;
  readonly #log: ProxyLogger;
  readonly #clock: Clock;
  readonly #timerCMs: number;
  readonly #flowTokens: FlowTokens;
  readonly metrics: ProxyMetrics;
  #stack: SipStack | undefined;
  #own: OwnAddresses | undefined;
  /** Response contexts by server transaction key, for CANCEL (section 16.10). */
  readonly #contexts = new Map<string, ResponseContext>();
  /** Our Via branches, for the 2xx that match no client transaction any more (section 16.7). */
  readonly #byBranch = new Map<string, ResponseContext>();
  readonly #branchesOf = new Map<ResponseContext, string[]>();

  private constructor(options: ProxyCoreOptions) {
    this.#options = options;
    const log = options.log ?? silentProxyLogger;
    // A logger that throws must not turn contained errors into unhandled rejections.
    this.#log = (level, event, fields) => {
      try {
        log(level, event, fields);
      } catch {
        // Nothing to report it to.
      }
    };
    this.#clock = options.clock ?? systemClock;
    this.#timerCMs = options.timerCMs ?? TX_TIMERS.timerCMs;
    this.#flowTokens = new FlowTokens(options.flowTokenSecret);
    this.metrics = options.metrics ?? new ProxyMetrics();
    if (!Number.isFinite(this.#timerCMs) || this.#timerCMs <= 0) throw new RangeError(`timerCMs must be a positive number of milliseconds, not ${this.#timerCMs}`);
  }

  /** Starts the stack with the core as its transaction user; rejects (nothing left open) on a listener or name error. */
  static async start(options: ProxyCoreOptions): Promise<ProxyCore> {
    const core = new ProxyCore(options);
    const userOnInvalid = options.stack.onInvalid;
    const stack = await SipStack.start({
      ...options.stack,
      tu: () => core.#transactionUser(),
      onInvalid: (result, context, answered) => {
        core.metrics.malformed.inc({ kind: result.kind ?? 'unknown', fault: result.faults[0]?.code ?? 'unknown' });
        core.#log('info', 'proxy-invalid-message', { kind: result.kind, answered, remote: `${context.remote.address}:${context.remote.port}`, fault: result.faults[0]?.code });
        userOnInvalid?.(result, context, answered);
      },
    });
    try {
      core.#own = new OwnAddresses(ownListeners(stack.listening(), options.advertisedNames));
    } catch (err) {
      await stack.close({ force: true });
      throw err;
    }
    core.#stack = stack;
    return core;
  }

  get stack(): SipStack {
    if (this.#stack === undefined) throw new Error('ProxyCore: not started');
    return this.#stack;
  }

  listening(): ReturnType<SipStack['listening']> {
    return this.stack.listening();
  }

  /** Response contexts alive (for tests and metrics: zero once every transaction has ended). */
  get contextCount(): number {
    return this.#contexts.size;
  }

  /**
   * Response contexts alive that have finished (final sent, every branch ended) and so hold no
   * request or branch any more, only what a late CANCEL or a stray 2xx needs (for tests and metrics).
   */
  get finishedContextCount(): number {
    let n = 0;
    for (const context of this.#contexts.values()) if (context.finished) n++;
    return n;
  }

  async close(options: { readonly force?: boolean } = {}): Promise<void> {
    for (const context of this.#contexts.values()) context.dispose();
    await this.stack.close(options);
  }

  #transactionUser(): TransactionUser {
    return {
      onRequest: (tx, request, context) => this.#onRequest(tx, request, context),
      onAck: (ack, context) => this.#guard('proxy-ack-failed', ack, this.#forwardAck(ack, context)),
      onStrayResponse: (response) => this.#onStrayResponse(response),
      onTransportError: (tx, failure) => this.#log('warn', 'proxy-response-not-sent', { method: tx.request.method, word: failure.reason, detail: failure.detail }),
      onCallbackError: (report) => this.#log('error', report.event, { callback: report.callback, transaction: report.transaction, method: report.method, callId: report.callId, detail: report.detail }),
    };
  }

  #onRequest(tx: ServerTransaction, request: SipRequest, context: TransportContext): void {
    if (this.#own === undefined || this.#stack === undefined) {
      // A datagram between the first listener and the last: not ready to route yet.
      const response = buildLocalResponse(request, answer(503, 'Service Unavailable', [['retry-after', '1']]));
      tx.respond(response);
      return;
    }
    if (request.method === 'CANCEL') {
      this.#cancel(tx, request);
      return;
    }
    this.#guard('proxy-request-failed', request, this.#route(tx, request, context, this.#own), tx);
  }

  /** Async work of one request: whatever it throws is logged, and the caller still gets a final (500). */
  #guard(event: string, request: SipRequest, work: Promise<void>, tx?: ServerTransaction): void {
    work.catch((err: unknown) => {
      this.#log('error', event, { method: request.method, callId: safeCallId(request), detail: err instanceof Error ? err.message : String(err) });
      if (tx === undefined || tx.terminated) return;
      const last = tx.lastResponse;
      if (last !== undefined && last.status >= 200) return;
      try {
        tx.respond(buildLocalResponse(request, answer(500, 'Server Internal Error')));
      } catch {
        // The transaction ended meanwhile: nothing left to answer.
      }
    });
  }

  async #route(tx: ServerTransaction, request: SipRequest, context: TransportContext, own: OwnAddresses): Promise<void> {
    const options = this.#options;
    const validation = validateRequest(request, { own, ...(options.proxyRequireSupported !== undefined ? { proxyRequireSupported: options.proxyRequireSupported } : {}) });
    if (!validation.ok) {
      this.#refuse(tx, request, validation.answer, validation.word);
      return;
    }
    const decision = await this.#inboundPolicy(request, context);
    if (decision.kind === 'refuse') {
      this.#policyRefuse(tx, request, context, decision);
      return;
    }
    // Route preprocessing works on a copy: the server transaction keeps the request as received.
    const routed = copyRequest(request);
    const pre = preprocessRoutes(routed, own);
    const maddr = this.#processMaddr(routed, context, own);
    const inDialog = request.toTag() !== undefined;
    const ourRoute = pre.ownRoutesRemoved > 0 || pre.strictRouterFixed;
    const requestUri = routed.uri as SipUri; // validateRequest: sip or sips
    const hasRoute = routed.routes().length > 0;
    // Section 16.5: a maddr naming another element makes the Request-URI the only target, even for
    // our domain; such a request leaves us, so it is relayed only for our own users.
    const elsewhere = maddr === 'target' && !hasRoute;
    const localTarget = !hasRoute && !elsewhere && options.localDomains.isLocal(requestUri.host);
    const recordRoute = !inDialog && !NO_RECORD_ROUTE.has(request.method);

    const flow = hasRoute ? undefined : this.#flowOf(pre.ownUris, routed, context);
    if (flow !== undefined) {
      // A dialog of a user reached over its flow: the request goes over that flow (RFC 5626 section 5.3).
      const rc = this.#newContext(tx, routed, context, validation.hash, false);
      rc.fork([{ requestUri: undefined, pushRoutes: [], label: `flow ${flow.transport}:${flow.address}:${flow.port}`, destinations: () => Promise.resolve({ kind: 'destinations', destinations: [flow] }) }]);
      return;
    }

    // A REGISTER names the domain in its Request-URI (section 10.2), which with one domain is also
    // the name the proxy advertises: it is the registrar's, not a request to the proxy itself.
    const register = request.method === 'REGISTER' && localTarget;
    const toDomainItself = requestUri.user === undefined && localTarget;
    if (!hasRoute && !elsewhere && !register && (own.isOwnUri(requestUri) || toDomainItself)) {
      // Addressed to the proxy or to the domain itself: OPTIONS is answered (section 11), nothing else is served here.
      if (request.method === 'OPTIONS') this.#reply(tx, request, answer(200, 'OK', [['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REGISTER']]));
      else this.#refuse(tx, request, answer(404, 'Not Found'), 'not-found');
      return;
    }

    if (localTarget) {
      if (request.method === 'REGISTER') {
        await options.registrar.handleRegister(tx, request, context);
        return;
      }
      const rc = this.#newContext(tx, routed, context, validation.hash, recordRoute);
      const sipsOnly = requestUri.scheme === 'sips';
      let lookup = await options.localUsers.lookup(requestUri, { sipsOnly });
      if (rc.finalSent) return; // Cancelled during the look-up: the caller has its 487.
      // A forward to a user of one of our domains is followed here: sent out, it would come back
      // from ourselves and be refused as another domain's request (mutual-tls). A cycle is a loop.
      const followed = [aorKey(requestUri)];
      let current = requestUri;
      while (lookup.kind === 'forward' && this.#isLocalTarget(lookup.target)) {
        const next = lookup.target;
        if (followed.includes(aorKey(next))) {
          this.#refuse(tx, request, answer(482, 'Loop Detected', [warning399(this.#agent(context, own), 'loop-detected', `call forwarding loops: ${[...followed, aorKey(next)].join(' -> ')}`)]), 'loop-detected');
          return;
        }
        this.#log('info', 'proxy-forwarded', { callId: safeCallId(request), from: current.toString(), to: next.toString() });
        followed.push(aorKey(next));
        current = next;
        lookup = await options.localUsers.lookup(next, { sipsOnly });
        if (rc.finalSent) return;
      }
      if (lookup.kind === 'forward') {
        // The user's call forwarding (users.yaml `forward:`): a new target in another domain,
        // reached like any other domain (RFC 3263, verified TLS). A sips request stays sips
        // (RFC 5630 section 3.1.3: the target of a SIPS Request-URI is reached over TLS to the end).
        const target = requestUri.scheme === 'sips' ? lookup.target.withScheme('sips') : lookup.target;
        this.#log('info', 'proxy-forwarded', { callId: safeCallId(request), from: current.toString(), to: target.toString() });
        await this.#forkOutbound(rc, target, target, true, context, request);
        return;
      }
      this.#forkLocal(tx, request, rc, lookup);
      return;
    }

    // The request leaves the domain (or goes to the next Route): only for our users (no open relay).
    if (!(inDialog && ourRoute) && request.method !== 'ACK') {
      if (!this.#fromLocalUser(request)) {
        this.#refuse(tx, request, answer(403, 'Forbidden', [warning399(this.#agent(context, own), 'relay-refused', 'neither from a user of this domain nor for it')]), 'relay-refused');
        return;
      }
      const authorization = options.authorizer.authorize(request, context);
      if (authorization.kind === 'refused') {
        const spec = authorization.response;
        this.#refuse(tx, request, answer(spec.status, spec.reason, spec.headers.map((h) => [h.name, h.value] as const)), 'not-authorized');
        return;
      }
      this.#log('debug', 'proxy-authorized', { user: authorization.user, method: request.method, callId: safeCallId(request) });
    }
    const hop = nextHopUri(routed);
    if (hop === undefined) {
      this.#refuse(tx, request, answer(416, 'Unsupported URI Scheme'), 'unsupported-uri-scheme');
      return;
    }
    const rc = this.#newContext(tx, routed, context, validation.hash, recordRoute);
    await this.#forkOutbound(rc, hop, undefined, !hasRoute, context, request);
  }

  /**
   * One branch to another domain: `uri` is located (RFC 3263) and becomes the Request-URI when
   * `requestUri` says so. With promote-sips, when the hop is the Request-URI (`isRequestUri`) and
   * TLS was chosen through NAPTR/SRV, the Request-URI goes as sips (draft-gurbani 5.3), so that
   * the far domain keeps TLS to the end (RFC 5630); the destinations are then located first.
   */
  async #forkOutbound(rc: ResponseContext, uri: SipUri, requestUri: SipUri | undefined, isRequestUri: boolean, context: TransportContext, request: SipRequest): Promise<void> {
    const label = uri.host;
    if (!isPromotable(uri, { promoteSips: this.#options.promoteSips === true, isRequestUri })) {
      rc.fork([{ requestUri, pushRoutes: [], label, destinations: () => this.#outboundDestinations(uri, context.transport, request) }]);
      return;
    }
    const list = await this.#outboundDestinations(uri, context.transport, request);
    if (rc.finalSent) return; // Cancelled while locating: the caller has its 487.
    const promoted = list.kind === 'destinations' ? promotedRequestUri(uri, list.throughSrv === true) : undefined;
    if (promoted !== undefined) this.#log('info', 'proxy-sips-promoted', { callId: safeCallId(request), from: uri.toString(), to: promoted.toString() });
    rc.fork([{ requestUri: promoted ?? requestUri, pushRoutes: [], label, destinations: () => Promise.resolve(list) }]);
  }

  /** Section 16.5 for a local domain: the bindings, or the answer that says why there are none. */
  #forkLocal(tx: ServerTransaction, request: SipRequest, rc: ResponseContext, lookup: LocalLookup): void {
    const agent = this.#agent(rc.context, this.#own as OwnAddresses);
    switch (lookup.kind) {
      case 'targets': {
        if (lookup.targets.length === 0) {
          this.#refuse(tx, request, answer(480, 'Temporarily Unavailable', [warning399(agent, 'not-registered', 'no registered contact')]), 'not-registered');
          return;
        }
        // Section 16.6: bindings of different q are tried highest first, a group at a time.
        const groups = groupsByQ(lookup.targets).map((group) => group.map((t): BranchTarget => ({
          requestUri: t.uri,
          pushRoutes: t.path,
          label: t.uri.toString(),
          flow: t.destination,
          destinations: () => Promise.resolve({ kind: 'destinations', destinations: [t.destination] }),
        })));
        rc.forkInOrder(groups);
        return;
      }
      case 'unknown-user':
        this.#refuse(tx, request, answer(404, 'Not Found'), 'unknown-user');
        return;
      case 'unavailable':
        this.#refuse(tx, request, unavailableAnswer(agent, lookup), lookup.why);
        return;
      case 'store-failed':
        this.#log('error', 'proxy-location-failed', { callId: safeCallId(request), detail: lookup.detail });
        this.#refuse(tx, request, answer(500, 'Server Internal Error', [['retry-after', String(lookup.retryAfterS)], warning399(agent, 'location-unavailable', 'the location store did not answer')]), 'location-unavailable');
        return;
    }
  }

  #newContext(tx: ServerTransaction, routed: SipRequest, context: TransportContext, hash: string, recordRoute: boolean): ResponseContext {
    const rc = new ResponseContext(
      {
        layer: this.stack.transactions,
        own: this.#own as OwnAddresses,
        clock: this.#clock,
        timerCMs: this.#timerCMs,
        log: this.#log,
        flowTokens: this.#flowTokens,
        indexBranch: (branch, owner) => {
          this.#byBranch.set(branch, owner);
          this.#branchesOf.get(owner)?.push(branch);
        },
      },
      tx, routed, context, hash, recordRoute,
    );
    this.#contexts.set(tx.key, rc);
    this.#branchesOf.set(rc, []);
    tx.onTerminated = () => {
      rc.dispose();
      if (this.#contexts.get(tx.key) === rc) this.#contexts.delete(tx.key);
      for (const branch of this.#branchesOf.get(rc) ?? []) this.#byBranch.delete(branch);
      this.#branchesOf.delete(rc);
    };
    return rc;
  }

  /** Section 16.10: 200 to the CANCEL, then CANCEL of every pending branch; 481 when nothing matches. */
  #cancel(tx: ServerTransaction, cancel: SipRequest): void {
    const layer = this.stack.transactions;
    const invite = layer.findInviteServerTxForCancel(cancel);
    if (invite === undefined) {
      this.#refuse(tx, cancel, answer(481, 'Call/Transaction Does Not Exist'), 'no-transaction');
      return;
    }
    this.#reply(tx, cancel, answer(200, 'OK'));
    const rc = this.#contexts.get(invite.key);
    if (rc !== undefined) {
      // RFC 3326 section 2: the caller's Reason goes on with the CANCELs.
      rc.cancelPending(cancel.header('reason'));
      return;
    }
    const last = invite.lastResponse;
    if (last === undefined || last.status < 200) invite.respond(buildResponse(invite.request, 487, 'Request Terminated', { toTag: newTag() }));
  }

  /** Section 16.11 for the ACK of a 2xx (and any ACK the layer passes up): forwarded by its Route, never answered. */
  async #forwardAck(ack: SipRequest, context: TransportContext): Promise<void> {
    const own = this.#own;
    if (own === undefined) return;
    const validation = validateRequest(ack, { own, proxyRequireSupported: this.#options.proxyRequireSupported ?? [] });
    if (!validation.ok) {
      this.#log('info', 'proxy-ack-dropped', { word: validation.word, callId: safeCallId(ack) });
      return;
    }
    const decision = await this.#inboundPolicy(ack, context);
    if (decision.kind === 'refuse') {
      // An ACK cannot be answered (section 17.2.3): the refusal is logged and counted, the ACK dropped.
      this.#logPolicyRefusal(ack, context, decision);
      return;
    }
    const routed = copyRequest(ack);
    const pre = preprocessRoutes(routed, own);
    const maddr = this.#processMaddr(routed, context, own);
    const requestUri = routed.uri as SipUri;
    const hasRoute = routed.routes().length > 0;
    const ourRoute = pre.ownRoutesRemoved > 0 || pre.strictRouterFixed;
    const localTarget = !(maddr === 'target' && !hasRoute) && this.#options.localDomains.isLocal(requestUri.host);
    // Every dialog through us is record-routed: an ACK without our Route is not ours to relay.
    if (!ourRoute && !localTarget) {
      this.#log('info', 'proxy-ack-dropped', { word: 'relay-refused', callId: safeCallId(ack) });
      return;
    }
    const flow = hasRoute ? undefined : this.#flowOf(pre.ownUris, routed, context);
    const hop = nextHopUri(routed);
    if (flow === undefined && (hop === undefined || (!hasRoute && localTarget))) {
      this.#log('info', 'proxy-ack-dropped', { word: 'no-target', callId: safeCallId(ack) });
      return;
    }
    const list: DestinationList = flow !== undefined ? { kind: 'destinations', destinations: [flow] } : await this.#outboundDestinations(hop as SipUri, context.transport, ack);
    if (list.kind === 'none') {
      this.#log('info', 'proxy-ack-dropped', { word: list.word, callId: safeCallId(ack), detail: list.detail });
      return;
    }
    const inbound = own.listenerAt(context.transport, context.local) ?? own.listeners[0];
    const branch = statelessBranch(validation.hash, ack);
    for (const destination of list.destinations) {
      const copy = forwardCopy(routed, { requestUri: undefined, pushRoutes: [], recordRoute: [], via: viaValue(destination.transport, own.listenerFor(destination.transport), inbound?.name ?? 'sipsec', branch) });
      try {
        await this.stack.transactions.sendStateless(copy, destination);
        return;
      } catch (err) {
        this.#log('info', 'proxy-ack-not-sent', { callId: safeCallId(ack), destination: `${destination.transport}:${destination.address}:${destination.port}`, detail: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** A URI served here: one of our domains, with no maddr sending it elsewhere. */
  #isLocalTarget(uri: SipUri): boolean {
    return uri.param('maddr') === undefined && this.#options.localDomains.isLocal(uri.host);
  }

  /** Section 16.4's maddr rule on the routed copy (route-processing.ts), logged when it changes where the request goes. */
  #processMaddr(routed: SipRequest, context: TransportContext, own: OwnAddresses): MaddrOutcome {
    const before = routed.uri;
    const outcome = processMaddr(routed, (host) => own.isOwnHost(host) || this.#options.localDomains.isLocal(host), { transport: context.transport, port: context.local.port });
    if (outcome !== 'absent') this.#log('debug', 'proxy-maddr', { outcome, method: routed.method, callId: safeCallId(routed), requestUri: before.toString() });
    return outcome;
  }

  #onStrayResponse(response: SipResponse): void {
    const branch = topBranch(response);
    const rc = branch === undefined ? undefined : this.#byBranch.get(branch);
    if (rc === undefined) {
      this.#log('debug', 'proxy-stray-response-dropped', { status: response.status, callId: safeCallId(response) });
      return;
    }
    rc.forwardStray(response);
  }

  /**
   * The next hop's destinations (RFC 3263 through the OutboundRouter), or why there are none. The
   * verification rule of the hop is logged (`proxy-hop-located`); a DNSSEC policy that refused
   * every destination is logged and counted as a policy refusal, and the branch ends like any hop
   * that cannot be sent (503 with the word, 500 to the caller: section 16.7 step 6).
   */
  async #outboundDestinations(uri: SipUri, receivedOn: TransportProtocol, request: SipRequest): Promise<DestinationList & { readonly throughSrv?: boolean }> {
    let result;
    try {
      result = await this.#options.outbound.destinations(uri, { receivedOn, fromDomain: fromDomainOf(request) });
    } catch (err) {
      return { kind: 'none', word: 'no-destination', detail: `${uri.host}: ${err instanceof Error ? err.message : String(err)}` };
    }
    const hops = result.hops ?? [];
    const rules = {
      rule: distinct(hops.map((h) => h.rule)), dnssec: distinct(hops.map((h) => h.dnssec)),
      require: result.require === undefined ? undefined : [result.require.dnssec ? 'dnssec' : '', result.require.dane ? 'dane' : ''].filter((w) => w !== '').join(',') || 'none',
    };
    if (result.refusal !== undefined) {
      const { word, detail } = result.refusal;
      this.metrics.refusals.inc({ word, status: String(HOP_REFUSED_STATUS) });
      this.#log('warn', 'policy-refused', {
        word: word satisfies HopPolicyWord, status: HOP_REFUSED_STATUS, method: request.method, callId: safeCallId(request), target: uri.host, detail,
        require: rules.require, lookups: result.located.lookups.map((l) => `${l.type} ${l.name} ${l.state}`),
      });
      return { kind: 'none', word, detail, logged: true };
    }
    if (result.destinations.length > 0) {
      this.#log('info', 'proxy-hop-located', {
        method: request.method, callId: safeCallId(request), target: uri.host, ...rules,
        destinations: result.destinations.map((d) => `${d.destination.transport}:${d.destination.address}:${d.destination.port}`),
      });
      // TLS chosen through NAPTR/SRV (draft-gurbani 5.3): what promote-sips asks for.
      return { kind: 'destinations', destinations: result.destinations.map((d) => d.destination), throughSrv: chosenThroughSrv(result.destinations) };
    }
    const failed = result.failedLookups;
    const bogus = failed.find((l) => l.state === 'bogus');
    const indeterminate = failed.find((l) => l.state === 'indeterminate');
    if (bogus !== undefined) return { kind: 'none', word: 'dnssec-bogus', detail: `${bogus.type} ${bogus.name} is bogus` };
    if (indeterminate !== undefined) return { kind: 'none', word: 'dnssec-indeterminate', detail: `${indeterminate.type} ${indeterminate.name} is indeterminate` };
    const first = failed[0];
    return { kind: 'none', word: 'no-destination', detail: first === undefined ? `no SIP server found for ${uri.host}` : `${first.type} ${first.name}: ${first.failure ?? first.result}` };
  }

  /** The flow named by a token in our removed Route entries, for a request from the caller of that dialog. */
  #flowOf(ownUris: readonly SipUri[], request: SipRequest, context: TransportContext): Destination | undefined {
    for (const uri of ownUris) {
      const token = uri.param(FLOW_PARAM);
      if (typeof token !== 'string') continue;
      const decoded = this.#flowTokens.decode(token);
      if (decoded === undefined) {
        this.#log('info', 'proxy-flow-token-refused', { remote: `${context.remote.address}:${context.remote.port}` });
        return undefined;
      }
      // The caller's requests go toward the callee; the callee's (another From tag) toward the caller.
      return request.fromTag() === decoded.fromTag ? decoded.toCallee : decoded.toCaller;
    }
    return undefined;
  }

  #fromLocalUser(request: SipRequest): boolean {
    const from = request.from().uri;
    return from.type === 'sip' && this.#options.localDomains.isLocal(from.host);
  }

  #refuse(tx: ServerTransaction, request: SipRequest, spec: LocalAnswer, word: ProxyRoutingWord | HopPolicyWord): void {
    this.#log('info', 'proxy-request-refused', { status: spec.status, word, method: request.method, callId: safeCallId(request) });
    this.metrics.refusals.inc({ word, status: String(spec.status) });
    // Every refusal names its check in a Warning (seed 001: "no error codes, warnings"), except a
    // challenge (its own headers say what to do) and an unknown user (the log has the word).
    const named = spec.headers.some(([name]) => name === 'warning') || WORD_IN_LOG_ONLY.has(word);
    this.#reply(tx, request, named ? spec : { ...spec, headers: [...spec.headers, warning399(this.#agent(tx.context, this.#own as OwnAddresses), word, spec.reason)] });
  }

  /** The inbound policy's decision; a policy that throws refuses nothing (its error is the guard's 500). */
  async #inboundPolicy(request: SipRequest, context: TransportContext): Promise<PolicyDecision> {
    const policy = this.#options.inboundPolicy;
    return policy === undefined ? PASS : await policy.check(request, context);
  }

  /** A policy refusal (issue 15): at once, with Warning 399 and Reason naming the check, logged with its evidence, counted. */
  #policyRefuse(tx: ServerTransaction, request: SipRequest, context: TransportContext, decision: Extract<PolicyDecision, { kind: 'refuse' }>): void {
    this.#logPolicyRefusal(request, context, decision);
    const agent = this.#agent(context, this.#own as OwnAddresses);
    this.#reply(tx, request, answer(decision.status, decision.reasonPhrase, [warning399(agent, decision.word, decision.text), reasonHeader(decision.status, decision.word)]));
  }

  #logPolicyRefusal(request: SipRequest, context: TransportContext, decision: Extract<PolicyDecision, { kind: 'refuse' }>): void {
    this.metrics.refusals.inc({ word: decision.word, status: String(decision.status) });
    this.#log('warn', 'policy-refused', {
      ...decision.evidence,
      word: decision.word satisfies HopPolicyWord, status: decision.status, method: request.method, callId: safeCallId(request),
      remote: `${context.transport}:${context.remote.address}:${context.remote.port}`, detail: decision.text,
    });
  }

  #reply(tx: ServerTransaction, request: SipRequest, spec: LocalAnswer): void {
    tx.respond(buildLocalResponse(request, spec));
  }

  #agent(context: TransportContext, own: OwnAddresses): string {
    const listener = own.listenerAt(context.transport, context.local) ?? own.listeners[0];
    return listener === undefined ? 'sipsec' : `${listener.name}:${listener.port}`;
  }
}

/** A copy to change (header fields are immutable values: a shallow copy of the list is enough). */
function copyRequest(request: SipRequest): SipRequest {
  return new Request(request.method, request.uri, [...request.headers], request.body, request.version, request.headerEncoding);
}

/** Refusals whose word stays in the log (see #refuse). */
const WORD_IN_LOG_ONLY: ReadonlySet<string> = new Set<ProxyRoutingWord>(['not-authorized', 'unknown-user']);

const PASS: PolicyDecision = Object.freeze({ kind: 'pass' });

/**
 * What the caller of a request whose hop a DNSSEC policy refused gets: the branch ends with 503
 * like every hop that cannot be sent, and section 16.7 step 6 makes that 500 (docs/PROXY.md).
 */
const HOP_REFUSED_STATUS = 500;

/** The distinct values in order, comma-joined: one word when every destination agrees. */
function distinct(values: readonly string[]): string | undefined {
  return values.length === 0 ? undefined : [...new Set(values)].join(',');
}

/** An address of record as compared for call forwarding loops: user@host, the host in lower case. */
function aorKey(uri: SipUri): string {
  return `${uri.user ?? ''}@${uri.host.toLowerCase()}`;
}

/** The From URI's host, lower case, when it is a sip or sips URI that parses. */
function fromDomainOf(request: SipRequest): string | undefined {
  try {
    const from = request.from().uri;
    return from.type === 'sip' ? from.host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

