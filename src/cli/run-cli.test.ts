import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
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

test('--version prints the package version', async () => {
  const c = capture();
  assert.equal(await runCli(['--version'], c.io), 0);
  assert.match(c.out.join(''), /^sipsec \d+\.\d+\.\d+\n$/);
});

test('top-level help lists every command with a one-line description, and the exit codes', async () => {
  const c = capture();
  assert.equal(await runCli(['--help'], c.io), 0);
  const text = c.out.join('');
  for (const name of ['cert', 'dane', 'lint', 'options', 'resolve', 'tlsa']) assert.match(text, new RegExp(`^ {2}${name} +\\S.{10,}$`, 'm'), name);
  assert.match(text, /--verbose/);
  assert.match(text, /--quiet/);
  assert.match(text, /3 no answer/);
});

test('--quiet leaves stdout empty and keeps the exit code; --verbose and --quiet together are a usage error', async () => {
  const loud = capture();
  assert.equal(await runCli(['resolve', 'sip:127.0.0.1'], loud.io), 0);
  assert.notEqual(loud.out.join(''), '');
  const quiet = capture();
  assert.equal(await runCli(['resolve', '--quiet', 'sip:127.0.0.1'], quiet.io), 0);
  assert.deepEqual(quiet.out, []);
  const both = capture();
  assert.equal(await runCli(['resolve', '-v', '-q', 'sip:127.0.0.1'], both.io), EXIT_USAGE);
});

test('every command takes --json, --verbose and --quiet (its usage names --json)', async () => {
  for (const name of ['cert', 'dane', 'lint', 'options', 'resolve', 'tlsa']) {
    const c = capture();
    assert.equal(await runCli([name, '--help'], c.io), 0);
    assert.match(c.out.join(''), /--verbose/, name);
  }
  for (const name of ['lint', 'options', 'resolve']) {
    const c = capture();
    await runCli([name, '--help'], c.io);
    assert.match(c.out.join(''), /--json .*schema sipsec\.\w+\/1/, name);
  }
});

test('progress: a wait longer than a second shows a status line on a terminal and clears it', async () => {
  // Accepts and never answers: the TLS handshake waits for the deadline.
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const shown: Array<string | undefined> = [];
  const c = capture();
  try {
    const code = await runCli(['options', '--timeout', '1600', '--to', `127.0.0.1:${address.port}`, 'sips:b.example'], { ...c.io, progress: (t) => void shown.push(t) });
    assert.equal(code, 3);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
  assert.ok(shown.some((t) => t !== undefined && /^connecting to tls 127\.0\.0\.1:\d+ \.\.\. \d+ s$/.test(t)), JSON.stringify(shown));
  assert.equal(shown.at(-1), undefined, 'the line is cleared before the result');
  // Without a terminal (no io.progress) nothing of it reaches stderr.
  assert.doesNotMatch(c.err.join(''), /connecting/);
});
