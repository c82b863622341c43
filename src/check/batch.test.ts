import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProgress, formatSummary, runBatch } from './batch.js';
import type { CheckReport } from './evaluate.js';
import type { Grade } from './grade.js';

function report(domain: string, grade: Grade, errors = 0): CheckReport {
  return {
    schema: 'sipsec.check/1', domain, checkedAt: '2030-01-01T00:00:00.000Z', grade,
    counts: { error: errors, warning: 0, info: 0, pass: 0 }, findings: [], dns: { domain, complete: true, lookups: [], services: [], tlsTargets: [] }, targets: [],
  };
}

describe('runBatch', () => {
  test('never more than N in flight; every domain reported once; grades counted', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const domains = Array.from({ length: 50 }, (_, i) => `d${i}.test`);
    const summary = await runBatch(domains, {
      concurrency: 7,
      check: async (domain) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, Number(domain.slice(1, -5)) % 3));
        inFlight--;
        return report(domain, domain.startsWith('d1') ? 'F' : 'A', domain.startsWith('d1') ? 1 : 0);
      },
      onReport: (r) => void seen.push(r.domain),
    });
    assert.equal(most, 7);
    assert.deepEqual([...seen].sort(), [...domains].sort());
    assert.equal(summary.done, 50);
    assert.equal(summary.errors, 11);
    assert.equal(summary.grades.F, 11);
    assert.equal(summary.grades.A, 39);
    assert.equal(summary.interrupted, false);
  });

  test('an abort starts no new domain, and every report finished is still handed over', async () => {
    const controller = new AbortController();
    const written: string[] = [];
    const domains = Array.from({ length: 100 }, (_, i) => `d${i}.test`);
    const summary = await runBatch(domains, {
      concurrency: 4,
      signal: controller.signal,
      check: async (domain, signal) => {
        await new Promise((r) => setTimeout(r, 1));
        if (written.length >= 10) controller.abort();
        return report(domain, signal.aborted ? 'F' : 'A');
      },
      onReport: (r) => void written.push(r.domain),
    });
    assert.equal(summary.interrupted, true);
    assert.ok(summary.done < 100);
    assert.equal(written.length, summary.done);
    assert.match(formatSummary(summary), /\(interrupted\)/);
  });

  test('the progress line shows done/total, errors, rate and time left', () => {
    assert.equal(formatProgress({ total: 200, done: 50, errors: 3, inFlight: 20, elapsedMs: 10_000 }, 8), '[##......] 50/200  errors 3  5.0/s  left 0:30');
  });
});
