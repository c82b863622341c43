import type { SipRequest, SipResponse } from '../sip/message.js';
import { buildAckForNon2xx } from './ack-request.js';
import { isProvisional, isSuccess, waitOrTerminate, type Step, type TimerName, type TransportFailure, type TxAction, type TxConfig, failOnTransportError } from './fsm.js';

/**
 * The INVITE client transaction, RFC 3261 section 17.1.1 and Figure 5, as a pure reducer.
 *
 *   calling --1xx--> proceeding --1xx--> proceeding
 *   calling|proceeding --2xx: to TU--> terminated
 *   calling|proceeding --300-699: send ACK, to TU--> completed --Timer D--> terminated
 *   calling --Timer A: resend, A*=2--> calling;  calling --Timer B: timeout to TU--> terminated
 *   any --transport error: to TU--> terminated
 *
 * Timer B runs only in Calling (Figure 5); a proxy bounds Proceeding with Timer C (section 16.6).
 */
export type InviteClientStateName = 'calling' | 'proceeding' | 'completed' | 'terminated';

export interface InviteClientState {
  readonly name: InviteClientStateName;
  /** The next Timer A interval: T1, then doubling without cap (section 17.1.1.2). */
  readonly timerAMs: number;
  /** The ACK sent for the non-2xx final response, resent for each retransmission of it. */
  readonly ack: SipRequest | undefined;
}

export type InviteClientEvent =
  | { readonly type: 'responseReceived'; readonly response: SipResponse }
  | { readonly type: 'timerFired'; readonly timer: TimerName }
  | { readonly type: 'transportError'; readonly failure: TransportFailure };

export interface ClientTxConfig extends TxConfig {
  /** The request the transaction sends (and whose top Via branch is its key). */
  readonly request: SipRequest;
}

/** Section 17.1.1.2: send the INVITE; Timer A (unreliable transports only) and Timer B. */
export function startInviteClient(config: ClientTxConfig): Step<InviteClientState> {
  const { t1Ms, timerBMs } = config.timers;
  const actions: TxAction[] = [{ type: 'send', message: config.request }];
  if (!config.reliable) actions.push({ type: 'startTimer', timer: 'timerA', delayMs: t1Ms });
  actions.push({ type: 'startTimer', timer: 'timerB', delayMs: timerBMs });
  return { state: { name: 'calling', timerAMs: t1Ms, ack: undefined }, actions };
}

export function reduceInviteClient(state: InviteClientState, event: InviteClientEvent, config: ClientTxConfig): Step<InviteClientState> {
  if (state.name === 'terminated') return { state, actions: [] };
  switch (event.type) {
    case 'responseReceived':
      return onResponse(state, event.response, config);
    case 'timerFired':
      return onTimer(state, event.timer, config);
    case 'transportError':
      return failOnTransportError(state, TIMERS, event.failure);
  }
}

function onResponse(state: InviteClientState, response: SipResponse, config: ClientTxConfig): Step<InviteClientState> {
  const status = response.status;
  if (state.name === 'completed') {
    // Section 17.1.1.2: a retransmitted final response is answered with the ACK again, not passed up.
    if (status >= 300 && state.ack !== undefined) return { state, actions: [{ type: 'send', message: state.ack }] };
    return { state, actions: [] };
  }
  if (isProvisional(status)) {
    if (state.name === 'calling') {
      return {
        state: { ...state, name: 'proceeding' },
        actions: [{ type: 'stopTimer', timer: 'timerA' }, { type: 'stopTimer', timer: 'timerB' }, { type: 'deliverResponse', response }],
      };
    }
    return { state, actions: [{ type: 'deliverResponse', response }] };
  }
  if (isSuccess(status)) {
    // Section 17.1.1.2: a 2xx goes to the TU, which sends the ACK (section 13.2.2.4); the transaction ends.
    return { state: { ...state, name: 'terminated' }, actions: [...stopAll(), { type: 'terminate' }, { type: 'deliverResponse', response }] };
  }
  if (status >= 300 && status < 700) {
    const ack = buildAckForNon2xx(config.request, response);
    const timerDMs = config.reliable ? 0 : config.timers.timerDMs;
    return {
      state: { ...state, name: timerDMs > 0 ? 'completed' : 'terminated', ack },
      actions: [
        { type: 'stopTimer', timer: 'timerA' },
        { type: 'stopTimer', timer: 'timerB' },
        { type: 'send', message: ack },
        ...waitOrTerminate('timerD', timerDMs),
        { type: 'deliverResponse', response },
      ],
    };
  }
  return { state, actions: [] };
}

function onTimer(state: InviteClientState, timer: TimerName, config: ClientTxConfig): Step<InviteClientState> {
  if (timer === 'timerA' && state.name === 'calling') {
    const next = state.timerAMs * 2;
    return {
      state: { ...state, timerAMs: next },
      actions: [{ type: 'send', message: config.request }, { type: 'startTimer', timer: 'timerA', delayMs: next }],
    };
  }
  if (timer === 'timerB' && state.name === 'calling') {
    return { state: { ...state, name: 'terminated' }, actions: [...stopAll(), { type: 'terminate' }, { type: 'deliverTimeout', timer: 'timerB' }] };
  }
  if (timer === 'timerD' && state.name === 'completed') {
    return { state: { ...state, name: 'terminated' }, actions: [{ type: 'terminate' }] };
  }
  return { state, actions: [] };
}

/** The timers this state machine runs, all stopped when it ends early. */
const TIMERS: readonly TimerName[] = ['timerA', 'timerB', 'timerD'];

function stopAll(): TxAction[] {
  return TIMERS.map((timer) => ({ type: 'stopTimer', timer }));
}
