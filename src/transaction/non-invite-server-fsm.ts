import type { SipRequest, SipResponse } from '../sip/message.js';
import { isProvisional, waitOrTerminate, type Step, type TimerName, type TransportFailure, type TxConfig, failOnTransportError } from './fsm.js';

/**
 * The non-INVITE server transaction, RFC 3261 section 17.2.2 and Figure 8, as a pure reducer.
 *
 *   trying --request: absorbed--> trying;  trying|proceeding --1xx from TU: send--> proceeding
 *   proceeding --request: resend last 1xx--> proceeding
 *   trying|proceeding --200-699 from TU: send--> completed --Timer J--> terminated
 *   completed --request: resend final--> completed (other TU responses discarded)
 *   any --transport error: to TU--> terminated
 *   trying|proceeding --TU abandons: no response--> completed (absorbs) --Timer J--> terminated
 *
 * The last is RFC 4320 section 4.2: an element that cannot answer before the transaction expires
 * sends no final at all (never a 408); the transaction still absorbs retransmissions for Timer J.
 */
export type NonInviteServerStateName = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NonInviteServerState {
  readonly name: NonInviteServerStateName;
  readonly lastResponse: SipResponse | undefined;
}

export type NonInviteServerEvent =
  | { readonly type: 'requestReceived'; readonly request: SipRequest }
  | { readonly type: 'tuResponse'; readonly response: SipResponse }
  | { readonly type: 'timerFired'; readonly timer: TimerName }
  | { readonly type: 'transportError'; readonly failure: TransportFailure }
  | { readonly type: 'tuAbandon' };

export function startNonInviteServer(): Step<NonInviteServerState> {
  return { state: { name: 'trying', lastResponse: undefined }, actions: [] };
}

export function reduceNonInviteServer(state: NonInviteServerState, event: NonInviteServerEvent, config: TxConfig): Step<NonInviteServerState> {
  if (state.name === 'terminated') return { state, actions: [] };
  switch (event.type) {
    case 'requestReceived':
      // Trying absorbs retransmissions; Proceeding and Completed answer them with the last response.
      if (state.name !== 'trying' && state.lastResponse !== undefined) return { state, actions: [{ type: 'send', message: state.lastResponse }] };
      return { state, actions: [] };
    case 'tuResponse': {
      const response = event.response;
      if (state.name === 'completed') return { state, actions: [] };
      if (isProvisional(response.status)) {
        return { state: { name: 'proceeding', lastResponse: response }, actions: [{ type: 'send', message: response }] };
      }
      if (response.status >= 200 && response.status < 700) {
        const timerJMs = config.reliable ? 0 : config.timers.timerJMs;
        return {
          state: { name: timerJMs > 0 ? 'completed' : 'terminated', lastResponse: response },
          actions: [{ type: 'send', message: response }, ...waitOrTerminate('timerJ', timerJMs)],
        };
      }
      return { state, actions: [] };
    }
    case 'timerFired':
      if (event.timer === 'timerJ' && state.name === 'completed') return { state: { ...state, name: 'terminated' }, actions: [{ type: 'terminate' }] };
      return { state, actions: [] };
    case 'transportError':
      return failOnTransportError(state, ['timerJ'], event.failure);
    case 'tuAbandon': {
      if (state.name === 'completed') return { state, actions: [] };
      const timerJMs = config.reliable ? 0 : config.timers.timerJMs;
      return { state: { name: timerJMs > 0 ? 'completed' : 'terminated', lastResponse: undefined }, actions: waitOrTerminate('timerJ', timerJMs) };
    }
  }
}
