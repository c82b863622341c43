/**
 * Batch mode: many domains with a bounded number in flight. Each domain's own deadline
 * (run-check.ts) keeps a hanging domain from holding up the rest; an abort (Ctrl-C) starts no new
 * domain, cuts the running ones short and still hands their reports over, so what was written stays.
 */
import type { CheckReport } from './evaluate.js';
import { GRADES, type Grade } from './grade.js';

export interface BatchProgress {
  readonly total: number;
  readonly done: number;
  /** Domains with at least one error finding. */
  readonly errors: number;
  readonly inFlight: number;
  readonly elapsedMs: number;
}

export interface BatchSummary extends BatchProgress {
  readonly grades: Readonly<Record<Grade, number>>;
  readonly interrupted: boolean;
}

export interface BatchOptions {
  readonly concurrency: number;
  /** Checks one domain; must honour the signal and never reject for a network outcome. */
  readonly check: (domain: string, signal: AbortSignal) => Promise<CheckReport>;
  /** Each report as it completes, in completion order; awaited, so a writer can keep up. */
  readonly onReport: (report: CheckReport) => void | Promise<void>;
  readonly onProgress?: (progress: BatchProgress) => void;
  readonly signal?: AbortSignal;
  /** The clock in milliseconds (tests). */
  readonly now?: () => number;
}

export async function runBatch(domains: readonly string[], options: BatchOptions): Promise<BatchSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const grades = Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>;
  let next = 0;
  let done = 0;
  let errors = 0;
  let inFlight = 0;
  const signal = options.signal ?? new AbortController().signal;
  const progress = (): BatchProgress => ({ total: domains.length, done, errors, inFlight, elapsedMs: now() - started });
  // Reports are handed over one at a time, so a JSON lines writer never interleaves.
  let writing: Promise<void> = Promise.resolve();
  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < domains.length) {
      const domain = domains[next++] as string;
      inFlight++;
      let report: CheckReport;
      try {
        report = await options.check(domain, signal);
      } finally {
        inFlight--;
      }
      grades[report.grade]++;
      if (report.counts.error > 0) errors++;
      done++;
      writing = writing.then(() => options.onReport(report));
      await writing;
      options.onProgress?.(progress());
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency, domains.length)) }, () => worker());
  await Promise.all(workers);
  await writing;
  return { ...progress(), grades, interrupted: signal.aborted && done < domains.length };
}

/** One progress line: bar, done/total, errors, rate, time left. */
export function formatProgress(p: BatchProgress, width = 24): string {
  const fraction = p.total === 0 ? 1 : p.done / p.total;
  const filled = Math.round(fraction * width);
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  const leftSeconds = rate > 0 ? Math.round((p.total - p.done) / rate) : undefined;
  const eta = leftSeconds === undefined ? '--:--' : `${Math.floor(leftSeconds / 60)}:${String(leftSeconds % 60).padStart(2, '0')}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}  errors ${p.errors}  ${rate.toFixed(1)}/s  left ${eta}`;
}

/** The summary printed at the end: grades by count. */
export function formatSummary(s: BatchSummary): string {
  const grades = GRADES.map((g) => `${g} ${s.grades[g]}`).join(', ');
  return `${s.done}/${s.total} domains checked${s.interrupted ? ' (interrupted)' : ''} in ${(s.elapsedMs / 1000).toFixed(1)} s; with errors: ${s.errors}; grades: ${grades}\n`;
}
