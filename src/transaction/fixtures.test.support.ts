/**
 * Messages and contexts for the transaction tests (not a test file itself: test.sh runs *.test.ts;
 * the package excludes *.test.*).
 */
import type { SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import type { Destination, TransportContext, TransportProtocol } from '../transport/transport-context.js';
import type { Step, TimerName, TxAction } from './fsm.js';
import { buildResponse } from './local-response.js';

export interface RequestSpec {
  readonly method?: string;
  readonly uri?: string;
  /** The whole top Via value; default UDP from 192.0.2.1:5060 with `branch`. */
  readonly via?: string;
  readonly branch?: string;
  readonly seq?: number;
  readonly cseqMethod?: string;
  readonly toTag?: string;
  readonly fromTag?: string;
  readonly callId?: string;
  readonly routes?: readonly string[];
  readonly extraVia?: readonly string[];
}

export function request(spec: RequestSpec = {}): SipRequest {
  const method = spec.method ?? 'INVITE';
  const via = spec.via ?? `SIP/2.0/UDP 192.0.2.1:5060;branch=${spec.branch ?? 'z9hG4bK776asdhds'}`;
  const lines = [
    `${method} ${spec.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: ${via}`,
    ...(spec.extraVia ?? []).map((v) => `Via: ${v}`),
    ...(spec.routes ?? []).map((r) => `Route: ${r}`),
    'Max-Forwards: 70',
    `To: Bob <sip:bob@example.com>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    `From: Alice <sip:alice@example.org>;tag=${spec.fromTag ?? '1928301774'}`,
    `Call-ID: ${spec.callId ?? 'a84b4c76e66710@pc33.example.org'}`,
    `CSeq: ${spec.seq ?? 314159} ${spec.cseqMethod ?? method}`,
    'Contact: <sip:alice@192.0.2.1>',
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

/** A response to `req` as a server would send it (To tag added for non-100). */
export function responseTo(req: SipRequest, status: number, reason = 'Reason', toTag = 'srv-tag'): SipResponse {
  return buildResponse(req, status, reason, { toTag });
}

export function context(transport: TransportProtocol = 'udp', remote = { address: '192.0.2.1', port: 5060 }): TransportContext {
  return {
    transport,
    local: { address: '192.0.2.9', port: 5060 },
    remote,
    connectionId: transport === 'udp' ? undefined : 'conn-1',
    peer: undefined,
    receivedAtMs: 0,
  };
}

export const UDP_DEST: Destination = { transport: 'udp', address: '192.0.2.9', port: 5060 };
export const TCP_DEST: Destination = { transport: 'tcp', address: '192.0.2.9', port: 5060 };


/** One line per action: `send INVITE`, `start timerA 500`, `deliver 180`, `terminate` ... */
export function describeAction(a: TxAction): string {
  switch (a.type) {
    case 'send':
      return a.message.kind === 'request' ? `send ${a.message.method}` : `send ${a.message.status}`;
    case 'startTimer':
      return `start ${a.timer} ${a.delayMs}`;
    case 'stopTimer':
      return `stop ${a.timer}`;
    case 'deliverResponse':
      return `deliver ${a.response.status}`;
    case 'deliverRequest':
      return `deliver ${a.request.method}`;
    case 'deliverTimeout':
      return `timeout ${a.timer}`;
    case 'deliverTransportError':
      return `transport-error ${a.failure.reason}`;
    case 'terminate':
      return 'terminate';
  }
}

/** The actions of a step without the timer stops, which most assertions do not care about. */
export function described(step: Step<unknown>): string[] {
  return step.actions.filter((a) => a.type !== 'stopTimer').map(describeAction);
}

/**
 * Runs a reducer in virtual time as a runner would: it keeps the started timers, fires them in due
 * order on advance(), and logs every action as `<ms> <action>` (timer stops left out).
 */
export class FsmDriver<S extends { readonly name: string }, E> {
  nowMs = 0;
  readonly log: string[] = [];
  readonly timers = new Map<TimerName, number>();
  state: S;

  constructor(
    start: Step<S>,
    private readonly reduce: (state: S, event: E | { type: 'timerFired'; timer: TimerName }) => Step<S>,
  ) {
    this.state = start.state;
    this.#record(start.actions);
  }

  dispatch(event: E): void {
    const step = this.reduce(this.state, event);
    this.state = step.state;
    this.#record(step.actions);
  }

  advance(ms: number): void {
    const target = this.nowMs + ms;
    while (true) {
      let next: [TimerName, number] | undefined;
      for (const entry of this.timers) if (entry[1] <= target && (next === undefined || entry[1] < next[1])) next = entry;
      if (next === undefined) break;
      this.nowMs = next[1];
      this.timers.delete(next[0]);
      const step = this.reduce(this.state, { type: 'timerFired', timer: next[0] });
      this.state = step.state;
      this.#record(step.actions);
    }
    this.nowMs = target;
  }

  /** Log lines with the given action word (`send`, `deliver`, ...). */
  lines(word: string): string[] {
    return this.log.filter((l) => l.split(' ')[1] === word);
  }

  #record(actions: readonly TxAction[]): void {
    for (const a of actions) {
      if (a.type === 'startTimer') this.timers.set(a.timer, this.nowMs + a.delayMs);
      if (a.type === 'stopTimer') this.timers.delete(a.timer);
      if (a.type === 'terminate') this.timers.clear();
      if (a.type !== 'stopTimer') this.log.push(`${this.nowMs} ${describeAction(a)}`);
    }
  }
}
