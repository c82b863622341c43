/**
 * One request, one answer: the client stack (transport and transaction layers) started for a
 * single out-of-dialog request and closed again, with one deadline over the whole attempt
 * (connect, TLS handshake, response). What `sipsec options` sends with, and the short way to use
 * the library (README "Library").
 */
import net from 'node:net';
import os from 'node:os';
import { TX_TIMERS } from '../limits.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { SipUri } from '../sip/uri.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { warningDetail } from '../transaction/local-response.js';
import type { ResponseOrigin } from '../transaction/transaction-layer.js';
import { isSecureTransport, TransportError, type Destination, type HopReport, type TransportFailureReason } from '../transport/transport-context.js';
import type { TransportLog } from '../transport/transport-log.js';
import { buildRequest } from './build-request.js';
import { SipStack } from './sip-stack.js';

export interface RequestOnceOptions {
  readonly uri: SipUri;
  /** Where to send; TLS and WSS need `tlsTarget` (at least `{ sipDomain }`) to verify the server against. */
  readonly destination: Destination;
  /** Default OPTIONS. */
  readonly method?: string;
  /** One deadline for connecting, the TLS handshake and the final response. Default 64*T1 (32 s, Timer F). */
  readonly timeoutMs?: number;
  /** Trust anchors for the server's certificate; default the roots Node ships. */
  readonly trustStore?: TrustStore;
  /** Our certificate and key (PEM) for mutual TLS. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
  /** Headers added to the request, in order. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Default `sipsec`. */
  readonly userAgent?: string;
  /** Transport events, and the raw text of failures (OpenSSL messages included) that results leave out. */
  readonly log?: TransportLog;
  /** Called as the attempt moves on: connecting (TCP, TLS, WebSocket), then waiting for the response. */
  readonly onPhase?: (phase: 'connecting' | 'waiting') => void;
  /** Ends the attempt early (outcome `aborted`): the stack is closed and nothing is left behind. */
  readonly signal?: AbortSignal;
}

/**
 * How the attempt ended: `response` (a final response from the network) or why there was none.
 * `timeout`: no final response by the deadline; `tls-timeout` and `connect-timeout`: the deadline
 * passed while the TLS handshake (or, for TCP and WS, the connect) was still under way;
 * `framing-error`: the peer sent bytes that are no SIP message (`fault` says which);
 * `aborted`: the caller's signal ended it;
 * the transport's words otherwise (`connection-refused`, `peer-not-authenticated` ...).
 */
export type RequestOutcome = 'response' | 'aborted' | 'timeout' | 'tls-timeout' | 'connect-timeout' | 'framing-error' | TransportFailureReason | 'transport-failure';

export interface RequestOnceResult {
  readonly outcome: RequestOutcome;
  readonly request: SipRequest;
  /** The final response: from the network, or the 503 the transaction layer made for a failed send. */
  readonly response: SipResponse | undefined;
  readonly origin: ResponseOrigin | undefined;
  /** TLS and WSS: the verdict on the server. */
  readonly verdict: PeerVerdict | undefined;
  /** TLS and WSS: what the connection negotiated. */
  readonly tls: { readonly protocol: string; readonly cipher: string } | undefined;
  /** From sending the request to its final response from the network (connect and handshake excluded). */
  readonly rttMs: number | undefined;
  /** Why there is no response from the network, in our words (never library or peer text). */
  readonly detail: string | undefined;
  /** For `framing-error`: the parser's or framer's fault. */
  readonly fault: { readonly code: string; readonly detail: string } | undefined;
}

/** Sends one request and resolves when it is answered, failed or timed out; never rejects for a network reason. */
export async function requestOnce(options: RequestOnceOptions): Promise<RequestOnceResult> {
  const { destination } = options;
  const timeoutMs = options.timeoutMs ?? TX_TIMERS.timerFMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, not ${timeoutMs}`);
  const log: TransportLog = options.log ?? (() => undefined);
  const family = net.isIPv6(destination.address) ? 6 : 4;
  const loopback = family === 6 ? destination.address === '::1' : destination.address.startsWith('127.');
  const where = family === 6 ? `[${destination.address}]:${destination.port}` : `${destination.address}:${destination.port}`;
  const bindAddress = loopback ? (family === 6 ? '::1' : '127.0.0.1') : family === 6 ? '::' : '0.0.0.0';

  let settle: (result: Omit<RequestOnceResult, 'request' | 'verdict' | 'tls'>) => void = () => undefined;
  const settled = new Promise<Omit<RequestOnceResult, 'request' | 'verdict' | 'tls'>>((resolve) => (settle = resolve));
  const none = { response: undefined, origin: undefined, rttMs: undefined, detail: undefined, fault: undefined };
  let phase: 'connecting' | 'waiting' = 'connecting';
  let hop: HopReport | undefined;
  let sentAt = 0;
  const framingFault = (code: string, detail: string): void => settle({ ...none, outcome: 'framing-error', detail: `${code}: ${detail}`, fault: { code, detail } });

  const stack = await SipStack.start({
    listeners: destination.transport === 'udp' ? [{ transport: 'udp', address: bindAddress, port: 0 }] : [],
    ...(options.trustStore ? { trustStore: options.trustStore } : {}),
    ...(options.clientCertificate ? { clientCertificate: options.clientCertificate } : {}),
    // Sockets die by the deadline too, so that nothing keeps the process alive after it.
    limits: { connectTimeoutMs: timeoutMs },
    // The deadline below governs; Timer F must not end the attempt first. T1 shrinks with a short deadline so UDP still retransmits.
    transactions: { timers: { t1Ms: Math.max(1, Math.min(TX_TIMERS.t1Ms, Math.floor(timeoutMs / 64))), timerFMs: timeoutMs * 2, timerBMs: timeoutMs * 2 } },
    tu: () => ({}),
    onInvalid: (result, context) => {
      // Only what our peer sent and is not a request (which it may send too): a response that does not parse, or bytes that are no SIP.
      const fromPeer = hop?.connectionId !== undefined ? context.connectionId === hop.connectionId : context.remote.address === destination.address && context.remote.port === destination.port;
      if (!fromPeer || result.message?.kind === 'request') return;
      const [first] = result.faults;
      framingFault(first?.code ?? 'invalid', first?.detail ?? 'the response does not parse');
    },
    onConnectionClosed: (id, reason) => {
      log({ level: 'debug', event: 'connection-closed', connection: id, reason });
      // The framer gave up on the stream (a flood, a 200 KB header line): no response can follow.
      const lost = /^framing-lost: ([A-Z0-9_]{1,64})$/.exec(reason);
      if (lost?.[1] !== undefined && id === hop?.connectionId) framingFault(lost[1], 'the server sent bytes that cannot be framed as SIP');
    },
    log,
  });
  const udpPort = stack.listening()[0]?.port;
  const request = buildRequest({
    method: options.method ?? 'OPTIONS',
    uri: options.uri,
    from: `sip:sipsec@${os.hostname() || 'localhost'}`,
    via: { transport: destination.transport, host: loopback ? (family === 6 ? '[::1]' : '127.0.0.1') : os.hostname() || 'localhost', ...(udpPort !== undefined ? { port: udpPort } : {}) },
    userAgent: options.userAgent ?? 'sipsec',
    ...(options.headers ? { headers: options.headers } : {}),
  });
  // A timer that is referenced: it also keeps the process alive while sockets are paused or closing.
  const deadline = setTimeout(() => {
    if (phase === 'waiting') settle({ ...none, outcome: 'timeout', detail: `no final response within ${timeoutMs} ms` });
    else if (isSecureTransport(destination.transport)) settle({ ...none, outcome: 'tls-timeout', detail: `no TLS handshake with ${where} within ${timeoutMs} ms` });
    else settle({ ...none, outcome: 'connect-timeout', detail: `no connection to ${where} within ${timeoutMs} ms` });
  }, timeoutMs);
  const onAbort = (): void => settle({ ...none, outcome: 'aborted', detail: 'aborted by the caller' });
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    options.onPhase?.('connecting');
    stack.transactions.sendRequest(request, destination, {
      onSent: (sent) => {
        hop = sent;
        if (phase === 'waiting') return;
        phase = 'waiting';
        sentAt = performance.now();
        options.onPhase?.('waiting');
      },
      onResponse: (response, info) => {
        if (response.status < 200) return;
        hop = info.hop ?? hop;
        if (info.origin === 'network') {
          settle({ outcome: 'response', response, origin: info.origin, rttMs: Math.round(performance.now() - sentAt), detail: undefined, fault: undefined });
          return;
        }
        const failure = info.failure;
        if (failure?.error instanceof TransportError) {
          // The raw text (it may hold OpenSSL's message) goes to the log; the response's Warning has only our words.
          const raw = failure.error.verdict?.reasons.map((r) => ('detail' in r && typeof r.detail === 'string' ? `${r.code}: ${r.detail}` : r.code)).join('; ');
          log({ level: 'info', event: 'send-failed', reason: failure.reason, detail: raw === undefined || raw === '' ? failure.detail : `${failure.detail} [${raw}]` });
        }
        // The failure's word is already one of the vocabulary's (typed): only `layer-closed`, which
        // no attempt of ours can meet but a forced close, is folded into `transport-failure`.
        const outcome: RequestOutcome = info.origin === 'timeout' ? 'timeout' : failure === undefined || failure.reason === 'layer-closed' ? 'transport-failure' : failure.reason;
        const detail = failure === undefined ? `no final response within ${timeoutMs} ms` : warningDetail(failure.detail);
        settle({ outcome, response, origin: info.origin, rttMs: undefined, detail, fault: undefined });
      },
    });
    const result = await settled;
    return { ...result, request, verdict: hop?.verdict, tls: hop?.tls };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    clearTimeout(deadline);
    await stack.close({ force: true });
  }
}
