import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './run-cli.js';
import { EXIT_USAGE } from './command.js';

function capture(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }, out, err };
}

test('no command is a usage error', async () => {
  const c = capture();
  assert.equal(await runCli([], c.io), EXIT_USAGE);
  assert.match(c.err.join(''), /usage: sipsec/);
});

test('an unknown command is a usage error that names it', async () => {
  const c = capture();
  assert.equal(await runCli(['frobnicate'], c.io), EXIT_USAGE);
  assert.match(c.err.join(''), /unknown command 'frobnicate'/);
});

test('--help lists the commands and exits 0', async () => {
  const c = capture();
  assert.equal(await runCli(['--help'], c.io), 0);
  assert.match(c.out.join(''), /commands:/);
});
