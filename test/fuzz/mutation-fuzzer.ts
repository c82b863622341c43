/**
 * A mutation fuzzer for the SIP message core. Seeds are the repository's own messages (the RFC 4475
 * and RFC 5118 torture messages in test/fixtures, generated valid requests, and the inputs kept in
 * test/fuzz/corpus/); each input is a seed with a few mutations of the kinds hostile peers send
 * (byte flips, truncation, duplicated and huge headers, CRLF and NUL injection, deep nesting,
 * Content-Length games, white space runs, non-UTF-8). Every input goes through the oracle of
 * test/support/parse-oracle.ts. Deterministic: the same seed gives the same inputs.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { checkFramer, checkParse } from '../support/parse-oracle.js';
import { REPO_ROOT, TORTURE_DIR } from '../support/paths.js';
import { validRequest } from '../support/sip-arbitraries.js';

export const CORPUS_DIR = path.join(REPO_ROOT, 'test', 'fuzz', 'corpus');

/** mulberry32: a small deterministic generator, enough to pick mutations. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)] as T;
  }
}

/** Files of a folder as seeds, sorted so that the order does not depend on the file system. */
function readSeeds(dir: string, keep: (name: string) => boolean): Buffer[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(keep).sort().map((name) => fs.readFileSync(path.join(dir, name)));
}

/** The seed corpus: torture messages, the kept corpus, and `generated` valid requests from `seed`. */
export function seedCorpus(seed: number, generated = 200): Buffer[] {
  const torture = ['rfc4475', 'rfc5118'].flatMap((d) => readSeeds(path.join(TORTURE_DIR, d), (n) => n.endsWith('.dat') || n.endsWith('.txt')));
  const kept = readSeeds(CORPUS_DIR, (n) => n.endsWith('.bin'));
  return [...torture, ...kept, ...fc.sample(validRequest, { seed, numRuns: generated })];
}

const SPECIAL = [0x00, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x22, 0x25, 0x28, 0x2c, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x40, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa0, 0xc3, 0xff];
const INJECTIONS = ['\r\n', '\r', '\n', '\r\n ', '\r\n\r\n', '\x00', '\r\n\t', ' ', '\t', ',', ';', '"', '<', '>', '@', ':', '=', '%', '\\', '\xc3\x28', '\xff\xfe', '\xe2\x80\xa8'];
const LENGTHS = ['-1', '0', '1', '65536', '4294967295', '4294967296', '99999999999999999999', ' 5 ', '5 5', '0x10', '', '1e3', '+1', '00000000000000000007', '\t3'];
const RUN_UNITS = [' ', '\t', 'a', '1', ';a', ';a=b', '"', '\\"', '<', '(', ',', '%41', '\xa0', ' \r\n '];

/** The header lines of a message (offsets of each line's start and end, CRLF excluded). */
function lines(input: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const headEnd = input.indexOf('\r\n\r\n');
  const stop = headEnd < 0 ? input.length : headEnd;
  let start = input.indexOf('\r\n') + 2;
  while (start > 1 && start < stop) {
    let end = input.indexOf('\r\n', start);
    if (end < 0 || end > stop) end = stop;
    out.push([start, end]);
    start = end + 2;
  }
  return out;
}

function insert(input: Buffer, at: number, bytes: Buffer): Buffer {
  return Buffer.concat([input.subarray(0, at), bytes, input.subarray(at)]);
}

/** One mutation of the kinds listed in the module comment. */
function mutate(input: Buffer, rnd: Random, seeds: readonly Buffer[]): Buffer {
  const at = rnd.below(input.length + 1);
  switch (rnd.below(12)) {
    case 0: {
      const out = Buffer.from(input);
      if (out.length > 0) out[rnd.below(out.length)] = rnd.next() < 0.5 ? rnd.below(256) : rnd.pick(SPECIAL);
      return out;
    }
    case 1: {
      const out = Buffer.from(input);
      const i = rnd.below(out.length);
      if (out.length > 0) out[i] = (out[i] ?? 0) ^ (1 << rnd.below(8));
      return out;
    }
    case 2:
      return input.subarray(0, at);
    case 3:
      return Buffer.concat([input.subarray(0, at), input.subarray(Math.min(input.length, at + 1 + rnd.below(16)))]);
    case 4:
      return insert(input, at, Buffer.from(rnd.pick(INJECTIONS), 'latin1'));
    case 5: {
      // A header line duplicated, a few times or many.
      const all = lines(input);
      if (all.length === 0) return input;
      const [s, e] = rnd.pick(all);
      const copies = rnd.next() < 0.8 ? 1 + rnd.below(3) : 50 + rnd.below(300);
      return insert(input, e + 2 <= input.length ? e + 2 : input.length, Buffer.concat(Array.from({ length: copies }, () => Buffer.concat([input.subarray(s, e), Buffer.from('\r\n')]))));
    }
    case 6: {
      // A run of one unit, short or up to tens of kilobytes (quadratic readers show there).
      const unit = rnd.pick(RUN_UNITS);
      const count = rnd.next() < 0.7 ? 1 + rnd.below(40) : 500 + rnd.below(20_000);
      return insert(input, at, Buffer.from(unit.repeat(count), 'latin1'));
    }
    case 7: {
      // Content-Length games: a new value for an existing field, or one more field.
      const value = rnd.pick(LENGTHS);
      const all = lines(input).filter(([s]) => /^(content-length|l)[ \t]*:/i.test(input.subarray(s, s + 16).toString('latin1')));
      const target = all.length === 0 || rnd.next() < 0.3 ? undefined : rnd.pick(all);
      if (target === undefined) {
        const first = input.indexOf('\r\n');
        return insert(input, first < 0 ? input.length : first + 2, Buffer.from(`${rnd.next() < 0.5 ? 'l' : 'Content-Length'}: ${value}\r\n`, 'latin1'));
      }
      const colon = input.indexOf(':', target[0]);
      return Buffer.concat([input.subarray(0, colon + 1), Buffer.from(` ${value}`, 'latin1'), input.subarray(target[1])]);
    }
    case 8: {
      // Deep nesting: brackets, quotes, comments.
      const open = rnd.pick(['<', '"', '(', '[', '<sip:a@b;x=<', '"\\']);
      return insert(input, at, Buffer.from(open.repeat(1 + rnd.below(rnd.next() < 0.8 ? 20 : 5_000)), 'latin1'));
    }
    case 9: {
      // Crossover: the start of this input and the end of another seed.
      const other = rnd.pick(seeds);
      return Buffer.concat([input.subarray(0, at), other.subarray(rnd.below(other.length + 1))]);
    }
    case 10: {
      // A header line swapped with another, or removed.
      const all = lines(input);
      if (all.length < 2) return input;
      const [s, e] = rnd.pick(all);
      return Buffer.concat([input.subarray(0, s), input.subarray(Math.min(input.length, e + 2))]);
    }
    default: {
      // Non-UTF-8 or non-ASCII bytes in a random spot.
      return insert(input, at, Buffer.from(rnd.pick([[0xff], [0xc3, 0x28], [0xa0], [0xe9], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0xa0, 0x80]])));
    }
  }
}

/** A failing input and what failed. */
export interface FuzzFailure {
  readonly index: number;
  readonly input: Buffer;
  readonly error: string;
}

export interface FuzzSummary {
  readonly inputs: number;
  readonly accepted: number;
  readonly framed: number;
  readonly failures: readonly FuzzFailure[];
  readonly slowest: { readonly index: number; readonly ms: number; readonly bytes: number };
}

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  /** Called every `progressEvery` inputs. */
  readonly progress?: (done: number, summary: FuzzSummary) => void;
  readonly progressEvery?: number;
  /** Stop after this many failures (default 20). */
  readonly maxFailures?: number;
}

/** The input number `index` of the run with `seed`: each input has its own generator. */
export function fuzzInput(seeds: readonly Buffer[], seed: number, index: number): { input: Buffer; cuts: number[] } {
  const rnd = new Random((seed * 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  let input = rnd.pick(seeds);
  const mutations = rnd.next() < 0.1 ? 0 : 1 + rnd.below(4);
  for (let m = 0; m < mutations; m++) input = mutate(input, rnd, seeds);
  const cuts: number[] = [];
  const step = 1 + rnd.below(rnd.next() < 0.2 ? 4 : 400);
  for (let at = step; at < input.length && cuts.length < 2_000; at += 1 + rnd.below(step)) cuts.push(at);
  return { input, cuts };
}

/** Runs `count` inputs; exceptions from the oracle or the parsers are failures, never thrown. */
export function runFuzz(options: FuzzOptions): FuzzSummary {
  const seeds = seedCorpus(options.seed);
  const failures: FuzzFailure[] = [];
  let accepted = 0;
  let framed = 0;
  let slowest = { index: -1, ms: 0, bytes: 0 };
  const summary = (inputs: number): FuzzSummary => ({ inputs, accepted, framed, failures, slowest });
  for (let index = 0; index < options.count; index++) {
    const { input, cuts } = fuzzInput(seeds, options.seed, index);
    const started = performance.now();
    try {
      if (checkParse(input)) accepted++;
      framed += checkFramer(input, cuts);
    } catch (err) {
      failures.push({ index, input, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      if (failures.length >= (options.maxFailures ?? 20)) return summary(index + 1);
    }
    const ms = performance.now() - started;
    if (ms > slowest.ms) slowest = { index, ms, bytes: input.length };
    if (options.progress !== undefined && (index + 1) % (options.progressEvery ?? 10_000) === 0) options.progress(index + 1, summary(index + 1));
  }
  return summary(options.count);
}
