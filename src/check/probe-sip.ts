/**
 * The SIP probe: one OPTIONS (RFC 3261 section 11) over a TLS hop that the transport verifies
 * first, exactly as `sipsec options` sends it. A hop the verifier refuses carries no request.
 */
import os from 'node:os';
import type { SipResponse } from '../sip/message.js';
import { parseSipUri } from '../sip/uri.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { ServerTarget } from '../tls/verify-peer.js';
import { TransactionLayer, type ResponseInfo } from '../transaction/transaction-layer.js';
import { TransportError } from '../transport/transport-context.js';
import { TransportLayer } from '../transport/transport-layer.js';
import { buildRequest } from '../ua/build-request.js';
import { CHECK_LIMITS } from '../limits.js';
import type { SipObservation, TlsTargetPlan } from './observations.js';

export interface SipProbeOptions {
  readonly trustStore: TrustStore;
  readonly target: ServerTarget;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export async function probeSip(plan: TlsTargetPlan, domain: string, options: SipProbeOptions): Promise<SipObservation> {
  const timeoutMs = options.timeoutMs ?? CHECK_LIMITS.optionsTimeoutMs;
  if (options.signal?.aborted === true) return { sent: false, answered: false, error: 'aborted' };
  const layers: { transactions?: TransactionLayer } = {};
  const transport = await TransportLayer.start({
    listeners: [],
    trustStore: options.trustStore,
    onMessage: (message, context) => layers.transactions?.receive(message, context),
    onConnectionClosed: (connectionId, reason) => layers.transactions?.connectionLost(connectionId, reason),
    log: () => undefined,
  });
  let refused: string | undefined;
  const transactions = new TransactionLayer({
    send: async (message, to) => {
      try {
        const { connectionId } = await transport.send(message, to);
        return { connectionId };
      } catch (err) {
        if (err instanceof TransportError && err.verdict !== undefined && !err.verdict.ok) refused = err.detail;
        throw err;
      }
    },
    // Timer F (64*T1) bounds the wait.
    timers: { t1Ms: Math.max(1, Math.floor(timeoutMs / 64)) },
  });
  layers.transactions = transactions;
  const loopback = plan.address.startsWith('127.') || plan.address === '::1';
  const localHost = loopback ? (plan.family === 6 ? '[::1]' : '127.0.0.1') : os.hostname() || 'localhost';
  const request = buildRequest({
    method: 'OPTIONS',
    uri: parseSipUri(`sips:${domain}`),
    from: `sip:sipsec-check@${localHost}`,
    via: { transport: 'tls', host: localHost },
    userAgent: 'sipsec-check',
    headers: [['accept', 'application/sdp']],
  });
  let onAbort = (): void => undefined;
  try {
    const outcome = await new Promise<{ response: SipResponse; info: ResponseInfo } | 'aborted'>((resolve) => {
      // A forced close may drop the transaction without a final response: the abort settles the wait.
      onAbort = () => resolve('aborted');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      transactions.sendRequest(request, { transport: 'tls', address: plan.address, port: plan.port, tlsTarget: options.target }, {
        onResponse: (res, inf) => {
          if (res.status >= 200) resolve({ response: res, info: inf });
        },
      });
    });
    if (outcome === 'aborted') return { sent: true, answered: false, error: 'aborted' };
    const { response, info } = outcome;
    if (refused !== undefined) return { sent: false, answered: false, error: `the transport refused the hop: ${refused}` };
    if (info.origin !== 'network') {
      return { sent: true, answered: false, error: info.failure ? `${info.failure.reason}: ${info.failure.detail}` : `${response.status} ${response.reason} (made locally: ${info.origin})` };
    }
    const header = (name: string): string | undefined => response.header(name);
    const server = header('server');
    const userAgent = header('user-agent');
    const allow = header('allow');
    const supported = header('supported');
    return {
      sent: true, answered: true, status: response.status, reason: response.reason,
      ...(server !== undefined ? { server } : {}),
      ...(userAgent !== undefined ? { userAgent } : {}),
      ...(allow !== undefined ? { allow } : {}),
      ...(supported !== undefined ? { supported } : {}),
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await transactions.close({ force: true });
    await transport.close({ force: true });
  }
}
