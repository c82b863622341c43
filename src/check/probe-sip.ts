/**
 * The SIP probe: one OPTIONS (RFC 3261 section 11) over a TLS hop that the transport verifies
 * first, through requestOnce, as `sipsec options` sends it. A hop the verifier refuses carries no request.
 */
import { CHECK_LIMITS } from '../limits.js';
import { parseSipUri } from '../sip/uri.js';
import type { TrustStore } from '../tls/trust-store.js';
import type { ServerTarget } from '../tls/verify-peer.js';
import { requestOnce } from '../ua/request-once.js';
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
  const result = await requestOnce({
    uri: parseSipUri(`sips:${domain}`),
    destination: { transport: 'tls', address: plan.address, port: plan.port, tlsTarget: options.target },
    trustStore: options.trustStore,
    timeoutMs,
    userAgent: 'sipsec-check',
    headers: [['accept', 'application/sdp']],
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  // The transport sends nothing over a hop its verifier refused.
  const sent = result.verdict?.ok === true;
  if (result.outcome === 'aborted') return { sent, answered: false, error: 'aborted' };
  if (!sent) return { sent, answered: false, error: `the transport refused the hop: ${result.outcome}: ${result.detail ?? ''}` };
  const response = result.response;
  if (result.outcome !== 'response' || response === undefined) return { sent, answered: false, error: `${result.outcome}: ${result.detail ?? ''}` };
  const server = response.header('server');
  const userAgent = response.header('user-agent');
  const allow = response.header('allow');
  const supported = response.header('supported');
  return {
    sent, answered: true, status: response.status, reason: response.reason,
    ...(server !== undefined ? { server } : {}),
    ...(userAgent !== undefined ? { userAgent } : {}),
    ...(allow !== undefined ? { allow } : {}),
    ...(supported !== undefined ? { supported } : {}),
  };
}
