/**
 * Issue 15 item 6 (seed 001, "no error codes, warnings"): every word the proxy can put in a
 * Warning or Reason is listed in docs/PROXY.md "Every word a caller can get", and every word listed
 * there is asserted by some test. The first half reads the code's word unions (the build ties them
 * to src/vocabulary.ts); the second reads the test sources, since the tests that produce the words
 * run in other processes (SIPp, the proxies of the trapezoid) and leave no ledger to read.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../test/support/paths.js';
import { VOCABULARY } from '../vocabulary.js';
import type { DestinationFailureWord } from './routing-words.js';

/** True only when A and B are the same union. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const DESTINATION_FAILURES = ['no-destination', 'dnssec-bogus', 'dnssec-indeterminate', 'dnssec-required', 'dane-required'] as const;
const destinationFailuresComplete: true = true satisfies Same<(typeof DESTINATION_FAILURES)[number], DestinationFailureWord>;

/** The transaction layer's Reason for a timer that ended a client transaction (local-response.ts timeoutResponse). */
const TIMER_WORDS = ['timerB'] as const;

const DOC = readFileSync(path.join(REPO_ROOT, 'docs', 'PROXY.md'), 'utf8');
const HEADING = '### Every word a caller can get';

function section(): string {
  const start = DOC.indexOf(`\n${HEADING}`);
  assert.ok(start >= 0, `docs/PROXY.md has a section "${HEADING}"`);
  const end = DOC.indexOf('\n#', start + HEADING.length + 1);
  return DOC.slice(start, end < 0 ? DOC.length : end);
}

/** The words of the table (first column) and of the "Log only" line. */
function listedWords(): { inResponses: Set<string>; logOnly: Set<string> } {
  const text = section();
  const inResponses = new Set([...text.matchAll(/^\| `([A-Za-z0-9-]+)` \|/gm)].map((m) => m[1] ?? ''));
  const logLine = text.split('\n').find((line) => line.startsWith('Log only')) ?? '';
  const logOnly = new Set([...logLine.matchAll(/`([A-Za-z0-9-]+)`/g)].map((m) => m[1] ?? ''));
  return { inResponses, logOnly };
}

/** Every word the proxy's code can produce in a Warning, a Reason or a log-only event. */
function producedWords(): Set<string> {
  const families = ['Proxy routing', 'Hop policies', 'Transport failures', 'Transaction failures'];
  const words = new Set<string>([...DESTINATION_FAILURES, ...TIMER_WORDS]);
  for (const family of families) {
    const members = VOCABULARY[family];
    assert.ok(members !== undefined, `src/vocabulary.ts has the family "${family}"`);
    for (const w of members) words.add(w.word);
  }
  return words;
}

function testSources(): { file: string; lines: string[] }[] {
  const out: { file: string; lines: string[] }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts') && !['failure-signalling.test.ts', 'vocabulary.test.ts'].includes(entry.name)) out.push({ file: full, lines: readFileSync(full, 'utf8').split('\n') });
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  walk(path.join(REPO_ROOT, 'test'));
  return out;
}

/** Whether some test asserts `word`: it occurs as a whole word within three lines of an `assert`. */
function assertedBySomeTest(word: string, sources: readonly { file: string; lines: string[] }[]): boolean {
  const pattern = new RegExp(`(?<![\\w-])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`);
  for (const { lines } of sources) {
    for (let i = 0; i < lines.length; i++) {
      if (!pattern.test(lines[i] ?? '')) continue;
      const window = lines.slice(Math.max(0, i - 3), i + 4).join('\n');
      if (/\bassert\b|\bassert\./.test(window)) return true;
    }
  }
  return false;
}

test('the destination failure words are checked against their type', () => {
  assert.equal(destinationFailuresComplete, true);
});

test('every word the proxy can send or log is listed in docs/PROXY.md, and nothing else is', () => {
  const { inResponses, logOnly } = listedWords();
  const listed = new Set([...inResponses, ...logOnly]);
  const produced = producedWords();
  assert.deepEqual([...produced].filter((w) => !listed.has(w)).sort(), [], 'words the code produces that docs/PROXY.md does not list');
  assert.deepEqual([...listed].filter((w) => !produced.has(w)).sort(), [], 'words docs/PROXY.md lists that the code does not produce');
  assert.deepEqual([...inResponses].filter((w) => logOnly.has(w)), [], 'a word is either in responses or log only');
});

test('every listed word is asserted by some test', () => {
  const { inResponses, logOnly } = listedWords();
  const sources = testSources();
  const untested = [...inResponses, ...logOnly].filter((w) => !assertedBySomeTest(w, sources));
  assert.deepEqual(untested, [], 'listed words no test asserts');
});
