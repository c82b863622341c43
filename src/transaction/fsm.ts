import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import type { TxTimers } from '../limits.js';
import type { TransactionFailureWord, TransportFailureWord } from '../vocabulary.js';

/** RFC 3261 section 17 timer names (Table 4) and RFC 6026 Timer L. */
export type TimerName = 'timerA' | 'timerB' | 'timerD' | 'timerE' | 'timerF' | 'timerG' | 'timerH' | 'timerI' | 'timerJ' | 'timerK' | 'timerL';

/** Why a send failed, in the vocabulary (src/vocabulary.ts: transport and transaction failures). */
export interface TransportFailure {
  readonly reason: TransportFailureWord | TransactionFailureWord;
  readonly detail: string;
  readonly error: unknown;
}

/**
 * What a reducer asks its runner to do, in order: the runner applies timer and send actions, then
 * `terminate`, then deliveries, so that a TU called back sees the transaction's final state.
 */
export type TxAction =
  | { readonly type: 'send'; readonly message: SipMessage }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly delayMs: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  /** Client: a response for the TU (1xx, 2xx, 300-699). */
  | { readonly type: 'deliverResponse'; readonly response: SipResponse }
  /** Server: a request for the TU (an ACK in RFC 6026 Accepted). */
  | { readonly type: 'deliverRequest'; readonly request: SipRequest }
  /** Timer B, F (client: the TU gets a 408) or H (server: no ACK came). */
  | { readonly type: 'deliverTimeout'; readonly timer: 'timerB' | 'timerF' | 'timerH' }
  /** Section 17.1.4 / 17.2.4: the client TU gets a 503 at once; the server TU is told. */
  | { readonly type: 'deliverTransportError'; readonly failure: TransportFailure }
  | { readonly type: 'terminate' };

export interface Step<S> {
  readonly state: S;
  readonly actions: readonly TxAction[];
}

/** What every reducer reads besides state and event: fixed for the life of one transaction. */
export interface TxConfig {
  readonly timers: TxTimers;
  /** Section 17.1.1.2: reliable transports run no retransmission timers and zero wait timers. */
  readonly reliable: boolean;
}

export function isProvisional(status: number): boolean {
  return status >= 100 && status < 200;
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

export function isFinal(status: number): boolean {
  return status >= 200 && status < 700;
}

/** The actions that enter a wait state: start the timer, or terminate at once when it is zero (reliable transports); the reducer then names the state terminated. */
export function waitOrTerminate(timer: TimerName, delayMs: number): TxAction[] {
  return delayMs > 0 ? [{ type: 'startTimer', timer, delayMs }] : [{ type: 'terminate' }];
}

/**
 * A transport error in any state (sections 17.1.4 and 17.2.4): stop the transaction's timers,
 * terminate, and tell the TU, in that order so the TU sees the terminated state.
 */
export function failOnTransportError<S extends { readonly name: string }>(state: S, timers: readonly TimerName[], failure: TransportFailure): Step<S> {
  return {
    // Every state machine has a `terminated` state; the spread keeps the rest of its fields.
    state: { ...state, name: 'terminated' },
    actions: [...timers.map((timer): TxAction => ({ type: 'stopTimer', timer })), { type: 'terminate' }, { type: 'deliverTransportError', failure }],
  };
}
