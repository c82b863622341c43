import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkFramer, checkParse } from '../support/parse-oracle.js';
import { CORPUS_DIR, fuzzInput, runFuzz, seedCorpus } from './mutation-fuzzer.js';

// A short seeded run in every test run; `npm run fuzz` runs long ones (docs/FUZZING.md).
test('the mutation fuzzer finds nothing in 20,000 seeded inputs', { timeout: 600_000 }, () => {
  const summary = runFuzz({ count: 20_000, seed: 12 });
  assert.deepEqual(summary.failures.map((f) => `#${f.index} ${f.input.toString('latin1').slice(0, 200)}\n${f.error}`), []);
  // The run is not vacuous: mutated inputs are accepted and round-tripped, and framed.
  assert.ok(summary.accepted > 1_000, `${summary.accepted} accepted`);
  assert.ok(summary.framed > 1_000, `${summary.framed} framed`);
});

test('every input kept in test/fuzz/corpus passes the oracle', () => {
  const kept = fs.readdirSync(CORPUS_DIR).filter((n) => n.endsWith('.bin'));
  for (const name of kept) {
    const input = fs.readFileSync(path.join(CORPUS_DIR, name));
    checkParse(input);
    checkFramer(input, [1, 2, 3, 7, 100]);
  }
});

test('the fuzzer is deterministic from its seed', () => {
  const seeds = seedCorpus(5, 20);
  assert.deepEqual(seedCorpus(5, 20), seeds);
  for (const index of [0, 1, 999]) assert.deepEqual(fuzzInput(seeds, 5, index), fuzzInput(seeds, 5, index));
  assert.notDeepEqual(fuzzInput(seeds, 5, 1).input, fuzzInput(seeds, 6, 1).input);
});
