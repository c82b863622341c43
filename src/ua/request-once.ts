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
import { TransactionLayer, type ResponseOrigin } from '../transaction/transaction-layer.js';
import { isSecureTransport, TransportError, type Destination, type TransportFailureReason } from '../transport/transport-context.js';
import { TransportLayer } from '../transport/transport-layer.js';
import type { TransportLog } from '../transport/transport-log.js';
import { buildRequest } from './build-request.js';

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
}

/**
 * How the attempt ended: `response` (a final response from the network) or why there was none.
 * `timeout`: no final response by the deadline; `tls-timeout` and `connect-timeout`: the deadline
 * passed while the TLS handshake (or, for TCP and WS, the connect) was still under way;
 * `framing-error`: the peer sent bytes that are no SIP message (`fault` says which);
 * the transport's words otherwise (`connection-refused`, `peer-not-authenticated` ...).
 */
export type RequestOutcome = 'response' | 'timeout' | 'tls-timeout' | 'connect-timeout' | 'framing-error' | TransportFailureReason | 'transport-failure';

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

const TRANSPORT_WORDS: ReadonlySet<string> = new Set<TransportFailureReason>([
  'tls-handshake-failed', 'tls-timeout', 'tls-required-not-offered', 'no-client-certificate', 'peer-not-authenticated',
  'connection-refused', 'connection-reset', 'connection-limit', 'message-too-large', 'unreachable', 'ws-handshake-failed',
]);

function isTransportWord(reason: string): reason is TransportFailureReason {
  return TRANSPORT_WORDS.has(reason);
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
  let verdict: PeerVerdict | undefined;
  let tls: RequestOnceResult['tls'];
  let connectionId: string | undefined;
  let sentAt = 0;
  let pendingSend: Promise<unknown> | undefined;
  const framingFault = (code: string, detail: string): void => settle({ ...none, outcome: 'framing-error', detail: `${code}: ${detail}`, fault: { code, detail } });

  // The transport is built first and hands messages to the transaction layer built next.
  const layers: { transactions?: TransactionLayer } = {};
  const transport = await TransportLayer.start({
    listeners: destination.transport === 'udp' ? [{ transport: 'udp', address: bindAddress, port: 0 }] : [],
    ...(options.trustStore ? { trustStore: options.trustStore } : {}),
    ...(options.clientCertificate ? { clientCertificate: options.clientCertificate } : {}),
    // Sockets die by the deadline too, so that nothing keeps the process alive after it.
    limits: { connectTimeoutMs: timeoutMs },
    onMessage: (message, context) => layers.transactions?.receive(message, context),
    onInvalid: (result, context) => {
      // Only what our peer sent and is not a request (which it may send too): a response that does not parse, or bytes that are no SIP.
      const fromPeer = connectionId !== undefined ? context.connectionId === connectionId : context.remote.address === destination.address && context.remote.port === destination.port;
      if (!fromPeer || result.message?.kind === 'request') return;
      const [first] = result.faults;
      framingFault(first?.code ?? 'invalid', first?.detail ?? 'the response does not parse');
    },
    onConnectionClosed: (id, reason) => {
      log({ level: 'debug', event: 'connection-closed', connection: id, reason });
      // The framer gave up on the stream (a flood, a 200 KB header line): no response can follow.
      const lost = /^framing-lost: ([A-Z0-9_]{1,64})$/.exec(reason);
      if (lost?.[1] !== undefined && id === connectionId) framingFault(lost[1], 'the server sent bytes that cannot be framed as SIP');
      layers.transactions?.connectionLost(id, closeWord(reason));
    },
    log,
  });
  const udpPort = transport.listening()[0]?.port;
  const transactions = new TransactionLayer({
    send: async (message, to) => {
      options.onPhase?.('connecting');
      try {
        const sending = transport.send(message, to);
        pendingSend = sending;
        const sent = await sending;
        verdict = sent.peer ?? verdict;
        tls = sent.tls ?? tls;
        connectionId = sent.connectionId;
        if (phase === 'connecting') {
          phase = 'waiting';
          sentAt = performance.now();
          options.onPhase?.('waiting');
        }
        return { connectionId: sent.connectionId };
      } catch (err) {
        if (err instanceof TransportError) {
          if (err.verdict !== undefined) verdict = err.verdict;
          // The raw text (it may hold OpenSSL's message) goes to the log; the Warning gets our words.
          const raw = err.verdict?.reasons.map((r) => ('detail' in r && typeof r.detail === 'string' ? `${r.code}: ${r.detail}` : r.code)).join('; ');
          log({ level: 'info', event: 'send-failed', reason: err.reason, detail: raw === undefined || raw === '' ? err.detail : `${err.detail} [${raw}]` });
          const safe = headerSafeDetail(err.detail, where);
          if (safe !== err.detail) throw new TransportError(err.reason, safe, err.verdict, { cause: err });
        }
        throw err;
      }
    },
    // The deadline below governs; Timer F must not end the attempt first. T1 shrinks with a short deadline so UDP still retransmits.
    timers: { t1Ms: Math.max(1, Math.min(TX_TIMERS.t1Ms, Math.floor(timeoutMs / 64))), timerFMs: timeoutMs * 2, timerBMs: timeoutMs * 2 },
  });
  layers.transactions = transactions;
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
  try {
    transactions.sendRequest(request, destination, {
      onResponse: (response, info) => {
        if (response.status < 200) return;
        if (info.origin === 'network') {
          // The response carries the verdict on its connection; the send's own result may come later on a fast loopback.
          verdict = info.context?.peer ?? verdict;
          settle({ outcome: 'response', response, origin: info.origin, rttMs: Math.round(performance.now() - sentAt), detail: undefined, fault: undefined });
        } else {
          const reason = info.failure?.reason ?? '';
          const outcome: RequestOutcome = info.origin === 'timeout' ? 'timeout' : isTransportWord(reason) ? reason : 'transport-failure';
          settle({ outcome, response, origin: info.origin, rttMs: undefined, detail: info.failure?.detail ?? `no final response within ${timeoutMs} ms`, fault: undefined });
        }
      },
    });
    const result = await settled;
    // A response can overtake the send's completion (write callback): wait for it so that the TLS
    // session and verdict are read. Not after a deadline, when the send may be a stalled connect.
    if (result.outcome === 'response') await pendingSend?.catch(() => undefined);
    return { ...result, request, verdict, tls };
  } finally {
    clearTimeout(deadline);
    await transactions.close({ force: true });
    await transport.close({ force: true });
  }
}

/**
 * A connection's close reason as the Warning header may carry it: a vocabulary word, with a fault
 * code when there is one (`framing-lost: SIP_ERR_LINE_TOO_LONG`); socket and library text is dropped.
 */
function closeWord(reason: string): string {
  if (/^[a-z-]{1,40}(?:: [A-Z0-9_]{1,64})?$/.test(reason)) return reason;
  const word = /^([a-z-]{1,40})(?::|$)/.exec(reason)?.[1];
  return word ?? 'closed';
}

/** Longest failure detail passed on to a Warning header. */
const MAX_DETAIL_CHARS = 200;

/**
 * A transport failure's detail as a Warning header may carry it: bounded, and without library
 * text (OpenSSL messages name error codes and source files: `error:0A00010B:SSL routines:...:ssl/record/...c:354`).
 */
function headerSafeDetail(detail: string, where: string): string {
  const library = /error:[0-9A-Fa-f]{8}:|\.c:\d+/.test(detail);
  if (library) return `${where}: the connection failed (details in the log)`;
  return detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}...` : detail;
}
