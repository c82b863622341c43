import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../test/support/paths.js';
import type { DnssecState } from './dns/dnssec-state.js';
import type { SipFaultCode } from './sip/errors.js';
import type { ReasonCode } from './tls/reasons.js';
import type { VerificationMethod } from './tls/verdict.js';
import type { HopPolicyWord, ProxyRoutingWord } from './proxy/routing-words.js';
import type { ResponseOrigin } from './transaction/transaction-layer.js';
import type { TransportFailureReason } from './transport/transport-context.js';
import type { RequestOutcome } from './ua/request-once.js';
import {
  VOCABULARY, closeReasonWord,
  type DnssecStateWord, type HopPolicyWordOf, type ProxyRoutingWordOf, type RequestOutcomeWord, type ResponseOriginWord, type SipFaultWord, type TlsReasonWord,
  type TransportFailureWord, type TransactionFailureWord, type VerificationMethodWord,
} from './vocabulary.js';

/** True only when A and B are the same union: a word added to one side only fails the build. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// The build (tsc, run first by scripts/test.sh) fails when a producer's type and its family differ.
const sameFamilies: readonly true[] = [
  true satisfies Same<DnssecState, DnssecStateWord>,
  true satisfies Same<ReasonCode, TlsReasonWord>,
  true satisfies Same<VerificationMethod, VerificationMethodWord>,
  true satisfies Same<TransportFailureReason, TransportFailureWord>,
  true satisfies Same<ResponseOrigin, ResponseOriginWord>,
  true satisfies Same<SipFaultCode, SipFaultWord>,
  true satisfies Same<ProxyRoutingWord, ProxyRoutingWordOf>,
  true satisfies Same<HopPolicyWord, HopPolicyWordOf>,
  true satisfies Same<RequestOutcome, RequestOutcomeWord | TransportFailureWord | Extract<TransactionFailureWord, 'transport-failure'>>,
];

const DOC = readFileSync(path.join(REPO_ROOT, 'docs', 'VOCABULARY.md'), 'utf8');

/** The words of one `## <family>` section of docs/VOCABULARY.md: the first column of its table. */
function documentedWords(heading: string): Set<string> {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/VOCABULARY.md has a section "## ${heading}"`);
  const end = DOC.indexOf('\n## ', start + 4);
  const section = DOC.slice(start, end < 0 ? DOC.length : end);
  return new Set([...section.matchAll(/^\| `([A-Za-z0-9_-]+)` \|/gm)].map((m) => m[1] ?? ''));
}

test('every family is type-checked against the code that produces its words', () => {
  assert.equal(sameFamilies.length, 9);
});

test('docs/VOCABULARY.md lists every word of every family, in the family\'s section, and no word the code does not know', () => {
  for (const [heading, words] of Object.entries(VOCABULARY)) {
    const documented = documentedWords(heading);
    const known = new Set(words.map((w) => w.word));
    assert.deepEqual([...known].filter((w) => !documented.has(w)), [], `${heading}: words missing from docs/VOCABULARY.md`);
    assert.deepEqual([...documented].filter((w) => !known.has(w)), [], `${heading}: docs/VOCABULARY.md names words src/vocabulary.ts does not have`);
  }
});

test('every word has a one-line doc, and no family repeats a word', () => {
  for (const [heading, words] of Object.entries(VOCABULARY)) {
    for (const { word, doc } of words) assert.ok(doc.length > 0 && !doc.includes('\n'), `${heading}: ${word} has a one-line doc`);
    assert.equal(new Set(words.map((w) => w.word)).size, words.length, `${heading} has no duplicate`);
  }
});

test('a close reason text gives its word', () => {
  assert.equal(closeReasonWord('framing-lost: SIP_ERR_LINE_TOO_LONG'), 'framing-lost');
  assert.equal(closeReasonWord('idle-timeout'), 'idle-timeout');
});
