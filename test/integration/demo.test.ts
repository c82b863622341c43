/**
 * The main job (scripts/demo.sh, docs/DEMO.md) as a test: signed zones served by NSD, the
 * in-process validator, TLSA lookup, a verified TLS hop to a live Responder and the real CLI, one
 * child process per command. It is the one test that runs the whole chain from a SIP URI through
 * DNSSEC and DANE to the verdict on the connection, and it keeps the README's first command green.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDemo } from '../../src/lab/demo.js';
import { REPO_ROOT, TORTURE_DIR } from '../support/paths.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

test('the demo: every step shows what it should; with --keep its printed commands run again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sipsec-demo-test-'));
  const output: string[] = [];
  const stop = new AbortController();
  let rerun: { code: number | null; stdout: string } | undefined;
  try {
    const ok = await runDemo({
      dir,
      cliMain: CLI,
      nodePath: process.execPath,
      tortureDir: TORTURE_DIR,
      out: (text) => void output.push(text),
      signal: stop.signal,
      keep: true,
      // The lab is kept: the first `sipsec options` line shown, with $LAB filled in, works again.
      onKept: () => {
        const shown = /^\$ sipsec (options .*)$/m.exec(output.join(''))?.[1] ?? '';
        const args = shown.split(' ').map((a) => a.split('$LAB').join(dir));
        execFile(process.execPath, [CLI, ...args], (err, stdout) => {
          rerun = { code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout };
          stop.abort();
        });
      },
    });
    const text = output.join('');
    assert.ok(ok, `the demo failed:\n${text}`);
    assert.match(text, /the lab keeps running \(--keep\)/);
    assert.equal(rerun?.code, 0, `the kept lab did not answer a shown command again: ${rerun?.stdout ?? 'not run'}`);
    assert.match(rerun?.stdout ?? '', /response: 200 OK/);
    // The demo's own checks decide; these make sure it ran every step rather than stopping early.
    for (const step of ['a', 'b', 'c', 'd', 'e', 'f']) assert.match(text, new RegExp(`^== ${step}\\. `, 'm'), `step ${step} ran`);
    assert.doesNotMatch(text, /^ {2}FAIL /m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('demo-main --help prints its usage and exits 0; an unknown option exits 2', () => {
  const main = join(REPO_ROOT, 'dist', 'src', 'lab', 'demo-main.js');
  const help = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: node dist\/src\/lab\/demo-main\.js .*--keep/);
  assert.doesNotMatch(help.stderr, /at .*\.js:\d+/);
  const bad = spawnSync(process.execPath, [main, '--nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--nope'/);
});
