import type { SipResponse } from '../sip/message.js';
import { isProvisional, waitOrTerminate, type Step, type TimerName, type TransportFailure, type TxAction, failOnTransportError } from './fsm.js';
import type { ClientTxConfig } from './invite-client-fsm.js';

/**
 * The non-INVITE client transaction, RFC 3261 section 17.1.2 and Figure 6, as a pure reducer.
 *
 *   trying --1xx: to TU--> proceeding --1xx: to TU--> proceeding
 *   trying|proceeding --200-699: to TU--> completed --Timer K--> terminated
 *   trying --Timer E: resend, E=min(2E,T2)--> trying;  proceeding --Timer E: resend, E=T2--> proceeding
 *   trying|proceeding --Timer F: timeout to TU--> terminated
 *   any --transport error: to TU--> terminated
 */
export type NonInviteClientStateName = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NonInviteClientState {
  readonly name: NonInviteClientStateName;
  /** The next Timer E interval. */
  readonly timerEMs: number;
}

export type NonInviteClientEvent =
  | { readonly type: 'responseReceived'; readonly response: SipResponse }
  | { readonly type: 'timerFired'; readonly timer: TimerName }
  | { readonly type: 'transportError'; readonly failure: TransportFailure };

/** Section 17.1.2.2: send the request; Timer E (unreliable transports only) and Timer F. */
export function startNonInviteClient(config: ClientTxConfig): Step<NonInviteClientState> {
  const { t1Ms, timerFMs } = config.timers;
  const actions: TxAction[] = [{ type: 'send', message: config.request }];
  if (!config.reliable) actions.push({ type: 'startTimer', timer: 'timerE', delayMs: t1Ms });
  actions.push({ type: 'startTimer', timer: 'timerF', delayMs: timerFMs });
  return { state: { name: 'trying', timerEMs: t1Ms }, actions };
}

export function reduceNonInviteClient(
  state: NonInviteClientState,
  event: NonInviteClientEvent,
  config: ClientTxConfig,
): Step<NonInviteClientState> {
  if (state.name === 'terminated') return { state, actions: [] };
  switch (event.type) {
    case 'responseReceived': {
      const response = event.response;
      // Completed absorbs retransmitted final responses until Timer K fires.
      if (state.name === 'completed') return { state, actions: [] };
      if (isProvisional(response.status)) {
        return { state: { ...state, name: 'proceeding' }, actions: [{ type: 'deliverResponse', response }] };
      }
      if (response.status >= 200 && response.status < 700) {
        const timerKMs = config.reliable ? 0 : config.timers.timerKMs;
        return {
          state: { ...state, name: timerKMs > 0 ? 'completed' : 'terminated' },
          actions: [
            { type: 'stopTimer', timer: 'timerE' },
            { type: 'stopTimer', timer: 'timerF' },
            ...waitOrTerminate('timerK', timerKMs),
            { type: 'deliverResponse', response },
          ],
        };
      }
      return { state, actions: [] };
    }
    case 'timerFired':
      return onTimer(state, event.timer, config);
    case 'transportError':
      return failOnTransportError(state, TIMERS, event.failure);
  }
}

function onTimer(state: NonInviteClientState, timer: TimerName, config: ClientTxConfig): Step<NonInviteClientState> {
  const { t2Ms } = config.timers;
  if (timer === 'timerE' && (state.name === 'trying' || state.name === 'proceeding')) {
    // Section 17.1.2.2: doubling capped at T2 in Trying; T2 flat in Proceeding.
    const next = state.name === 'trying' ? Math.min(state.timerEMs * 2, t2Ms) : t2Ms;
    return {
      state: { ...state, timerEMs: next },
      actions: [{ type: 'send', message: config.request }, { type: 'startTimer', timer: 'timerE', delayMs: next }],
    };
  }
  if (timer === 'timerF' && (state.name === 'trying' || state.name === 'proceeding')) {
    return { state: { ...state, name: 'terminated' }, actions: [...stopAll(), { type: 'terminate' }, { type: 'deliverTimeout', timer: 'timerF' }] };
  }
  if (timer === 'timerK' && state.name === 'completed') {
    return { state: { ...state, name: 'terminated' }, actions: [{ type: 'terminate' }] };
  }
  return { state, actions: [] };
}

/** The timers this state machine runs, all stopped when it ends early. */
const TIMERS: readonly TimerName[] = ['timerE', 'timerF', 'timerK'];

function stopAll(): TxAction[] {
  return TIMERS.map((timer) => ({ type: 'stopTimer', timer }));
}
