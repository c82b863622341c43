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
import { parseMessage } from '../src/sip/parse-message.js';
import { CORPUS } from './sip-corpus.js';
import { machineLine, writeReportSection } from './markdown-report.js';

type ParseFn = (bytes: Buffer) => unknown;

const require = createRequire(import.meta.url);
const jssipParser = require('jssip/lib/Parser') as { parseMessage: (data: string, ua: unknown) => unknown };
const sipNpm = require('sip') as { parse: (data: string) => unknown };
const sipJsLogger = new LoggerFactory().getLogger('bench');
sipJsLogger.level = 0;

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

function measure(parse: ParseFn, bytes: Buffer, budgetMs: number): number {
  for (let i = 0; i < 2000; i++) parse(bytes);
  let runs = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 500; i++) parse(bytes);
    runs += 500;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / runs;
}

function main(): void {
  const budgetMs = Number(process.env.SIPSEC_BENCH_MS ?? 600);
  const results = new Map<string, number[]>();
  for (const parser of PARSERS) {
    const perMessage: number[] = [];
    for (const item of CORPUS) {
      const bytes = Buffer.from(item.text);
      // A parser that cannot read the corpus would make its figure meaningless.
      if (parser.parse(bytes) === undefined) throw new Error(`${parser.name} did not parse ${item.name}`);
      perMessage.push(measure(parser.parse, bytes, budgetMs));
    }
    results.set(parser.name, perMessage);
    process.stderr.write(`${parser.name}: ${perMessage.map((ns) => `${(ns / 1000).toFixed(2)} µs`).join(', ')}\n`);
  }

  const fastestPeer = CORPUS.map((_, i) =>
    Math.min(...PARSERS.filter((p) => p.ours !== true).map((p) => results.get(p.name)?.[i] ?? Infinity)));
  const rows = PARSERS.map((p) => {
    const times = results.get(p.name) ?? [];
    const cells = times.map((ns, i) => `${(ns / 1000).toFixed(2)} µs (${((fastestPeer[i] ?? ns) / ns).toFixed(2)}×)`);
    return `| ${p.name} | ${cells.join(' | ')} |`;
  });
  const markdown = [
    '## SIP parse throughput',
    '',
    `${machineLine()}, ${os.cpus().length} cores, ${budgetMs} ms per cell. Time per message from bytes; in`,
    'brackets the speed relative to the fastest of the other parsers on that message (above 1× is faster).',
    '"full" parses and checks every header sipsec types; "lazy" only what a transaction needs.',
    '',
    `| parser | ${CORPUS.map((c) => c.name).join(' | ')} |`,
    `|---|${CORPUS.map(() => '---').join('|')}|`,
    ...rows,
    '',
    'Run: `bash scripts/bench.sh` (or `node dist/bench/sip-parse.bench.js` after a build).',
  ].join('\n');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const file = writeReportSection(root, 'sip-parse', markdown);
  process.stderr.write(`wrote ${file}\n`);
}

main();
