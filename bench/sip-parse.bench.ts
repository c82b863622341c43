/**
 * Parse throughput of sipsec beside the JavaScript SIP parsers of sip.js, JsSIP and `sip` (npm),
 * on the same corpus in the same process. Writes the figures and ratios to docs/BENCHMARKS.md.
 * Every parser starts from bytes, as a transport hands them over, so string decoding is counted.
 */
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Parser as SipJsParser, LoggerFactory } from 'sip.js/lib/core/index.js';
import fs from 'node:fs';
import { parseMessage } from '../src/sip/parse-message.js';
import { CORPUS } from './sip-corpus.js';
import { machineLine, writeReportSection } from './markdown-report.js';

type ParseFn = (bytes: Buffer) => unknown;

const require = createRequire(import.meta.url);
const jssipParser = require('jssip/lib/Parser') as { parseMessage: (data: string, ua: unknown) => unknown };
const sipNpm = require('sip') as { parse: (data: string) => unknown };
const sipJsLoggers = new LoggerFactory();
// sip.js logs every header it fails to parse; the torture count below feeds it many.
sipJsLoggers.builtinEnabled = false;
const sipJsLogger = sipJsLoggers.getLogger('bench');

/** A stand-in for the JsSIP UA object: its parser only reads it when logging a parse failure. */
const JSSIP_UA = {};

const PARSERS: ReadonlyArray<{ readonly name: string; readonly parse: ParseFn; readonly ours?: true }> = [
  { name: 'sipsec full', parse: (b) => fullParse(b), ours: true },
  { name: 'sipsec lazy', parse: (b) => lazyParse(b), ours: true },
  { name: 'sip.js 0.21', parse: (b) => SipJsParser.parseMessage(b.toString(), sipJsLogger) },
  { name: 'jssip 3', parse: (b) => jssipParser.parseMessage(b.toString(), JSSIP_UA) },
  { name: 'sip (npm) 0.0.6', parse: (b) => sipNpm.parse(b.toString()) },
];

/** Full: every header sipsec types, parsed and checked (the default of parseMessage). */
function fullParse(bytes: Buffer): unknown {
  return parseMessage(bytes);
}

/** Lazy: start line, top Via, CSeq, Call-ID, From and To tags: what a transaction needs. */
function lazyParse(bytes: Buffer): unknown {
  return parseMessage(bytes, { depth: 'lazy' });
}

/** How many of the torture messages that RFC 4475/5118 call invalid a parser accepts without error. */
function acceptedInvalid(parse: ParseFn, root: string): string {
  const dir = path.resolve(root, 'test', 'fixtures', 'sip-torture');
  const index = path.join(dir, 'index.tsv');
  if (!fs.existsSync(index)) return 'n/a';
  const invalid = fs.readFileSync(index, 'utf8').trim().split('\n').slice(1)
    .map((line) => line.split('\t'))
    .filter((cols) => cols[4] === 'invalid')
    .map((cols) => cols[0] ?? '');
  let accepted = 0;
  for (const file of invalid) {
    try {
      if (parse(fs.readFileSync(path.join(dir, file))) !== undefined) accepted++;
    } catch {
      // rejected: what a parser should do with these
    }
  }
  return `${accepted} of ${invalid.length}`;
}

/** CPU time of this process so far, in microseconds. */
function cpuMicros(): number {
  const used = process.cpuUsage();
  return used.user + used.system;
}

/**
 * CPU wanted per block: short enough to interleave against the machine's drift, long against the
 * cost of taking over from another parser. After one sip.js parse (about a millisecond, with a
 * large code and data footprint) the next parser runs slower for a while as caches and predictors
 * refill: seen here, in 1 ms blocks sipsec's lazy OPTIONS lost 19% of its speed after sip.js and
 * `sip` 9%; in 8 ms blocks neither lost anything measurable. Hence 10 ms.
 */
const BLOCK_US = 10_000;

/**
 * CPU time per parse (process.cpuUsage, not wall time) of each parser on one message, in ns. The
 * machine is shared and its speed drifts over seconds; so the parsers take turns in blocks of
 * about BLOCK_US each, and each parser's figure is the median of its blocks, so that a burst
 * of load elsewhere hits every parser alike and outlying blocks do not decide. Every parser gets
 * the same warm-up, block length and number of turns.
 */
function measureCell(parsers: ReadonlyArray<{ readonly parse: ParseFn }>, bytes: Buffer, budgetMs: number): number[] {
  const reps = parsers.map((p) => {
    const start = cpuMicros();
    for (let i = 0; i < 2000; i++) p.parse(bytes);
    const perParse = Math.max(cpuMicros() - start, 1) / 2000;
    return Math.max(1, Math.round(BLOCK_US / perParse));
  });
  const samples: number[][] = parsers.map(() => []);
  const start = cpuMicros();
  while (cpuMicros() - start < budgetMs * 1000 * parsers.length) {
    parsers.forEach((p, k) => {
      const n = reps[k] ?? 1;
      const t0 = cpuMicros();
      for (let i = 0; i < n; i++) p.parse(bytes);
      samples[k]?.push(((cpuMicros() - t0) * 1000) / n);
    });
  }
  return samples.map((blocks) => {
    const sorted = [...blocks].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Infinity;
  });
}

function main(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const budgetMs = Number(process.env.SIPSEC_BENCH_MS ?? 600);
  const results = new Map<string, number[]>();
  for (const parser of PARSERS) {
    for (const item of CORPUS) {
      // A parser that cannot read the corpus would make its figure meaningless.
      if (parser.parse(Buffer.from(item.text)) === undefined) throw new Error(`${parser.name} did not parse ${item.name}`);
    }
    results.set(parser.name, CORPUS.map(() => Infinity));
  }
  CORPUS.forEach((item, i) => {
    const figures = measureCell(PARSERS, Buffer.from(item.text), budgetMs);
    PARSERS.forEach((parser, k) => {
      const row = results.get(parser.name);
      if (row !== undefined) row[i] = figures[k] ?? Infinity;
    });
  });
  for (const parser of PARSERS) {
    process.stderr.write(`${parser.name}: ${(results.get(parser.name) ?? []).map((ns) => `${(ns / 1000).toFixed(2)} µs`).join(', ')}\n`);
  }

  const fastestPeer = CORPUS.map((_, i) =>
    Math.min(...PARSERS.filter((p) => p.ours !== true).map((p) => results.get(p.name)?.[i] ?? Infinity)));
  const rows = PARSERS.map((p) => {
    const times = results.get(p.name) ?? [];
    const cells = times.map((ns, i) => `${(ns / 1000).toFixed(2)} µs (${((fastestPeer[i] ?? ns) / ns).toFixed(2)}×)`);
    return `| ${p.name} | ${cells.join(' | ')} | ${p.name === 'sipsec lazy' ? 'same parser' : acceptedInvalid(p.parse, root)} |`;
  });
  const markdown = [
    '## SIP parse throughput',
    '',
    `${machineLine()}, ${os.cpus().length} cores, ${budgetMs} ms of CPU per cell. CPU time per message from bytes: on each message the`,
    'parsers take turns in blocks of about 10 ms of CPU, and each figure is the median of its blocks. In brackets the',
    'speed relative to the fastest of the other parsers on that message (above 1× is faster).',
    '"full" parses and checks every header sipsec types; "lazy" only what a transaction needs.',
    '',
    `| parser | ${CORPUS.map((c) => c.name).join(' | ')} | invalid torture messages accepted |`,
    `|---|${CORPUS.map(() => '---').join('|')}|---|`,
    ...rows,
    '',
    'The last column counts the RFC 4475/5118 messages marked invalid that each parser accepts',
    'without an error (sipsec rejects all of them with the response a server should send).',
    '',
    'Run: `bash scripts/bench.sh` (or `node dist/bench/sip-parse.bench.js` after a build).',
  ].join('\n');
  const file = writeReportSection(root, 'sip-parse', markdown);
  process.stderr.write(`wrote ${file}\n`);
}

main();
