#!/usr/bin/env node
/**
 * Entry of the end-to-end demo (scripts/demo.sh, docs/DEMO.md): `node dist/src/lab/demo-main.js
 * [--dir EMPTY_DIR]`. The only lab file that touches `process`: the exit code (0 only when every
 * step showed what it should) and interruptions, which let the demo stop its daemons first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/src/lab -> the repository root; the team's shared folder sits beside it.
const repoRoot = resolve(here, '..', '..', '..');
const { values } = parseArgs({ options: { dir: { type: 'string' }, torture: { type: 'string' } } });
const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'sipsec-demo-')));

const abort = new AbortController();
const onSignal = (signal: string): void => {
  process.stderr.write(`\ndemo: ${signal}, stopping the lab\n`);
  abort.abort(new Error(`interrupted by ${signal}`));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

try {
  const ok = await runDemo({
    dir,
    cliMain: join(here, '..', 'cli', 'main.js'),
    nodePath: process.execPath,
    tortureDir: values.torture ?? join(repoRoot, 'test', 'fixtures', 'sip-torture'),
    out: (text) => void process.stdout.write(text),
    signal: abort.signal,
  });
  process.exitCode = ok && !abort.signal.aborted ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
