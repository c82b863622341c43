/**
 * The main job (scripts/demo.sh, docs/DEMO.md) as a test: signed zones served by NSD, the
 * in-process validator, TLSA lookup, a verified TLS hop to a live Responder and the real CLI, one
 * child process per command. It is the one test that runs the whole chain from a SIP URI through
 * DNSSEC and DANE to the verdict on the connection, and it keeps the README's first command green.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDemo } from '../../src/lab/demo.js';
import { REPO_ROOT, TORTURE_DIR } from '../support/paths.js';

test('the demo: every step shows what it should', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sipsec-demo-test-'));
  const output: string[] = [];
  try {
    const ok = await runDemo({
      dir,
      cliMain: join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'),
      nodePath: process.execPath,
      tortureDir: TORTURE_DIR,
      out: (text) => void output.push(text),
    });
    const text = output.join('');
    assert.ok(ok, `the demo failed:\n${text}`);
    // The demo's own checks decide; these make sure it ran every step rather than stopping early.
    for (const step of ['a', 'b', 'c', 'd', 'e', 'f']) assert.match(text, new RegExp(`^== ${step}\\. `, 'm'), `step ${step} ran`);
    assert.doesNotMatch(text, /^ {2}FAIL /m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
