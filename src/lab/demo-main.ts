#!/usr/bin/env node
/**
 * Entry of the end-to-end demo (scripts/demo.sh, docs/DEMO.md): `node dist/src/lab/demo-main.js
 * [--dir EMPTY_DIR] [--torture DIR] [--keep]`. The only lab file that touches `process`: the exit
 * code (0 only when every step showed what it should) and interruptions, which let the demo stop
 * its daemons first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';

const USAGE = `usage: node dist/src/lab/demo-main.js [--dir EMPTY_DIR] [--torture DIR] [--keep]
  The end-to-end demo (docs/DEMO.md): a private CA, DNSSEC-signed zones served by NSD and a sipsec
  Responder on loopback, then the real sipsec commands, each checked. scripts/demo.sh runs it.
  --dir DIR      an empty folder for the lab (default: a new one under the temporary folder)
  --torture DIR  the RFC 4475 messages (default: test/fixtures/sip-torture)
  --keep         after the last step, keep the lab running until Ctrl-C, so that the commands
                 shown can be re-run by hand
  --help         this text
exit: 0 every step showed what it should, 1 a step did not, 2 usage error`;

const here = dirname(fileURLToPath(import.meta.url));
// dist/src/lab -> the repository root.
const repoRoot = resolve(here, '..', '..', '..');

async function main(): Promise<number> {
  let values: { dir?: string | undefined; torture?: string | undefined; keep?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ options: { dir: { type: 'string' }, torture: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'sipsec-demo-')));
  const abort = new AbortController();
  let kept = false;
  const onSignal = (signal: string): void => {
    process.stderr.write(`\ndemo: ${signal}, stopping the ${kept ? 'kept ' : ''}lab\n`);
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
      keep: values.keep === true,
      onKept: () => (kept = true),
    });
    // Stopping a kept lab with Ctrl-C is how --keep ends, not a failure.
    return ok && (!abort.signal.aborted || kept) ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
