/**
 * `npm run fuzz -- --count N --seed S [--out DIR]`: a long run of the mutation fuzzer. Prints
 * progress and a summary; writes each failing input to DIR (default fuzz-failures/) as
 * `<seed>-<index>.bin` with the error beside it in a `.txt`. Exit 1 when anything failed. To keep a
 * failing input as a regression seed, copy its .bin into test/fuzz/corpus/ (see the README there).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz } from './mutation-fuzzer.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    out: { type: 'string', default: 'fuzz-failures' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- --count N --seed S [--out DIR]\n');
  process.exit(2);
}
const started = Date.now();
process.stdout.write(`fuzz: ${count} inputs, seed ${seed}\n`);
const summary = runFuzz({
  count,
  seed,
  progressEvery: 10_000,
  progress: (done, s) => process.stdout.write(`fuzz: ${done}/${count} inputs, ${s.accepted} accepted, ${s.framed} framed, ${s.failures.length} failures, ${((Date.now() - started) / 1000).toFixed(0)} s\n`),
});
for (const f of summary.failures) {
  fs.mkdirSync(values.out, { recursive: true });
  const base = path.join(values.out, `${seed}-${f.index}`);
  fs.writeFileSync(`${base}.bin`, f.input);
  fs.writeFileSync(`${base}.txt`, `${f.error}\n`);
  process.stdout.write(`fuzz: FAILED input ${f.index} (${f.input.length} bytes) written to ${base}.bin: ${f.error.split('\n')[0] ?? ''}\n`);
}
process.stdout.write(
  `fuzz: done, ${summary.inputs} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s, ${summary.accepted} accepted (round trip checked), ${summary.framed} messages framed, ` +
    `${summary.failures.length} failures; slowest input #${summary.slowest.index} (${summary.slowest.bytes} bytes) ${summary.slowest.ms.toFixed(1)} ms; seed ${seed}\n`,
);
process.exitCode = summary.failures.length === 0 ? 0 : 1;
