/**
 * The answer for a local user who cannot be reached now (RFC 3261 section 16.5, RFC 5626 section
 * 5.3, RFC 5630): the status, a Warning naming why, and for a sips request the standard warn-code
 * too, so that the caller's UA knows it was the scheme.
 */
import { quote } from '../sip/header-scanner.js';
import type { LocalLookup } from './contracts.js';
import { answer, reasonHeader, warning399, type LocalAnswer } from './local-answer.js';

type Unavailable = Extract<LocalLookup, { kind: 'unavailable' }>;

/** The Warning text of each reason a local user cannot be reached. */
const UNAVAILABLE_TEXT: Readonly<Record<Unavailable['why'], string>> = {
  'not-registered': 'no registered contact',
  'flow-failed': 'the connection of the registration is gone',
  'sips-not-deliverable': 'a sips request, and no registered contact is reached over TLS or WSS (RFC 5630)',
};

export function unavailableAnswer(agent: string, lookup: Unavailable): LocalAnswer {
  const headers: (readonly [string, string])[] = [warning399(agent, lookup.why, UNAVAILABLE_TEXT[lookup.why])];
  if (lookup.why === 'sips-not-deliverable') {
    // RFC 5630 section 5.1.1: on a 480 with warn-code 380 a UAC must not retry the call with the
    // sips scheme replaced by sip (the silent downgrade sips exists to prevent); 399 stays first,
    // the word our own tools read.
    headers.push(['warning', `380 ${agent} ${quote('SIPS Not Allowed')}`], reasonHeader(lookup.status, lookup.why));
  }
  return answer(lookup.status, lookup.status === 430 ? 'Flow Failed' : 'Temporarily Unavailable', headers);
}
