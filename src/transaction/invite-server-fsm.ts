import type { SipRequest, SipResponse } from '../sip/message.js';
import { isProvisional, isSuccess, waitOrTerminate, type Step, type TimerName, type TransportFailure, type TxAction, type TxConfig, failOnTransportError } from './fsm.js';

/**
 * The INVITE server transaction, RFC 3261 section 17.2.1 and Figure 7, with the Accepted state of
 * RFC 6026 section 7.1, as a pure reducer.
 *
 *   proceeding --INVITE: resend last 1xx--> proceeding;  proceeding --1xx from TU: send--> proceeding
 *   proceeding --2xx from TU: send--> accepted --Timer L--> terminated            (RFC 6026)
 *   proceeding --300-699 from TU: send--> completed
 *   completed --INVITE: resend final; Timer G: resend, G=min(2G,T2)--> completed
 *   completed --ACK--> confirmed --Timer I--> terminated;  completed --Timer H: to TU--> terminated
 *   accepted --INVITE: absorbed; 2xx from TU: send; ACK: to TU--> accepted
 *   any --transport error: to TU--> terminated
 *
 * RFC 3261 alone terminates on a 2xx, and INVITE retransmissions that arrive afterwards would
 * start new transactions; Accepted absorbs them for 64*T1, which is why RFC 6026 added it.
 */
export type InviteServerStateName = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

export interface InviteServerState {
  readonly name: InviteServerStateName;
  /** The last response sent, resent when the INVITE is retransmitted. */
  readonly lastResponse: SipResponse | undefined;
  /** The next Timer G interval. */
  readonly timerGMs: number;
}

export type InviteServerEvent =
  /** The INVITE again (a retransmission) or an ACK matched to this transaction. */
  | { readonly type: 'requestReceived'; readonly request: SipRequest }
  | { readonly type: 'tuResponse'; readonly response: SipResponse }
  | { readonly type: 'timerFired'; readonly timer: TimerName }
  | { readonly type: 'transportError'; readonly failure: TransportFailure };

/** Section 17.2.1: the transaction starts in Proceeding; the runner sends 100 Trying for it. */
export function startInviteServer(config: TxConfig): Step<InviteServerState> {
  return { state: { name: 'proceeding', lastResponse: undefined, timerGMs: config.timers.t1Ms }, actions: [] };
}

export function reduceInviteServer(state: InviteServerState, event: InviteServerEvent, config: TxConfig): Step<InviteServerState> {
  if (state.name === 'terminated') return { state, actions: [] };
  switch (event.type) {
    case 'requestReceived':
      return onRequest(state, event.request, config);
    case 'tuResponse':
      return onTuResponse(state, event.response, config);
    case 'timerFired':
      return onTimer(state, event.timer, config);
    case 'transportError':
      return failOnTransportError(state, TIMERS, event.failure);
  }
}

function onRequest(state: InviteServerState, request: SipRequest, config: TxConfig): Step<InviteServerState> {
  if (request.method === 'ACK') {
    // Section 17.2.1: an ACK in Completed stops G and H and starts Timer I (zero on reliable transports).
    if (state.name === 'completed') {
      const timerIMs = config.reliable ? 0 : config.timers.timerIMs;
      return {
        state: { ...state, name: timerIMs > 0 ? 'confirmed' : 'terminated' },
        actions: [
          { type: 'stopTimer', timer: 'timerG' },
          { type: 'stopTimer', timer: 'timerH' },
          ...waitOrTerminate('timerI', timerIMs),
        ],
      };
    }
    // RFC 6026 section 7.1: in Accepted the ACK (for the 2xx) goes to the TU.
    if (state.name === 'accepted') return { state, actions: [{ type: 'deliverRequest', request }] };
    // Confirmed absorbs ACK retransmissions; an ACK in Proceeding acknowledges nothing and is dropped.
    return { state, actions: [] };
  }
  // A retransmitted INVITE: Proceeding and Completed resend the last response; Accepted and Confirmed absorb it.
  if ((state.name === 'proceeding' || state.name === 'completed') && state.lastResponse !== undefined) {
    return { state, actions: [{ type: 'send', message: state.lastResponse }] };
  }
  return { state, actions: [] };
}

function onTuResponse(state: InviteServerState, response: SipResponse, config: TxConfig): Step<InviteServerState> {
  const status = response.status;
  if (state.name === 'proceeding') {
    if (isProvisional(status)) return { state: { ...state, lastResponse: response }, actions: [{ type: 'send', message: response }] };
    if (isSuccess(status)) {
      return {
        state: { ...state, name: 'accepted', lastResponse: response },
        actions: [{ type: 'send', message: response }, { type: 'startTimer', timer: 'timerL', delayMs: config.timers.timerLMs }],
      };
    }
    if (status >= 300 && status < 700) {
      const actions: TxAction[] = [{ type: 'send', message: response }];
      if (!config.reliable) actions.push({ type: 'startTimer', timer: 'timerG', delayMs: config.timers.t1Ms });
      actions.push({ type: 'startTimer', timer: 'timerH', delayMs: config.timers.timerHMs });
      return { state: { ...state, name: 'completed', lastResponse: response, timerGMs: config.timers.t1Ms }, actions };
    }
  }
  // RFC 6026 section 7.1: the TU's retransmissions of its 2xx (section 13.3.1.4) pass through Accepted.
  if (state.name === 'accepted' && isSuccess(status)) return { state, actions: [{ type: 'send', message: response }] };
  return { state, actions: [] };
}

function onTimer(state: InviteServerState, timer: TimerName, config: TxConfig): Step<InviteServerState> {
  if (timer === 'timerG' && state.name === 'completed' && state.lastResponse !== undefined) {
    const next = Math.min(state.timerGMs * 2, config.timers.t2Ms);
    return {
      state: { ...state, timerGMs: next },
      actions: [{ type: 'send', message: state.lastResponse }, { type: 'startTimer', timer: 'timerG', delayMs: next }],
    };
  }
  if (timer === 'timerH' && state.name === 'completed') {
    return { state: { ...state, name: 'terminated' }, actions: [...stopAll(), { type: 'terminate' }, { type: 'deliverTimeout', timer: 'timerH' }] };
  }
  if ((timer === 'timerI' && state.name === 'confirmed') || (timer === 'timerL' && state.name === 'accepted')) {
    return { state: { ...state, name: 'terminated' }, actions: [{ type: 'terminate' }] };
  }
  return { state, actions: [] };
}

/** The timers this state machine runs, all stopped when it ends early. */
const TIMERS: readonly TimerName[] = ['timerG', 'timerH', 'timerI', 'timerL'];

function stopAll(): TxAction[] {
  return TIMERS.map((timer) => ({ type: 'stopTimer', timer }));
}
