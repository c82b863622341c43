import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, TORTURE_DIR } from '../../test/support/paths.js';
import { runCli } from './run-cli.js';

async function lint(args: string[]): Promise<{ code: number; lines: Array<Record<string, unknown>>; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['lint', '--json', ...args], { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  const lines = out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, err: err.join('') };
}

test('lint prints one JSON line per file and exits 1 when any is invalid', async () => {
  const files = ['rfc4475/wsinv.dat', 'rfc4475/badvers.dat', 'rfc4475/scalarlg.dat'].map((f) => path.join(TORTURE_DIR, f));
  const { code, lines } = await lint(files);
  assert.equal(code, 1);
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0], { schema: 'sipsec.lint/1', file: files[0], valid: true, kind: 'request', method: 'INVITE', errors: [] });
  assert.equal(lines[1]?.valid, false);
  assert.equal(lines[1]?.response, 505);
  assert.equal(lines[1]?.method, 'OPTIONS');
  assert.equal(lines[2]?.kind, 'response');
  assert.equal(lines[2]?.status, 503);
  assert.equal(lines[2]?.response, undefined);
  assert.ok(Array.isArray(lines[2]?.errors) && lines[2].errors.length > 0);
});

test('lint exits 0 when every file is valid, and --stream requires Content-Length', async () => {
  const valid = path.join(TORTURE_DIR, 'rfc4475/inv2543.dat');
  assert.equal((await lint([valid])).code, 0);
  const streamed = await lint(['--stream', valid]);
  assert.equal(streamed.code, 1);
  assert.deepEqual((streamed.lines[0]?.errors as Array<{ code: string }>).map((e) => e.code), ['SIP_ERR_MISSING_HEADER']);
});

test('lint --datagram is the default framing: octets after the body are ignored; an empty file has kind null', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-lint-'));
  try {
    const file = path.join(dir, 'trailing.sip');
    const message = fs.readFileSync(path.join(TORTURE_DIR, 'rfc4475/dblreq.dat'));
    fs.writeFileSync(file, message);
    const asDatagram = await lint(['--datagram', file]);
    assert.equal(asDatagram.code, 0);
    assert.deepEqual(asDatagram.lines, (await lint([file])).lines);
    assert.equal(asDatagram.lines[0]?.method, 'REGISTER');
    // Without Content-Length the datagram's body is the rest of it; a stream cannot be framed.
    const noLength = path.join(TORTURE_DIR, 'rfc4475/inv2543.dat');
    assert.equal((await lint(['--datagram', noLength])).code, 0);
    assert.equal((await lint(['--stream', noLength])).code, 1);
    const empty = path.join(dir, 'empty.sip');
    fs.writeFileSync(empty, '\r\n\r\n');
    const nothing = await lint([empty]);
    assert.equal(nothing.code, 1);
    assert.equal(nothing.lines[0]?.kind, null);
    assert.deepEqual((nothing.lines[0]?.errors as Array<{ code: string }>).map((e) => e.code), ['SIP_ERR_EMPTY']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lint usage errors exit 2', async () => {
  assert.equal((await lint([])).code, 2);
  assert.equal((await lint(['--verbose', '--quiet', 'x'])).code, 2);
  assert.equal((await lint(['--bogus', 'x'])).code, 2);
  assert.equal((await lint(['--stream', '--datagram', 'x'])).code, 2);
  const missing = await lint([path.join(os.tmpdir(), 'sipsec-no-such-file.sip')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read/);
});

test('the sipsec executable runs lint with the same exit codes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-lint-'));
  const file = path.join(dir, 'bad.sip');
  fs.writeFileSync(file, 'INVITE <sip:x@example.com> SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n');
  const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/src/cli/main.js'), 'lint', '--json', file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(run.status, 1);
  const line = JSON.parse(run.stdout) as { valid: boolean; response: number; errors: Array<{ code: string }> };
  assert.equal(line.valid, false);
  assert.equal(line.response, 400);
  assert.equal(line.errors[0]?.code, 'SIP_ERR_BAD_REQUEST_URI');
});

test('lint without --json prints a line per file for people, with the same exit code; --quiet prints nothing', async () => {
  const files = ['rfc4475/wsinv.dat', 'rfc4475/badvers.dat'].map((f) => path.join(TORTURE_DIR, f));
  const out: string[] = [];
  const code = await runCli(['lint', ...files], { stdout: (t) => void out.push(t), stderr: () => undefined });
  assert.equal(code, 1);
  const text = out.join('');
  assert.match(text, /wsinv\.dat: valid request INVITE\n/);
  assert.match(text, /badvers\.dat: INVALID request OPTIONS -> 505 Version Not Supported\n {2}SIP_ERR_/);
  const quiet: string[] = [];
  assert.equal(await runCli(['lint', '--quiet', ...files], { stdout: (t) => void quiet.push(t), stderr: () => undefined }), 1);
  assert.deepEqual(quiet, []);
});

test('lint names bare LF line ends, and reads standard input for -', () => {
  const bareLf = 'OPTIONS sip:a@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@example.com>\nFrom: <sip:c@example.com>;tag=1\nCall-ID: x\nCSeq: 1 OPTIONS\n\n';
  const main = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
  const json = spawnSync(process.execPath, [main, 'lint', '--json', '-'], { input: bareLf, encoding: 'utf8' });
  assert.equal(json.status, 1, json.stderr);
  const line = JSON.parse(json.stdout) as { file: string; valid: boolean; notes?: string[] };
  assert.equal(line.file, '-');
  assert.equal(line.valid, false);
  assert.deepEqual(line.notes, ['bare-lf-line-ends']);
  const text = spawnSync(process.execPath, [main, 'lint', '-'], { input: bareLf, encoding: 'utf8' });
  assert.match(text.stdout, /note: bare-lf-line-ends: lines end with LF alone; SIP needs CRLF/);
  // The same message with CRLF is valid and has no note.
  const crlf = spawnSync(process.execPath, [main, 'lint', '--json', '-'], { input: bareLf.replaceAll('\n', '\r\n'), encoding: 'utf8' });
  assert.equal(crlf.status, 0, crlf.stdout);
  assert.equal((JSON.parse(crlf.stdout) as { notes?: string[] }).notes, undefined);
});
