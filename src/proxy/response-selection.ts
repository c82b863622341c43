/**
 * Choosing the one final response of a response context, RFC 3261 section 16.7 steps 6 and 7:
 * the "best" of the finals stored, 408 when there is none, a 6xx before anything, else the lowest
 * class; within 4xx the responses that let the caller retry (401, 407, 415, 420, 484); a 503
 * becomes 500 (the proxy is not unavailable, one of its next hops was); 401 and 407 carry every
 * challenge of every branch. Pure.
 */
import type { SipRequest, SipResponse } from '../sip/message.js';
import { answer, buildLocalResponse } from './local-answer.js';
import { newTag } from '../ua/identifiers.js';

/** 4xx that tell the caller how to resubmit, preferred within the class (section 16.7 step 6). */
const RESUBMIT_4XX = new Set([401, 407, 415, 420, 484]);

/** The index of the best final among `statuses` (section 16.7 step 6), or -1 when there is none. */
export function selectBest(statuses: readonly number[]): number {
  let best = -1;
  let bestRank = Infinity;
  statuses.forEach((status, i) => {
    const rank = rankOf(status);
    if (rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  });
  return best;
}

/**
 * Lower is better: 6xx first, then the classes from 2xx up; inside a class the preferred
 * statuses (4xx that allow a retry; any 5xx but 503) before the others. Ties keep arrival order.
 */
function rankOf(status: number): number {
  const cls = Math.floor(status / 100);
  if (status < 200 || status > 699) return Infinity;
  const classRank = cls === 6 ? 0 : cls;
  const preferred = (cls === 4 && RESUBMIT_4XX.has(status)) || (cls === 5 && status !== 503);
  return classRank * 2 + (preferred ? 0 : 1);
}

/**
 * The response a context sends upstream once every branch has its final and none was forwarded
 * (section 16.7 step 6): built on the request received, each final already without our Via.
 */
export function finalForCaller(request: SipRequest, finals: readonly SipResponse[]): SipResponse {
  const index = selectBest(finals.map((r) => r.status));
  const chosen = finals[index];
  if (chosen === undefined) return buildLocalResponse(request, answer(408, 'Request Timeout'));
  if (chosen.status === 503) {
    // Section 16.7 step 6: a 503 would say that this proxy is unavailable. Its Warning and Reason
    // say which next hop failed and why, and go with the 500.
    const headers: Array<readonly [string, string]> = [];
    for (const h of chosen.fields('warning')) headers.push(['warning', h.value]);
    for (const h of chosen.fields('reason')) headers.push(['reason', h.value]);
    return buildLocalResponse(request, answer(500, 'Server Internal Error', headers));
  }
  if (chosen.status === 401 || chosen.status === 407) aggregateChallenges(chosen, finals);
  ensureToTag(request, chosen);
  return chosen;
}

/**
 * Section 16.7 step 7: a 401 or 407 sent upstream carries the WWW-Authenticate and
 * Proxy-Authenticate values of every other 401 and 407, so that the caller answers them all.
 */
export function aggregateChallenges(chosen: SipResponse, finals: readonly SipResponse[]): void {
  for (const other of finals) {
    if (other === chosen || (other.status !== 401 && other.status !== 407)) continue;
    for (const name of ['www-authenticate', 'proxy-authenticate']) for (const h of other.fields(name)) chosen.addHeader(name, h.value);
  }
}

/**
 * A final the proxy made itself (a transaction's 408 or 503) has no To tag; sent upstream it needs
 * one when the request had none (section 8.2.6.2). A received response keeps its tag (16.7 step 6).
 */
function ensureToTag(request: SipRequest, response: SipResponse): void {
  if (request.toTag() !== undefined || response.toTag() !== undefined) return;
  const to = response.header('to');
  if (to !== undefined) response.setHeader('to', `${to};tag=${newTag()}`);
}
