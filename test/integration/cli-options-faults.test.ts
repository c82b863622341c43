/**
 * `sipsec options` against misbehaving loopback servers, run as a real process (the way a user
 * runs it): a settled result and a documented exit code in every case, and the faults named in our
 * words. Regression tests for issue 11 item 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate, type TestCertificate } from '../../src/lab/certificates.js';
import { REPO_ROOT } from '../support/paths.js';
import { closedPort, startMisbehavingTlsServer, startSilentTcpServer, type Misbehaviour, type RunningServer } from '../support/misbehaving-tls-servers.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sipsec(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let ca: TestCertificate;
let leaf: TestCertificate;
let caFile: string;
const servers: RunningServer[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-cli-faults-'));
  ca = issueCertificate({ cn: 'Faults CA', ca: true });
  leaf = issueCertificate({ cn: 'sip.b.example', issuer: ca, san: { dns: ['b.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.pem);
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function misbehaving(behaviour: Misbehaviour): Promise<number> {
  const server = await startMisbehavingTlsServer(leaf, behaviour);
  servers.push(server);
  return server.port;
}

test('a server whose response holds terminal escape sequences: refused as not SIP, nothing raw printed', async () => {
  const port = await misbehaving('escape-sequences');
  const run = await sipsec(['options', '--ca', caFile, '--to', `127.0.0.1:${port}`, '--timeout', '20000', 'sips:b.example']);
  // The parser refuses a bare control character in a reason phrase or header (a proxy forwards
  // what it accepts), so the response is a finding; what is printed of it stays escaped.
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /framing-error: SIP_ERR_BAD_(START_LINE|HEADER_VALUE)/);
  assert.ok(!`${run.stdout}${run.stderr}`.includes('\x1b') && !`${run.stdout}${run.stderr}`.includes('\x07') && !`${run.stdout}${run.stderr}`.includes('\x9b'), 'no raw control character on the terminal');
});

for (const behaviour of ['flood', 'long-header-line'] as const) {
  test(`a TLS server that sends ${behaviour === 'flood' ? 'bytes without end' : 'a 200 KB header line'}: the framing fault is reported, exit 1`, async () => {
    const port = await misbehaving(behaviour);
    const run = await sipsec(['options', '--ca', caFile, '--to', `127.0.0.1:${port}`, '--timeout', '20000', 'sips:b.example']);
    // Before: exit 13 (an unsettled top-level await) and nothing printed.
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /failed: framing-error: SIP_ERR_[A-Z_]+/);
    assert.match(run.stdout, /result: finding \(framing-error\)/);
    const json = await sipsec(['options', '--json', '--ca', caFile, '--to', `127.0.0.1:${port}`, '--timeout', '20000', 'sips:b.example']);
    assert.equal(json.code, 1, json.stdout + json.stderr);
    const doc = JSON.parse(json.stdout) as { schema: string; outcome: string; exit: number; attempts: Array<{ fault: { code: string } | null }> };
    assert.equal(doc.schema, 'sipsec.options/1');
    assert.equal(doc.outcome, 'framing-error');
    assert.equal(doc.exit, 1);
    assert.match(doc.attempts[0]?.fault?.code ?? '', /^SIP_ERR_/);
  });
}

test('a response that is not SIP: reported as a framing fault, exit 1', async () => {
  const port = await misbehaving('garbage-response');
  const run = await sipsec(['options', '--ca', caFile, '--to', `127.0.0.1:${port}`, '--timeout', '20000', 'sips:b.example']);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /failed: framing-error/);
});

test('a TLS handshake that never comes: --timeout governs, the result is tls-timeout, exit 3', async () => {
  const server = await startSilentTcpServer();
  servers.push(server);
  const run = await sipsec(['options', '--json', '--to', `127.0.0.1:${server.port}`, '--timeout', '1500', 'sips:b.example']);
  assert.equal(run.code, 3, run.stdout + run.stderr);
  const doc = JSON.parse(run.stdout) as { outcome: string; attempts: Array<{ detail: string; response: unknown }> };
  // Before: `408 timerF`, after the 10 s of the library's own handshake deadline.
  assert.equal(doc.outcome, 'tls-timeout');
  assert.match(doc.attempts[0]?.detail ?? '', /within 1500 ms/);
  assert.equal(doc.attempts[0]?.response, null);
});

test('a refused TCP connection is connection-refused, exit 3, and nothing but our words reaches the Warning', async () => {
  const port = await closedPort();
  const run = await sipsec(['options', '--to', `127.0.0.1:${port}`, 'sips:b.example']);
  assert.equal(run.code, 3, run.stdout + run.stderr);
  assert.match(run.stdout, /failed: connection-refused/);
  assert.match(run.stdout, /Warning: 399 \S+ "connection-refused: 127\.0\.0\.1:\d+ refused the connection"/);
  assert.doesNotMatch(run.stdout, /tls-handshake-failed: tls-handshake-failed/);
});

test('a server that speaks plain TCP to a TLS client: tls-handshake-failed, no OpenSSL text in the Warning; --verbose shows it on stderr', async () => {
  // A TLS server's port spoken to with TLS 1.3 only would work; a plain-text peer makes OpenSSL fail with its own message.
  const { createServer } = await import('node:net');
  const plain = createServer((s) => {
    s.on('error', () => undefined);
    s.end('SIP/2.0 400 Bad Request\r\n\r\n');
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()));
  servers.push({ port: 0, close: () => new Promise<void>((resolve) => plain.close(() => resolve())) });
  const address = plain.address();
  assert.ok(address !== null && typeof address === 'object');
  const run = await sipsec(['options', '--to', `127.0.0.1:${address.port}`, 'sips:b.example']);
  assert.equal(run.code, 3, run.stdout + run.stderr);
  const warning = /Warning: (.*)/.exec(run.stdout)?.[1] ?? '';
  assert.match(warning, /tls-handshake-failed/);
  // OpenSSL's messages look like `error:0A00010B:SSL routines:...` and name source files.
  assert.doesNotMatch(run.stdout, /error:[0-9A-F]{8}|\.c:\d+/);
  const verbose = await sipsec(['options', '--verbose', '--to', `127.0.0.1:${address.port}`, 'sips:b.example']);
  assert.equal(verbose.code, 3);
  assert.match(verbose.stderr + verbose.stdout, /send-failed reason="tls-handshake-failed"/);
});
